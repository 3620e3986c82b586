"""Figures a person would rather look at than read: the confusion matrix, Grad-CAM examples, a gallery."""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from gzmorph.gz2.rule import CLASSES  # noqa: E402
from gzmorph.inference.gradcam import heatmap_overlay  # noqa: E402


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
