"""gzmorph as a package outside the repository: a regular (non-editable) install of its wheel carries the
released model, and from an empty folder elsewhere `gzmorph predict` gives the table it gives in the
repository root; the wheel lists every subpackage."""
import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from helpers import REPO, SAMPLE

PACKAGE = REPO / "src" / "gzmorph"


def test_pyproject_lists_every_subpackage_of_src():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(REPO / "src").parts) for init in PACKAGE.rglob("__init__.py")}
    assert listed == found | {"gzmorph.released"}


def test_the_package_declares_what_it_imports():
    """Each third-party module src/ imports is a dependency of the package (or of its pipeline extra)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {name.split(">")[0].split("<")[0].split("=")[0].split("[")[0].lower()
                for name in [*project["dependencies"], *project["optional-dependencies"]["pipeline"]]}
    distribution = {"PIL": "pillow", "sklearn": "scikit-learn", "yaml": "pyyaml", "faiss": "faiss-cpu"}
    imported = set()
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            imported |= {name.split(".")[0] for name in names}
    third_party = {name for name in imported - set(sys.stdlib_module_names) if name != "gzmorph"}
    assert {distribution.get(name, name).replace("_", "-").lower() for name in third_party} <= declared


def installed_elsewhere(wheel_dir: Path, venv: Path) -> Path:
    """A new virtual environment holding the gzmorph wheel alone; the project's installed dependencies are
    reachable through a path entry, so that nothing is downloaded, but not its editable gzmorph (a path
    entry's own .pth files are never read)."""
    # Built from a copy of what the wheel is made of: setuptools builds in the source tree and would reuse
    # files an earlier build left there.
    source = wheel_dir / "source"
    for name in ("src", "models/released"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheel_dir), str(source)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.run([venv / "bin" / "python", "-c", ask], check=True, capture_output=True,
                               text=True).stdout.strip())
    (site / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    wheel = next(wheel_dir.glob("gzmorph-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "-q", str(wheel)], check=True, capture_output=True)
    return venv / "bin"


def predicted(command: list, cwd: Path, output: Path) -> pd.DataFrame:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return pd.read_csv(output, keep_default_na=False)


@pytest.mark.slow
def test_an_installed_wheel_predicts_from_any_folder_as_the_clone_does(tmp_path):
    bin_dir = installed_elsewhere(tmp_path / "wheel", tmp_path / "venv")
    where = subprocess.run([bin_dir / "python", "-c", "import gzmorph.api, sys; print(gzmorph.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(tmp_path / "venv")), where  # the installed package, not the working tree
    galaxies = tmp_path / "galaxies"
    galaxies.mkdir()
    for image in sorted((SAMPLE / "images_training_rev1").iterdir())[:5]:
        shutil.copy(image, galaxies)
    empty = tmp_path / "empty"
    empty.mkdir()

    elsewhere = predicted([bin_dir / "gzmorph", "predict", galaxies, "-o", empty / "p.csv"], empty, empty / "p.csv")
    in_clone = predicted([sys.executable, "-m", "gzmorph", "predict", galaxies, "-o", tmp_path / "p.csv"], REPO,
                         tmp_path / "p.csv")
    pd.testing.assert_frame_equal(elsewhere, in_clone)
    assert elsewhere["models"].str.startswith("released (gzmorph ").all() and (elsewhere["caption"] != "").all()
