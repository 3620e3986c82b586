"""Sharing through a real S3 remote, as the README tells it: the team's remote committed once, pushed to
SeaweedFS, then a fresh clone that pulls and predicts what the pushed models did, without training."""
import re
import shutil
import subprocess

import pytest

from helpers import REPO, SAMPLE, UP_TO_DATE, copy_workspace, dvc_env, run

SECTION = "## The trained models without training"


def use_s3_remote(root, server) -> None:
    """The seaweedfs remote as default, with its address and keys in .dvc/config.local."""
    for setting in (["default", "seaweedfs"], ["modify", "seaweedfs", "endpointurl", server["endpoint"]],
                    ["modify", "seaweedfs", "url", f"s3://{server['bucket']}/dvc"],
                    ["modify", "seaweedfs", "access_key_id", server["key"]],
                    ["modify", "seaweedfs", "secret_access_key", server["secret"]]):
        run(["dvc", "remote", setting[0], "--local", *setting[1:]], root)


def readme_steps(server: dict, origin, galaxies) -> tuple[list[str], list[str]]:
    """The section's two command blocks (the team's setup, then a fresh computer's), with the README's
    placeholders filled in: this server, its keys, the origin repository, a folder of galaxies."""
    section = (REPO / "README.md").read_text().split(SECTION)[1].split("\n## ")[0]
    blocks = re.findall(r"```bash\n(.+?)\n```", section, re.S)
    assert len(blocks) == 2, "the section gives the team's setup, then a fresh computer's steps"
    filled = {"s3://my-bucket/gzmorph": f"s3://{server['bucket']}/team",
              "https://minio.example.org": server["endpoint"], "<key id>": server["key"],
              "<secret key>": server["secret"], "<repository URL>": str(origin),
              "my_galaxies/": f"{galaxies}/"}
    for placeholder, value in filled.items():
        blocks = [block.replace(placeholder, value) for block in blocks]
    return blocks[0].splitlines(), blocks[1].splitlines()


def bash(lines: list[str], cwd) -> str:
    env = {**dvc_env(), **{f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
                           for what, value in (("NAME", "t"), ("EMAIL", "t@t"))}}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(lines)], cwd=cwd, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"{lines}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.mark.slow
def test_a_fresh_clone_pulls_the_models_and_predicts_as_the_readme_says(tiny_baseline, s3_server, tmp_path):
    origin = copy_workspace(tiny_baseline, tmp_path / "origin")
    galaxies = tmp_path / "my_galaxies"
    galaxies.mkdir()
    for image in sorted((SAMPLE / "images_training_rev1").iterdir())[:6]:
        shutil.copy(image, galaxies)
    team, fresh = readme_steps(s3_server, origin, galaxies)
    keys = [line for line in fresh if "--local team" in line]
    assert len(keys) == 2
    bash(team + keys + ["dvc push"], origin)  # the one who trained: the team's remote, their keys, a push
    assert "in sync" in run(["dvc", "status", "--cloud"], origin)
    run(["gzmorph", "predict", str(galaxies), "--models", "models", "--output", str(tmp_path / "pushed.csv")], origin)

    # A fresh computer: every step of the README but the install, which made the environment this runs in.
    steps = [line for line in fresh if "pip install" not in line]
    assert len(steps) == len(fresh) - 1 and steps[0].startswith("git clone")
    log = bash(steps, tmp_path)
    clone = tmp_path / "gzmorph"
    assert UP_TO_DATE in log
    assert (clone / "predictions.csv").read_text() == (tmp_path / "pushed.csv").read_text()
    assert s3_server["secret"] in (clone / ".dvc/config.local").read_text()
    run(["git", "check-ignore", "-q", ".dvc/config.local"], clone)  # the keys stay out of git
    repro = run(["dvc", "repro"], clone)
    assert "Running stage" not in repro and repro.strip().endswith(UP_TO_DATE)


@pytest.mark.slow
def test_the_server_serves_only_with_its_keys(tiny_baseline, s3_server, tmp_path):
    """The remote is a real, authenticated S3 endpoint, not an open folder."""
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(tiny_baseline), str(clone)], tmp_path)
    use_s3_remote(clone, {**s3_server, "secret": "wrong" * 8})
    log = run(["dvc", "pull"], clone, ok=False)
    assert "(403)" in log and "failed to pull" in log
