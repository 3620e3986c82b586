import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (REPO / "README.md").read_text())[:2]


def test_readme_opens_with_the_two_commands():
    run, test = readme_commands()
    assert run.endswith("dvc repro") and test.endswith("pytest")
    assert (REPO / "README.md").read_text().index(run) < 400


def test_ci_runs_the_readme_test_command_and_nothing_else():
    script = [line for line in (REPO / ".ci/run").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert script[-1] == readme_commands()[1]
    assert all(line.startswith(("set ", "cd ")) for line in script[:-1])
