"""The vector index over a catalogue's embeddings (faiss): exact inner products on unit vectors (cosine) up to
EXACT_UP_TO rows, an inverted-file index beyond. Measured on 2 cores (docs/results.md, "Similar galaxies,
few-shot finding and oddity"): exact search of 10^6 rows builds in 4 s and answers a query in 0.13-0.21 s,
fast enough beside reading such a table; past that it grows with the rows (and its memory with them), while
the inverted file answers in about 2 ms with 0.99 of the true 10 nearest, for a build of about a minute.
Saved beside its table with what it was built from, so that an index of another version of the table is
refused rather than answering with the wrong rows; rebuilding is left to the user because at survey scale it
takes minutes, and a table that changed under its index (a run still writing it) is worth knowing about."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from gzmorph.errors import GzmorphError
from gzmorph.search import representation
from gzmorph.search.representation import Representation

SUFFIX = ".index.npz"  # added to the table's file name: predictions.csv -> predictions.csv.index.npz
EXACT_UP_TO = 1_000_000
CELLS_PER_ROOT = 4  # inverted lists: 4 sqrt(n), faiss's rule of thumb
PROBED = 64  # inverted lists searched per query: recall at 10 0.988 at 10^6 rows (32: 0.950)
TRAIN_PER_CELL = 64  # rows the cells are trained on, per cell (faiss warns below 39)
REBUILD_HINT = "--rebuild (rebuild=True in Python)"


@dataclass
class VectorIndex:
    index: faiss.Index
    mapping: Representation
    built_from: str  # fingerprint() of the embeddings it holds

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = representation.DEFAULT) -> VectorIndex:
        mapping = representation.fit(vectors, kind)
        mapped = mapping(vectors)
        n, d = mapped.shape
        if n <= EXACT_UP_TO:
            index = faiss.IndexFlatIP(d)
        else:
            cells = int(CELLS_PER_ROOT * math.sqrt(n))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, cells, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(representation.SEED)
            index.train(mapped[rng.choice(n, min(n, cells * TRAIN_PER_CELL), replace=False)])
            index.nprobe = PROBED
        index.add(mapped)
        return cls(index, mapping, fingerprint(vectors))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, rows), each (n, k), nearest first; a row of -1 where fewer than k are found."""
        return self.index.search(self.mapping(vectors), min(k, self.index.ntotal))

    def save(self, path: Path) -> None:
        meta = {"built_from": self.built_from, "representation": self.mapping.kind}
        np.savez(path, index=faiss.serialize_index(self.index), mean=self.mapping.mean,
                 projection=self.mapping.projection, meta=json.dumps(meta))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            mapping = Representation(meta["representation"], saved["mean"], saved["projection"])
            return cls(faiss.deserialize_index(saved["index"]), mapping, meta["built_from"])


def fingerprint(vectors: np.ndarray) -> str:
    """The embeddings' bytes, hashed: any changed, added, removed or reordered row changes it."""
    return hashlib.sha256(np.ascontiguousarray(vectors, np.float32).tobytes()).hexdigest()


def index_path(table: Path) -> Path:
    return table.with_name(table.name + SUFFIX)


def kept_index(table: Path | None, vectors: np.ndarray, rebuild: bool = False) -> VectorIndex:
    """The index beside ``table``, built (and saved) when there is none or ``rebuild``; refused when it was
    built from other embeddings or with another representation than today's default. Without a file, built
    in memory."""
    if table is None:
        return VectorIndex.build(vectors)
    path = index_path(table)
    if path.is_file() and not rebuild:
        index = VectorIndex.load(path)
        if index.built_from != fingerprint(vectors):
            raise GzmorphError(f"{path}: built from another version of {table}, so its rows would be the wrong "
                               f"galaxies; rebuild it with {REBUILD_HINT}")
        if index.mapping.kind != representation.DEFAULT:
            raise GzmorphError(f"{path}: built on the {index.mapping.kind} representation, not today's "
                               f"{representation.DEFAULT}; rebuild it with {REBUILD_HINT}")
        return index
    index = VectorIndex.build(vectors)
    index.save(path)
    return index
