"""What a synthetic galaxy truly is: the one type the sampler draws, the renderer draws and the
simulated volunteers judge."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Morphology:
    """What a synthetic galaxy truly is: the renderer draws it and the volunteers judge it."""

    kind: str
    centre: tuple[float, float]  # pixel (x, y) of the primary galaxy in the 424 x 424 image
    psf_sigma: float  # seeing, Gaussian sigma in pixels
    noise_level: float  # sky noise relative to the unit that fluxes are measured in
    noise_grain: float  # correlation length of the sky noise (px): the cut-outs are resampled frames
    flux: float  # total light, in units of the per-pixel sky noise
    radius: float  # disk scale length, or the effective radius of a galaxy without a disk (px)
    axis_ratio: float  # projected minor/major axis of the disk (cos of the inclination)
    angle: float  # position angle of the major axis (radians from the x axis)
    bulge_fraction: float = 0.0  # bulge-to-total light; 1 for an elliptical
    bulge_radius: float = 1.0
    bulge_axis_ratio: float = 1.0
    sersic_index: float = 4.0
    bulge_shape: str = "rounded"  # for edge-on disks: rounded, boxy or none
    arms: int = 0
    pitch_deg: float = 20.0
    arm_strength: float = 0.0  # share of the disk's light in the arms
    arm_sharpness: float = 3.0
    knots: int = 0  # star-forming knots on the arms, or clumps of an irregular
    bar: bool = False
    bar_angle: float = 0.0
    bar_length: float = 1.0
    ring: bool = False
    ring_radius: float = 1.0
    dust_lane: bool = False
    companion_offset: tuple[float, float] = (0.0, 0.0)
    companion_angle: float = 0.0
    companion_axis_ratio: float = 1.0
    companion_radius: float = 1.0
    companion_sersic_index: float = 4.0
    companion_flux_ratio: float = 0.0
    tails: int = 0
    bridge: bool = False
    tail_fraction: float = 0.0
    star_colour: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def half_light_radius(self) -> float:
        if self.kind == "star":
            return self.psf_sigma
        if self.kind == "elliptical":
            return self.bulge_radius
        return 1.68 * self.radius  # of an exponential disk

    @property
    def apparent_axis_ratio(self) -> float:
        """The flattening a volunteer sees: the bulge's for an elliptical, the disk's otherwise."""
        if self.kind == "star":
            return 1.0
        return self.bulge_axis_ratio if self.kind == "elliptical" else self.axis_ratio

    @property
    def extent(self) -> float:
        """Half-width of the box that holds all the galaxy's visible light (px)."""
        reach = {"elliptical": 10 * self.bulge_radius,
                 "star": 2 * np.sqrt(self.flux) + 8}.get(self.kind, 5.5 * self.radius)
        if self.kind == "merger":
            reach = float(np.hypot(*self.companion_offset)) + 6 * max(self.radius, self.companion_radius)
        return reach + 4 * self.psf_sigma

    @property
    def visibility(self) -> float:
        """How clearly volunteers see the galaxy, 0..1: resolved well beyond the PSF and bright over the sky."""
        if self.kind == "star":
            return 0.9
        resolved = self.half_light_radius / self.psf_sigma
        projected_area = 2 * np.pi * self.half_light_radius ** 2 * max(self.apparent_axis_ratio, 0.3)
        surface_brightness = self.flux / projected_area / self.noise_level
        return float(logistic(np.log(resolved / 5.0) / 0.3) * logistic(np.log(surface_brightness / 8.0) / 0.45))


def logistic(x: float) -> float:
    return 1 / (1 + np.exp(-x))
