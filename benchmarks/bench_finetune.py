"""Fine-tuning the released model against training from scratch, with few labels from another image release:
the 667 Hart et al. (2016) galaxies of ../shared/gz2/hart16 (37 vote columns, the GZ2 `images_gz2` release),
at 100 %, 50 % and 25 % of their training split.

    python benchmarks/bench_finetune.py [--data DIR] [--beside DIR] [--fractions 1 0.5 0.25] [--init DIR ...]
                                        [--no-scratch]

The data stages (clean_labels, split) run once, by DVC, in a temporary copy of the project, with --data beside
the Kaggle subset (--beside) as the release trains: so its test galaxies are the ones the release kept out of
training, whose hart16 galaxies it learnt questions 3, 4, 5, 9, 10 and 11 from. Then each
classifier trains in this process with the library's ``train_classifier`` (as the stage does) and is scored
on the same held-out test split as the evaluate stage scores, with 95 % bootstrap intervals.
Prints one table row per run, in the Markdown of docs/results.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import yaml
from sklearn.model_selection import train_test_split

import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.packed_splits import Split
from gzmorph.devtools.project import REPO, exit_on_failure, packed_splits
from gzmorph.devtools.recipe import REAL_DATA
from gzmorph.inference.evaluation import Bootstrap, score_classifier
from gzmorph.models.folder import ModelsFolder
from gzmorph.models.loaded import Models, predict_images
from gzmorph.params import Data, Params, load_params
from gzmorph.paths import real_gz2
from gzmorph.threads import pin_threads
from gzmorph.training.classifier import train_classifier

# From scratch: the real-data recipe (src/gzmorph/devtools/real_data.yaml). Fine-tuned: the released weights, a
# quarter of the learning rate (they are already near a good solution) and a third of the epochs; every layer
# trains, since the images come from another release and the encoder has to adapt to them.
SCRATCH = {key.removeprefix("train_classifier."): yaml.safe_load(value) for key, value in REAL_DATA.items()}
FINE_TUNED = {"learning_rate": 0.0005, "epochs": 30}
HEADLINE = ("accuracy", "f1_weighted", "f1_macro", "vote_rmse")


def share_of(split: Split, fraction: float, seed: int) -> Split:
    """A stratified ``fraction`` of ``split``'s galaxies (all of them at 1)."""
    if fraction >= 1:
        return split
    rows, _ = train_test_split(range(len(split.table)), train_size=fraction, stratify=split.classes,
                               random_state=seed)
    rows = sorted(rows)
    return Split(split.images[rows], split.table.iloc[rows].reset_index(drop=True))


def recipe(params: Params, data: Path, changes: dict, scratch_dir: Path) -> Params:
    classifier = dataclasses.replace(params.train_classifier, checkpoint_dir=str(scratch_dir / "backup"), **changes)
    return params.model_copy(update={"train_classifier": classifier, "data": Data(raw_dir=str(data))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=real_gz2("hart16"))
    parser.add_argument("--beside", type=Path, default=real_gz2("kaggle"),
                        help="the main source the release split --data beside: its test galaxies are the release's")
    parser.add_argument("--fractions", type=float, nargs="+", default=[1.0, 0.5, 0.25])
    parser.add_argument("--init", type=Path, nargs="+", default=[ModelsFolder.released().root],
                        help="models folders to fine-tune from (default: the released model)")
    parser.add_argument("--no-scratch", dest="scratch", action="store_false", help="skip training from scratch")
    args = parser.parse_args()
    params = load_params(REPO / "params.yaml")
    pin_threads(params.threads)
    with tempfile.TemporaryDirectory(prefix="gzmorph-finetune-") as scratch:
        splits = packed_splits(args.data.resolve(), Path(scratch) / "project", beside=args.beside.resolve())
        print(f"galaxies: train {len(splits['train'].table)}, val {len(splits['val'].table)}, "
              f"test {len(splits['test'].table)}")
        print("| training galaxies | start | " + " | ".join(HEADLINE) + " | seconds |")
        print("| --- | --- | " + " | ".join("---" for _ in HEADLINE) + " | --- |")
        for fraction in args.fractions:
            train = share_of(splits["train"], fraction, params.seed)
            starts = [("scratch", SCRATCH)] * args.scratch + [
                (f"from {folder}", {**FINE_TUNED, "init": str(folder)}) for folder in args.init]
            for number, (name, changes) in enumerate(starts):
                run_dir = Path(scratch) / f"run-{number}-{fraction}"
                settings = recipe(params, args.data, changes, run_dir)
                start = time.perf_counter()
                trained = train_classifier(train, splits["val"], settings, run_dir / "curves")
                seconds = time.perf_counter() - start
                predictions = predict_images(Models(ModelsFolder(run_dir), trained, None), splits["test"].images,
                                             settings)
                metrics = score_classifier(predictions, splits["test"], trained.record.train_vote_means,
                                           Bootstrap(settings.evaluate.bootstrap, settings.seed))
                cells = [f"{metrics[k]} ({metrics['ci95'][k]['low']}-{metrics['ci95'][k]['high']})" for k in HEADLINE]
                print(f"| {len(train.table)} ({fraction:.0%}) | {name} | " + " | ".join(cells) + f" | {seconds:.0f} |",
                      flush=True)


if __name__ == "__main__":
    exit_on_failure(main)
