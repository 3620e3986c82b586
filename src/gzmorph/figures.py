"""Figures a person would rather look at than read: the confusion matrix, Grad-CAM examples, a gallery."""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from gzmorph.rule import CLASSES  # noqa: E402

HEATMAP_ALPHA = 0.45


def confusion_png(true, predicted, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(true, predicted, labels=range(len(CLASSES)),
                                            display_labels=CLASSES, ax=ax, colorbar=False)
    ax.set_title("test split")
    _save(fig, path)


def gradcam_png(images: np.ndarray, maps: np.ndarray, titles: list[str], path: Path, columns: int = 3) -> None:
    """Each image beside its Grad-CAM heat map overlaid."""
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(4 * columns, 2.1 * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for i, (image, heat, title) in enumerate(zip(images, maps, titles)):
        left, right = axes[i // columns, 2 * (i % columns)], axes[i // columns, 2 * (i % columns) + 1]
        left.imshow(image)
        left.set_title(title, fontsize=7)
        right.imshow(heatmap_overlay(image, heat))
        right.set_title("Grad-CAM", fontsize=7)
    _save(fig, path)


def heatmap_overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """uint8 RGB: ``image`` with the [0, 1] heat map, in jet colours, blended over it."""
    colours = matplotlib.colormaps["jet"](heat)[..., :3]
    blended = (1 - HEATMAP_ALPHA) * image / 255.0 + HEATMAP_ALPHA * colours
    return np.round(blended * 255).astype(np.uint8)


def gallery_png(images: np.ndarray, captions: list[str], path: Path, columns: int = 3) -> None:
    """Galaxies with a few lines of text each: true and predicted class, reference and generated caption."""
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 5.2 * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, text in zip(axes.flat, images, captions):
        ax.imshow(image)
        # Captions run to 40 words: wrapped, so that neighbouring panels' text does not overlap.
        wrapped = "\n".join(textwrap.fill(line, 60) for line in text.splitlines())
        ax.set_title(wrapped, fontsize=7, loc="left")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
