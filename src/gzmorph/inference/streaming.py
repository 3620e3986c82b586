"""A prediction run for a survey: its rows reach the output batch by batch (gzmorph.inference.output), a run
stopped part-way keeps what it finished, and the same run started again skips the inputs already answered,
so a million cut-outs survive a cluster's wall-time limit. Memory stays flat: nothing is held beyond a batch.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from gzmorph.data.fits import SDSS_STRETCH, LuptonStretch
from gzmorph.data.inputs import Inputs
from gzmorph.errors import GzmorphError
from gzmorph.inference.output import Output, open_output, written_to
from gzmorph.inference.predict import answered_batches, progress_bar
from gzmorph.inference.table import unfamiliar_count, unfamiliar_warning
from gzmorph.models.loaded import Models
from gzmorph.params import Params

ANSWER_SECTIONS = {"image", "clean_labels", "build_captions", "inference"}  # what the rows' values depend on


class Stopped(Exception):
    """The run was asked to stop (SIGTERM, Ctrl-C); every row it finished is in the output."""

    def __init__(self, rows: int):
        super().__init__(f"stopped with {rows} rows in the output")
        self.rows = rows


@dataclass(frozen=True)
class Outcome:
    rows: int  # rows in the output now
    earlier: int  # of which an earlier run had written
    skipped: list[str]  # one line per input that could not be read, this run
    warning: str | None  # most images unlike the training galaxies


def run_record(models: Models, settings: Params, embeddings: bool, lupton: LuptonStretch = SDSS_STRETCH) -> dict:
    """What made an output's rows: a continued run must match it, or its rows would be mixed with others. The
    models' provenance at the top, the rest grouped, so that an output that shows one (JSON) shows that."""
    answers = {"captions": models.captioner is not None, "embeddings": embeddings, "lupton": asdict(lupton),
               **settings.model_dump(mode="json", include=ANSWER_SECTIONS)}
    return {**models.provenance, "vote_columns": models.vote_columns, "answers": answers}


def append_or_say_why(out: Output, rows) -> None:
    """A disk that is full or gone ends the run in one line: what is safe, and that the same command continues."""
    try:
        out.append(rows)
    except OSError as error:
        raise GzmorphError(f"{out.path}: cannot write ({error.strerror or error}); {out.rows} row(s) are safe in "
                           f"{written_to(out.path)}: make room, then run the same command again to continue") from None


def predict_into(output: Path, inputs: Inputs, models: Models, settings: Params, batch_size: int,
                 embeddings: bool = False, lupton: LuptonStretch = SDSS_STRETCH, gradcam_dir: Path | None = None,
                 stop: Callable[[], bool] = lambda: False) -> Outcome:
    """Predict ``inputs`` into ``output`` (.csv, .json or .parquet), continuing an earlier run of the same
    models and settings there. ``stop`` is asked after each batch: when it says so, the run ends with
    ``Stopped`` and the output holds every finished row."""
    run = run_record(models, settings, embeddings, lupton)
    with open_output(output, run, inputs.key_column) as out:
        earlier, todo = out.rows, inputs.without(out.done)
        skipped, unfamiliar, answered = [], 0, 0
        with progress_bar(len(inputs), len(inputs) - len(todo)) as progress:
            for batch in answered_batches(todo, models, settings, batch_size, embeddings, lupton, gradcam_dir):
                for problem in batch.problems:
                    progress.write(f"skipped: {problem}", file=sys.stderr)
                if len(batch.rows):
                    append_or_say_why(out, batch.rows)
                skipped += batch.problems
                unfamiliar += unfamiliar_count(batch.rows)
                answered += len(batch.rows)
                progress.update(len(batch.rows) + len(batch.problems))
                if stop():
                    raise Stopped(out.rows)
        if not out.rows and len(inputs):
            raise GzmorphError(f"none of the {len(inputs)} file(s) could be read as an image; see the lines above")
        return Outcome(out.rows, earlier, skipped, unfamiliar_warning(unfamiliar, answered))
