"""Decode galaxy images into model-ready arrays: centre crop, resize, 8-bit RGB. One file or array at a
time, and many files in order, a batch at a time or into a split's pack (gzmorph.data.packing).

The crop is given in pixels of Kaggle's 424x424 frame (Dieleman et al. 2015 keep the central 207 px);
images of any other size keep the same fraction of their shorter side, so a user's own cutouts are
framed like the Kaggle ones. JPEGs are decoded at reduced scale inside libjpeg (DCT scaling), which is
most of the speed: a 424 px JPEG headed for 64 px never needs to be decoded at full size.
EXIF orientation is ignored on purpose: a galaxy has no up, and the crop is centred either way.
"""
from __future__ import annotations

import math
import struct
import warnings
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import islice
from multiprocessing.pool import Pool, ThreadPool
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageFile

from gzmorph.data.fits import SDSS_STRETCH, LuptonStretch, fits_picture, is_fits
from gzmorph.errors import GzmorphError

KAGGLE_FRAME = 424
# GZ2's cut-outs, Kaggle's among them, are 424 px at 0.02 x petroR90_r arcsec a pixel (Willett et al. 2013):
# the galaxy centred, the frame spanning 8.48 times its r-band Petrosian R90 radius, whatever its size on the sky.
PETROSIAN_SCALE = 0.02  # of petroR90_r a pixel of the 424 px frame spans


def span_in_r90(crop: int) -> float:
    """How many times the galaxy's petroR90_r a crop of the 424 px frame spans, side to side."""
    return round(crop * PETROSIAN_SCALE, 2)

# A truncated file must fail loudly: Pillow would otherwise return the partly decoded image and the
# model would train on its missing rows. This is Pillow's default; set here so no other import can relax it.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Antialiasing filter for the final resize: the closest to full-resolution decoding of the filters
# measured, for a fraction of a millisecond per image (docs/results.md, "Data preparation").
RESAMPLE = Image.Resampling.LANCZOS

# Let Pillow shrink by whole factors first when the reduction is large (big PNGs); at a gap of 3
# the result is indistinguishable from a full LANCZOS pass (Pillow's documentation).
REDUCING_GAP = 3.0

# What Pillow raises on a bad file varies by format and by where the damage is.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
TOO_LARGE = (Image.DecompressionBombWarning, Image.DecompressionBombError)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")  # preference order when a galaxy has several

SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class UnreadableImage(GzmorphError):
    """An image file that cannot be used: missing, empty, truncated, corrupt or not an image."""


class Decoded(NamedTuple):
    image: Image.Image
    scale: float  # DCT reduction applied while decoding (1, 2, 4 or 8)
    original: tuple[int, int]  # width, height stored in the file


def load_galaxy(path: Path | str, crop: int, pixels: int, lupton: LuptonStretch = SDSS_STRETCH) -> np.ndarray:
    """Return the centre `crop` (in 424-frame pixels) of the image at `path`, resized to (pixels, pixels, 3) uint8;
    a FITS cut-out is made a colour picture with the `lupton` stretch first."""
    check_geometry(crop, pixels)
    decoded = decode_image(Path(path), crop, pixels, lupton)
    return framed(to_rgb(decoded.image, path), decoded, crop, pixels)


def galaxy_from_array(image: np.ndarray, crop: int, pixels: int) -> np.ndarray:
    """`load_galaxy` for a cut-out already in memory, (height, width, 3) RGB or (height, width) grey uint8:
    the same crop and resize, from full resolution (a JPEG file is decoded at reduced scale first)."""
    check_geometry(crop, pixels)
    picture = Image.fromarray(np.ascontiguousarray(image))
    return framed(to_rgb(picture, "array"), Decoded(picture, 1.0, picture.size), crop, pixels)


def framed(rgb: Image.Image, decoded: Decoded, crop: int, pixels: int) -> np.ndarray:
    """The centre crop of `rgb`, resized to (pixels, pixels, 3) uint8."""
    box = crop_box(rgb.size, decoded.scale, decoded.original, crop)
    resized = rgb.resize((pixels, pixels), RESAMPLE, box=box, reducing_gap=REDUCING_GAP)
    return np.asarray(resized, dtype=np.uint8)


def check_decodable(path: Path | str) -> None:
    """Raise UnreadableImage where `load_galaxy` would, at a fraction of its cost.

    JPEGs decode at the smallest DCT scale (1/8): libjpeg still reads every entropy-coded byte, so a
    truncated or corrupt file fails here as it fails at full size, but skips most of the inverse DCT.
    Other formats decode in full. The pixel mode is converted too, so a mode `to_rgb` refuses fails here.
    """
    # A crop of the whole frame down to one pixel asks `decode_image` for the smallest draft it can give.
    decoded = decode_image(Path(path), KAGGLE_FRAME, 1)
    to_rgb(decoded.image, path)


def unreadable_reason(path: Path | str) -> str | None:
    """`check_decodable` as a value: the one-line reason `path` is unusable, or None if it is fine."""
    try:
        check_decodable(path)
    except UnreadableImage as error:
        return str(error)
    return None


def check_geometry(crop: int, pixels: int) -> None:
    if not 1 <= crop <= KAGGLE_FRAME:
        raise GzmorphError(f"image crop must be 1..{KAGGLE_FRAME} pixels of the {KAGGLE_FRAME}x{KAGGLE_FRAME} frame, "
                           f"got {crop}")
    if pixels < 1:
        raise GzmorphError(f"image size must be a positive number of pixels, got {pixels}")


def decode_image(path: Path, crop: int, pixels: int, lupton: LuptonStretch = SDSS_STRETCH) -> Decoded:
    """Open and fully decode `path`, at reduced scale for JPEGs; any failure becomes UnreadableImage."""
    if is_fits(path):
        return decode_fits(path, lupton)
    try:
        with warnings.catch_warnings():
            # Over Pillow's pixel limit a file is a decompression bomb or no galaxy cutout; one firm
            # limit (rather than a warning lost in a worker's stderr) keeps every run's outcome the same.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return open_scaled(path, crop, pixels)
    except TOO_LARGE as error:
        raise UnreadableImage(f"{path}: image too large ({error}); shrink it before use") from None
    except DECODE_ERRORS as error:
        raise UnreadableImage(f"{path}: cannot read image ({error_reason(error)})") from None


def decode_fits(path: Path, lupton: LuptonStretch) -> Decoded:
    """A FITS cut-out made the colour picture the model learnt from (gzmorph.data.fits), never by Pillow,
    whose own FITS reading has no brightness scale a galaxy survives."""
    try:
        picture = fits_picture(path, lupton)
    except (OSError, ValueError, TypeError, IndexError) as error:
        raise UnreadableImage(f"{path}: cannot read FITS ({error_reason(error)})") from None
    return Decoded(picture, 1.0, picture.size)


def is_galaxy_file(path: Path) -> bool:
    """A file a folder of a user's cut-outs contributes: JPEG, PNG or FITS."""
    return path.suffix.lower() in IMAGE_SUFFIXES or is_fits(path)


def open_scaled(path: Path, crop: int, pixels: int) -> Decoded:
    """Decode `path`, letting libjpeg skip the detail the final size cannot show."""
    with Image.open(path) as image:
        original = image.size
        scale = 1.0
        if image.format == "JPEG":
            drafted = image.draft("RGB", draft_request(original, crop, pixels))
            if drafted is not None:
                scale = original[0] / drafted[1][2]
        image.load()
    # The decoded pixels outlive the closed file; no copy needed (it would cost a third of the decode).
    return Decoded(image, scale, original)


def draft_request(original: tuple[int, int], crop: int, pixels: int) -> tuple[int, int]:
    """The smallest decode size whose crop still spans at least `pixels` pixels.

    Pillow picks the largest DCT scale 1/k with k <= original // request, so requesting
    original * pixels / crop_side (rounded up) guarantees crop_side / k >= pixels. Integer
    arithmetic keeps the rounding exact.
    """
    width, height = original
    shorter = min(width, height)
    # crop_side = crop * shorter / KAGGLE_FRAME; request = ceil(dimension * pixels / crop_side)
    denominator = crop * shorter
    return (ceil_div(width * pixels * KAGGLE_FRAME, denominator),
            ceil_div(height * pixels * KAGGLE_FRAME, denominator))


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def crop_box(decoded_size: tuple[int, int], scale: float, original: tuple[int, int], crop: int) -> tuple[float, ...]:
    """The centred square holding crop/424 of the shorter side, in the decoded image's pixels.

    Computed from the original size: a DCT-scaled image is rounded up to whole pixels, so its
    own size is not exactly original / scale.
    """
    width, height = original
    half_side = crop * min(width, height) / KAGGLE_FRAME / 2
    centre_x, centre_y = width / 2, height / 2
    box = ((centre_x - half_side) / scale, (centre_y - half_side) / scale,
           (centre_x + half_side) / scale, (centre_y + half_side) / scale)
    # Clamp away float noise at the edge for crop == 424.
    return (max(box[0], 0.0), max(box[1], 0.0), min(box[2], decoded_size[0]), min(box[3], decoded_size[1]))


def to_rgb(image: Image.Image, path: Path | str) -> Image.Image:
    """8-bit RGB, whatever the file held: alpha dropped, 16-bit scaled to full range, palettes expanded."""
    if image.mode in SIXTEEN_BIT_MODES:
        return sixteen_bit_to_rgb(image)
    if image.mode == "F":
        raise UnreadableImage(f"{path}: 32-bit float pixels have no fixed brightness scale; save it as 8- or 16-bit")
    if image.mode == "RGB":
        return image
    if image.mode == "P":
        # A palette with a transparent entry warns when converted straight to RGB; via RGBA it does not.
        image = image.convert("RGBA")
    try:
        return image.convert("RGB")
    except ValueError:
        raise UnreadableImage(f"{path}: unsupported pixel mode {image.mode}; save it as RGB or greyscale") from None


def sixteen_bit_to_rgb(image: Image.Image) -> Image.Image:
    """Map 0..65535 onto 0..255 with rounding.

    Pillow's own conversion clips at 255, which turns any real 16-bit image white. Every file
    gets the same fixed mapping (no per-image stretch) so brightness stays comparable across
    galaxies. Mode I (32-bit) is how Pillow opens some 16-bit TIFFs; values beyond 16 bits clip.
    """
    values = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
    grey = ((values + 128) // 257).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def error_reason(error: BaseException) -> str:
    """A one-line reason: Pillow's message, or the exception's name when it has none."""
    message = " ".join(str(error).split())
    if isinstance(error, Image.UnidentifiedImageError):
        message = "not an image format Pillow recognises"
    elif isinstance(error, OSError) and error.strerror:
        message = error.strerror
    return message or type(error).__name__


# --- many files, in order -----------------------------------------------------------------------------

# Threads decode the next batch while TensorFlow works on this one (Pillow releases the GIL); unlike
# worker processes they cost nothing to start. Decoding (~0.6 ms an image) is not the bottleneck.
DECODE_THREADS = 2


class DecodedFiles(NamedTuple):
    paths: list[Path]  # the files that decoded, in input order
    images: np.ndarray  # (len(paths), pixels, pixels, 3) uint8
    problems: list[str]  # one line per file that did not, naming it
    positions: list[int]  # where each of ``paths`` stands among the files asked for (a file may be named twice)


def decode_or_reason(path: Path, crop: int, pixels: int, lupton: LuptonStretch = SDSS_STRETCH) -> np.ndarray | str:
    """Runs in a worker: the pixels, or the one-line reason the file is unusable (picklable either way)."""
    try:
        return load_galaxy(path, crop, pixels, lupton)
    except UnreadableImage as error:
        return str(error)


def decode_in_order(pool: Pool, decode: Callable[[Path], np.ndarray | str], paths: list[Path],
                    batch: int, workers: int) -> Iterator[np.ndarray | str]:
    """Like pool.imap over all paths, but with at most two batches in flight.

    A single imap queues every path at once, and if the workers outpace the writer (fast decodes,
    a slow disk) their results pile up in this process without limit. Queuing the next batch before
    draining the current one keeps the workers busy and bounds what waits here.
    """
    in_flight: deque = deque()
    for start in range(0, len(paths), batch):
        batch_paths = paths[start:start + batch]
        in_flight.append(pool.imap(decode, batch_paths, chunksize=chunk_size(len(batch_paths), workers)))
        if len(in_flight) == 2:
            yield from in_flight.popleft()
    while in_flight:
        yield from in_flight.popleft()


def chunk_size(n_images: int, workers: int) -> int:
    """Large enough that inter-process messaging is cheap, small enough that every worker stays busy."""
    return max(1, min(64, math.ceil(n_images / (workers * 16))))


BATCH_SIZE = 512  # images decoded and predicted at a time, unless told otherwise


def check_batch_size(batch_size: int) -> int:
    if batch_size < 1:
        raise GzmorphError(f"the batch size must be at least 1, got {batch_size}")
    return batch_size


def decoded_batches(paths: list[Path], crop: int, pixels: int, batch_size: int,
                    lupton: LuptonStretch = SDSS_STRETCH) -> Iterator[DecodedFiles]:
    """``paths`` decoded (centre crop, resize; FITS by the ``lupton`` stretch) in batches; the next batch decodes
    while this one is used."""
    check_batch_size(batch_size)
    decode = partial(decode_or_reason, crop=crop, pixels=pixels, lupton=lupton)
    with ThreadPool(DECODE_THREADS) as pool:
        results = decode_in_order(pool, decode, paths, batch_size, DECODE_THREADS)
        for start in range(0, len(paths), batch_size):
            batch_paths = paths[start:start + batch_size]
            decoded = collect(batch_paths, islice(results, len(batch_paths)), pixels)
            yield decoded._replace(positions=[start + p for p in decoded.positions])


def collect(paths: list[Path], results: Iterable[np.ndarray | str], pixels: int) -> DecodedFiles:
    """The batch of the images that decoded; a result that is a string says why its file did not."""
    kept, images, problems, positions = [], [], [], []
    for position, (path, result) in enumerate(zip(paths, results)):
        if isinstance(result, str):
            problems.append(result)
        else:
            images.append(result)
            kept.append(path)
            positions.append(position)
    stacked = np.stack(images) if images else np.zeros((0, pixels, pixels, 3), np.uint8)
    return DecodedFiles(kept, stacked, problems, positions)


