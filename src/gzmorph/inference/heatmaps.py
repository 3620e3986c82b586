"""A Grad-CAM heat map blended over its image, for the evaluate figure and ``gzmorph predict --gradcam``.

Kept apart from gzmorph.inference.figures so that predict loads neither pyplot nor scikit-learn to write one.
"""
from __future__ import annotations

import matplotlib
import numpy as np

HEATMAP_ALPHA = 0.45


def heatmap_overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """uint8 RGB: ``image`` with the [0, 1] heat map, in jet colours, blended over it."""
    colours = matplotlib.colormaps["jet"](heat)[..., :3]
    blended = (1 - HEATMAP_ALPHA) * image / 255.0 + HEATMAP_ALPHA * colours
    return np.round(blended * 255).astype(np.uint8)
