"""Stage split: clean labels + images -> stratified train/val/test, each packed into one image array."""
import pandas as pd

from gzmorph.data.packed_splits import SPLIT_NAMES
from gzmorph.data.sources import image_dirs
from gzmorph.data.splitting import assign_splits, pack_splits
from gzmorph.errors import cli
from gzmorph.io import write_json
from gzmorph.params import load_params
from gzmorph.paths import LABELS, PROCESSED, SPLIT_REPORT, SPLIT_TABLE


@cli
def main():
    params = load_params()
    labels = pd.read_csv(LABELS)
    split = params.split
    assignment = assign_splits(labels, split.val_fraction, split.test_fraction, split.seed)
    kept, report = pack_splits(labels, assignment, image_dirs(params.data), PROCESSED, params.image.crop,
                               params.image.pixels, split.workers)
    for problem in report.pop("problems"):
        print(f"dropped: {problem}")
    kept.to_csv(SPLIT_TABLE, index=False)
    write_json(SPLIT_REPORT, report)
    print(", ".join(f"{name}: {report[f'{name}_galaxies']}" for name in SPLIT_NAMES))


if __name__ == "__main__":
    main()
