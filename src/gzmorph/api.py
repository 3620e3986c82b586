"""gzmorph from Python, as in a notebook: classify and caption galaxies with a models folder (the released
model unless told otherwise), from image files, folders, arrays or a table of file paths.

    import gzmorph
    table = gzmorph.predict(["my_galaxies/"])             # a pandas DataFrame with the command's columns
    galaxies = gzmorph.load()                              # load the models once ...
    table = galaxies.predict(cutouts, embeddings=True)     # ... and predict as often as needed

Every answer follows the settings the models folder carries (``Models.settings``), so the same folder
answers the same from any directory. A mistake in the input raises ``gzmorph.GzmorphError`` with the
command line's one-line message.
"""
from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

import gzmorph.quiet_tensorflow  # noqa: F401, I001  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.decoding import BATCH_SIZE
from gzmorph.data.files import find_images
from gzmorph.data.fits import SDSS_STRETCH, LuptonStretch
from gzmorph.data.inputs import Inputs, file_inputs
from gzmorph.errors import GzmorphError
from gzmorph.inference.predict import predict_arrays, predict_inputs
from gzmorph.inference.streaming import Outcome, predict_into
from gzmorph.inference.table import unfamiliar_count, unfamiliar_warning
from gzmorph.models.folder import ModelsFolder
from gzmorph.models.loaded import Models, load_models
from gzmorph.models.precision import chosen_precision
from gzmorph.params import Params
from gzmorph.search import ranking
from gzmorph.search.catalogue import Catalogue, Source
from gzmorph.search.fewshot import DEFAULT_TOP, find_like
from gzmorph.search.queries import Items
from gzmorph.search.sheet import contact_sheet  # noqa: F401  (gzmorph.contact_sheet)
from gzmorph.search.similar import DEFAULT_K, similar_to
from gzmorph.threads import pin_threads

Images = str | Path | Sequence[str | Path] | np.ndarray | pd.DataFrame


class Predictor:
    """A models folder loaded once; ``predict`` as often as needed."""

    def __init__(self, models: Models, settings: Params | None = None, report: Callable[[str], None] | None = None,
                 crop: int | None = None, lupton: LuptonStretch = SDSS_STRETCH):
        """``settings``: the folder's own unless given. ``crop``: the centre of each image to classify, in
        pixels of Kaggle's 424 px frame (the same fraction of any other size), in place of the crop the models
        learnt from. ``lupton``: how a FITS cut-out's fluxes become colours (gzmorph.data.fits). ``report``
        takes a line naming the models and what they learnt from, and any warning; without it, a warning is a
        Python warning."""
        self.models, self.report, self.lupton = models, report, lupton
        self.settings = models.answering(settings, crop)
        about = models.provenance
        if report:
            report(f"models: {about['models']} (trained on {about['trained_on']}; {about['precision']})")
        if about["warning"]:
            self._warn(about["warning"])

    def _warn(self, warning: str) -> None:
        if self.report:
            self.report(f"warning: {warning}")
        else:
            warnings.warn(warning, stacklevel=calls_in_this_module() + 1)

    def __repr__(self) -> str:
        about = self.models.provenance
        return f"Predictor(models={about['models']!r}, trained_on={about['trained_on']!r})"

    def predict(self, images: Images, tta: bool = False, embeddings: bool = False, batch_size: int = BATCH_SIZE,
                path_column: str = "file", gradcam: str | Path | None = None) -> pd.DataFrame:
        """One row per image: class, the five class probabilities, the vote fractions the model learnt, the
        caption (when loaded with captions), the models folder, and with ``embeddings`` the pooled encoder
        features (``embedding_0`` ...).

        ``images``: files, folders or glob patterns (a ``file`` column; unreadable files are named on stderr
        and left out); an (N, height, width, 3) or (N, height, width) uint8 array of full cut-outs of any
        size, cropped and resized as files are (the index is the array's row); or a DataFrame whose
        ``path_column`` names one file per row, its other columns (IDs) passed through.
        ``tta`` averages over the 8 rotations and flips (8x slower); ``gradcam`` names a folder for a Grad-CAM
        PNG per file (a ``gradcam`` column)."""
        if isinstance(images, pd.DataFrame):
            return self._table(images, path_column, tta, embeddings, batch_size, gradcam)
        if isinstance(images, np.ndarray):
            if gradcam is not None:
                raise GzmorphError("gradcam: heat maps are drawn for image files, each named after its file")
            rows = predict_arrays(checked_array(images), self.models, self._with_tta(tta), batch_size, embeddings)
            self._warn_if_unfamiliar(unfamiliar_count(rows), len(rows))
            return rows
        patterns = [images] if isinstance(images, str | Path) else list(images)
        return self.predict_paths(find_images([str(pattern) for pattern in patterns]), tta, embeddings, batch_size,
                                  gradcam)

    def predict_paths(self, paths: list[Path], tta: bool = False, embeddings: bool = False,
                      batch_size: int = BATCH_SIZE, gradcam: str | Path | None = None) -> pd.DataFrame:
        """``predict`` for image files already found."""
        return self._collected(file_inputs(paths), tta, embeddings, batch_size, gradcam)

    def predict_into(self, output: str | Path, inputs: Inputs, tta: bool = False, embeddings: bool = False,
                     batch_size: int = BATCH_SIZE, gradcam: str | Path | None = None,
                     stop: Callable[[], bool] = lambda: False) -> Outcome:
        """``inputs`` predicted into the file ``output`` (.csv, .json or .parquet) as each batch is answered,
        continuing what an earlier run with the same models and settings left there (gzmorph predict)."""
        outcome = predict_into(Path(output), inputs, self.models, self._with_tta(tta), batch_size, embeddings,
                               self.lupton, gradcam, stop)
        if outcome.warning:
            self._warn(outcome.warning)
        return outcome

    def _collected(self, inputs: Inputs, tta: bool, embeddings: bool, batch_size: int,
                   gradcam: str | Path | None) -> pd.DataFrame:
        """The readable inputs' rows, held in memory; each unreadable file named on stderr."""
        rows, _ = predict_inputs(inputs, self.models, self._with_tta(tta), batch_size, gradcam, embeddings,
                                 self.lupton)
        self._warn_if_unfamiliar(unfamiliar_count(rows), len(rows))
        return rows

    def _warn_if_unfamiliar(self, unfamiliar: int, rows: int) -> None:
        """One warning where most images look unlike the galaxies the models learnt from."""
        warning = unfamiliar_warning(unfamiliar, rows)
        if warning:
            self._warn(warning)

    def _with_tta(self, tta: bool) -> Params:
        return self.settings.model_copy(update={"inference": replace(self.settings.inference, tta=tta)})

    def _table(self, table: pd.DataFrame, path_column: str, tta: bool, embeddings: bool, batch_size: int,
               gradcam: str | Path | None) -> pd.DataFrame:
        """The table's rows whose file could be read, each with its predictions after its own columns."""
        if path_column not in table.columns:
            raise GzmorphError(f"the table has no {path_column!r} column of image files; name it with path_column=")
        paths = [Path(p) for p in table[path_column]]
        for path in paths:
            if not path.is_file():
                raise GzmorphError(f"{path}: no such file (in the table's {path_column!r} column)")
        inputs = Inputs(paths, [str(path) for path in paths], path_column, table)
        return self._collected(inputs, tta, embeddings, batch_size, gradcam)

    def similar(self, query: Items, catalogue: Source, k: int = DEFAULT_K, rebuild: bool = False) -> pd.DataFrame:
        """The ``k`` galaxies of ``catalogue`` (a predictions table with embeddings: a .csv or .parquet file, or
        a DataFrame) most like each query, by cosine similarity; ``gzmorph similar``'s table. A query is a row of
        the catalogue (its file, file name or ID), an image file or a uint8 array of cut-outs (embedded with
        these models, which must be those that wrote the catalogue), or a float array of embeddings. A file's
        index is kept beside it; ``rebuild`` builds it afresh after the table changed."""
        return similar_to(query, catalogue, k, rebuild, self._embedded)

    def find(self, like: Items, catalogue: Source, unlike: Items = (), top: int = DEFAULT_TOP,
             rebuild: bool = False) -> pd.DataFrame:
        """The ``top`` galaxies of ``catalogue`` most like the ``like`` examples (and unlike any ``unlike``
        ones), after the examples themselves; ``gzmorph find``'s table. Examples are given as ``similar``'s
        queries."""
        return find_like(like, catalogue, unlike, top, rebuild, self._embedded)

    def _embedded(self, images: list[Path] | np.ndarray) -> pd.DataFrame:
        return self.predict(images, embeddings=True)


def load(models: str | Path | None = None, captions: bool = True, params: Params | None = None,
         report: Callable[[str], None] | None = None, crop: int | None = None,
         lupton: LuptonStretch = SDSS_STRETCH, precision: str = "auto") -> Predictor:
    """The models in the folder ``models`` (one holding classifier/ and captioner/, such as a clone's
    ``models``), or the released model, trained on real GZ2 galaxies, when None; ``captions=False`` skips the
    captioner (faster). ``params`` answers with its settings instead of the folder's; ``report``, ``crop`` and
    ``lupton`` as for ``Predictor``. ``precision``: auto (bfloat16 where the CPU computes it natively, else
    float32), float32 (the evaluate stage's arithmetic, the same bits on any CPU) or bfloat16."""
    precision = chosen_precision(precision)
    try:
        pin_threads((params or Params()).threads)  # the evaluate stage's arithmetic: the same answers
    except RuntimeError:
        pass  # TensorFlow already ran in this process, on its own thread count; answers may differ in the last bits
    return Predictor(load_models(ModelsFolder.named(models), captions, precision), params, report, crop, lupton)


def predict(images: Images, models: str | Path | None = None, tta: bool = False, captions: bool = True,
            embeddings: bool = False, precision: str = "auto") -> pd.DataFrame:
    """``load(models, captions, precision=precision).predict(images, tta, embeddings)``: for one call; load once
    for many."""
    return load(models, captions, precision=precision).predict(images, tta=tta, embeddings=embeddings)


def calls_in_this_module() -> int:
    """How many of the calls that led here are this module's: a warning's stack level that names the user's line."""
    frame, calls = sys._getframe(1), 0
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, calls = frame.f_back, calls + 1
    return calls


def checked_array(images: np.ndarray) -> np.ndarray:
    grey_or_rgb = images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)
    if images.dtype != np.uint8 or not grey_or_rgb or not len(images):
        raise GzmorphError(f"images: an array must hold full cut-outs as (N, height, width, 3) or (N, height, width) "
                           f"uint8; got shape {images.shape}, dtype {images.dtype}")
    return images


def similar(query: Items, catalogue: Source, k: int = DEFAULT_K, models: str | Path | None = None,
            rebuild: bool = False) -> pd.DataFrame:
    """``Predictor.similar``; the ``models`` (the released model when None) are loaded only for an image query."""
    return similar_to(query, catalogue, k, rebuild, embedded_by(models))


def find(like: Items, catalogue: Source, unlike: Items = (), top: int = DEFAULT_TOP, models: str | Path | None = None,
         rebuild: bool = False) -> pd.DataFrame:
    """``Predictor.find``; the ``models`` are loaded only for an image example."""
    return find_like(like, catalogue, unlike, top, rebuild, embedded_by(models))


def unusual(catalogue: Source, top: int = DEFAULT_TOP, sort: str | None = None) -> pd.DataFrame:
    """The ``top`` galaxies of a predictions table most often predicted odd (Class6.1), or, with ``sort``,
    largest in that column; ``gzmorph unusual``'s table. Embeddings are not needed."""
    table = Catalogue.read(catalogue, embeddings=False)
    return ranking.ranked(table, sort, top) if sort else ranking.unusual(table, top)


def embedded_by(models: str | Path | None) -> Callable[[list[Path] | np.ndarray], pd.DataFrame]:
    """Query images to their prediction table with embeddings, the ``models`` loaded when first called."""
    return lambda images: load(models).predict(images, embeddings=True)
