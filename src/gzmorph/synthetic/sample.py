"""The embedded sample: synthetic GZ2 galaxies, rendered and voted on, written in the Kaggle layout.

    python -m gzmorph.synthetic --out data/sample --n 1500 --seed 0

writes ``images_training_rev1/<GalaxyID>.jpg`` (424 x 424 RGB JPEG), ``training_solutions_rev1.csv``
(GalaxyID + the 37 vote-fraction columns) and ``contact_sheet.png`` (a labelled row of examples per class).

Each galaxy draws everything (its ID gap, its true morphology, its volunteers' votes, its pixels) from
its own generator ``default_rng([seed, index])``, so galaxy ``index`` is the same whatever ``n`` is and
the same seed writes byte-identical files. Morphology is drawn here; ``render`` turns it into
pixels and ``votes`` into the crowd's vote fractions.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from gzmorph.errors import GzmorphError, cli
from gzmorph.gz2.rule import CLASSES, classify
from gzmorph.gz2.tree import ID_COLUMN, VOTE_COLUMNS
from gzmorph.synthetic.morphology import Morphology
from gzmorph.synthetic.render import IMAGE_SIZE, STAR_COLOURS, log_uniform, render_jpeg
from gzmorph.synthetic.votes import format_fraction, simulate_votes

IMAGE_DIR = "images_training_rev1"
SOLUTIONS_FILE = "training_solutions_rev1.csv"
CONTACT_SHEET = "contact_sheet.png"

FIRST_ID = 100000
ID_GAPS = (1, 30)  # IDs rise by 1..29 (mean ~15, as in Kaggle's 61,578 IDs over 100008..999967)
MAX_GALAXIES = (999999 - FIRST_ID) // (ID_GAPS[1] - 1)  # keeps every ID six digits

# How often each kind of galaxy is drawn. Mergers and edge-on disks are commoner than in GZ2 so that
# every class has enough examples to learn from; lenticulars, irregulars and stars feed "ambiguous".
KIND_SHARES = {
    "spiral": 0.40, "elliptical": 0.21, "edge-on": 0.13, "merger": 0.14,
    "lenticular": 0.06, "irregular": 0.035, "star": 0.025,
}


# --- drawing morphologies -------------------------------------------------------------------------------


def draw_morphology(rng: np.random.Generator) -> Morphology:
    """A galaxy of a random kind, with its shape, size, brightness and features drawn for that kind."""
    kinds = list(KIND_SHARES)
    kind = kinds[rng.choice(len(kinds), p=np.array(list(KIND_SHARES.values())))]
    return DRAW_KIND[kind](rng, **observing_conditions(rng))


def observing_conditions(rng) -> dict:
    """Where the galaxy sits (near the cut-out centre), its orientation, the seeing and the sky noise."""
    return dict(centre=tuple(IMAGE_SIZE / 2 + rng.normal(0, 1.5, 2)), angle=rng.uniform(0, np.pi),
                psf_sigma=log_uniform(rng, 1.2, 3.5), noise_level=rng.uniform(0.8, 1.4),
                noise_grain=rng.uniform(2.5, 5.0))


def disk_flux(rng, radius: float) -> float:
    """Total flux of a disk with a central surface brightness drawn from faint to bright."""
    return log_uniform(rng, 10.0, 200.0) * 2 * np.pi * radius ** 2


def draw_elliptical(rng, **conditions) -> Morphology:
    """A Sersic n~4 spheroid, round to cigar-shaped."""
    effective_radius = log_uniform(rng, 10.0, 26.0)
    return Morphology(
        kind="elliptical", radius=effective_radius, axis_ratio=1.0,
        flux=log_uniform(rng, 30.0, 250.0) * 2 * np.pi * effective_radius ** 2,
        bulge_fraction=1.0, bulge_radius=effective_radius, sersic_index=rng.uniform(2.5, 4.5),
        bulge_axis_ratio=float(np.clip(1 - rng.beta(1.3, 2.6), 0.25, 1.0)), **conditions)


def draw_spiral(rng, **conditions) -> Morphology:
    """An inclined disk with log-spiral arms and knots, a bulge, and sometimes a bar or a ring."""
    radius = log_uniform(rng, 11.0, 32.0)
    winding = rng.choice(3, p=[0.3, 0.45, 0.25])
    return Morphology(
        kind="spiral", radius=radius, flux=disk_flux(rng, radius), axis_ratio=rng.uniform(0.3, 1.0),
        bulge_fraction=float(rng.beta(1.6, 4.0) * 0.7), bulge_radius=radius * rng.uniform(0.15, 0.35),
        sersic_index=rng.uniform(1.5, 4.0), bulge_axis_ratio=rng.uniform(0.7, 1.0),
        arms=int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.07, 0.5, 0.2, 0.12, 0.07, 0.04])),
        pitch_deg=rng.uniform(*((7.0, 13.0), (15.0, 25.0), (28.0, 40.0))[winding]),
        arm_strength=rng.uniform(0.12, 0.6), arm_sharpness=rng.uniform(2.0, 6.0),
        knots=int(rng.integers(0, 30)), bar=bool(rng.random() < 0.35), bar_angle=rng.uniform(0, np.pi),
        bar_length=radius * rng.uniform(0.8, 1.6), ring=bool(rng.random() < 0.08),
        ring_radius=radius * rng.uniform(1.4, 2.6), **conditions)


def draw_lenticular(rng, **conditions) -> Morphology:
    """A disk with a large bulge and no arms: the crowd splits between smooth and features."""
    radius = log_uniform(rng, 10.0, 28.0)
    return Morphology(
        kind="lenticular", radius=radius, flux=disk_flux(rng, radius), axis_ratio=rng.uniform(0.35, 1.0),
        bulge_fraction=rng.uniform(0.35, 0.75), bulge_radius=radius * rng.uniform(0.2, 0.45),
        sersic_index=rng.uniform(2.5, 4.0), bulge_axis_ratio=rng.uniform(0.7, 1.0),
        bar=bool(rng.random() < 0.2), bar_angle=rng.uniform(0, np.pi), bar_length=radius * rng.uniform(0.8, 1.4),
        ring=bool(rng.random() < 0.25), ring_radius=radius * rng.uniform(1.3, 2.4), **conditions)


def draw_edge_on(rng, **conditions) -> Morphology:
    """A disk seen edge-on, with a rounded, boxy or no bulge and often a dust lane."""
    radius = log_uniform(rng, 11.0, 32.0)
    shape = str(rng.choice(["rounded", "boxy", "none"], p=[0.5, 0.2, 0.3]))
    return Morphology(
        kind="edge-on", radius=radius, flux=disk_flux(rng, radius) * 0.6, axis_ratio=rng.uniform(0.07, 0.2),
        bulge_shape=shape, bulge_fraction=0.0 if shape == "none" else rng.uniform(0.12, 0.45),
        bulge_radius=radius * rng.uniform(0.25, 0.5), sersic_index=rng.uniform(1.5, 3.5),
        bulge_axis_ratio=rng.uniform(0.5, 0.75) if shape == "boxy" else rng.uniform(0.6, 0.9),
        dust_lane=bool(rng.random() < 0.45), **conditions)


def draw_merger(rng, **conditions) -> Morphology:
    """Two overlapping galaxies, with tidal tails and sometimes a bridge between them."""
    radius = log_uniform(rng, 10.0, 24.0)
    separation = radius * rng.uniform(1.2, 4.0)
    direction = rng.uniform(0, 2 * np.pi)
    disky = rng.random() < 0.5
    return Morphology(
        kind="merger", radius=radius, flux=log_uniform(rng, 15.0, 150.0) * 2 * np.pi * radius ** 2,
        axis_ratio=rng.uniform(0.4, 1.0), bulge_fraction=rng.uniform(0.2, 0.5) if disky else 1.0,
        bulge_radius=radius * (rng.uniform(0.25, 0.4) if disky else rng.uniform(0.8, 1.3)),
        sersic_index=rng.uniform(2.0, 4.0), bulge_axis_ratio=rng.uniform(0.6, 1.0),
        companion_offset=(separation * np.cos(direction), separation * np.sin(direction)),
        companion_angle=rng.uniform(0, np.pi), companion_axis_ratio=rng.uniform(0.4, 1.0),
        companion_radius=radius * rng.uniform(0.35, 0.9), companion_sersic_index=rng.uniform(1.0, 4.0),
        companion_flux_ratio=rng.uniform(0.25, 0.9), tails=int(rng.choice(3, p=[0.2, 0.5, 0.3])),
        bridge=bool(rng.random() < 0.35), tail_fraction=rng.uniform(0.15, 0.4), **conditions)


def draw_irregular(rng, **conditions) -> Morphology:
    """A lopsided, clumpy, blue galaxy with no clear structure."""
    radius = log_uniform(rng, 10.0, 24.0)
    return Morphology(
        kind="irregular", radius=radius, flux=disk_flux(rng, radius), axis_ratio=rng.uniform(0.4, 1.0),
        knots=int(rng.integers(6, 25)), **conditions)


def draw_star(rng, **conditions) -> Morphology:
    """A bright foreground star where the galaxy should be: GZ2's 'star or artifact'."""
    return Morphology(
        kind="star", radius=1.0, axis_ratio=1.0, flux=log_uniform(rng, 5000.0, 150000.0),
        star_colour=tuple(STAR_COLOURS[rng.integers(len(STAR_COLOURS))]), **conditions)


DRAW_KIND = {
    "spiral": draw_spiral, "elliptical": draw_elliptical, "edge-on": draw_edge_on, "merger": draw_merger,
    "lenticular": draw_lenticular, "irregular": draw_irregular, "star": draw_star,
}


# --- one galaxy, the whole sample -----------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticGalaxy:
    morphology: Morphology
    votes: dict[str, int]  # vote fractions in millionths, per Kaggle column
    jpeg: bytes


def galaxy_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def draw_id_gap(rng: np.random.Generator) -> int:
    """The first draw of every galaxy's generator: how far its ID is above the previous galaxy's."""
    return int(rng.integers(*ID_GAPS))


def galaxy_ids(seed: int, n: int) -> list[int]:
    """Six-digit, increasing GalaxyIDs with random gaps, like Kaggle's."""
    gaps = [draw_id_gap(galaxy_rng(seed, index)) for index in range(n)]
    return [int(i) for i in FIRST_ID + np.cumsum(gaps)]


def synthesise_galaxy(seed: int, index: int) -> SyntheticGalaxy:
    """Galaxy ``index`` of the sample with this seed, the same whatever the sample size."""
    rng = galaxy_rng(seed, index)
    draw_id_gap(rng)  # consumed here too, so the rest of the stream is the same as in galaxy_ids' order
    morphology = draw_morphology(rng)
    votes = simulate_votes(morphology, rng)
    return SyntheticGalaxy(morphology, votes, render_jpeg(morphology, rng))


def write_sample(out: Path, n: int, seed: int, progress: bool = True) -> pd.DataFrame:
    """Write ``n`` galaxies in the Kaggle layout under ``out``; returns the vote table as written."""
    check_sample_size(n)
    image_dir = out / IMAGE_DIR
    ids = galaxy_ids(seed, n)
    check_no_stale_images(image_dir, set(ids))
    image_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, galaxy_id in enumerate(tqdm(ids, desc="rendering galaxies", unit="galaxy", disable=not progress)):
        galaxy = synthesise_galaxy(seed, index)
        (image_dir / f"{galaxy_id}.jpg").write_bytes(galaxy.jpeg)
        rows.append((galaxy_id, galaxy.votes))
    write_solutions(out / SOLUTIONS_FILE, rows)
    return pd.read_csv(out / SOLUTIONS_FILE)


def check_sample_size(n: int) -> None:
    if not 1 <= n <= MAX_GALAXIES:
        raise GzmorphError(f"--n {n} is out of range; choose 1 to {MAX_GALAXIES} galaxies (IDs stay six digits)")


def check_no_stale_images(image_dir: Path, written_ids: set[int]) -> None:
    """Images from another run would have no labels in the CSV; say so rather than leave a mixed folder."""
    stale = [p.name for p in image_dir.glob("*.jpg") if not p.stem.isdigit() or int(p.stem) not in written_ids]
    if stale:
        raise GzmorphError(f"{image_dir} also holds {len(stale)} images not in this sample (e.g. {stale[0]}); "
                           f"delete them or write to an empty --out folder")


def write_solutions(path: Path, rows: list[tuple[int, dict[str, int]]]) -> None:
    """The Kaggle solutions CSV: GalaxyID then the 37 columns as plain decimals."""
    lines = [",".join([ID_COLUMN, *VOTE_COLUMNS])]
    lines += [",".join([str(galaxy_id), *(format_fraction(votes[c]) for c in VOTE_COLUMNS)])
              for galaxy_id, votes in rows]
    path.write_text("\n".join(lines) + "\n")


# --- the contact sheet ----------------------------------------------------------------------------------

SHEET_COLUMNS = 6
TILE = 160  # each tile shows the central 212 px of a galaxy, where the galaxy is
LABEL_WIDTH = 170


def write_contact_sheet(out: Path, votes: pd.DataFrame) -> Path:
    """A PNG with one labelled row per class: the first galaxies (by ID) that the default rule puts there."""
    classes = classify(votes)
    sheet = Image.new("RGB", (LABEL_WIDTH + SHEET_COLUMNS * TILE, len(CLASSES) * TILE), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=18)
    for row, name in enumerate(CLASSES):
        members = votes[ID_COLUMN][classes == row]
        share = len(members) / len(votes)
        draw.text((10, row * TILE + TILE // 2 - 20), f"{name}\n{share:.0%} of {len(votes)}", fill="black", font=font)
        for column, galaxy_id in enumerate(members[:SHEET_COLUMNS]):
            sheet.paste(central_tile(out / IMAGE_DIR / f"{galaxy_id}.jpg"), (LABEL_WIDTH + column * TILE, row * TILE))
    path = out / CONTACT_SHEET
    sheet.save(path, optimize=False)
    return path


def central_tile(image_path: Path) -> Image.Image:
    crop = (IMAGE_SIZE // 4, IMAGE_SIZE // 4, 3 * IMAGE_SIZE // 4, 3 * IMAGE_SIZE // 4)
    return Image.open(image_path).convert("RGB").crop(crop).resize((TILE, TILE), Image.LANCZOS)


def class_balance(votes: pd.DataFrame) -> pd.Series:
    """Share of each class under the default rule, in CLASSES order."""
    classes = classify(votes)
    return pd.Series(np.bincount(classes, minlength=len(CLASSES)) / len(votes), index=list(CLASSES))


# --- command line ---------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gzmorph.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder (Kaggle layout)")
    parser.add_argument("--n", type=int, default=1500, help="number of galaxies")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same bytes")
    return parser.parse_args(argv)


@cli
def main(argv=None) -> None:
    args = parse_args(argv)
    votes = write_sample(args.out, args.n, args.seed)
    sheet = write_contact_sheet(args.out, votes)
    balance = ", ".join(f"{name} {share:.1%}" for name, share in class_balance(votes).items())
    print(f"wrote {args.n} galaxies to {args.out} ({balance}); contact sheet {sheet}")


if __name__ == "__main__":
    main()
