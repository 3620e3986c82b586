"""gzmorph: galaxy morphology classification and captioning on Galaxy Zoo 2.

    import gzmorph
    table = gzmorph.predict(["my_galaxies/"])   # or gzmorph.load() once, then .predict(...) many times

``import gzmorph`` stays quick and silent: TensorFlow loads with the first ``load`` or ``predict``.
"""
import os

# TensorFlow's start-up chatter (oneDNN, CPU features) buries the pipeline's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gzmorph.errors import GzmorphError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["GzmorphError", "LuptonStretch", "Predictor", "contact_sheet", "find", "load", "predict", "similar",
           "unusual"]
# gzmorph.api, imported when first asked for
API = ("LuptonStretch", "Predictor", "contact_sheet", "find", "load", "predict", "similar", "unusual")


def __getattr__(name: str):
    if name in API:
        from gzmorph import api

        return getattr(api, name)
    raise AttributeError(f"module 'gzmorph' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
