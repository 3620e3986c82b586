"""What scripts/release_model.py holds the released model (models/released) to, for the script and the tests."""
from __future__ import annotations

from pathlib import Path

from gzmorph.models.folder import ModelsFolder

MAX_BYTES = 5_000_000  # each file, so that git carries it without LFS


def too_big(release: ModelsFolder) -> list[Path]:
    """The files of the released folder's card over MAX_BYTES."""
    return [path for path in release.files() if path.stat().st_size > MAX_BYTES]
