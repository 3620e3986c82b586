"""dvc.yaml against the code: a stage must rerun when any library module it runs changes."""
import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PIPELINE = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def gzmorph_imports(path: Path) -> set[str]:
    """The gzmorph modules a file imports, at any depth of the file (function-level imports count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gzmorph."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("gzmorph.")}
    return names


def module_closure(script: Path) -> set[str]:
    seen, todo = set(), list(gzmorph_imports(script))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += gzmorph_imports(REPO / "src" / "gzmorph" / f"{name}.py")
    return seen


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_a_stage_depends_on_exactly_the_modules_it_runs(stage):
    script = REPO / PIPELINE[stage]["cmd"].split()[-1]
    needed = {f"src/gzmorph/{name}.py" for name in module_closure(script)}
    listed = {dep for dep in PIPELINE[stage]["deps"] if dep.startswith("src/")}
    assert listed == needed  # missing: a stale stage; extra: needless reruns
