"""The stages and the command line load TensorFlow without its C++ start-up lines, unless asked for them."""
import os
import subprocess
import sys

import pytest

LOAD = "import gzmorph.quiet_tensorflow, keras; keras.layers.Dense(2)(keras.ops.zeros((1, 3))); print('ran')"


def load(level: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update({"TF_CPP_MIN_LOG_LEVEL": level} if level is not None else {})
    return subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, env=env, timeout=120)


def test_tensorflow_loads_without_its_start_up_lines():
    done = load(None)
    assert done.stdout == "ran\n" and done.stderr == ""


FAKE_TENSORFLOW = """
import os, warnings
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"I0000 00:00:1.0 1 port.cc:153] oneDNN custom operations are on.\\n")
os.write(2, b"E0000 00:00:1.0 1 cuda_dnn.cc:1] Unable to load cuDNN\\n")
warnings.warn("a Python warning while loading")
if os.environ.get("FAIL"):
    raise ImportError("libcudart.so.12: cannot open shared object file")


class config:
    def list_physical_devices():
        os.write(2, b"E0000 00:00:1.0 1 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\\n")
        return []
"""


def load_fake(tmp_path, level: str | None = None, fails: bool = False) -> subprocess.CompletedProcess:
    """Which start-up lines TensorFlow prints depends on the CPU (its instruction sets, oneDNN on or off):
    a stand-in module that prints them all, found first, makes these tests the same on every machine."""
    (tmp_path / "tensorflow.py").write_text(FAKE_TENSORFLOW)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(PYTHONPATH=str(tmp_path), **({"FAIL": "1"} if fails else {}))
    env.update({"TF_CPP_MIN_LOG_LEVEL": level} if level is not None else {})
    return subprocess.run([sys.executable, "-c", "import gzmorph.quiet_tensorflow, tensorflow"],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("fails", [False, True])
def test_only_the_start_up_lines_are_hidden(tmp_path, fails):
    done = load_fake(tmp_path, fails=fails)
    assert "oneDNN" not in done.stderr and "absl::InitializeLog" not in done.stderr
    assert "Unable to load cuDNN" in done.stderr and "a Python warning while loading" in done.stderr
    assert (done.returncode != 0 and "libcudart" in done.stderr) if fails else done.returncode == 0


@pytest.mark.parametrize("level", ["0", "1"])
def test_the_usual_variable_brings_them_back(tmp_path, level):
    done = load_fake(tmp_path, level)
    assert "oneDNN custom operations are on" in done.stderr and "absl::InitializeLog" in done.stderr


@pytest.mark.skipif(os.path.exists("/dev/nvidiactl"), reason="with an NVIDIA GPU, a failed driver call is news")
def test_the_cuda_builds_failed_driver_call_is_hidden_where_there_is_no_gpu(tmp_path):
    done = load_fake(tmp_path)
    assert "cuInit" not in done.stderr and "Unable to load cuDNN" in done.stderr
