"""The code's shape, checked: the layer contracts of pyproject.toml (import-linter) and the ruff rules."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *args], cwd=REPO, capture_output=True, text=True)


def test_every_layer_imports_only_the_layers_below_it():
    done = run("lint-imports", "--no-cache")
    assert done.returncode == 0, done.stdout[-3000:]  # names the contract and the import chain that broke it
    assert "0 broken" in done.stdout


def test_the_tree_passes_ruff():
    done = run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-3000:]
