"""How well the `familiar` flag separates real GZ2 galaxies from images the model never learnt from.

    python benchmarks/bench_familiar.py [--data DIR] [--other DIR] [--models DIR]

The released model's (or --models') Kaggle test galaxies (galaxy_ids.csv, split test; real GZ2, read at run
time from $GZMORPH_REAL_DATA/kaggle) against: (a) everyday photographs, scikit-image's sample images whole
and their four corners; (b) the same galaxies framed 2x and 4x wider (the 424 px image in a frame of sky
drawn from its own border); (c) one band (the green channel, as grey), red and blue swapped, and the
negative; (d) the embedded synthetic sample. Prints, per set, the AUROC of the `familiarity` score and the
share flagged unfamiliar, and the score's distribution on the other image release (--other, hart16).
Every image goes in as an array through gzmorph.load().predict, as a notebook would.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import skimage.data
from PIL import Image
from sklearn.metrics import roc_auc_score

import gzmorph
import gzmorph.quiet_tensorflow  # noqa: F401, I001  (before TensorFlow loads: without its start-up lines)
from gzmorph.devtools.project import real_data_parser
from gzmorph.models.folder import ModelsFolder
from gzmorph.params import Params
from gzmorph.paths import SAMPLE

PHOTOGRAPHS = ("astronaut", "brick", "camera", "cat", "coffee", "coins", "horse", "hubble_deep_field",
               "immunohistochemistry", "moon", "page", "rocket", "text", "grass", "gravel", "clock", "logo",
               "retina", "colorwheel", "binary_blobs", "microaneurysms", "shepp_logan_phantom")


def read(paths) -> list[np.ndarray]:
    return [np.asarray(Image.open(path).convert("RGB")) for path in paths]


def photographs() -> list[np.ndarray]:
    """scikit-image's bundled sample images as 8-bit RGB, each whole (its centre square) and its 4 corners."""
    pictures = []
    for name in PHOTOGRAPHS:
        image = np.asarray(getattr(skimage.data, name)())
        image = image.astype(np.float64) if image.dtype == bool else image
        if image.dtype != np.uint8:
            image = (255 * (image - image.min()) / max(np.ptp(image), 1e-9)).astype(np.uint8)
        image = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image[..., :3]
        height, width = image.shape[:2]
        side, half = min(height, width), min(height, width) // 2
        top, left = (height - side) // 2, (width - side) // 2
        pictures.append(image[top:top + side, left:left + side])
        pictures += [image[y:y + half, x:x + half] for y in (0, height - half) for x in (0, width - half)]
    return pictures


def wider(image: np.ndarray, factor: int, rng: np.random.Generator) -> np.ndarray:
    """``image`` in the middle of a frame ``factor`` times wider, the rest sky like its own border."""
    side = image.shape[0]
    border = np.concatenate([image[:20].reshape(-1, 3), image[-20:].reshape(-1, 3)]).astype(np.float32)
    frame = np.clip(rng.normal(border.mean(0), border.std(0), (side * factor, side * factor, 3)), 0, 255)
    frame = frame.astype(np.uint8)
    start = (side * factor - side) // 2
    frame[start:start + side, start:start + side] = image
    return frame


def scores(predictor: gzmorph.Predictor, images: list[np.ndarray]) -> np.ndarray:
    """Each image's familiarity, the images of one size at a time (an array holds one size)."""
    result, groups = np.zeros(len(images)), {}
    for i, image in enumerate(images):
        groups.setdefault(image.shape, []).append(i)
    for group in groups.values():
        result[group] = predictor.predict(np.stack([images[i] for i in group]))["familiarity"].to_numpy()
    return result


def main() -> None:
    parser = real_data_parser(__doc__)
    parser.add_argument("--models", type=Path, help="default: the released model")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*images look unlike the galaxies")  # the point of the exercise
    layout = Params().data
    predictor = gzmorph.load(args.models, captions=False)
    galaxies = pd.read_csv(ModelsFolder.named(args.models).galaxy_ids)
    test_ids = galaxies.loc[galaxies["split"] == "test", "GalaxyID"]
    test = read(args.data / layout.images / f"{galaxy}.jpg" for galaxy in test_ids)
    rng = np.random.default_rng(0)
    others = {
        "(a) everyday photographs (scikit-image)": photographs(),
        "(b) framed 2x wider": [wider(image, 2, rng) for image in test],
        "(b) framed 4x wider": [wider(image, 4, rng) for image in test],
        "(c) one band (g channel, grey)": [np.repeat(image[..., 1:2], 3, axis=2) for image in test],
        "(c) red and blue swapped": [np.ascontiguousarray(image[..., ::-1]) for image in test],
        "(c) negative": [255 - image for image in test],
        "(d) embedded synthetic sample": read(sorted((SAMPLE / layout.images).glob("*.jpg"))),
    }
    real = scores(predictor, test)
    print(f"Kaggle test split: {len(real)} galaxies, {np.mean(real > 1):.3f} flagged unfamiliar")
    print("| set | images | AUROC vs the Kaggle test galaxies | flagged unfamiliar |\n| --- | --- | --- | --- |")
    for name, images in others.items():
        score = scores(predictor, images)
        auroc = roc_auc_score(np.r_[np.zeros(len(real)), np.ones(len(score))], np.r_[real, score])
        print(f"| {name} | {len(score)} | {auroc:.3f} | {np.mean(score > 1):.3f} |")
    other = scores(predictor, read(sorted((args.other / layout.images).glob("*.jpg"))))
    quantiles = ", ".join(f"{q:.0%} {np.quantile(other, q):.2f}" for q in (0.1, 0.5, 0.9, 0.99))
    print(f"{args.other.name}: {len(other)} galaxies, familiarity quantiles {quantiles}; flagged "
          f"{np.mean(other > 1):.3f} (Kaggle test: median {np.median(real):.2f}, 99% {np.quantile(real, 0.99):.2f})")


if __name__ == "__main__":
    main()
