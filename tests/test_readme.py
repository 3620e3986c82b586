import re
import shutil
import subprocess
import sys
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


REFERENCE = ("api", "pipeline", "experiments", "remotes", "gpus-and-clusters", "results", "reproducibility")


def test_the_readme_is_short_and_links_every_reference_page():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 220  # 200 before the search section (issue 35), 215 before issue 33
    for page in REFERENCE:
        assert f"(docs/{page}.md)" in readme and (REPO / "docs" / f"{page}.md").is_file()


def test_the_readme_names_no_machine_and_no_folder_outside_the_repository():
    readme = (REPO / "README.md").read_text()
    assert "this machine" not in readme and "../" not in readme


def test_the_fast_subset_is_documented_beside_the_full_test_command():
    readme = (REPO / "README.md").read_text()
    assert 'pytest -m "not slow"' in readme


def test_the_readmes_python_example_runs_as_it_is_on_a_folder_of_galaxies(tmp_path):
    example = re.findall(r"```python\n(.+?)\n```", (REPO / "README.md").read_text(), re.S)[0]
    (tmp_path / "my_galaxies").mkdir()
    for image in sorted((REPO / "data/sample/images_training_rev1").iterdir())[:3]:
        shutil.copy(image, tmp_path / "my_galaxies")
    done = subprocess.run([sys.executable, "-c", example + "\nprint(features.shape)"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.fullmatch(r"\(3, \d+\)", done.stdout.strip().splitlines()[-1]) and "caption" in done.stdout
