"""FITS cut-outs: a g, r, i cube becomes the colour picture the model learnt from (Lupton et al. 2004, as
SDSS made GZ2's images), one behaviour whether the file is named, found in a folder or given to the API."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.visualization import make_lupton_rgb
from PIL import Image

import gzmorph
from gzmorph.data.decoding import UnreadableImage, load_galaxy
from gzmorph.data.files import find_images
from gzmorph.data.fits import LuptonStretch
from helpers import SAMPLE

PROBABILITIES = ["p_spiral", "p_elliptical", "p_edge-on", "p_merger", "p_ambiguous"]
GALAXIES = sorted((SAMPLE / "images_training_rev1").iterdir())[:4]
# The released model learnt from real galaxies; the synthetic sample's often look unlike them, and it says so.
pytestmark = pytest.mark.filterwarnings("ignore:.*images look unlike the galaxies")


def bands_of(jpeg) -> np.ndarray:
    """A (3, height, width) float32 cube of g, r, i fluxes from a sample image's blue, green and red, in FITS's
    row order (the bottom row first)."""
    rgb = np.asarray(Image.open(jpeg).convert("RGB"), dtype=np.float32)[::-1] / 255 * 3
    return np.stack([rgb[..., 2], rgb[..., 1], rgb[..., 0]])


def lupton_jpeg(cube: np.ndarray, path) -> None:
    """The JPEG an SDSS-like pipeline makes of the same bands: red from i, green from r, blue from g."""
    g, r, i = cube
    lupton = LuptonStretch()
    with np.errstate(invalid="ignore", divide="ignore"):  # astropy divides by the intensity of empty sky too
        rgb = make_lupton_rgb(i, r, g, minimum=lupton.minimum, stretch=lupton.stretch, Q=lupton.Q)
    Image.fromarray(rgb[::-1]).save(path, quality=95)


@pytest.fixture(scope="module")
def cutouts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cutouts")
    for n, galaxy in enumerate(GALAXIES):
        cube = bands_of(galaxy)
        fits.PrimaryHDU(cube).writeto(folder / f"{n}.fits" if n % 2 else folder / f"{n}.fits.gz")
        lupton_jpeg(cube, folder / f"{n}.jpg")
    return folder


def test_a_fits_cube_gets_the_class_of_the_jpeg_made_the_lupton_way(cutouts):
    rows = gzmorph.predict([cutouts], captions=False).assign(galaxy=lambda t: [f.split("/")[-1].split(".")[0]
                                                                               for f in t["file"]])
    cubes, jpegs = rows[~rows["file"].str.endswith(".jpg")], rows[rows["file"].str.endswith(".jpg")]
    assert len(cubes) == len(jpegs) == len(GALAXIES)  # a folder contributes its FITS files, .fits.gz too
    merged = cubes.merge(jpegs, on="galaxy", suffixes=("_fits", "_jpeg"))
    assert (merged["class_fits"] == merged["class_jpeg"]).all()
    for column in PROBABILITIES:  # JPEG's compression and reduced-scale decoding move them a little
        np.testing.assert_allclose(merged[f"{column}_fits"], merged[f"{column}_jpeg"], atol=0.05)


def test_one_band_is_read_as_grey_and_float_pixels_are_the_normal_case(tmp_path):
    band = bands_of(GALAXIES[0])[1].astype(np.float32)
    band[0, 0] = np.nan  # a masked pixel
    fits.PrimaryHDU(band).writeto(tmp_path / "r.fits")
    picture = load_galaxy(tmp_path / "r.fits", crop=207, pixels=32)
    assert picture.shape == (32, 32, 3) and (picture[..., 0] == picture[..., 1]).all() and picture.max() > 0


def test_fits_named_directly_is_read_as_in_a_folder(cutouts):
    named = [p for p in find_images([str(cutouts)]) if p.name.startswith("1.fits")]
    assert named == find_images([str(cutouts / "1.fits")])
    np.testing.assert_array_equal(load_galaxy(named[0], 207, 16), load_galaxy(cutouts / "1.fits", 207, 16))


def test_a_damaged_or_shapeless_fits_is_one_line_naming_it(tmp_path):
    (tmp_path / "bad.fits").write_bytes(b"SIMPLE  = T" + b" " * 100)
    fits.PrimaryHDU(np.zeros((4, 8, 8), np.float32)).writeto(tmp_path / "four.fits")
    for name in ("bad.fits", "four.fits"):
        with pytest.raises(UnreadableImage, match=f"{name}: cannot read FITS") as raised:
            load_galaxy(tmp_path / name, 207, 16)
        assert "\n" not in str(raised.value)


def test_the_stretch_is_settable_from_the_api_and_the_command_line(tmp_path, capsys):
    from gzmorph.cli import main

    fits.PrimaryHDU(bands_of(GALAXIES[0])).writeto(tmp_path / "cube.fits")
    default = load_galaxy(tmp_path / "cube.fits", 207, 32)
    softer = LuptonStretch(stretch=5.0, Q=1.0)
    assert not np.array_equal(load_galaxy(tmp_path / "cube.fits", 207, 32, softer), default)
    via_api = gzmorph.load(captions=False, lupton=softer).predict([tmp_path / "cube.fits"])
    main(["predict", str(tmp_path / "cube.fits"), "--no-captions", "-o", str(tmp_path / "out.csv"),
          "--lupton-stretch", "5", "--lupton-q", "1"])
    via_command = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_allclose(via_command[PROBABILITIES], via_api[PROBABILITIES], atol=1e-6)
    assert not np.allclose(via_api[PROBABILITIES], gzmorph.predict([tmp_path / "cube.fits"],
                                                                   captions=False)[PROBABILITIES], atol=1e-4)


def test_a_stretch_that_cannot_be_is_one_line_before_tensorflow_loads(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import sys; from gzmorph.cli import main; "
                           "main(sys.argv[1:]); print('tensorflow' in sys.modules)", "predict", str(GALAXIES[0]),
                           "-o", str(tmp_path / "out.csv"), "--lupton-stretch", "0"], capture_output=True, text=True)
    assert done.returncode != 0 and done.stderr.strip().splitlines() == [
        "error: the Lupton stretch must be above 0 and Q at least 0; got stretch 0.0, Q 8.0"]


def test_a_single_band_is_flagged_in_its_row(tmp_path):
    fits.PrimaryHDU(bands_of(GALAXIES[0])[1]).writeto(tmp_path / "r.fits")
    fits.PrimaryHDU(bands_of(GALAXIES[0])).writeto(tmp_path / "gri.fits")
    rows = gzmorph.predict([tmp_path], captions=False)
    assert dict(zip(rows["file"].str.split("/").str[-1], rows["single_band"])) == {"gri.fits": False, "r.fits": True}


def test_three_band_files_are_one_galaxy_named_directly_in_a_folder_or_by_glob(cutouts, tmp_path):
    g, r, i = bands_of(GALAXIES[1])
    for band, plane in zip("gri", (g, r, i)):
        fits.PrimaryHDU(plane).writeto(tmp_path / f"ngc-{band}.fits")
    fits.PrimaryHDU(r).writeto(tmp_path / "alone_r.fits")  # no siblings: one grey band
    for patterns in ([str(tmp_path)], [str(tmp_path / "ngc-g.fits"), str(tmp_path / "ngc-i.fits")],
                     [str(tmp_path / "*.fits")]):
        assert tmp_path / "ngc-r.fits" in find_images(patterns)
        assert not {tmp_path / "ngc-g.fits", tmp_path / "ngc-i.fits"} & set(find_images(patterns))
    cube = load_galaxy(cutouts / "1.fits", 207, 32)  # the same bands of the same galaxy, in one file
    np.testing.assert_array_equal(load_galaxy(tmp_path / "ngc-r.fits", 207, 32), cube)
    rows = gzmorph.predict([tmp_path], captions=False)
    assert rows["file"].str.split("/").str[-1].tolist() == ["alone_r.fits", "ngc-r.fits"]
    assert rows["single_band"].tolist() == [True, False]


def test_band_files_of_different_sizes_are_one_line(tmp_path):
    for band, side in zip("gri", (8, 8, 9)):
        fits.PrimaryHDU(np.ones((side, side), np.float32)).writeto(tmp_path / f"x_{band}.fits")
    with pytest.raises(UnreadableImage, match="x_r.fits: cannot read FITS .the three band files hold") as raised:
        load_galaxy(tmp_path / "x_r.fits", 207, 16)
    assert "\n" not in str(raised.value)


def test_upper_case_suffixes_and_five_bands_still_make_one_galaxy_of_g_r_i(tmp_path):
    g, r, i = bands_of(GALAXIES[1])
    for band, plane in zip("ugriz", (g, g, r, i, i)):
        fits.PrimaryHDU(plane).writeto(tmp_path / f"m51_{band}.FITS")
    found = [p.name for p in find_images([str(tmp_path)])]
    assert found == ["m51_r.FITS", "m51_u.FITS", "m51_z.FITS"]  # g, r, i one galaxy; u and z each alone, grey
    np.testing.assert_array_equal(load_galaxy(tmp_path / "m51_r.FITS", 207, 16),
                                  load_galaxy(tmp_path / "m51_g.FITS", 207, 16))
