"""Survey cut-outs in FITS, made into the colour image the model learnt from.

GZ2's images are SDSS colour composites of the g, r and i bands made with the asinh method of Lupton et al.
(2004); a FITS cut-out is turned into one the same way, with astropy's ``make_lupton_rgb`` (red from i, green
from r, blue from g), rather than by a brightness scale of our own. A cube holds three bands along its
first axis, bluest first (g, r, i; or another triple, such as g, r, z). Three files named alike but for the
band letter (``NAME_g.fits``, ``NAME_r.fits``, ``NAME_i.fits``; ``-`` or ``.`` before the letter too) are one
cube wherever they are named, and one row, the middle band's file. A single plane is read as a grey image,
all three channels alike. Float and integer pixels alike are fluxes; NaNs (masked pixels) count as empty
sky. Rows are turned so that the first row is the top of the picture, as in a JPEG (FITS counts rows from
the bottom).

The stretch follows astropy's: ``minimum`` is the flux shown black, ``stretch`` the linear range of the
asinh curve and ``Q`` its softening; the defaults suit SDSS cut-outs in nanomaggies.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from gzmorph.errors import GzmorphError

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fits.fz")
BANDS = ("g", "r", "i")  # a cube's planes, in this order
WAVELENGTH_ORDER = "ugrizy"  # the survey filters a band file's name may end in, bluest first
BAND_FILE = re.compile(rf"^(?P<stem>.+)(?P<separator>[_.-])(?P<band>[{WAVELENGTH_ORDER}])"
                       rf"(?P<suffix>(?i:{'|'.join(map(re.escape, FITS_SUFFIXES))}))$")


@dataclass(frozen=True)
class LuptonStretch:
    minimum: float = 0.0
    stretch: float = 0.5
    Q: float = 8.0  # noqa: N815  (astropy's and the paper's name)

    def __post_init__(self):
        if not self.stretch > 0 or not self.Q >= 0:
            raise GzmorphError(f"the Lupton stretch must be above 0 and Q at least 0; got stretch {self.stretch}, "
                               f"Q {self.Q}")


SDSS_STRETCH = LuptonStretch()  # the default, for SDSS cut-outs in nanomaggies


def is_fits(path: Path | str) -> bool:
    return Path(path).name.lower().endswith(FITS_SUFFIXES)


def fits_picture(path: Path | str, lupton: LuptonStretch = SDSS_STRETCH) -> Image.Image:
    """The RGB picture of a FITS cut-out: a (3, height, width) cube of g, r, i, one band of a band triple's
    files (all three read), or one (height, width) band."""
    # astropy loads here, not with the module: the command's checks and the split stage's workers, which
    # import the decoding, never need it for JPEGs (a third of a second each).
    from astropy.visualization import make_lupton_rgb

    triple = band_triple(Path(path))
    planes = fits_planes(path) if triple is None else stacked([fits_planes(band) for band in triple])
    if planes.ndim == 2:
        planes = np.stack([planes] * 3)
    if planes.ndim != 3 or planes.shape[0] != len(BANDS):
        raise ValueError(f"the data are {planes.shape}; a cut-out is one (height, width) band or a "
                         f"(3, height, width) cube of {', '.join(BANDS)}")
    g, r, i = np.nan_to_num(planes.astype(np.float64), nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):  # astropy divides by the intensity of empty sky too
        rgb = make_lupton_rgb(i, r, g, minimum=lupton.minimum, stretch=lupton.stretch, Q=lupton.Q)
    return Image.fromarray(np.ascontiguousarray(rgb[::-1]))


def band_triple(path: Path) -> tuple[Path, Path, Path] | None:
    """The three band files of the galaxy ``path`` is one band of, bluest first: the three named alike but for
    the band letter, or g, r and i where there are more; None where there are fewer, or more without them."""
    match = BAND_FILE.match(path.name)
    if match is None:
        return None
    files = {band: path.with_name(f"{match['stem']}{match['separator']}{band}{match['suffix']}")
             for band in WAVELENGTH_ORDER}
    present = [band for band, file in files.items() if file.is_file()]
    chosen = present if len(present) == len(BANDS) else BANDS if set(BANDS) <= set(present) else None
    return None if chosen is None or match["band"] not in chosen else tuple(files[band] for band in chosen)


def one_file_per_galaxy(path: Path) -> Path:
    """The file that stands for ``path``'s galaxy: the middle band of a band triple, else ``path`` itself."""
    triple = band_triple(path)
    return path if triple is None else triple[1]


def stacked(planes: list[np.ndarray]) -> np.ndarray:
    if any(plane.shape != planes[0].shape or plane.ndim != 2 for plane in planes):
        raise ValueError(f"the three band files hold {', '.join(str(p.shape) for p in planes)}; each must be one "
                         "(height, width) band of the same size")
    return np.stack(planes)


def fits_planes(path: Path | str) -> np.ndarray:
    """The first HDU's data that has any, as an array with its size-one axes dropped."""
    from astropy.io import fits

    with warnings.catch_warnings():  # a damaged file ends in one line naming it, not in astropy's warnings
        warnings.simplefilter("ignore")
        with fits.open(path, memmap=False) as hdus:
            data = next((hdu.data for hdu in hdus if hdu.data is not None and hdu.data.size), None)
            if data is None:
                raise ValueError("no image data in any HDU")
            return np.squeeze(np.asarray(data))
