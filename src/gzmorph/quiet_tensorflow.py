"""Imported first by the stages and commands that use TensorFlow: loads it without its C++ start-up lines.

TensorFlow writes them (oneDNN, CPU features, absl's warning, each twice) while it loads, before absl's
logging starts, so TF_CPP_MIN_LOG_LEVEL no longer hides them; they bury the stage's own output. Set
TF_CPP_MIN_LOG_LEVEL=0 (or 1) to see them again. Python's own warnings and errors are not touched.
"""
import os
import sys


def load_quietly() -> None:
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # the C++ lines go to file descriptor 2 directly, not through sys.stderr
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# gzmorph/__init__.py defaults the level to 2 (warnings and info hidden); a user's own setting wins.
if "tensorflow" not in sys.modules and os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") not in ("0", "1"):
    load_quietly()
