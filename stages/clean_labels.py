"""Stage clean_labels: each labelled folder's raw solutions table -> one clean label table and a data report."""

from gzmorph.data.labels import clean_labels, read_table, report_lines
from gzmorph.data.sources import check_taught, joined, sources_of
from gzmorph.errors import cli
from gzmorph.io import write_json
from gzmorph.params import load_params
from gzmorph.paths import DATA_REPORT, LABELS


@cli
def main():
    params = load_params()
    tables, reports = {}, {}
    for source in sources_of(params.data):
        table = read_table(source.raw_dir / params.data.solutions)
        check_taught(source, table.columns)
        result = clean_labels(table, source.raw_dir / params.data.images, params.clean_labels.rule,
                              params.clean_labels.sum_tolerance)
        tables[source.name], reports[source.name] = result.labels, result.report
        print("\n".join(report_lines(result)))
    labels, lost = joined(tables)
    main_source, *more = reports
    for name in more:
        reports[name]["dropped_id_of_another_source"] = lost[name]
        if lost[name]:
            print(f"warning: {name}: {lost[name]} row(s) dropped, their GalaxyID being another source's")
    report = reports[main_source] | ({"more_sources": {name: reports[name] for name in more}} if more else {})
    LABELS.parent.mkdir(parents=True, exist_ok=True)
    labels.to_csv(LABELS, index=False)
    write_json(DATA_REPORT, report)


if __name__ == "__main__":
    main()
