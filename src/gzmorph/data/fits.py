"""Survey cut-outs in FITS, made into the colour image the model learnt from.

GZ2's images are SDSS colour composites of the g, r and i bands made with the asinh method of Lupton et al.
(2004); a FITS cut-out is turned into one the same way, with astropy's ``make_lupton_rgb`` (red from i, green
from r, blue from g), rather than by a brightness scale of our own. A cube holds the three bands along its
first axis in the order g, r, i; a single plane is read as a grey image, all three channels alike. Float
and integer pixels alike are fluxes; NaNs (masked pixels) count as empty sky. Rows are turned so that the
first row is the top of the picture, as in a JPEG (FITS counts rows from the bottom).

The stretch follows astropy's: ``minimum`` is the flux shown black, ``stretch`` the linear range of the
asinh curve and ``Q`` its softening; the defaults suit SDSS cut-outs in nanomaggies.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from gzmorph.errors import GzmorphError

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fits.fz")
BANDS = ("g", "r", "i")  # a cube's planes, in this order


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
    """The RGB picture of a FITS cut-out: a (3, height, width) cube of g, r, i, or one (height, width) band."""
    # astropy loads here, not with the module: the command's checks and the split stage's workers, which
    # import the decoding, never need it for JPEGs (a third of a second each).
    from astropy.visualization import make_lupton_rgb

    planes = fits_planes(path)
    if planes.ndim == 2:
        planes = np.stack([planes] * 3)
    if planes.ndim != 3 or planes.shape[0] != len(BANDS):
        raise ValueError(f"the data are {planes.shape}; a cut-out is one (height, width) band or a "
                         f"(3, height, width) cube of {', '.join(BANDS)}")
    g, r, i = np.nan_to_num(planes.astype(np.float64), nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):  # astropy divides by the intensity of empty sky too
        rgb = make_lupton_rgb(i, r, g, minimum=lupton.minimum, stretch=lupton.stretch, Q=lupton.Q)
    return Image.fromarray(np.ascontiguousarray(rgb[::-1]))


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
