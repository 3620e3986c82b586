"""Shared by the tests that drive DVC: a tiny copy of the project, one reproduced tiny pipeline for the
whole session (training it is the slow part), and the local S3 server of gzmorph.devtools.s3_server."""
import secrets
from pathlib import Path

import pytest

from gzmorph.devtools import s3_server as s3
from helpers import UP_TO_DATE, commit, copy_workspace, run, tiny_project


@pytest.fixture(scope="session")
def reproduced_tiny(tmp_path_factory) -> Path:
    """The session's one training run: the tiny project after `dvc repro`. Never handed to a test, only
    copied, so that no test sees what another one changed."""
    root = tiny_project(tmp_path_factory.mktemp("reproduced_tiny"))
    run(["dvc", "repro"], root)
    return root


@pytest.fixture(scope="session")
def tiny_pipeline(reproduced_tiny, tmp_path_factory) -> Path:
    """The tiny pipeline reproduced but not committed; tests may change it."""
    return copy_workspace(reproduced_tiny, tmp_path_factory.mktemp("tiny_pipeline"))


@pytest.fixture(scope="session")
def tiny_baseline(reproduced_tiny, tmp_path_factory) -> Path:
    """The tiny pipeline with its outputs committed as the baseline of experiments. A test that changes
    its workspace restores it (``pristine``); experiments live in refs and leave the workspace alone."""
    root = copy_workspace(reproduced_tiny, tmp_path_factory.mktemp("tiny_baseline"))
    commit(root, "baseline")
    return root


@pytest.fixture
def pristine(tiny_baseline) -> Path:
    """The shared baseline, put back to its commit afterwards, outputs included."""
    try:
        yield tiny_baseline
    finally:
        # A fresh index, every file rewritten: autostage has staged the changed dvc.lock, and a params.yaml
        # edited within a second of the last reset can pass for unchanged.
        (tiny_baseline / ".git" / "index").unlink()
        run(["git", "reset", "-q", "--hard"], tiny_baseline)
        run(["dvc", "checkout", "--force"], tiny_baseline)
    assert run(["dvc", "status"], tiny_baseline).strip().endswith(UP_TO_DATE)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> dict:
    """SeaweedFS serving one bucket on 127.0.0.1, with throwaway keys; stopped by its PID at the end of
    the session, whatever the tests did."""
    folder = tmp_path_factory.mktemp("seaweedfs")
    server = {"port": s3.free_port(), "bucket": "gzmorph", "key": secrets.token_hex(8),
              "secret": secrets.token_hex(16)}
    process = s3.start(folder / "data", server["port"], server["bucket"], server["key"], server["secret"],
                       folder / "weed.log")
    try:
        yield {**server, "endpoint": f"http://127.0.0.1:{server['port']}"}
    finally:
        s3.stop(process)
