"""DVCLive's curves outside a trained run: the one case DVCLive itself cannot handle."""
import subprocess

import pytest

from gzmorph.errors import GzmorphError
from gzmorph.training.curves import curves_logger


def test_a_git_repository_without_commits_is_one_clear_error(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GzmorphError, match="need a git commit"):
        curves_logger(tmp_path / "curves")
