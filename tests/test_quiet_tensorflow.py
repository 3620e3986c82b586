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


@pytest.mark.parametrize("level", ["0", "1"])
def test_the_usual_variable_brings_them_back(level):
    done = load(level)
    assert done.stdout == "ran\n" and "absl::InitializeLog" in done.stderr
