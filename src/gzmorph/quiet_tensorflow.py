"""Imported first by the stages and commands that use TensorFlow: loads it without its C++ start-up lines.

TensorFlow writes them (oneDNN, CPU features, absl's warning, each twice) while it loads, before absl's
logging starts, so TF_CPP_MIN_LOG_LEVEL no longer hides them; they bury the stage's own output. What else
the load writes to stderr (an error line, a Python warning) is written out once it is loaded, or if it
fails. Set TF_CPP_MIN_LOG_LEVEL=0 (or 1) to see everything again.
"""
import os
import re
import sys
import tempfile

# absl's info and warning lines (I1201 ..., W1201 ..., or I0000 before its clock starts), its notice that
# they go to stderr, and the CPU-feature line's continuation.
START_UP = [r"[IW]\d{4} ", "WARNING: All log messages before absl::InitializeLog", "To enable the following"]
# TensorFlow's Linux wheel is also its CUDA build: where a CUDA driver library is installed but no NVIDIA
# GPU, it reports its failed driver call as an error, once, though it runs on the CPU as it should. Where
# a GPU is (its device file), that line is real news and stays.
NO_GPU = [r"E\d{4} .*failed call to cuInit"] if not os.path.exists("/dev/nvidiactl") else []
HIDDEN = re.compile("|".join(START_UP + NO_GPU))


def load_quietly() -> None:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as captured:
        os.dup2(captured.fileno(), 2)  # the C++ lines go to file descriptor 2 directly, not through sys.stderr
        try:
            import tensorflow

            # The devices are looked up now, while the start-up lines are caught; it leaves the runtime
            # unstarted, so the threads can still be set.
            tensorflow.config.list_physical_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sys.stderr.writelines(line for line in captured if not HIDDEN.match(line))


# gzmorph/__init__.py defaults the level to 2 (warnings and info hidden); a user's own setting wins.
if "tensorflow" not in sys.modules and os.environ["TF_CPP_MIN_LOG_LEVEL"] not in ("0", "1"):
    load_quietly()
