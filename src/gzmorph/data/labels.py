"""The ``clean_labels`` stage's logic: read a solutions table however it was saved, keep the usable rows.

``read_table`` turns a CSV in any encoding and delimiter a user is likely to have into a table of strings,
every row as read. ``clean_labels`` parses the values, drops each unusable row under exactly one reason
(the first that applies, in ``DROP_REASONS`` order), classifies the rest with ``gzmorph.gz2.rule`` and reports
the accounting, so that nothing is dropped silently:

    rows_read == rows_kept + rows_dropped,   rows_dropped == sum of dropped_<reason>

Merged duplicates count as dropped rows (``duplicate_merged``: every copy but the one kept), which is what
makes the sum hold when a file lists a galaxy twice. Each kept row's image is decoded once, cheaply, so that
a damaged file costs its row here, in the report, rather than later in the split stage.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from gzmorph.data.decoding import IMAGE_SUFFIXES, unreadable_reason
from gzmorph.errors import GzmorphError
from gzmorph.gz2.rule import CLASSES, Rule, classify, missing_rule_questions
from gzmorph.gz2.tree import ID_COLUMN, QUESTIONS, VOTE_COLUMNS, present_questions, sum_errors

# In the order they are tested: a row is counted under the first reason that applies.
DROP_REASONS: tuple[str, ...] = (
    "invalid_id",            # GalaxyID empty, not a whole number, or negative
    "duplicate_conflict",    # several rows for one GalaxyID with different votes: none can be trusted
    "duplicate_merged",      # identical copies of a row: all but one
    "missing_value",         # a vote column empty or NA
    "non_numeric_value",     # a vote column that is not a number
    "out_of_range_value",    # a vote fraction below 0 or above 1
    "tree_sum_off",          # a question's answers do not sum to its parent's value (within sum_tolerance)
    "missing_image",         # no non-empty image_dir/<GalaxyID>.jpg, .jpeg or .png
    "unreadable_image",      # the image is there but cannot be decoded (truncated, corrupt, not an image)
)

DROP_HINTS: dict[str, str] = {
    "invalid_id": "GalaxyID must be a whole number",
    "duplicate_conflict": "each GalaxyID must appear once",
    "duplicate_merged": "each GalaxyID must appear once",
    "missing_value": "fill the empty vote cells",
    "non_numeric_value": "vote cells must be numbers",
    "out_of_range_value": "vote fractions must lie in [0, 1]",
    "tree_sum_off": "each question's answers must sum to its parent's value; raise sum_tolerance if the "
                    "table was rebuilt from a catalogue",
    "missing_image": "the image folder must hold <GalaxyID>.jpg for each row; check the image path",
    "unreadable_image": "each image must be an intact JPEG or PNG; re-download or re-export the damaged files",
}

PROGRESS_MIN_IMAGES = 1000  # below this the image check takes well under a second: no progress bar

# Byte-order marks, longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
BOM_ENCODINGS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Without a mark: strict UTF-8 first; Excel on Windows writes cp1252; Latin-1 decodes any byte.
FALLBACK_ENCODINGS = ("utf-8", "cp1252", "latin-1")
DELIMITERS = (",", ";", "\t", "|")
EXCEL_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
DECIMAL_COMMA = re.compile(r"^([+-]?\d*),(\d+(?:[eE][+-]?\d+)?)$")
WHOLE_NUMBER = re.compile(r"^\+?(\d{1,18})(?:\.0*)?$")  # 18 digits always fit an int64
CANONICAL_NAMES = {name.lower(): name for name in (ID_COLUMN, *VOTE_COLUMNS)}


@dataclass
class CleanResult:
    labels: pd.DataFrame
    report: dict
    warnings: list[str] = field(default_factory=list)
    unreadable_images: list[str] = field(default_factory=list)  # one line per dropped image, naming the file


# ---------------------------------------------------------------------------------------------- reading


def read_table(path: Path) -> pd.DataFrame:
    """Every row of the solutions CSV at ``path`` as strings (NaN where empty), columns named as read.

    Handles UTF-8 (with or without BOM), UTF-16/32 with BOM, cp1252/Latin-1; comma, semicolon, tab or pipe
    delimiters (sniffed from the header, or an Excel ``sep=`` line); quoted cells. Values are left as text:
    ``clean_labels`` parses them, so that a bad cell costs its row and not the file.
    ``attrs`` carries ``source``, ``encoding`` and ``delimiter`` for messages.
    """
    path = Path(path)
    data = _read_bytes(path)
    encoding = _detect_encoding(data)
    text = _decode(data, encoding, path)
    delimiter, text = _split_delimiter(text)
    table = _parse(text, delimiter, path)
    table.attrs.update(source=str(path), encoding=encoding, delimiter=delimiter)
    return table


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise GzmorphError(f"{path}: label table not found; put Kaggle's training_solutions_rev1.csv "
                           "there or set data.raw_dir / data.solutions in params.yaml")
    data = path.read_bytes()
    if not data.strip():
        raise GzmorphError(f"{path}: the label table is empty; use a CSV with a GalaxyID,Class1.1,... header "
                           "and one row per galaxy")
    return data


def _detect_encoding(data: bytes) -> str:
    for bom, encoding in BOM_ENCODINGS:
        if data.startswith(bom):
            return encoding
    zeros = data.count(0)
    if zeros and zeros >= len(data) // 4:
        # UTF-16 without a mark: ASCII text puts a zero byte after (LE) or before (BE) each character.
        return "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be"
    for encoding in FALLBACK_ENCODINGS:
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")


def _decode(data: bytes, encoding: str, path: Path) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise GzmorphError(f"{path}: not valid {encoding} text ({error.reason} at byte {error.start}); "
                           "re-save the table as UTF-8 CSV") from None
    # A NUL is never meaningful in a CSV, and pandas' tokenizer treats it inconsistently.
    return text.replace("\x00", "")


def _split_delimiter(text: str) -> tuple[str, str]:
    """The delimiter and the text without Excel's ``sep=`` line, if it had one."""
    lines = text.lstrip("\ufeff\r\n\t ").splitlines()
    header = lines[0] if lines else ""
    excel_hint = EXCEL_SEP_LINE.match(header)
    if excel_hint:
        return excel_hint.group(1), "\n".join(lines[1:])
    return _sniff_delimiter(header), text


def _sniff_delimiter(header: str) -> str:
    """The standard library's guess from the header alone: a header holds names, never decimal commas."""
    try:
        return csv.Sniffer().sniff(header, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:  # a single column
        return ","


def _parse(text: str, delimiter: str, path: Path) -> pd.DataFrame:
    try:
        # header=None: take the header row as data so that repeated names are not silently renamed.
        cells = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str, skipinitialspace=True,
                            engine="c")
    except pd.errors.EmptyDataError:
        raise GzmorphError(f"{path}: the label table is empty; use a CSV with a GalaxyID,Class1.1,... header "
                           "and one row per galaxy") from None
    except (pd.errors.ParserError, csv.Error, ValueError) as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise GzmorphError(f"{path}: cannot be read as a {_delimiter_name(delimiter)}-separated table "
                           f"({reason}); check the quoting and the number of cells on that line") from None
    columns = _column_names(cells.iloc[0].tolist(), path)
    table = cells.iloc[1:].reset_index(drop=True)
    table.columns = columns
    if len(table) == 0:
        raise GzmorphError(f"{path}: the label table has a header but no rows; add one row per galaxy")
    return table


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


def _column_names(header: list, path: Path) -> list[str]:
    """Header cells with stray spaces, quotes and case fixed for the names gzmorph knows."""
    names = [_canonical_name(cell, position) for position, cell in enumerate(header)]
    known = [name for name in names if name in CANONICAL_NAMES.values()]
    repeated = sorted({name for name in known if known.count(name) > 1})
    if repeated:
        raise GzmorphError(f"{path}: column {', '.join(repeated)} appears more than once; keep one")
    if ID_COLUMN not in names:
        seen = ", ".join(name[:20] for name in names[:4])
        raise GzmorphError(f"{path}: no {ID_COLUMN} column (the header starts {seen}); the first line must be "
                           f"the header {ID_COLUMN},Class1.1,Class1.2,...")
    # Unknown names stay as read but must be unique to be columns; their content is ignored anyway.
    return [name if name in CANONICAL_NAMES.values() or names.count(name) == 1 else f"{name} (column {i + 1})"
            for i, name in enumerate(names)]


def _canonical_name(cell, position: int) -> str:
    if not isinstance(cell, str) or not cell.strip():
        return f"column {position + 1}"
    name = cell.strip().strip("\ufeff\"'").strip()
    return CANONICAL_NAMES.get(name.lower(), name)


# --------------------------------------------------------------------------------------------- cleaning


def clean_labels(table: pd.DataFrame, image_dir: Path, rule: Rule, sum_tolerance: float) -> CleanResult:
    """The usable rows of ``table`` with their class, confidence and image, and the report of the rest.

    ``confidence`` is the fraction of all volunteers whose answers lead to the row's class: the Kaggle
    column at the end of the class's path down the tree (elliptical Class1.1, edge-on Class2.1, spiral
    Class4.1 or, without question 4, Class2.2, merger Class8.6); for ``ambiguous``, one minus the largest
    of those, i.e. how far the best candidate class was from a unanimous vote.
    """
    source = table.attrs.get("source", "the label table")
    warnings = _check_columns(table.columns, source)
    vote_columns = [c for c in VOTE_COLUMNS if c in table.columns]
    images = _scan_images(Path(image_dir))

    ids = _parse_ids(table[ID_COLUMN])
    raw_votes = table[vote_columns]
    votes = _parse_values(raw_votes)
    reasons = pd.Series("", index=table.index, dtype=object)
    _mark(reasons, ids.isna(), "invalid_id")
    conflict, merged = _duplicates(ids, votes, reasons == "")
    _mark(reasons, conflict, "duplicate_conflict")
    _mark(reasons, merged, "duplicate_merged")
    _mark(reasons, _blank_cells(raw_votes).any(axis=1), "missing_value")
    _mark(reasons, votes.isna().any(axis=1), "non_numeric_value")
    _mark(reasons, ((votes < 0) | (votes > 1)).any(axis=1), "out_of_range_value")
    _mark(reasons, _tree_sum_off(votes, reasons == "", sum_tolerance), "tree_sum_off")
    image_names = ids.map(lambda galaxy: images.by_id.get(str(galaxy)) if pd.notna(galaxy) else None)
    _mark(reasons, image_names.isna(), "missing_image")
    # Last, because decoding is the one costly test: only images of otherwise usable rows are opened.
    image_problems = _image_problems(Path(image_dir), image_names[reasons == ""])
    _mark(reasons, image_problems.reindex(reasons.index).notna(), "unreadable_image")

    kept = reasons == ""
    if not kept.any():
        raise GzmorphError(_no_rows_message(reasons, source))
    labels = _label_table(ids[kept], votes[kept], image_names[kept], rule)
    known_ids = {str(galaxy) for galaxy in ids.dropna()}
    report = _report(reasons, labels, images, known_ids, sum_tolerance)
    return CleanResult(labels=labels, report=report, warnings=warnings,
                       unreadable_images=sorted(image_problems.dropna()))


def _check_columns(columns, source: str) -> list[str]:
    """Errors for columns the rule cannot do without; warnings for what is absent or ignored."""
    have = set(columns)
    partial = [q for q in QUESTIONS if have & set(q.columns) and not set(q.columns) <= have]
    if partial:
        lacking = [c for q in partial for c in q.columns if c not in have]
        raise GzmorphError(f"{source}: question(s) {', '.join(str(q.number) for q in partial)} are incomplete, "
                           f"column(s) {', '.join(lacking)} missing; add them or remove the whole question")
    try:
        skipped = missing_rule_questions(columns)
    except GzmorphError as error:
        raise GzmorphError(f"{source}: {error}; add them (Kaggle's training_solutions_rev1.csv has them)") from None
    warnings = []
    absent = [q for q in QUESTIONS if q not in present_questions(columns)]
    if absent:
        listed = ", ".join(f"Q{q.number} ({q.topic})" for q in absent)
        effect = ("; the rule skips " + ", ".join(f"the {what} (Q{n})" for n, what in skipped.items())
                  if skipped else "; the class rule does not need them")
        warnings.append(f"{source}: questions absent from the table: {listed}{effect}")
    extra = [c for c in columns if c != ID_COLUMN and c not in VOTE_COLUMNS]
    if extra:
        shown = ", ".join(map(str, extra[:5])) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        warnings.append(f"{source}: ignored {len(extra)} column(s) that are not GZ2 votes: {shown}")
    return warnings


def _parse_ids(raw: pd.Series) -> pd.Series:
    """GalaxyID as nullable int64; NA where it is not a whole number ("100008.0" from Excel is one)."""
    return pd.Series([_whole_number(cell) for cell in raw.astype(object)], index=raw.index, dtype="Int64")


def _whole_number(cell) -> int | None:
    if pd.isna(cell):
        return None
    match = WHOLE_NUMBER.match(str(cell).strip())
    return int(match.group(1)) if match else None


def _blank_cells(raw: pd.DataFrame) -> pd.DataFrame:
    """True where a cell is NA or only spaces (pandas reads "", "NA", "n/a", "null" ... as NA)."""
    return raw.apply(lambda column: column.astype("string").str.strip().eq("").fillna(True))


def _parse_values(raw: pd.DataFrame) -> pd.DataFrame:
    """Vote cells as float64, NaN where empty or not a number; decimal commas ("0,383") are read as points."""
    return raw.apply(_parse_column).astype("float64")


def _parse_column(column: pd.Series) -> pd.Series:
    text = column.astype("string").str.strip()
    commas = text.str.contains(",", regex=False).fillna(False)
    if commas.any():  # the regex is slow; most tables have no comma in a cell
        text[commas] = text[commas].str.replace(DECIMAL_COMMA, r"\1.\2", regex=True)
    numbers = pd.to_numeric(text, errors="coerce")
    return pd.Series(numbers.to_numpy(dtype="float64", na_value=np.nan), index=column.index)


def _mark(reasons: pd.Series, drop: pd.Series, reason: str) -> None:
    """Give ``reason`` to the rows in ``drop`` that no earlier test dropped."""
    reasons[(reasons == "") & drop.to_numpy(dtype=bool)] = reason


def _duplicates(ids: pd.Series, votes: pd.DataFrame, candidates: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Rows of GalaxyIDs listed with different votes (all of them), and surplus copies of identical rows.

    Rows compare by their parsed votes (NaN equal to NaN), so "0.5", "0,5" and "0.50" are one value.
    """
    repeated = candidates & ids.duplicated(keep=False) & ids.notna()
    rows = votes[repeated].assign(**{ID_COLUMN: ids[repeated]})
    variants = rows.drop_duplicates().groupby(ID_COLUMN).size()
    conflicting_ids = set(variants[variants > 1].index)
    conflict = repeated & ids.isin(conflicting_ids).fillna(False)
    merged = repeated & ~conflict & ids.duplicated(keep="first")
    return conflict, merged


def _tree_sum_off(votes: pd.DataFrame, candidates: pd.Series, sum_tolerance: float) -> pd.Series:
    errors = sum_errors(votes[candidates])
    off = errors.gt(sum_tolerance).any(axis=1) if len(errors.columns) else pd.Series(False, index=errors.index)
    return off.reindex(votes.index, fill_value=False)


def _no_rows_message(reasons: pd.Series, source: str) -> str:
    counts = reasons.value_counts()
    top = ", ".join(f"{count} {reason}" for reason, count in counts.head(3).items())
    return (f"{source}: no usable row among {len(reasons)} ({top}); "
            f"{DROP_HINTS[counts.index[0]]}")


# ------------------------------------------------------------------------------------------------ images


@dataclass
class ImageFolder:
    by_id: dict[str, str]       # file stem -> file name, for non-empty images
    empty_images: int           # zero-byte image files (their galaxies count as missing an image)
    non_image_files: int        # files of other types, reported but ignored


def _scan_images(image_dir: Path) -> ImageFolder:
    if not image_dir.is_dir():
        raise GzmorphError(f"{image_dir}: image folder not found; unpack Kaggle's images_training_rev1 "
                           "(<GalaxyID>.jpg files) there or set data.images in params.yaml")
    by_id: dict[str, str] = {}
    empty_images = non_image_files = 0
    with os.scandir(image_dir) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if not entry.is_file():
                continue
            stem, suffix = os.path.splitext(entry.name)
            if suffix.lower() not in IMAGE_SUFFIXES:
                non_image_files += 1
            elif entry.stat().st_size == 0:
                empty_images += 1
            elif _preferred(suffix, by_id.get(stem)):
                by_id[stem] = entry.name
    return ImageFolder(by_id, empty_images, non_image_files)


def _preferred(suffix: str, current: str | None) -> bool:
    if current is None:
        return True
    rank = IMAGE_SUFFIXES.index
    return rank(suffix.lower()) < rank(os.path.splitext(current)[1].lower())


def _image_problems(image_dir: Path, image_names: pd.Series) -> pd.Series:
    """Why each named image cannot be decoded, or None where it can; indexed like ``image_names``.

    Without this the split stage would be the first to open the files and a bad one would vanish from
    the data report. In this process, not a pool: starting one cost more than it saved (docs/results.md,
    "Data preparation").
    """
    names = image_names.tolist()
    progress = tqdm(names, desc="checking images", unit="img", disable=len(names) < PROGRESS_MIN_IMAGES)
    return pd.Series([unreadable_reason(image_dir / name) for name in progress], index=image_names.index,
                     dtype=object)


# ------------------------------------------------------------------------------------- labels and report


# The column at the end of each class's path down the tree, in preference order where it may be absent.
CLASS_PATHS: dict[str, tuple[str, ...]] = {
    "elliptical": ("Class1.1",),
    "edge-on": ("Class2.1",),
    "spiral": ("Class4.1", "Class2.2"),
    "merger": ("Class8.6",),
}


def _label_table(ids: pd.Series, votes: pd.DataFrame, image_names: pd.Series, rule: Rule) -> pd.DataFrame:
    class_index = classify(votes, rule)
    labels = pd.DataFrame({ID_COLUMN: ids.astype("int64")}, index=votes.index)
    labels[votes.columns] = votes.astype("float64")
    labels["class"] = pd.Series(np.asarray(CLASSES, dtype=object)[class_index], index=votes.index, dtype=object)
    labels["confidence"] = _confidence(votes, class_index)
    labels["image"] = image_names.astype(object)
    return labels.sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)


def _confidence(votes: pd.DataFrame, class_index: np.ndarray) -> np.ndarray:
    """See ``clean_labels``: the share of volunteers on the class's path; 1 - the best share if ambiguous."""
    paths = {name: votes[present[0]].to_numpy(float) for name, columns in CLASS_PATHS.items()
             if (present := [c for c in columns if c in votes.columns])}
    best_share = np.max(np.column_stack(list(paths.values())), axis=1)
    confidence = 1.0 - best_share
    for name, share in paths.items():
        confidence = np.where(class_index == CLASSES.index(name), share, confidence)
    return confidence.astype("float64")


def _report(reasons: pd.Series, labels: pd.DataFrame, images: ImageFolder, known_ids: set[str],
            sum_tolerance: float) -> dict:
    """Flat, numeric counts for metrics/data_report.json (see the module docstring for the accounting)."""
    counts = reasons.value_counts()
    report = {
        "rows_read": int(len(reasons)),
        "rows_kept": int(len(labels)),
        "rows_dropped": int((reasons != "").sum()),
    }
    report |= {f"dropped_{reason}": int(counts.get(reason, 0)) for reason in DROP_REASONS}
    report |= {
        "images_without_row": sum(1 for stem in images.by_id if stem not in known_ids),
        "empty_image_files": images.empty_images,
        "non_image_files": images.non_image_files,
    }
    class_counts = labels["class"].value_counts()
    report |= {f"class_{name}_count": int(class_counts.get(name, 0)) for name in CLASSES}
    report |= {
        "questions_present": len(present_questions(labels.columns)),
        "sum_tolerance": float(sum_tolerance),
    }
    assert report["rows_read"] == report["rows_kept"] + report["rows_dropped"]
    assert report["rows_dropped"] == sum(report[f"dropped_{reason}"] for reason in DROP_REASONS)
    return report


def report_lines(result: CleanResult) -> list[str]:
    """What a run prints: the warnings, each unreadable image by name, then the summary."""
    return ([f"warning: {w}" for w in result.warnings] + [f"dropped: {p}" for p in result.unreadable_images]
            + summary_lines(result.report))


def summary_lines(report: dict) -> list[str]:
    """A few lines for the stage to print: what was kept, why the rest went, the class balance."""
    lines = [f"labels: read {report['rows_read']} rows, kept {report['rows_kept']}, "
             f"dropped {report['rows_dropped']}"]
    drops = [f"{report[f'dropped_{reason}']} {reason.replace('_', ' ')}"
             for reason in DROP_REASONS if report.get(f"dropped_{reason}")]
    if drops:
        lines.append("dropped: " + ", ".join(drops))
    lines.append("classes: " + ", ".join(f"{name} {report[f'class_{name}_count']}" for name in CLASSES))
    strays = [f"{report[key]} {what}" for key, what in (("images_without_row", "images without a row"),
                                                        ("empty_image_files", "empty image files"),
                                                        ("non_image_files", "non-image files"))
              if report.get(key)]
    if strays:
        lines.append("image folder: " + ", ".join(strays) + " (ignored)")
    return lines
