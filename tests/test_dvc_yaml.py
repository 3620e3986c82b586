"""dvc.yaml against the code: a stage must rerun when any library module it runs changes, and the
paths it declares are the ones the code writes (gzmorph.paths, and gzmorph.models.folder for models/)."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gzmorph import paths
from gzmorph.models import folder as models

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "gzmorph"
PIPELINE = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path:
    """The file of a dotted gzmorph module (``gzmorph.data.labels``), a package's ``__init__.py`` included."""
    path = REPO / "src" / Path(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def gzmorph_imports(path: Path) -> set[str]:
    """The gzmorph modules a file imports, at any depth of the file (function-level imports count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gzmorph"):
            names |= {f"{node.module}.{a.name}" if module_file(f"{node.module}.{a.name}").is_file() else node.module
                      for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("gzmorph.")}
    return {name for name in names if name != "gzmorph"}


def module_closure(script: Path) -> set[Path]:
    """The files of every gzmorph module the script runs, relative to the repository root."""
    seen, todo = set(), list(gzmorph_imports(script))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += gzmorph_imports(module_file(name))
    return {module_file(name).relative_to(REPO) for name in seen}


def layer_deps(files: set[Path]) -> set[str]:
    """The layer folder (gzmorph.data, gzmorph.training, ...) of each module, or the module itself at the
    package's top: a stage depends on the whole of every layer it uses."""
    return {str(file.parent if file.parent != PACKAGE.relative_to(REPO) else file) for file in files
            if file.parent != PACKAGE.relative_to(REPO) or file.name != "__init__.py"}


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_a_stage_depends_on_every_layer_it_runs_and_no_other(stage):
    script = REPO / PIPELINE[stage]["cmd"].split()[-1]
    listed = {dep for dep in PIPELINE[stage]["deps"] if dep.startswith("src/")}
    assert listed == layer_deps(module_closure(script))  # missing: a stale stage; extra: needless reruns


def declared(stage: dict) -> set[str]:
    entries = [*stage.get("deps", []), *stage.get("outs", []), *stage.get("metrics", []), *stage.get("plots", [])]
    return {next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries}


def test_every_path_the_code_writes_is_declared_in_dvc_yaml():
    everything = set().union(*(declared(stage) for stage in PIPELINE.values()))
    inputs = {"PARAMS", "SAMPLE"}  # what the pipeline reads, never writes
    written = {str(value) for name, value in vars(paths).items() if isinstance(value, Path) and name not in inputs}
    written |= {str(models.PIPELINE.classifier), str(models.PIPELINE.captioner)}  # the models folder's layout
    folders = {"models", "metrics", "plots", "dvclive"}  # parents of the declared files, never declared themselves
    assert written - folders <= everything


def test_every_path_dvc_yaml_declares_is_named_once_in_the_code():
    """docs/architecture.md: the stages write the files gzmorph.paths names (models/: gzmorph.models.folder)."""
    named = {str(value) for value in vars(paths).values() if isinstance(value, Path)}
    named |= {str(models.PIPELINE.classifier), str(models.PIPELINE.captioner)}
    for stage in PIPELINE.values():
        produced = declared({key: value for key, value in stage.items() if key != "deps"})
        assert produced <= named, produced - named


def test_no_stage_script_spells_a_file_name_of_its_own():
    for script in (REPO / "stages").glob("*.py"):
        literals = [node.value for node in ast.walk(ast.parse(script.read_text()))
                    if isinstance(node, ast.Constant) and isinstance(node.value, str)]
        file_names = [text for text in literals if Path(text).suffix in (".json", ".csv", ".png", ".npy", ".keras")]
        assert not file_names, script


def test_every_curve_dvc_yaml_draws_is_a_file_and_field_dvclive_writes():
    top = yaml.safe_load((REPO / "dvc.yaml").read_text())
    live = {str(paths.CLASSIFIER_CURVES), str(paths.CAPTIONER_CURVES)}
    curves = [next(iter(plot.values())) for plot in top["plots"] if isinstance(plot, dict)]
    assert curves and {m for m in top["metrics"]} == {f"{folder}/metrics.json" for folder in live}
    for curve in curves:
        for file, field in curve["y"].items():
            assert any(file.startswith(f"{folder}/plots/metrics/") for folder in live)
            header = (REPO / file).read_text().splitlines()[0].split("\t")  # the committed sample's run
            assert header == [curve["x"], field]


def test_bytecode_caches_in_a_layer_folder_do_not_change_its_stages():
    cache = "src/gzmorph/data/__pycache__/labels.cpython-311.pyc"
    done = subprocess.run([str(Path(sys.executable).parent / "dvc"), "check-ignore", cache], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0 and cache in done.stdout, done.stderr
