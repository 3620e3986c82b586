"""The model registry: dvc.yaml's artifacts name models the pipeline makes, and a teammate who never
trained fetches the team's classifier by name with `dvc artifacts get`, from the default DVC remote."""
import pytest
import yaml
from dvc.repo.artifacts import check_name_format

from helpers import REPO, commit, copy_workspace, run


def files(folder) -> dict[str, bytes]:
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


def test_each_artifact_is_a_model_a_stage_makes():
    pipeline = yaml.safe_load((REPO / "dvc.yaml").read_text())
    made = {next(iter(out)) if isinstance(out, dict) else out
            for stage in pipeline["stages"].values() for out in stage.get("outs", [])}
    assert set(pipeline["artifacts"]) == {"classifier", "captioner"}  # the names the README fetches
    for name, artifact in pipeline["artifacts"].items():
        check_name_format(name)  # DVC only warns on a bad name, then can never find it
        assert artifact["type"] == "model"
        assert artifact["path"] in made, f"{name}: nothing in the pipeline makes {artifact['path']}"


@pytest.mark.slow
def test_a_teammate_fetches_the_registered_classifier_by_name(tiny_baseline, tmp_path):
    """The one who trained shares through a remote and registers a version; anyone else then gets that
    model by name, byte for byte, with no clone, no pull and no training. Unregistered names fail."""
    origin = copy_workspace(tiny_baseline, tmp_path / "origin")
    # In .dvc/config, committed: the fetcher sees the repository's config, never its config.local. An
    # absolute path, because a relative one would resolve inside the fetcher's temporary clone.
    run(["dvc", "remote", "add", "-d", "team", str(tmp_path / "store")], origin)
    run(["dvc", "push"], origin)
    commit(origin, "Share the models through the team remote")
    # `dvc artifacts get` serves registered versions only (an annotated tag <name>@v<semver>), as the
    # README registers one. A name declared in dvc.yaml but never registered is not found.
    for key, value in (("user.name", "t"), ("user.email", "t@t")):
        run(["git", "config", key, value], origin)
    run(["gto", "register", "classifier", "--version", "v1.0.0"], origin)

    teammate = tmp_path / "teammate"
    teammate.mkdir()
    # A file:// URL makes DVC clone, as from a Git host, with a cache of its own; a plain path would open
    # the origin in place and could read its cache instead of the remote.
    url = origin.as_uri()
    run(["dvc", "artifacts", "get", url, "classifier", "-o", "classifier"], teammate)
    fetched = files(teammate / "classifier")
    assert {"model.keras", "meta.json"} <= set(fetched)
    assert fetched == files(origin / "models" / "classifier")

    for name in ("no-such-model", "captioner"):  # unknown; declared but not registered
        assert "Unable to find artifact" in run(["dvc", "artifacts", "get", url, name, "-o", name], teammate, ok=False)
        assert not (teammate / name).exists()
