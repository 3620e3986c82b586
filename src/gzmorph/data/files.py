"""The image files a user names (gzmorph.data.decoding decodes them batch by batch), and a labelled folder
in Kaggle's layout.

Files, folders and glob patterns are accepted. A folder contributes its JPEG, PNG and FITS files (not its
subfolders'); a file named explicitly is always tried, so a wrong one is reported rather than ignored. The
three FITS files of one galaxy's bands are one galaxy, however they are named.
"""
from __future__ import annotations

import glob
from pathlib import Path

from gzmorph.data.decoding import is_galaxy_file
from gzmorph.data.fits import one_file_per_galaxy
from gzmorph.errors import GzmorphError

GLOB_CHARACTERS = set("*?[")
def find_images(patterns: list[str]) -> list[Path]:
    """Every file the patterns name, in the order given (sorted within a folder or glob), each once; the three
    files of a FITS band triple (gzmorph.data.fits) once, as their middle band's."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        matches = expand(pattern)
        if not matches:
            raise GzmorphError(f"{pattern}: no such file, or no JPEG, PNG or FITS in it; name image files, "
                               "folders of them, or glob patterns")
        found.update(dict.fromkeys(one_file_per_galaxy(match) for match in matches))
    return list(found)


def expand(pattern: str) -> list[Path]:
    path = Path(pattern)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and is_galaxy_file(p))
    if path.is_file():
        return [path]
    if GLOB_CHARACTERS & set(pattern):
        return sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    return []


def kaggle_layout(data_dir: Path, images: str, solutions: str) -> tuple[Path, Path]:
    """The image folder and the solutions table of ``data_dir``, a folder in Kaggle's layout; a wrong folder
    is named with the layout it needs."""
    image_dir, table_file = data_dir / images, data_dir / solutions
    if not data_dir.is_dir():
        raise GzmorphError(f"{data_dir}: no such folder; --data takes a folder holding {images}/ and {solutions}")
    for path in (image_dir, table_file):
        if not path.exists():
            raise GzmorphError(f"{path} not found; --data takes a folder in Kaggle's layout "
                               f"({images}/<GalaxyID>.jpg and {solutions})")
    return image_dir, table_file
