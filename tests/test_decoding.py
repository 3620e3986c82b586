"""load_galaxy: every file a user may have becomes a (size, size, 3) uint8 crop, or one clear error."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from gzmorph.data import decoding as images
from gzmorph.data.decoding import (
    KAGGLE_FRAME,
    UnreadableImage,
    check_decodable,
    decode_image,
    draft_request,
    load_galaxy,
    unreadable_reason,
)
from gzmorph.errors import GzmorphError
from helpers import galaxy_images

SIZE = 64
CROP = 207
BRIGHT = 255


def galaxy_frame(side: int = KAGGLE_FRAME, width: int | None = None) -> np.ndarray:
    """Dark sky, a bright disk at the centre, and a bright border well outside the central crop.

    The border stops short of the crop by ~6% of the frame, so JPEG ringing and the resize
    kernel's reach cannot carry it inside; any border in the output means the crop is wrong.
    """
    width = width or side
    rows, cols = np.mgrid[0:side, 0:width]
    frame = galaxy_images(side * 0.1, (side, width), peak=BRIGHT)[0][0, ..., 0].copy()
    shorter = min(side, width)
    margin_x = (width - shorter) / 2
    margin_y = (side - shorter) / 2
    outside = shorter * 0.19  # the crop starts at 0.256 of the shorter side
    frame[(rows < margin_y + outside) | (rows >= side - margin_y - outside)] = BRIGHT
    frame[(cols < margin_x + outside) | (cols >= width - margin_x - outside)] = BRIGHT
    return frame


def save(tmp_path, name: str, image: Image.Image, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


def assert_cropped_galaxy(pixels: np.ndarray) -> None:
    assert pixels.shape == (SIZE, SIZE, 3)
    assert pixels.dtype == np.uint8
    centre = pixels[SIZE // 2 - 4:SIZE // 2 + 4, SIZE // 2 - 4:SIZE // 2 + 4]
    assert centre.min() > 200, "the bright disk should fill the centre"
    edges = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    assert edges.max() < 40, "the border lies outside the crop and must not show"


def grey_image() -> Image.Image:
    return Image.fromarray(galaxy_frame())


def sixteen_bit_image() -> Image.Image:
    return Image.fromarray(galaxy_frame().astype(np.uint16) * 257)


def as_mode(mode: str):
    def make() -> Image.Image:
        return grey_image().convert(mode)
    return make


def palette_with_transparency() -> Image.Image:
    image = grey_image().convert("P")
    image.info["transparency"] = 0
    return image


IMAGE_KINDS = {
    "jpeg-rgb": (as_mode("RGB"), "g.jpg", {"quality": 90}),
    "jpeg-grey": (as_mode("L"), "g.jpg", {"quality": 90}),
    "jpeg-cmyk": (as_mode("CMYK"), "g.jpg", {"quality": 90}),
    "png-rgb": (as_mode("RGB"), "g.png", {}),
    "png-grey": (as_mode("L"), "g.png", {}),
    "png-rgba": (as_mode("RGBA"), "g.png", {}),
    "png-grey-alpha": (as_mode("LA"), "g.png", {}),
    "png-palette": (as_mode("P"), "g.png", {}),
    "png-palette-transparent": (palette_with_transparency, "g.png", {}),
    "png-bilevel": (as_mode("1"), "g.png", {}),
    "png-16-bit": (sixteen_bit_image, "g.png", {}),
    "tiff-32-bit-int": (lambda: Image.fromarray(galaxy_frame().astype(np.int32) * 257), "g.tif", {}),
}


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_every_mode_and_format_gives_the_cropped_galaxy(tmp_path, kind):
    make, name, options = IMAGE_KINDS[kind]
    path = save(tmp_path, name, make(), **options)
    assert_cropped_galaxy(load_galaxy(path, CROP, SIZE))


def test_alpha_is_dropped_not_composited(tmp_path):
    """A transparent pixel keeps its colour: the sky in a cutout is data, not a background to paint."""
    rgba = np.zeros((KAGGLE_FRAME, KAGGLE_FRAME, 4), np.uint8)
    rgba[..., 0] = 200
    path = save(tmp_path, "clear.png", Image.fromarray(rgba))
    pixels = load_galaxy(path, CROP, SIZE)
    assert (pixels[..., 0] == 200).all() and (pixels[..., 1:] == 0).all()


@pytest.mark.parametrize("level", [0, 1, 128, 200, 255])
def test_sixteen_bit_maps_full_range_onto_eight_bit(tmp_path, level):
    flat = np.full((KAGGLE_FRAME, KAGGLE_FRAME), level * 257, np.uint16)
    path = save(tmp_path, "flat16.png", Image.fromarray(flat))
    assert (load_galaxy(path, CROP, SIZE) == level).all()


def test_float_pixels_are_refused_with_the_reason(tmp_path):
    path = save(tmp_path, "float.tif", Image.fromarray(galaxy_frame().astype(np.float32)))
    with pytest.raises(UnreadableImage, match="float"):
        load_galaxy(path, CROP, SIZE)


@pytest.mark.parametrize("shape", [(848, 848), (2000, 2000), (424, 640), (700, 500), (60, 48)])
def test_other_sizes_keep_the_same_fraction_of_the_shorter_side(tmp_path, shape):
    height, width = shape
    frame = galaxy_frame(height, width)
    for name in ("g.png", "g.jpg"):
        path = save(tmp_path, name, Image.fromarray(frame).convert("RGB"))
        assert_cropped_galaxy(load_galaxy(path, CROP, SIZE))


def test_a_tiny_image_is_upscaled(tmp_path):
    path = save(tmp_path, "tiny.png", Image.fromarray(galaxy_frame(12, 9)))
    pixels = load_galaxy(path, CROP, SIZE)
    assert pixels.shape == (SIZE, SIZE, 3) and pixels[SIZE // 2, SIZE // 2].min() > 200


def test_a_larger_copy_of_the_frame_gives_the_same_crop(tmp_path):
    small = Image.fromarray(galaxy_frame())
    large = small.resize((KAGGLE_FRAME * 2, KAGGLE_FRAME * 2), Image.Resampling.NEAREST)
    from_small = load_galaxy(save(tmp_path, "s.png", small), CROP, SIZE).astype(int)
    from_large = load_galaxy(save(tmp_path, "l.png", large), CROP, SIZE).astype(int)
    assert np.abs(from_small - from_large).mean() < 3


def test_full_frame_crop_shows_the_border(tmp_path):
    path = save(tmp_path, "g.png", grey_image())
    pixels = load_galaxy(path, KAGGLE_FRAME, SIZE)
    assert pixels[0].min() > 200 and pixels[:, 0].min() > 200


@pytest.mark.parametrize("side, size, expected_scale", [(424, 64, 2), (424, 69, 2), (424, 104, 1), (424, 103, 2),
                                                        (4000, 64, 8), (1500, 100, 4), (300, 64, 2), (250, 64, 1)])
def test_jpeg_is_decoded_at_the_smallest_scale_that_keeps_the_target_size(tmp_path, side, size, expected_scale):
    path = save(tmp_path, "g.jpg", Image.new("RGB", (side, side), "grey"))
    decoded = decode_image(path, CROP, size)
    crop_side = CROP * side / KAGGLE_FRAME
    assert decoded.scale == expected_scale
    assert crop_side / decoded.scale >= size


def test_draft_request_picks_the_smallest_scale_that_keeps_the_target():
    """Mirror Pillow's choice (largest k in 8,4,2,1 with k <= original // request) over many geometries."""
    for width, height in [(424, 424), (425, 423), (1000, 777), (4097, 3001), (64, 64), (8, 5000)]:
        for crop in (1, 69, 207, 212, 300, 424):
            for size in (1, 32, 64, 69, 128, 207):
                request = draft_request((width, height), crop, size)
                limit = min(width // request[0], height // request[1])
                scale = max([k for k in (8, 4, 2, 1) if k <= limit], default=1)
                crop_side = crop * min(width, height) / KAGGLE_FRAME
                if crop_side >= size:
                    assert crop_side / scale >= size, "decoded too small: quality below the target"
                if scale < 8:
                    assert crop_side / (2 * scale) < size, "decoded larger than needed: slower than it could be"


def corrupt_jpeg(tmp_path):
    good = save(tmp_path, "good.jpg", grey_image().convert("RGB")).read_bytes()
    return good[:200] + bytes(range(256)) * 20


UNUSABLE_FILES = {
    "zero bytes": lambda tmp_path: b"",
    "truncated jpeg": lambda tmp_path: save(tmp_path, "t.jpg", grey_image()).read_bytes()[:3000],
    "truncated png": lambda tmp_path: save(tmp_path, "t.png", grey_image()).read_bytes()[:300],
    "jpeg header then garbage": corrupt_jpeg,
    "random bytes": lambda tmp_path: np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes(),
    "text file": lambda tmp_path: b"GalaxyID,Class1.1\n100008,0.38\n",
}


@pytest.mark.parametrize("problem", UNUSABLE_FILES)
def test_unusable_files_raise_one_line_naming_the_file(tmp_path, problem):
    path = tmp_path / "bad galaxy.jpg"
    path.write_bytes(UNUSABLE_FILES[problem](tmp_path))
    with pytest.raises(UnreadableImage) as raised:
        load_galaxy(path, CROP, SIZE)
    message = str(raised.value)
    assert str(path) in message and "\n" not in message
    assert isinstance(raised.value, GzmorphError)


def test_missing_file_and_directory_are_unreadable(tmp_path):
    with pytest.raises(UnreadableImage, match="No such file"):
        load_galaxy(tmp_path / "absent.jpg", CROP, SIZE)
    with pytest.raises(UnreadableImage, match="directory"):
        load_galaxy(tmp_path, CROP, SIZE)


def test_unreadable_permission_is_reported(tmp_path, monkeypatch):
    path = save(tmp_path, "locked.png", grey_image())
    path.chmod(0)
    if os.geteuid() == 0:  # root reads any file, so fail the open as it fails for everyone else
        monkeypatch.setattr(Image, "open", deny_permission)
    with pytest.raises(UnreadableImage, match="Permission denied"):
        load_galaxy(path, CROP, SIZE)


def deny_permission(path, *args, **kwargs):
    raise PermissionError(13, "Permission denied", str(path))


@pytest.mark.parametrize("side", [40, 50])  # Pillow warns above its limit and errors above twice it
def test_images_over_pillows_pixel_limit_are_refused_either_way(tmp_path, monkeypatch, side):
    path = save(tmp_path, "huge.png", Image.new("L", (side, side)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(UnreadableImage, match="too large"):
        load_galaxy(path, CROP, SIZE)


@pytest.mark.parametrize("crop, size", [(0, 64), (425, 64), (207, 0)])
def test_impossible_geometry_is_a_user_error(tmp_path, crop, size):
    path = save(tmp_path, "g.png", grey_image())
    with pytest.raises(GzmorphError):
        load_galaxy(path, crop, size)


# -------------------------------------------------------------------------------- the quick check


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_quick_check_passes_every_usable_mode_and_format(tmp_path, kind):
    make, name, options = IMAGE_KINDS[kind]
    path = save(tmp_path, name, make(), **options)
    check_decodable(path)
    assert unreadable_reason(path) is None


@pytest.mark.parametrize("problem", UNUSABLE_FILES)
def test_quick_check_fails_on_every_unusable_file(tmp_path, problem):
    path = tmp_path / "bad galaxy.jpg"
    path.write_bytes(UNUSABLE_FILES[problem](tmp_path))
    reason = unreadable_reason(path)
    assert reason is not None and str(path) in reason and "\n" not in reason


def damaged_copies(good: bytes, rng: np.random.Generator) -> list[bytes]:
    """Cut at many points through the headers and the entropy-coded data, and overwritten in places."""
    cuts = [good[:length] for length in range(50, len(good), len(good) // 40)]
    spoiled = []
    for _ in range(30):
        damaged = np.frombuffer(good, np.uint8).copy()
        start = int(rng.integers(0, len(good) - 40))
        damaged[start:start + int(rng.integers(1, 40))] = rng.integers(0, 256, 1, np.uint8)
        spoiled.append(damaged.tobytes())
    return cuts + spoiled


def test_the_smallest_dct_scale_fails_exactly_where_load_galaxy_fails(tmp_path):
    """A 1/8-scale decode still reads every compressed byte, so it finds truncation and corruption too."""
    good = save(tmp_path, "good.jpg", grey_image().convert("RGB"), quality=90).read_bytes()
    path = tmp_path / "damaged.jpg"
    outcomes = []
    for damaged in damaged_copies(good, np.random.default_rng(0)):
        path.write_bytes(damaged)
        try:
            load_galaxy(path, CROP, SIZE)
            usable = True
        except UnreadableImage:
            usable = False
        assert (unreadable_reason(path) is None) == usable, f"{len(damaged)} bytes"
        outcomes.append(usable)
    assert 0 < sum(outcomes) < len(outcomes), "the damage should break some copies and not others"


def test_quick_check_decodes_jpegs_at_one_eighth_scale(tmp_path, monkeypatch):
    path = save(tmp_path, "g.jpg", Image.new("RGB", (KAGGLE_FRAME, KAGGLE_FRAME), "grey"))
    decoded_sizes = []
    real_to_rgb = images.to_rgb

    def record_size(image, where):
        decoded_sizes.append(image.size)
        return real_to_rgb(image, where)

    monkeypatch.setattr(images, "to_rgb", record_size)
    check_decodable(path)
    assert decoded_sizes == [(KAGGLE_FRAME // 8, KAGGLE_FRAME // 8)]


def test_quick_check_refuses_what_load_galaxy_refuses_for_its_pixels(tmp_path, monkeypatch):
    float_path = save(tmp_path, "float.tif", Image.fromarray(galaxy_frame().astype(np.float32)))
    assert "float" in unreadable_reason(float_path)
    big_path = save(tmp_path, "huge.png", Image.new("L", (50, 50)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert "too large" in unreadable_reason(big_path)
    monkeypatch.setattr(Image, "open", deny_permission)
    assert "Permission denied" in unreadable_reason(float_path)
