"""How far an image lies from the galaxies a classifier learnt from: a score per image, and the statistics it
is measured against, which training stores beside the classifier (``ModelsFolder.familiarity`` names the file).

Three views of an image are measured, each by its Mahalanobis distance to the training split (covariance
shrunk by Ledoit-Wolf, as a few thousand images cannot pin down every direction of 256 features):

- ``features``: the encoder's pooled features, what the heads read. It catches what is no galaxy at all
  (photographs, negatives), but the encoder learnt to ignore much of colour and size.
- ``colour``, measured on the model-ready pixels: the colour of the galaxy's light, of the sky and of the
  whole image, and how grey it is. It catches a single band and swapped colours.
- ``framing``, measured there too: how much of the light lies within 1/16, 1/8 and 1/4 of the side from the
  centre, how bright and noisy the sky and how bright the image. It catches a cut-out framed wider than GZ2's.

Each distance is divided by its threshold, the 99th percentile of the validation split's distances, and the
score is the largest of the three: at most 1 is ``familiar``, as 96.5 % of the released model's real test
galaxies are. Colour and framing are kept apart because in one distance each hides the other: a swapped
colour or a doubled frame is lost among the other numbers. docs/results.md ("Unfamiliar images") measures
how well it separates what it should.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.covariance import LedoitWolf

from gzmorph.errors import GzmorphError
from gzmorph.models.files import ZIP_TIME

QUANTILE = 0.99  # of the validation split's distances, the threshold of familiar
MIN_THRESHOLD = 1e-6
SKY_BORDER = 4  # pixels along each edge of a model-ready image that show the sky
LIGHT_RADII = (1 / 16, 1 / 8, 1 / 4)  # fractions of the image's side within which the light is measured


@dataclass(frozen=True)
class Gauge:
    """The training split's distribution in one view: its mean and (shrunk) precision matrix, and the
    distance that 99 % of the validation split stays within."""

    mean: np.ndarray
    precision: np.ndarray
    threshold: float

    def distances(self, values: np.ndarray) -> np.ndarray:
        centred = np.asarray(values, np.float64) - self.mean
        return np.sqrt(np.einsum("ij,jk,ik->i", centred, self.precision, centred).clip(0))


def fit_gauge(train: np.ndarray, val: np.ndarray) -> Gauge:
    """``train``'s distribution; the threshold from ``val``'s distances (``train``'s where there is no val)."""
    shrunk = LedoitWolf().fit(np.asarray(train, np.float64))
    gauge = Gauge(shrunk.location_, shrunk.precision_, 1.0)
    distances = gauge.distances(val if len(val) else train)
    # A floor: identical training pictures would put every distance, and so the threshold, at 0.
    return Gauge(gauge.mean, gauge.precision, max(float(np.quantile(distances, QUANTILE)), MIN_THRESHOLD))


class Picture(NamedTuple):
    """What each of a batch of model-ready pictures is made of."""

    colour: np.ndarray  # (n, 7) log red/green and green/blue of the light, the sky and the image; log greyness
    framing: np.ndarray  # (n, 6) the light's share within LIGHT_RADII; log sky level, sky noise, image level


@dataclass(frozen=True)
class Familiarity:
    features: Gauge
    colour: Gauge
    framing: Gauge

    def scores(self, images: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Per image, the largest of its three distances, each as a multiple of its threshold: familiar up to 1."""
        picture = picture_statistics(images)
        return np.max([self.features.distances(features) / self.features.threshold,
                       self.colour.distances(picture.colour) / self.colour.threshold,
                       self.framing.distances(picture.framing) / self.framing.threshold], axis=0)


VIEWS = tuple(field.name for field in fields(Familiarity))


def fit_familiarity(train_images: np.ndarray, train_features: np.ndarray, val_images: np.ndarray,
                    val_features: np.ndarray) -> Familiarity:
    """The statistics of the training split's model-ready images and pooled features, thresholds set on the
    validation split's."""
    train, val = picture_statistics(train_images), picture_statistics(val_images)
    return Familiarity(fit_gauge(train_features, val_features), fit_gauge(train.colour, val.colour),
                       fit_gauge(train.framing, val.framing))


def picture_statistics(images: np.ndarray) -> Picture:
    """What each (n, side, side, 3) uint8 image is made of: the colours (red/green and green/blue, as logs) of
    the light above the sky, of the sky and of the whole image, and how grey it is (the mean difference
    between channels); the share of the light within LIGHT_RADII of the side from the centre, how bright the
    sky, how noisy the sky and how bright the image."""
    pixels = np.asarray(images, np.float32)
    n, side = len(pixels), pixels.shape[1]
    edges = [pixels[:, :SKY_BORDER], pixels[:, -SKY_BORDER:], pixels[:, :, :SKY_BORDER], pixels[:, :, -SKY_BORDER:]]
    sky_pixels = np.concatenate([edge.reshape(n, -1, 3) for edge in edges], axis=1)
    sky = np.median(sky_pixels, axis=1)  # (n, 3)
    light = np.clip(pixels - sky[:, None, None], 0, None)
    brightness = light.sum(axis=-1)
    centre = (side - 1) / 2
    rows, columns = np.mgrid[:side, :side]
    radius = np.hypot(rows - centre, columns - centre)
    total = brightness.sum(axis=(1, 2)) + 1.0
    within = [(brightness * (radius < side * r)).sum(axis=(1, 2)) / total for r in LIGHT_RADII]
    grey = (np.abs(pixels[..., 0] - pixels[..., 1]) + np.abs(pixels[..., 1] - pixels[..., 2])).mean(axis=(1, 2))
    colour = [*colours(light.sum(axis=(1, 2))), *colours(sky), *colours(pixels.mean(axis=(1, 2))), np.log1p(grey)]
    framing = [*within, np.log1p(sky.mean(axis=1)), np.log1p(sky_pixels.std(axis=1).mean(axis=1)),
               np.log1p(pixels.mean(axis=(1, 2, 3)))]
    return Picture(np.stack(colour, axis=1), np.stack(framing, axis=1))


def colours(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(red / green) and log(green / blue) of (n, 3) channel sums or levels, kept finite on black."""
    red, green, blue = (rgb[:, i] + 1.0 for i in range(3))
    return np.log(red / green), np.log(green / blue)


def single_band(images: np.ndarray) -> np.ndarray:
    """Per image, whether its three channels are one: a grey picture, such as a single band, which carries
    no colour for the model to read."""
    pixels = np.asarray(images)
    return (pixels[..., 0] == pixels[..., 1]).all(axis=(1, 2)) & (pixels[..., 1] == pixels[..., 2]).all(axis=(1, 2))


def save_familiarity(path: Path, familiarity: Familiarity) -> None:
    """An .npz that np.load reads, made a function of the numbers alone (np.savez stamps the time into it),
    so that DVC sees the same statistics as unchanged."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for view in VIEWS:
            for name in ("mean", "precision", "threshold"):
                array = io.BytesIO()
                np.lib.format.write_array(array, np.asarray(getattr(getattr(familiarity, view), name)))
                archive.writestr(zipfile.ZipInfo(f"{view}_{name}.npy", ZIP_TIME), array.getvalue())


def load_familiarity(path: Path) -> Familiarity | None:
    """The statistics saved in ``path``, or None where the model was saved without them."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path) as arrays:
            return Familiarity(**{view: Gauge(arrays[f"{view}_mean"], arrays[f"{view}_precision"],
                                              float(arrays[f"{view}_threshold"])) for view in VIEWS})
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile):
        raise GzmorphError(f"{path} is not what this version of gzmorph writes; retrain the classifier with it, "
                           "or delete the file to answer without familiarity") from None
