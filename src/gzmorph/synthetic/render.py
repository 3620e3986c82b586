"""Render a synthetic galaxy as an SDSS gri composite in the look of the Kaggle GZ2 images.

Fluxes are in units of the sky noise (one sigma per pixel and channel), so a galaxy's brightness reads
directly as a signal-to-noise ratio. The composite uses Lupton et al. (2004)'s asinh stretch, which keeps
colours in the bright core and shows faint outskirts near the noise, as the SDSS colour images do. Channels
are (R, G, B) = (i, r, g): old stellar populations come out yellow-red, star formation blue.

The galaxy is computed on a box just large enough to hold it, blurred by the PSF there, and only then
added to the full 424 x 424 sky: that keeps a render to a few milliseconds.
"""
from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

if TYPE_CHECKING:
    from gzmorph.synthetic.morphology import Morphology

IMAGE_SIZE = 424
JPEG_QUALITY = 75  # the quantisation tables of the Kaggle images are libjpeg's quality 75, 4:2:0

# Colours per unit flux, (R, G, B) = (i, r, g), each averaging 1 so that colour does not change brightness.
OLD_STARS = np.array([1.22, 1.0, 0.78], np.float32)
DISK_STARS = np.array([1.08, 1.0, 0.92], np.float32)
YOUNG_STARS = np.array([0.8, 0.97, 1.23], np.float32)
DUST_REDDENING = np.array([0.75, 0.9, 1.0], np.float32)  # dust absorbs more in g than in i

SKY_LEVEL = np.array([1.0, 1.05, 0.5], np.float32)  # the mean sky left after SDSS sky subtraction, in sigma
STRETCH_SOFTENING = 0.06  # asinh turns from linear to logarithmic at about 17 sigma
DISPLAY_GAIN = 0.016  # one sigma of sky shows as ~4 of 255, as in the Kaggle images


def render_jpeg(morphology: Morphology, rng: np.random.Generator) -> bytes:
    """The galaxy's 424 x 424 RGB JPEG, encoded like the Kaggle images."""
    channels = [Image.fromarray(plane) for plane in render_planes(morphology, rng)]
    buffer = io.BytesIO()
    Image.merge("RGB", channels).save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def render_planes(morphology: Morphology, rng: np.random.Generator) -> np.ndarray:
    """The galaxy with sky, foreground stars and noise, as (3, 424, 424) uint8 R, G, B planes."""
    flux = sky_noise(morphology, rng)
    add_box(flux, galaxy_box(morphology, rng), morphology.centre)
    add_field_objects(flux, morphology.psf_sigma, rng)
    return asinh_composite(flux)


def sky_noise(morphology: Morphology, rng: np.random.Generator) -> np.ndarray:
    """Correlated Gaussian sky noise on the mean sky level, shape (3, H, W), in flux units.

    Noise drawn on a grid ``noise_grain`` times coarser and upsampled bilinearly has the blotchy,
    correlated look of the resampled SDSS frames (and compresses to JPEG files of Kaggle's size).
    """
    coarse_size = int(round(IMAGE_SIZE / morphology.noise_grain))
    coarse = rng.standard_normal((3, coarse_size, coarse_size), dtype=np.float32)
    # Upsampling averages neighbours and so lowers the variance to about 0.45; scaling and the sky offset
    # commute with it, so both are applied on the small grid.
    coarse = coarse * np.float32(morphology.noise_level / np.sqrt(0.45)) + SKY_LEVEL[:, None, None]
    sky = np.empty((3, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    for channel, plane in enumerate(coarse):
        sky[channel] = np.asarray(Image.fromarray(plane, mode="F").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR))
    return sky


def add_box(flux: np.ndarray, box: np.ndarray, centre: tuple[float, float]) -> None:
    """Add a (3, B, B) box onto the full image with its middle at ``centre`` (x, y), clipped at the edges."""
    half = box.shape[1] // 2
    x0, y0 = int(round(centre[0])) - half, int(round(centre[1])) - half
    ys = slice(max(y0, 0), min(y0 + box.shape[1], IMAGE_SIZE))
    xs = slice(max(x0, 0), min(x0 + box.shape[2], IMAGE_SIZE))
    flux[:, ys, xs] += box[:, ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]


def asinh_composite(flux: np.ndarray) -> np.ndarray:
    """Lupton's asinh stretch on the mean intensity, applied alike to all channels to keep colours."""
    softened = np.maximum(flux.mean(axis=0), 1e-6) * np.float32(STRETCH_SOFTENING)
    scale = np.arcsinh(softened) / softened * np.float32(DISPLAY_GAIN * 255)
    levels = flux * scale[None] + np.float32(0.5)  # +0.5: the cast below truncates, so this rounds
    np.clip(levels, 0.0, 255.0, out=levels)
    return levels.astype(np.uint8)


# --- the galaxy -----------------------------------------------------------------------------------------


def galaxy_box(m: Morphology, rng: np.random.Generator) -> np.ndarray:
    """All of the galaxy's light on a box around its centre, PSF-blurred, shape (3, B, B)."""
    half = int(np.clip(np.ceil(m.extent), 16, IMAGE_SIZE // 2))
    grid = box_grid(half)
    box = np.zeros((3, 2 * half + 1, 2 * half + 1), np.float32)
    for component in COMPONENTS[m.kind]:
        component(box, grid, m, rng)
    box = gaussian_filter(box, sigma=(0, m.psf_sigma, m.psf_sigma), truncate=3.0)
    add_knots(box, m, rng)
    return box * edge_taper(half)[None]


def edge_taper(half: int) -> np.ndarray:
    """A window falling smoothly to zero over the box's outer 15%, so no box edge shows in the sky."""
    distance_to_edge = (half + 0.5 - np.abs(np.arange(-half, half + 1, dtype=np.float32))) / (0.15 * half)
    ramp = np.clip(distance_to_edge, 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep
    return ramp[:, None] * ramp[None, :]


def box_grid(half: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets (x, y) from the box centre."""
    axis = np.arange(-half, half + 1, dtype=np.float32)
    return axis[None, :], axis[:, None]


def rotate(grid, angle: float, offset=(0.0, 0.0)):
    """Coordinates along (u) and across (v) a direction ``angle`` from the x axis, about ``offset``."""
    x, y = grid[0] - offset[0], grid[1] - offset[1]
    cos, sin = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    return x * cos + y * sin, -x * sin + y * cos


def add_light(box: np.ndarray, profile: np.ndarray, total_flux: float, colour: np.ndarray) -> None:
    """Add a profile scaled to ``total_flux`` in the given colour; normalising on the box keeps the budget."""
    norm = float(profile.sum())
    if norm > 0 and total_flux > 0:
        box += (total_flux / norm) * colour[:, None, None] * profile[None]


def sersic(radius: np.ndarray, effective_radius: float, index: float) -> np.ndarray:
    """Sersic (1968) profile, unnormalised; b_n from Ciotti & Bertin (1999)'s expansion."""
    b_n = 2 * index - 1 / 3 + 0.009876 / index
    return np.exp(-b_n * (np.power(radius / effective_radius, 1 / index) - 1))


def elliptical_radius(grid, angle: float, axis_ratio: float, offset=(0.0, 0.0), boxiness: float = 2.0):
    """Radius on ellipses (boxiness 2) or boxy super-ellipses (boxiness > 2) of the given axis ratio."""
    u, v = rotate(grid, angle, offset)
    if boxiness == 2.0:
        return np.sqrt(u * u + (v / axis_ratio) ** 2) + 0.3  # +0.3: no infinite cusp at a pixel centre
    return (np.abs(u) ** boxiness + np.abs(v / axis_ratio) ** boxiness) ** (1 / boxiness) + 0.3


def disk_plane(grid, m: Morphology):
    """Radius and azimuth in the plane of an inclined disk (deprojected by its axis ratio)."""
    u, v = rotate(grid, m.angle)
    v = v / m.axis_ratio
    return np.sqrt(u * u + v * v) + 0.3, np.arctan2(v, u)


def add_bulge(box, grid, m: Morphology, rng) -> None:
    """A Sersic bulge (or a whole elliptical) with its own flattening; boxy bulges for edge-on disks."""
    flux = m.flux * m.bulge_fraction
    if flux <= 0:
        return
    boxiness = 4.0 if m.bulge_shape == "boxy" else 2.0
    radius = elliptical_radius(grid, m.angle, m.bulge_axis_ratio, boxiness=boxiness)
    add_light(box, sersic(radius, m.bulge_radius, m.sersic_index), flux, OLD_STARS)


def add_disk(box, grid, m: Morphology, rng) -> None:
    """An exponential disk, with log-spiral arms, a ring and dust where the morphology has them."""
    radius, azimuth = disk_plane(grid, m)
    disk = np.exp(-radius / m.radius)
    disk_flux = m.flux * (1 - m.bulge_fraction)
    arm_flux = disk_flux * m.arm_strength if m.arms else 0.0
    add_light(box, disk, disk_flux - arm_flux, DISK_STARS)
    if m.arms:
        add_light(box, disk * spiral_pattern(radius, azimuth, m), arm_flux, YOUNG_STARS)
    if m.ring:
        ring = np.exp(-0.5 * ((radius - m.ring_radius) / (0.12 * m.ring_radius + 1)) ** 2)
        add_light(box, ring, 0.25 * disk_flux, DISK_STARS)


def spiral_pattern(radius, azimuth, m: Morphology) -> np.ndarray:
    """Logarithmic spiral arms (phase = m(theta - ln r / tan pitch)), fading in towards the bulge."""
    phase = m.arms * (azimuth - np.log(radius / m.radius) / float(np.tan(np.radians(m.pitch_deg))))
    crest = (0.5 + 0.5 * np.cos(phase)) ** m.arm_sharpness
    inner_fade = 1 - np.exp(-(radius / (0.7 * m.radius + 1)) ** 2)
    return crest * inner_fade


def add_bar(box, grid, m: Morphology, rng) -> None:
    """A bar: an elongated, flat-topped old-star component in the disk plane, seen in projection."""
    if not m.bar:
        return
    u, v = rotate(grid, m.angle)
    v = v / m.axis_ratio  # into the disk plane, where the bar lies at bar_angle
    cos, sin = np.cos(m.bar_angle), np.sin(m.bar_angle)
    along, across = u * cos + v * sin, -u * sin + v * cos
    length = m.bar_length
    bar = np.exp(-((along / length) ** 4 + (across / (0.28 * length)) ** 2))
    add_light(box, bar, m.flux * 0.12, OLD_STARS)


def add_dust_lane(box, grid, m: Morphology, rng) -> None:
    """A dust lane along the midplane of an edge-on disk: absorption of all light behind it, strongest in g."""
    if not m.dust_lane:
        return
    u, v = rotate(grid, m.angle)
    width = max(1.0, 0.35 * m.radius * m.axis_ratio)
    depth = 0.85 * np.exp(-0.5 * (v / width) ** 2) * np.exp(-(u / (2.5 * m.radius)) ** 2)
    box *= 1 - depth[None] * DUST_REDDENING[:, None, None]


def add_companion(box, grid, m: Morphology, rng) -> None:
    """The second galaxy of a merger: a smaller, redder or bluer system offset from the primary."""
    offset = m.companion_offset
    radius = elliptical_radius(grid, m.companion_angle, m.companion_axis_ratio, offset)
    colour = OLD_STARS if m.companion_sersic_index > 2 else DISK_STARS
    add_light(box, sersic(radius, m.companion_radius, m.companion_sersic_index),
              m.flux * m.companion_flux_ratio, colour)


def add_tidal_features(box, grid, m: Morphology, rng) -> None:
    """Tidal tails (curved streams leaving both galaxies) and, sometimes, a bridge between them."""
    layer = np.zeros(box.shape[1:], np.float32)
    half = box.shape[1] // 2
    for start, sense in ((np.zeros(2), 1.0), (np.asarray(m.companion_offset), -1.0)):
        for _ in range(m.tails):
            deposit(layer, tail_path(start, m, sense, rng) + half, np.linspace(1.0, 0.15, 60))
    if m.bridge:
        path = np.linspace((0.0, 0.0), m.companion_offset, 40) + rng.normal(0, 1.0, (40, 2))
        deposit(layer, path + half, np.full(40, 0.6))
    layer = gaussian_filter(layer, 0.12 * m.radius + 1.5)
    add_light(box, layer, m.flux * m.tail_fraction, DISK_STARS * 0.5 + YOUNG_STARS * 0.5)


def tail_path(start, m: Morphology, sense: float, rng) -> np.ndarray:
    """Points along a tidal tail: a widening arc that swings away from its galaxy."""
    turn = np.linspace(0, rng.uniform(1.2, 2.4), 60)
    heading = rng.uniform(0, 2 * np.pi)
    distance = m.radius * (0.8 + 3.5 * turn / turn[-1])
    angle = heading + sense * turn
    return start + np.stack([distance * np.cos(angle), distance * np.sin(angle)], axis=1)


def deposit(layer: np.ndarray, points: np.ndarray, weights: np.ndarray) -> None:
    """Drop weights at (x, y) points (nearest pixel) onto a layer, ignoring points outside it."""
    xy = np.rint(points).astype(int)
    inside = (xy >= 0).all(axis=1) & (xy < layer.shape[0]).all(axis=1)
    np.add.at(layer, (xy[inside, 1], xy[inside, 0]), weights[inside])


def add_irregular(box, grid, m: Morphology, rng) -> None:
    """An irregular: a lopsided faint disk strewn with blue clumps of star formation."""
    centre = rng.normal(0, 0.4 * m.radius, 2)
    radius = elliptical_radius(grid, m.angle, m.axis_ratio, centre)
    add_light(box, np.exp(-radius / m.radius), m.flux * 0.7, DISK_STARS * 0.4 + YOUNG_STARS * 0.6)
    layer = np.zeros(box.shape[1:], np.float32)
    half = box.shape[1] // 2
    clumps = rng.normal(0, 1.3 * m.radius, (m.knots, 2)) + centre
    deposit(layer, clumps + half, rng.exponential(1.0, m.knots))
    add_light(box, gaussian_filter(layer, 0.08 * m.radius + 1), m.flux * 0.3, YOUNG_STARS)


def add_central_star(box, grid, m: Morphology, rng) -> None:
    """A bright star at the centre (GZ2's 'star or artifact'), with diffraction spikes."""
    add_star(box, box.shape[1] / 2 - 0.5, box.shape[1] / 2 - 0.5, m.flux, m.star_colour, 0.8, m.angle)


def add_knots(box, m: Morphology, rng) -> None:
    """Compact blue star-forming knots strung along the spiral arms, after the PSF like point sources."""
    if not m.arms or m.knots == 0:
        return
    half = box.shape[1] // 2
    radius = m.radius * np.exp(rng.uniform(-0.2, 1.0, m.knots))
    arm = rng.integers(0, m.arms, m.knots)
    azimuth = np.log(radius / m.radius) / np.tan(np.radians(m.pitch_deg)) + 2 * np.pi * arm / m.arms
    x, y = radius * np.cos(azimuth), radius * np.sin(azimuth) * m.axis_ratio
    cos, sin = np.cos(m.angle), np.sin(m.angle)
    fluxes = rng.exponential(m.flux * m.arm_strength * 0.12 / m.knots, m.knots)
    for kx, ky, flux in zip(x * cos - y * sin + half, x * sin + y * cos + half, fluxes):
        add_point(box, kx, ky, flux, YOUNG_STARS, m.psf_sigma * 1.5)


def add_point(image: np.ndarray, x: float, y: float, flux: float, colour: np.ndarray, sigma: float) -> None:
    """A Gaussian point source on a small stamp (fast: a few hundred pixels, not the whole image)."""
    reach = int(np.ceil(4 * sigma))
    x0, y0 = int(np.floor(x)) - reach, int(np.floor(y)) - reach
    xs = np.arange(x0, x0 + 2 * reach + 2)
    ys = np.arange(y0, y0 + 2 * reach + 2)
    keep_x, keep_y = (xs >= 0) & (xs < image.shape[2]), (ys >= 0) & (ys < image.shape[1])
    if not keep_x.any() or not keep_y.any():
        return
    xs, ys = xs[keep_x], ys[keep_y]
    stamp = np.exp(-0.5 * (((xs[None, :] - x) ** 2 + (ys[:, None] - y) ** 2) / sigma ** 2)).astype(np.float32)
    stamp *= flux / (2 * np.pi * sigma ** 2)
    image[:, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1] += colour[:, None, None] * stamp[None]


def add_star(image: np.ndarray, x: float, y: float, flux: float, colour, sigma: float, angle: float) -> None:
    """A star: a PSF core, a broad halo and, when bright, four diffraction spikes."""
    colour = np.asarray(colour, np.float32)
    add_point(image, x, y, flux * 0.8, colour, sigma)
    add_point(image, x, y, flux * 0.2, colour, sigma * 4)
    if flux < 3000:
        return
    length = int(min(100, np.sqrt(flux)))
    steps = np.arange(-length, length + 1)
    fade = (flux * 0.005 / (1 + np.abs(steps) / 5.0)).astype(np.float32)
    for spike_angle in (angle, angle + np.pi / 2):
        xs = np.rint(x + steps * np.cos(spike_angle)).astype(int)
        ys = np.rint(y + steps * np.sin(spike_angle)).astype(int)
        inside = (xs >= 0) & (xs < image.shape[2]) & (ys >= 0) & (ys < image.shape[1])
        for channel in range(3):
            np.add.at(image[channel], (ys[inside], xs[inside]), fade[inside] * colour[channel])


def add_field_objects(flux: np.ndarray, psf_sigma: float, rng: np.random.Generator) -> None:
    """What else is in an SDSS cut-out: Milky Way stars (mostly faint, red to blue, rarely a bright one
    with spikes) and small fuzzy background galaxies."""
    for _ in range(rng.poisson(4.0)):
        x, y = rng.uniform(0, IMAGE_SIZE, 2)
        brightness = 250 * (rng.pareto(1.2) + 1)
        colour = STAR_COLOURS[rng.integers(len(STAR_COLOURS))]
        add_star(flux, x, y, brightness, colour, psf_sigma, rng.uniform(0, np.pi / 2))
    for _ in range(rng.poisson(3.0)):
        x, y = rng.uniform(0, IMAGE_SIZE, 2)
        colour = (OLD_STARS, DISK_STARS)[rng.integers(2)]
        add_point(flux, x, y, log_uniform(rng, 400.0, 5000.0), colour, psf_sigma * rng.uniform(1.2, 2.5))


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


STAR_COLOURS = np.array([[1.5, 0.9, 0.6], [1.2, 1.0, 0.8], [1.0, 1.0, 1.0], [0.8, 1.0, 1.2]], np.float32)

COMPONENTS = {
    "elliptical": (add_bulge,),
    "lenticular": (add_disk, add_bulge),
    "spiral": (add_disk, add_bar, add_bulge),
    "edge-on": (add_disk, add_bulge, add_dust_lane),
    "merger": (add_disk, add_bulge, add_companion, add_tidal_features),
    "irregular": (add_irregular,),
    "star": (add_central_star,),
}
