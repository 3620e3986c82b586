"""Stage clean_labels: the raw solutions table -> one clean label table and a data report."""
from pathlib import Path

from gzmorph.data.labels import clean_labels, read_table, report_lines
from gzmorph.errors import cli
from gzmorph.io import write_json
from gzmorph.params import load_params
from gzmorph.paths import DATA_REPORT, LABELS


@cli
def main():
    params = load_params()
    raw_dir = Path(params.data.raw_dir)
    table = read_table(raw_dir / params.data.solutions)
    result = clean_labels(table, raw_dir / params.data.images, params.clean_labels.rule,
                          params.clean_labels.sum_tolerance)
    LABELS.parent.mkdir(parents=True, exist_ok=True)
    result.labels.to_csv(LABELS, index=False)
    write_json(DATA_REPORT, result.report)
    print("\n".join(report_lines(result)))


if __name__ == "__main__":
    main()
