"""Similarity search, few-shot finding and oddity on real GZ2 galaxies, and the vector index's speed.

    python benchmarks/bench_search.py [--data DIR] [--models DIR] [--tables DIR] [--sizes 10000 100000 1000000]

The released model's (or --models') validation and test galaxies (galaxy_ids.csv; real GZ2 images and votes
read at run time from $GZMORPH_REAL_DATA/kaggle) are predicted with embeddings through gzmorph.load().predict,
and each split searched as a catalogue of its own. Labels: the class the class rule gives (galaxy_ids.csv) and
the volunteers' "anything odd" fraction (Class6.1 > 0.5). Prints, per representation and split: the precision
of the 10 nearest neighbours per class (against the same search in the model-ready pixels and against chance),
few-shot precision of the top 50 from 5 random examples (mean of 20 draws) for mergers and edge-on disks, and
the oddity scores' AUROC and top-50 precision; then the index's build and query times and the approximate
index's recall at 10 on random vectors drawn from the test embeddings' distribution. 95 % intervals: a
percentile bootstrap over the galaxies (over the draws for few-shot). --tables keeps the predicted tables.
"""
from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

import faiss
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import gzmorph
from gzmorph.data.decoding import load_galaxy
from gzmorph.devtools.project import real_data_parser
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.inference.table import PROBABILITY_PREFIX
from gzmorph.models.folder import ModelsFolder
from gzmorph.params import Params
from gzmorph.search import index as vector_index
from gzmorph.search import representation
from gzmorph.search.catalogue import Catalogue
from gzmorph.search.fewshot import resemblance

NEIGHBOURS, TOP, EXAMPLES, DRAWS, RESAMPLES = 10, 50, 5, 20, 1_000
PROBES, SINGLE = (8, 16, 32, 64), 20  # lists probed by the inverted file; queries timed one at a time
ODD_VOTES, ODD_THRESHOLD = "Class6.1", 0.5
FEW_SHOT_CLASSES = ("merger", "edge-on")
# (name, kind, components): what item 6 compares
REPRESENTATIONS = [("pooled", "pooled", 0), ("centred", "centred", 0), ("whitened", "whitened", 0),
                   ("pca16", "pca", 16), ("pca32", "pca", 32), ("pca64", "pca", 64)]


def predicted(split: str, ids: pd.Series, data: Path, models: Path | None, tables: Path | None) -> pd.DataFrame:
    """The split's prediction table with embeddings, read from --tables where it was kept before."""
    kept = tables / f"{split}.parquet" if tables else None
    if kept and kept.is_file():
        return pd.read_parquet(kept)
    files = pd.DataFrame({"GalaxyID": ids.to_numpy(),
                          "file": [str(data / Params().data.images / f"{g}.jpg") for g in ids]})
    table = gzmorph.load(models).predict(files, embeddings=True)
    if kept:
        table.to_parquet(kept)
    return table


def interval(draws: np.ndarray) -> str:
    low, high = np.percentile(draws, [2.5, 97.5])
    return f"({low:.3f}-{high:.3f})"


def bootstrap(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.array([values[rng.integers(0, len(values), len(values))].mean() for _ in range(RESAMPLES)])


def neighbour_precision(vectors: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per galaxy, the share of its 10 nearest others (cosine, exact) of its own class."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    _, rows = index.search(vectors, NEIGHBOURS + 1)
    own = np.array([row[row != i][:NEIGHBOURS] for i, row in enumerate(rows)])
    return (classes[own] == classes[:, None]).mean(axis=1)


def few_shot_precision(vectors: np.ndarray, classes: np.ndarray, name: str, rng: np.random.Generator) -> np.ndarray:
    """Per draw of 5 examples of ``name``, the share of ``name`` among the top 50 of the other galaxies."""
    members = np.flatnonzero(classes == name)
    shares = []
    for _ in range(DRAWS):
        examples = rng.choice(members, EXAMPLES, replace=False)
        score = resemblance(vectors, vectors[examples], left_out=examples)
        score[examples] = -np.inf
        shares.append(np.mean(classes[np.argsort(-score)[:TOP]] == name))
    return np.array(shares)


def isolation(vectors: np.ndarray) -> np.ndarray:
    """Mean cosine distance to the 10 nearest other galaxies."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    similarities, _ = index.search(vectors, NEIGHBOURS + 1)
    return 1 - similarities[:, 1:].mean(axis=1)


def ranks(score: np.ndarray) -> np.ndarray:
    return pd.Series(score).rank(pct=True).to_numpy()


def oddity_figures(scores: dict[str, np.ndarray], odd: np.ndarray, rng: np.random.Generator) -> None:
    """AUROC and top-50 precision per score, and the paired bootstrap of each against the predicted fraction."""
    draws = [rng.integers(0, len(odd), len(odd)) for _ in range(RESAMPLES)]

    def figures(score, rows):
        return roc_auc_score(odd[rows], score[rows]), odd[rows][np.argsort(-score[rows])[:TOP]].mean()

    baseline = np.array([figures(scores["predicted Class6.1"], rows) for rows in draws])
    for name, score in scores.items():
        auroc, top = figures(score, np.arange(len(odd)))
        resampled = np.array([figures(score, rows) for rows in draws])
        difference = resampled - baseline
        print(f"| {name} | {auroc:.3f} {interval(resampled[:, 0])} | {top:.2f} {interval(resampled[:, 1])} | "
              f"{difference[:, 0].mean():+.3f} {interval(difference[:, 0])} |")


def quality(split: str, table: pd.DataFrame, pixels: np.ndarray, classes: np.ndarray, odd: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    raw = Catalogue(table).vectors
    names = [c for c in CLASSES if c in set(classes)]
    print(f"\n## {split}: {len(table)} galaxies; odd (Class6.1 > {ODD_THRESHOLD}) {odd.mean():.3f}")
    print("precision of the 10 nearest neighbours, by the query's class (chance: the class's share of the others)")
    print("| representation | " + " | ".join(f"{c} ({np.sum(classes == c)})" for c in names)
          + " | macro mean | few-shot top 50: " + " | few-shot: ".join(FEW_SHOT_CLASSES) + " |")
    print("| --- " * (len(names) + 2 + len(FEW_SHOT_CLASSES)) + "|")
    chance = [(np.sum(classes == c) - 1) / (len(classes) - 1) for c in names]
    print("| chance | " + " | ".join(f"{c:.3f}" for c in chance) + f" | {np.mean(chance):.3f} | "
          + " | ".join(f"{np.mean(classes == c):.3f}" for c in FEW_SHOT_CLASSES) + " |")
    candidates = [("pixels (model-ready, 64 px)", representation.fit(pixels, "pooled")(pixels))]
    candidates += [(name, representation.fit(raw, kind, components or representation.DEFAULT_COMPONENTS)(raw))
                   for name, kind, components in REPRESENTATIONS]
    heads = table[[c for c in table.columns if c.startswith(PROBABILITY_PREFIX) or c in VOTE_COLUMNS]]
    heads = heads.to_numpy(np.float32)  # another layer: what the heads make of the pooled features
    candidates.append((f"the heads' outputs ({heads.shape[1]}: class probabilities, votes)",
                       representation.fit(heads, "centred")(heads)))
    isolations = {}
    for name, vectors in candidates:
        precision = neighbour_precision(vectors, classes)
        cells = [f"{precision[classes == c].mean():.3f} {interval(bootstrap(precision[classes == c], rng))}"
                 for c in names]
        macro = np.mean([precision[classes == c].mean() for c in names])
        shots = [few_shot_precision(vectors, classes, c, rng) for c in FEW_SHOT_CLASSES]
        print(f"| {name} | " + " | ".join(cells) + f" | {macro:.3f} | "
              + " | ".join(f"{s.mean():.3f} {interval(bootstrap(s, rng))}" for s in shots) + " |")
        isolations[name] = isolation(vectors)
    print(f"\noddity: galaxies with Class6.1 > {ODD_THRESHOLD} ({int(odd.sum())} of {len(odd)})")
    print("| score | AUROC | top-50 precision | AUROC minus predicted Class6.1's |\n| --- | --- | --- | --- |")
    predicted_odd = table[ODD_VOTES].to_numpy()
    scores = {"predicted Class6.1": predicted_odd}
    for name in ("pooled", representation.DEFAULT):
        scores[f"isolation ({name})"] = isolations[name]
        scores[f"mean of ranks: predicted Class6.1 and isolation ({name})"] = \
            (ranks(predicted_odd) + ranks(isolations[name])) / 2
    oddity_figures(scores, odd, rng)


def timings(sizes: list[int], embeddings: np.ndarray, queries: int) -> None:
    """Build and query times of the index as gzmorph.search.index builds it, exact and inverted-file (at several
    numbers of lists probed), on random vectors drawn from a Gaussian fitted to ``embeddings``; recall at 10
    against the exact search."""
    rng = np.random.default_rng(0)
    mean, covariance = embeddings.mean(axis=0), np.cov(embeddings, rowvar=False)
    print(f"\n## index speed: {queries} queries of k=10, {embeddings.shape[1]}-d, faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} threads")
    print("| vectors | index | build s | query ms (each, in a batch) | query ms (one at a time) | recall at 10 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in sizes:
        vectors = rng.multivariate_normal(mean, covariance, n, method="cholesky").astype(np.float32)
        asked = rng.multivariate_normal(mean, covariance, queries, method="cholesky").astype(np.float32)
        truth = None
        for name, threshold in (("exact (flat)", n), ("inverted file", 0)):
            vector_index.EXACT_UP_TO = threshold
            start = time.perf_counter()
            built = vector_index.VectorIndex.build(vectors)
            build = time.perf_counter() - start
            for probed in ([None] if truth is None else PROBES):
                if probed:
                    built.index.nprobe = probed
                start = time.perf_counter()
                _, rows = built.search(asked, NEIGHBOURS)
                batch = (time.perf_counter() - start) / queries * 1e3
                start = time.perf_counter()
                for one in asked[:SINGLE]:
                    built.search(one[None], NEIGHBOURS)
                single = (time.perf_counter() - start) / SINGLE * 1e3
                truth = rows if truth is None else truth
                recall = np.mean([len(set(a) & set(b)) / NEIGHBOURS for a, b in zip(rows, truth)])
                label = name + (f", {probed} of {built.index.nlist} lists probed" if probed else "")
                print(f"| {n:,} | {label} | {build:.2f} | {batch:.3f} | {single:.2f} | {recall:.3f} |", flush=True)
            del built


def cpu() -> str:
    lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")]
    return names[0] if names else platform.processor()


def main() -> None:
    parser = real_data_parser(__doc__)
    parser.add_argument("--models", type=Path, help="default: the released model")
    parser.add_argument("--tables", type=Path, help="keep (and reuse) the predicted tables in this folder")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    print(f"CPU: {cpu()}; representation default: {representation.DEFAULT}")
    galaxies = pd.read_csv(ModelsFolder.named(args.models).galaxy_ids)
    votes = pd.read_csv(args.data / Params().data.solutions, usecols=["GalaxyID", ODD_VOTES])
    galaxies = galaxies.merge(votes, on="GalaxyID", how="left")
    image = Params().image
    test_embeddings = None
    for split in ("val", "test"):
        rows = galaxies[galaxies["split"] == split].reset_index(drop=True)
        table = predicted(split, rows["GalaxyID"], args.data, args.models, args.tables)
        test_embeddings = Catalogue(table).vectors
        if args.skip_quality:
            continue
        pixels = np.stack([load_galaxy(f, image.crop, image.pixels).reshape(-1) for f in table["file"]]
                          ).astype(np.float32)
        quality(split, table, pixels, rows["class"].to_numpy(), rows[ODD_VOTES].to_numpy() > ODD_THRESHOLD)
    timings(args.sizes, test_embeddings, args.queries)


if __name__ == "__main__":
    main()
