"""Questions 3, 4, 5, 9, 10 and 11 (bar, spiral arms, bulge, edge-on bulge, arm winding, arm count) on the
held-out Hart et al. (2016) galaxies, a models folder before and after learning them (issue 33), against a
constant and a ridge probe on the earlier encoder's embeddings; with --captions, what each folder's captions say.

    python benchmarks/bench_questions.py [--before DIR | --before-rev REV] [--after DIR]
                                         [--captions [--tta] [--no-questions]] [--data DIR] [--other DIR]

--before: a models folder; by default models/released as committed at --before-rev (940a65e, the release
that learnt only the 17 Kaggle columns), taken out of git into a temporary folder. --after: default
models/released as it is in this working tree. hart16 (--other) is split by the pipeline's own rule:
clean_labels and split run by DVC on Kaggle with hart16 beside it, as the release trains, with the committed
params, in a temporary copy of the project (gzmorph.devtools.project.packed_splits), which gives hart16's
train/val/test a release trained on; a
folder's galaxy_ids.csv with a source column is checked against it (how many hart16 galaxies it puts in
another split).

Each folder predicts the 37 vote columns of the test galaxies through the one forward pass (gzmorph.models.
loaded.predict_images), in float32, with the folder's own settings as gzmorph evaluate scores: its crop and
size, and its TTA (8 views for the released models). Conditional answers (a column over the sum of its
question's columns, gzmorph.gz2.tree.answers_and_reach) are scored on the galaxies at least 30 % of whose
volunteers reached the question (the catalogue's reach): per question, the RMSE over its answers and those
galaxies; pooled, the root of the mean of each reached (galaxy, question)'s mean squared error. Against:
- constant: per answer, its mean share over the training galaxies that reached the question (>= 30 %);
- probe: per question, a ridge regression (scikit-learn RidgeCV, alpha by leave-one-out among 1e-2..1e4, on
  standardised inputs) from the --before folder's 256 pooled encoder features (the embedding_ columns of
  `gzmorph predict --embeddings`) to the question's answer shares, fitted on the training galaxies only
  (val unused) that reached it (>= 30 %, the others left out, not weighted); predictions clipped to [0, 1]
  and divided by their question's sum.
The 20 product columns of those questions (Kaggle's ClassQ.A), over all test galaxies: the folders' own;
the constant (each column's training mean); the probe's answers times the --before folder's Kaggle-scale
parents (Class2.2 for 3, 4, 5; Class2.1 for 9; for 10 and 11 the probe's own Class4.1 share times
Class2.2); and the probe's own hart16-scale products, down the tree from probe answers alone, with ridges for
questions 1 (all training galaxies) and 2 (reached) too: Class1 = p1, Class2 = p2 x Class1.2, then as above.
95 % intervals: 1000 bootstrap resamples of the scored test galaxies, seed 0, the same resamples for every
column of a row, which makes the differences paired.

--captions: the Kaggle test split of each folder's galaxy_ids.csv (rows of the Kaggle source where a source
column says), images from --data, captioned as `gzmorph predict` captions (gzmorph.load(...).predict: beam
search, TTA off unless --tta, here float32; gzmorph evaluate's captioner.json has TTA on): distinct captions,
the share of the three commonest, the shares naming a bar, spiral arms (arms, arm count or winding), a bulge
(bulge or edge-on bulge), any of these (gzmorph.gz2.captions.parse_features, whatever the answer), and the
share whose class phrase is the row's class. Prints Markdown table rows for docs/results.md.
"""
from __future__ import annotations

import argparse
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import gzmorph
import gzmorph.quiet_tensorflow  # noqa: F401, I001  (before TensorFlow loads: without its start-up lines)
from gzmorph.data.decoding import load_galaxy
from gzmorph.data.packed_splits import Split
from gzmorph.devtools.project import REPO, exit_on_failure, packed_splits, real_data_parser, run
from gzmorph.gz2.captions import CLAUSE_SEPARATOR, FINE_FEATURES, implied_class
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import ID_COLUMN, QUESTION_BY_NUMBER, QUESTIONS, REACH_MIN, VOTE_COLUMNS, answers_and_reach
from gzmorph.inference.metrics import bootstrap_intervals, fine_feature_shares, headline_classification, variety
from gzmorph.inference.table import CAPTION_COLUMN, CLASS_COLUMN
from gzmorph.models.folder import IDS, ModelsFolder
from gzmorph.models.loaded import Models, Predictions, load_models, predict_images
from gzmorph.params import Params, load_params
from gzmorph.paths import MODELS
from gzmorph.threads import pin_threads

RELEASED = MODELS / "released"
QUESTIONS_LEARNT = (3, 4, 5, 9, 10, 11)  # what the Kaggle subset lacks
PATH_ABOVE = (1, 2)  # the questions above them, which the probe's own products need
ALPHAS = np.logspace(-2, 4, 13)
RESAMPLES, SEED = 1000, 0
PRODUCT_COLUMNS = [c for n in QUESTIONS_LEARNT for c in QUESTION_BY_NUMBER[n].columns]
# caption features (gzmorph.gz2.captions.FEATURE_NAMES) a finer caption names, by what they name


def columns(number: int) -> list[int]:
    return [VOTE_COLUMNS.index(c) for c in QUESTION_BY_NUMBER[number].columns]


def extracted(rev: str, root: Path) -> Path:
    """models/released as committed at ``rev``, written under ``root``."""
    root.mkdir(parents=True)
    archive = root / "released.tar"
    run(["git", "archive", "--output", archive, rev, RELEASED.as_posix()], REPO)
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    return root / RELEASED


def model_ready(models: Models, split: Split, packed: tuple[int, int], images: Path) -> np.ndarray:
    """The split's images framed as ``models`` learnt: the packed ones where the geometry is the same, else
    decoded afresh from the catalogue's files."""
    if (models.crop, models.pixels) == packed:
        return split.images
    return np.stack([load_galaxy(images / f"{g}.jpg", models.crop, models.pixels) for g in split.ids])


def forward(models: Models, images: np.ndarray, tta: bool | None = None, embeddings: bool = False) -> Predictions:
    """predict_images with the folder's settings (its TTA unless ``tta`` says otherwise)."""
    settings = models.settings()
    if tta is not None:
        settings = settings.model_copy(update={"inference": replace(settings.inference, tta=tta)})
    return predict_images(models, images, settings, embeddings)


def probe(train_x: np.ndarray, train_votes: np.ndarray, test_x: np.ndarray) -> tuple[np.ndarray, dict]:
    """(test answers, (n, 37) with NaN outside the probed questions; per question its alpha and galaxies)."""
    answers, reach = answers_and_reach(train_votes)
    predicted, about = np.full((len(test_x), len(VOTE_COLUMNS)), np.nan), {}
    for number in PATH_ABOVE + QUESTIONS_LEARNT:
        cols = columns(number)
        rows = reach[:, cols[0]] >= REACH_MIN
        ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS)).fit(train_x[rows], answers[rows][:, cols])
        shares = np.clip(ridge.predict(test_x), 0, 1)
        total = shares.sum(axis=1, keepdims=True)
        predicted[:, cols] = np.divide(shares, total, out=np.full_like(shares, 1 / len(cols)), where=total > 0)
        about[number] = (float(ridge[-1].alpha_), int(rows.sum()))
    return predicted, about


def constant_answers(train_votes: np.ndarray) -> np.ndarray:
    """Per column, the mean share over the training galaxies that reached its question."""
    answers, reach = answers_and_reach(train_votes)
    counted = reach >= REACH_MIN
    return np.array([answers[counted[:, c], c].mean() if counted[:, c].any() else np.nan
                     for c in range(len(VOTE_COLUMNS))])


def down_the_tree(shares: np.ndarray, given: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Product columns from conditional shares, question by question (parents come first in QUESTIONS): a
    question's shares times its parent column; a question in ``given`` takes those products as they are."""
    products = np.full(shares.shape, np.nan)
    for question in QUESTIONS:
        cols = columns(question.number)
        if given and question.number in given:
            products[:, cols] = given[question.number]
            continue
        parent = 1.0 if question.parent is None else products[:, [VOTE_COLUMNS.index(question.parent)]]
        products[:, cols] = shares[:, cols] * parent
    return products


def paired_figures(errors: dict[str, np.ndarray], against: tuple[str, ...], counts: np.ndarray | None = None
                   ) -> Callable[[np.ndarray], dict[str, float]]:
    """Each predictor's RMSE over any resample of the rows, then "after - X" for each X ``against``.
    ``errors``: per row, its mean squared error, or with ``counts`` the sum of ``counts`` such means."""
    def figures(rows):
        n = counts[rows].sum() if counts is not None else len(rows)
        scores = {name: float(np.sqrt(values[rows].sum() / n)) for name, values in errors.items()}
        return {**scores, **{f"after - {other}": scores["after"] - scores[other] for other in against}}
    return figures


def cells(errors: dict[str, np.ndarray], against: tuple[str, ...], counts: np.ndarray | None = None) -> dict[str, str]:
    """Each figure of ``paired_figures`` with its 95 % bootstrap interval (the same resamples for all)."""
    figures = paired_figures(errors, against, counts)
    rows = len(next(iter(errors.values())))
    point, ci = figures(np.arange(rows)), bootstrap_intervals(figures, rows, RESAMPLES, SEED)
    return {k: f"{point[k]:+.4f} ({ci[k]['low']:+.4f} to {ci[k]['high']:+.4f})" if k.startswith("after -")
            else f"{point[k]:.4f} ({ci[k]['low']:.4f}-{ci[k]['high']:.4f})" for k in point}


def questions(args: argparse.Namespace, named: dict[str, tuple[Path, str]], params: Params, scratch: Path) -> None:
    splits = packed_splits(args.other.resolve(), scratch / "project", beside=args.data.resolve())
    train, test = splits["train"], splits["test"]
    print(f"hart16 galaxies: train {len(train.table)}, val {len(splits['val'].table)}, test {len(test.table)}")
    for name, (folder, _) in named.items():
        print(f"{name}'s {IDS}: {same_split(folder / IDS, splits, args.other.name)}")
    images, packed = args.other / params.data.images, (params.image.crop, params.image.pixels)
    folders = {name: load_models(ModelsFolder(folder), captions=False) for name, (folder, _) in named.items()}
    answered = {name: forward(models, model_ready(models, test, packed, images), embeddings=True)
                for name, models in folders.items()}
    for name, models in folders.items():
        print(f"{name}: {named[name][1]} (crop {models.crop}, {models.pixels} px, TTA "
              f"{'on' if models.settings().inference.tta else 'off'}, float32)")
    print("\nFive classes on hart16's test galaxies, against hart16's own rule labels (its scale, question 4's arms "
          "test included)\n| models | accuracy | weighted F1 | macro F1 |\n| --- | --- | --- | --- |")
    for name, predictions in answered.items():
        print(f"| {name} | " + " | ".join(five_classes(test.classes, predictions.classes).values()) + " |")
    predicted = {name: predictions.votes.astype(float) for name, predictions in answered.items()}
    smooth = VOTE_COLUMNS.index("Class1.1")
    print(f"\nThe catalogue scale: mean Class1.1 (smooth) over hart16's test galaxies: hart16's labels "
          f"{np.mean(test.votes[:, smooth]):.3f}; " + ", ".join(f"{name} {np.mean(votes[:, smooth]):.3f}"
                                                           for name, votes in predicted.items()))
    before = folders["before"]
    # The pooled features come from the image as it is, TTA or not (gzmorph.models.forward): none needed here.
    train_x = forward(before, model_ready(before, train, packed, images), tta=False, embeddings=True).embeddings
    test_x = answered["before"].embeddings
    probe_answers, about = probe(train_x, train.votes, test_x)
    print(f"probe on {train_x.shape[1]} pooled features of before; per question (alpha, training galaxies): "
          + ", ".join(f"Q{n} ({a:g}, {k})" for n, (a, k) in about.items()))

    true = test.votes.astype(float)
    true_answers, reach = answers_and_reach(true)
    constant = constant_answers(train.votes)
    shares = {"after": answers_and_reach(predicted["after"])[0], "probe": probe_answers,
              "constant": np.broadcast_to(constant, true.shape), "before": answers_and_reach(predicted["before"])[0]}
    against = ("probe", "constant")
    heads = [*shares, *(f"after - {other}" for other in against)]
    print(f"\nConditional answers, RMSE over the test galaxies that reached the question (>= {REACH_MIN:.0%})")
    print("| question | galaxies | " + " | ".join(heads) + " |\n| --- | --- |" + " --- |" * len(heads))
    summed = {name: np.zeros(len(true)) for name in shares}
    counts = np.zeros(len(true))
    for number in QUESTIONS_LEARNT:
        cols = columns(number)
        rows = reach[:, cols[0]] >= REACH_MIN
        errors = {name: ((values[rows][:, cols] - true_answers[rows][:, cols]) ** 2).mean(axis=1)
                  for name, values in shares.items()}
        for name in shares:
            summed[name][rows] += errors[name]
        counts += rows
        question = QUESTION_BY_NUMBER[number]
        label = f"Q{number} {question.topic} ({len(cols)} answers)"
        print(f"| {label} | {int(rows.sum())} | " + (" | ".join(cells(errors, against).values()) if rows.any()
                                                         else "-") + " |", flush=True)
    scored = counts > 0
    pooled = cells({k: v[scored] for k, v in summed.items()}, against, counts[scored])
    print(f"| pooled over the six | {int(scored.sum())} ({int(counts.sum())} reached questions) | "
          + " | ".join(pooled.values()) + " |")

    train_means = np.nanmean(train.votes.astype(float), axis=0)
    model_parents = {n: predicted["before"][:, columns(n)] for n in PATH_ABOVE}
    products = {"after": predicted["after"], "probe x before's parents": down_the_tree(probe_answers, model_parents),
                "probe's own products": down_the_tree(probe_answers),
                "constant": np.broadcast_to(train_means, true.shape), "before": predicted["before"]}
    cols = [VOTE_COLUMNS.index(c) for c in PRODUCT_COLUMNS]
    errors = {name: ((values[:, cols] - true[:, cols]) ** 2).mean(axis=1) for name, values in products.items()}
    figures = cells(errors, tuple(name for name in products if name != "after"))
    print(f"\nThe {len(cols)} product columns of questions {', '.join(map(str, QUESTIONS_LEARNT))}, RMSE over all "
          f"{len(true)} test galaxies")
    print("| predictor | RMSE | after minus it |\n| --- | --- | --- |")
    for name in products:
        print(f"| {name} | {figures[name]} | {figures.get(f'after - {name}', '-')} |")


def five_classes(true: np.ndarray, predicted: np.ndarray) -> dict[str, str]:
    """Accuracy, weighted and macro F1 with their 95 % intervals, as the evaluate stage gives them."""
    scores = lambda rows: headline_classification(true[rows], predicted[rows])  # noqa: E731
    point, ci = scores(np.arange(len(true))), bootstrap_intervals(scores, len(true), RESAMPLES, SEED)
    return {k: f"{point[k]:.3f} ({ci[k]['low']:.3f}-{ci[k]['high']:.3f})" for k in point}


def same_split(ids_file: Path, splits: dict[str, Split], source: str) -> str:
    """Whether a folder's galaxy_ids.csv puts the galaxies of ``source`` in the splits made here."""
    ids = pd.read_csv(ids_file)
    if "source" not in ids.columns:
        return "no source column (the folder learnt from one catalogue)"
    listed = ids[ids["source"].astype(str).str.lower() == source.lower()].set_index(ID_COLUMN)["split"]
    here = pd.Series({g: name for name, split in splits.items() for g in split.ids})
    differ = int((listed != here.reindex(listed.index)).sum())
    return f"{len(listed)} {source} galaxies, {differ} of them in another split than here"


def token_form(sentence: str) -> str:
    """A table's caption (gzmorph.gz2.captions.as_sentence) back in the form the caption parser reads."""
    return sentence.replace(f"{CLAUSE_SEPARATOR} ", f" {CLAUSE_SEPARATOR} ")


def kaggle_test(folder: Path, data: Path) -> pd.DataFrame:
    """GalaxyID and image file of the folder's Kaggle test galaxies."""
    ids = pd.read_csv(folder / IDS)
    rows = ids["split"] == "test"
    if "source" in ids.columns:
        rows &= ids["source"].astype(str).str.lower() == data.name.lower()
    galaxies = ids.loc[rows, ID_COLUMN]
    return pd.DataFrame({ID_COLUMN: galaxies.to_numpy(),
                         "file": [str(data / Params().data.images / f"{g}.jpg") for g in galaxies]})


def captions(args: argparse.Namespace, folders: dict[str, tuple[Path, str]]) -> None:
    heads = ["distinct", "top-3 share", *(f"names {what}" for what in FINE_FEATURES), "names any of these",
             "implies the row's class"]
    print(f"\nCaptions of the Kaggle test split, as `gzmorph predict{' --tta' if args.tta else ''}` writes them "
          f"(beam search, TTA {'on' if args.tta else 'off'}, float32)")
    print("| models | galaxies | " + " | ".join(heads) + " |\n| --- | --- |" + " --- |" * len(heads))
    for name, (folder, label) in folders.items():
        table = gzmorph.load(folder, precision="float32").predict(kaggle_test(folder, args.data), tta=args.tta)
        said = [token_form(c) for c in table[CAPTION_COLUMN]]
        shares = fine_feature_shares(said)
        row_class = np.mean([implied_class(c) == CLASSES.index(k) for c, k in zip(said, table[CLASS_COLUMN])])
        spread = variety(said)
        values = [f"{spread['distinct']}", f"{spread['top3_share']:.1%}", *(f"{s:.1%}" for s in shares.values()),
                  f"{row_class:.1%}"]
        print(f"| {name} ({label}) | {len(table)} | " + " | ".join(values) + " |", flush=True)


def main() -> None:
    parser = real_data_parser(__doc__)
    parser.add_argument("--before", type=Path, help="a models folder (default: models/released at --before-rev)")
    parser.add_argument("--before-rev", default="940a65e", help="the git revision --before defaults to")
    parser.add_argument("--after", type=Path, default=REPO / RELEASED)
    parser.add_argument("--captions", action="store_true", help="also the captions of the Kaggle test split")
    parser.add_argument("--tta", action="store_true",
                        help="captions with TTA, as gzmorph evaluate (the summary they read averaged over 8 views)")
    parser.add_argument("--no-questions", dest="questions", action="store_false",
                        help="skip the questions (with --captions: the captions alone)")
    args = parser.parse_args()
    params = load_params(REPO / "params.yaml")
    pin_threads(params.threads)
    with tempfile.TemporaryDirectory(prefix="gzmorph-questions-") as scratch:
        before = args.before or extracted(args.before_rev, Path(scratch) / "before")
        label = str(args.before) if args.before else f"{RELEASED.as_posix()} at {args.before_rev}"
        folders = {"before": (before, label), "after": (args.after, str(args.after))}
        if args.questions:
            questions(args, folders, params, Path(scratch))
        if args.captions:
            captions(args, folders)


if __name__ == "__main__":
    exit_on_failure(main)
