"""Why the released model scores lower on the Hart et al. (2016) galaxies than on its Kaggle test split: each
hypothesis measured, no model trained on any hart16 galaxy.

    python benchmarks/bench_hart16.py [--data DIR] [--other DIR] [--models DIR]

1. Twins: hart16 images whose pixels equal a Kaggle image's (the same SDSS cut-out in both releases), and
   what the two catalogues say of each: the same pixels, two sets of vote fractions.
2. The label rule on 37 columns against 17: hart16 has question 4 (spiral arms), which the rule then requires
   of a spiral; the Kaggle subset, and so the model's training labels, has not.
3. The class mix: the Kaggle test split's per-class recall weighted by hart16's class shares.
4. The smooth fraction (Class1.1) predicted against each catalogue's.
5. hart16's labels with the rule's thresholds moved by the twins' offset of the smooth fraction: what the
   model scores if the two catalogues differ by that offset alone.
6. Test-time framing and brightness: a tighter or wider crop, darker or brighter pixels, on both sets; if the
   images differed in scale or photometry, one of them would help hart16 more than Kaggle.
Accuracies come with 95 % bootstrap intervals over galaxies. The model answers as `gzmorph evaluate` does
(the folder's settings, TTA on). --models names a folder trained on the same Kaggle split as the released
model (another seed, from `bench_real.py --keep DIR --set seed=N`: DIR/models).
"""
from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

import gzmorph
import gzmorph.quiet_tensorflow  # noqa: F401, I001  (before TensorFlow loads: without its start-up lines)
from gzmorph.devtools.project import real_data_parser
from gzmorph.gz2.rule import CLASSES, Rule, classify
from gzmorph.models.folder import ModelsFolder
from gzmorph.params import Params

THUMB = 32  # px a side of the grey thumbnails that find twin candidates
RULE_17 = ["Class1.1", "Class1.2", "Class1.3", "Class2.1", "Class2.2", "Class6.1", "Class6.2", "Class7.1",
           "Class7.2", "Class7.3", *[f"Class8.{i}" for i in range(1, 8)]]


def accuracy(true: np.ndarray, predicted: np.ndarray, rounds: int = 1000) -> str:
    hits = (np.asarray(true) == np.asarray(predicted)).astype(float)
    means = hits[np.random.default_rng(0).integers(0, len(hits), (rounds, len(hits)))].mean(axis=1)
    return f"{hits.mean():.3f} ({np.quantile(means, 0.025):.3f}-{np.quantile(means, 0.975):.3f})"


def thumbnails(paths: list[Path]) -> np.ndarray:
    """Centred, normalised grey thumbnails: a dot product near 1 marks a twin candidate."""
    thumbs = np.stack([np.asarray(Image.open(p).convert("L").crop((106, 106, 318, 318)).resize((THUMB, THUMB)),
                                  np.float32).ravel() for p in paths])
    thumbs -= thumbs.mean(axis=1, keepdims=True)
    return thumbs / (np.linalg.norm(thumbs, axis=1, keepdims=True) + 1e-9)


def twins(kaggle: list[Path], other: list[Path]) -> list[tuple[Path, Path]]:
    """Pairs (other, kaggle) whose decoded pixels are equal."""
    similarity = thumbnails(other) @ thumbnails(kaggle).T
    pairs = []
    for i, j in zip(*np.nonzero(similarity > 0.999)):
        if np.array_equal(np.asarray(Image.open(other[i])), np.asarray(Image.open(kaggle[j]))):
            pairs.append((other[i], kaggle[j]))
    return pairs


def table(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / Params().data.solutions).set_index("GalaxyID")


def main() -> None:
    parser = real_data_parser(__doc__)
    parser.add_argument("--models", type=Path, help="default: the released model")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*images look unlike the galaxies")
    images = Params().data.images
    kaggle_votes, other_votes = table(args.data), table(args.other)
    released = pd.read_csv(ModelsFolder.released().galaxy_ids).set_index("GalaxyID")
    kaggle_paths = [args.data / images / f"{g}.jpg" for g in kaggle_votes.index]
    other_paths = [args.other / images / f"{g}.jpg" for g in other_votes.index]

    print("## 1. Twins: the same pixels in both releases")
    pairs = twins(kaggle_paths, other_paths)
    other_ids, kaggle_ids = [int(o.stem) for o, _ in pairs], [int(k.stem) for _, k in pairs]
    both = pd.DataFrame({"kaggle": kaggle_votes.loc[kaggle_ids, RULE_17].mean(),
                         "hart16": other_votes.loc[other_ids, RULE_17].mean()})
    both["hart16 - kaggle"] = both["hart16"] - both["kaggle"]
    print(f"{len(pairs)} twins; their Kaggle splits in the released model: "
          f"{released.loc[kaggle_ids, 'split'].value_counts().to_dict()}")
    print(both.loc[["Class1.1", "Class1.2", "Class2.1", "Class2.2", "Class6.1", "Class7.1", "Class7.2"]].round(3)
          .to_string())
    higher = int((other_votes.loc[other_ids, "Class1.1"].to_numpy() > kaggle_votes.loc[kaggle_ids, "Class1.1"]
                  .to_numpy()).sum())
    same_class = (classify(other_votes.loc[other_ids]) == classify(kaggle_votes.loc[kaggle_ids])).sum()
    print(f"smooth fraction higher in hart16 for {higher} of {len(pairs)}; the rule gives the same class for "
          f"{same_class} of {len(pairs)}")

    kept = [g for g in other_votes.index if g not in set(other_ids)]  # no galaxy the model saw
    predictor = gzmorph.load(args.models, captions=False)
    test_ids = released.index[released["split"] == "test"]
    runs = {"kaggle test": (kaggle_votes.loc[test_ids], [args.data / images / f"{g}.jpg" for g in test_ids]),
            "hart16": (other_votes.loc[kept], [args.other / images / f"{g}.jpg" for g in kept])}
    predicted = {name: predictor.predict(paths, tta=True) for name, (_, paths) in runs.items()}
    index = {name: rows["class"].map(CLASSES.index).to_numpy() for name, rows in predicted.items()}

    print(f"\n## 2. The rule on 37 columns and on the Kaggle subset's 17 (hart16 without its {len(pairs)} twins)")
    votes = runs["hart16"][0]
    for label, true in (("37 columns (as gzmorph evaluate scores it)", classify(votes)),
                        ("the 17 Kaggle columns", classify(votes[RULE_17]))):
        print(f"- {label}: accuracy {accuracy(true, index['hart16'])}; classes "
              f"{pd.Series(np.asarray(CLASSES)[true]).value_counts().to_dict()}")
    print(f"- Kaggle test split: accuracy {accuracy(classify(runs['kaggle test'][0]), index['kaggle test'])}")

    print("\n## 3. The class mix")
    kaggle_true = classify(runs["kaggle test"][0])
    other_true = classify(votes[RULE_17])
    recall = {c: np.mean(index["kaggle test"][kaggle_true == c] == c) for c in range(len(CLASSES))}
    share = {c: np.mean(other_true == c) for c in range(len(CLASSES))}
    print("| class | Kaggle test share | hart16 share | Kaggle test recall | hart16 recall |\n"
          "| --- | --- | --- | --- | --- |")
    for c, name in enumerate(CLASSES):
        other_recall = np.mean(index["hart16"][other_true == c] == c) if (other_true == c).any() else float("nan")
        print(f"| {name} | {np.mean(kaggle_true == c):.3f} | {share[c]:.3f} | {recall[c]:.3f} | {other_recall:.3f} |")
    print(f"Kaggle test recall weighted by hart16's class mix: {sum(recall[c] * share[c] for c in recall):.3f}")

    print("\n## 4. The smooth fraction, predicted and catalogued")
    for name, (truth, _) in runs.items():
        smooth = predicted[name]["Class1.1"].to_numpy()
        print(f"- {name}: predicted mean {smooth.mean():.3f}, catalogue mean {truth['Class1.1'].mean():.3f}, "
              f"correlation {np.corrcoef(smooth, truth['Class1.1'])[0, 1]:.3f}")

    print("\n## 5. hart16's labels on the Kaggle scale: the rule's smooth and disk thresholds moved by the twins' "
          "offset of the smooth fraction (and, to show how much hangs on it, by other offsets)")
    offset = float(both.loc["Class1.1", "hart16 - kaggle"])
    for shift in sorted({0.0, 0.1, round(offset, 3), 0.3}):
        rule = replace(Rule(), elliptical_smooth=min(1.0, Rule().elliptical_smooth + shift),
                       disk_min=max(0.0, Rule().disk_min - shift))
        shifted = classify(votes[RULE_17], rule)
        mix = pd.Series(np.asarray(CLASSES)[shifted]).value_counts().to_dict()
        print(f"- offset {shift}{' (the twins)' if shift == round(offset, 3) else ''}: accuracy "
              f"{accuracy(shifted, index['hart16'])}; classes {mix}")

    print("\n## 6. Test-time framing and brightness (accuracy; 17-column rule for both)")
    print("| change | Kaggle test | hart16 |\n| --- | --- | --- |")
    truths = {"kaggle test": kaggle_true, "hart16": other_true}
    changes = (("none", None, 1.0), ("crop 180 (tighter)", 180, 1.0), ("crop 240 (wider)", 240, 1.0),
               ("pixels x 0.8", None, 0.8), ("pixels x 1.25", None, 1.25))
    for label, crop, gain in changes:
        changed = gzmorph.load(args.models, captions=False, crop=crop)
        cells = []
        for name, (_, paths) in runs.items():
            if gain == 1.0:
                rows = changed.predict(paths, tta=True)
            else:
                arrays = np.stack([np.clip(np.asarray(Image.open(p).convert("RGB"), np.float32) * gain, 0, 255)
                                   .astype(np.uint8) for p in paths])
                rows = changed.predict(arrays, tta=True)
            cells.append(accuracy(truths[name], rows["class"].map(CLASSES.index).to_numpy()))
        print(f"| {label} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
