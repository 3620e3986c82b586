"""Contact sheets: a result table drawn as a PNG grid of its galaxies' cut-outs (the centre the models read),
each under its class, score and the start of its caption, so that a person looks instead of reading. A result
table's score is the column after ``rank``; a row of rank 0 (a query or an example) is drawn framed, and each
query's rows start a new line of the grid."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from gzmorph.data.decoding import load_galaxy
from gzmorph.errors import GzmorphError
from gzmorph.inference.table import CAPTION_COLUMN, CLASS_COLUMN, FILE_COLUMN
from gzmorph.params import Params
from gzmorph.search.similar import QUERY_COLUMN, QUERY_RANK, RANK_COLUMN

SUFFIX = ".png"
COLUMNS = 6  # cut-outs a line
TILE = 128  # pixels a cut-out
TEXT_LINES, LINE_HEIGHT, FONT_SIZE, MARGIN = 3, 13, 10, 6
WRAP = 25  # characters a caption line
FRAME = (230, 160, 40)  # around a query or an example
INK, PAPER, EMPTY = (235, 235, 235), (18, 18, 24), (60, 60, 60)


def check_sheet(path: Path) -> Path:
    """Fail before any work when the sheet would not be a PNG."""
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise GzmorphError(f"{path}: a contact sheet is a .png file")
    return path


def contact_sheet(results: pd.DataFrame, path: str | Path) -> Path:
    """Draw ``results`` (a table gzmorph similar, find or unusual returned, in its order) to the PNG ``path``."""
    path = check_sheet(path)
    if RANK_COLUMN not in results or not len(results):
        raise GzmorphError("a contact sheet draws a result table of gzmorph similar, find or unusual (a rank column)")
    score = score_column(results)
    lines = grid_lines(results)
    height = TILE + TEXT_LINES * LINE_HEIGHT + 2 * MARGIN
    sheet = Image.new("RGB", (COLUMNS * (TILE + MARGIN) + MARGIN, len(lines) * height + MARGIN), PAPER)
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default(size=FONT_SIZE)
    for line, rows in enumerate(lines):
        for column, (_, row) in enumerate(rows.iterrows()):
            left, top = MARGIN + column * (TILE + MARGIN), MARGIN + line * height
            sheet.paste(Image.fromarray(cutout(row)), (left, top))
            if row[RANK_COLUMN] == QUERY_RANK:
                draw.rectangle([left - 2, top - 2, left + TILE + 1, top + TILE + 1], outline=FRAME, width=3)
            for n, text in enumerate(labels(row, score)):
                draw.text((left, top + TILE + 3 + n * LINE_HEIGHT), text, fill=INK, font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)
    return path


def score_column(results: pd.DataFrame) -> str:
    return results.columns[results.columns.get_loc(RANK_COLUMN) + 1]


def main_columns(results: pd.DataFrame) -> list[str]:
    """What a person reads of a result table: the query, rank and score, the file, class and caption."""
    leading = list(results.columns[:results.columns.get_loc(RANK_COLUMN) + 2])
    return leading + [c for c in (FILE_COLUMN, CLASS_COLUMN, CAPTION_COLUMN) if c in results and c not in leading]


def grid_lines(results: pd.DataFrame) -> list[pd.DataFrame]:
    """The rows a grid line each: a query's (or the examples') rows start a new line and wrap at COLUMNS."""
    groups = [group for _, group in results.groupby(QUERY_COLUMN, sort=False)] if QUERY_COLUMN in results \
        else [results]
    return [group.iloc[start:start + COLUMNS] for group in groups for start in range(0, len(group), COLUMNS)]


def cutout(row: pd.Series) -> np.ndarray:
    """The row's galaxy as the models framed it (the crop of gzmorph's defaults), or a grey square where the
    row has no file (a query given as an array)."""
    file = row.get(FILE_COLUMN)
    if not isinstance(file, str):
        return np.full((TILE, TILE, 3), EMPTY, np.uint8)
    if not Path(file).is_file():
        raise GzmorphError(f"{file}: no such file to draw (the table's {FILE_COLUMN} column); run from the folder "
                           "the table's paths are relative to")
    return load_galaxy(file, Params().image.crop, TILE)


def labels(row: pd.Series, score: str) -> list[str]:
    """Class and score, then the caption's first words."""
    head = "query" if row[RANK_COLUMN] == QUERY_RANK else f"{row[RANK_COLUMN]}."
    kind, value, caption = row.get(CLASS_COLUMN), row.get(score), row.get(CAPTION_COLUMN)
    first = [head, kind if isinstance(kind, str) else "",
             f"{score} {value:.2f}" if pd.api.types.is_number(value) and not pd.isna(value) else ""]
    wrapped = textwrap.wrap(caption, WRAP) if isinstance(caption, str) else []
    if len(wrapped) > TEXT_LINES - 1:
        wrapped = [*wrapped[:TEXT_LINES - 2], wrapped[TEXT_LINES - 2][:WRAP - 3] + "..."]
    return [" ".join(part for part in first if part), *wrapped]
