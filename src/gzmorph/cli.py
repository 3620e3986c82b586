"""The ``gzmorph`` command: use the trained models on your own images, or score them on a labelled folder.

    gzmorph predict PATH... --output predictions.csv [--tta] [--gradcam DIR] [--crop PX]
    gzmorph predict --catalogue survey.parquet --output predictions.parquet [--shard K/N]
    gzmorph evaluate --data FOLDER [--output metrics.json]
    gzmorph card [--models DIR]

It runs from any directory. The models come from the released model (trained on real GZ2 galaxies, shipped
with the package) unless --models names another folder, such as a clone's models/ (the pipeline's); the
settings (class rule, caption templates, beam search, TTA for evaluate) come from that folder, unless
--params names a params file.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
from pathlib import Path

from gzmorph.data.decoding import BATCH_SIZE
from gzmorph.data.fits import SDSS_STRETCH, LuptonStretch
from gzmorph.data.inputs import FILE_KEY
from gzmorph.errors import GzmorphError, cli

EXIT_STOPPED = {signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGINT: 128 + signal.SIGINT}  # the shell's convention


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="gzmorph", description=__doc__.splitlines()[0])
    commands = main.add_subparsers(dest="command", required=True)

    predict = commands.add_parser(
        "predict", help="classify and caption image files",
        description="Class, class probabilities, vote fractions and caption per image. Rows reach the output as "
                    "each batch is answered; stopped (SIGTERM, Ctrl-C), the same command continues where it was.")
    predict.add_argument("paths", nargs="*", metavar="PATH", help="JPEG, PNG or FITS files, folders of them, or globs")
    predict.add_argument("--catalogue", type=Path, metavar="TABLE",
                         help="a .csv or .parquet table of cut-outs instead of PATHs: its --path-column names each "
                              "file (relative to the table's folder), its other columns are carried to the output")
    predict.add_argument("--path-column", default=FILE_KEY, metavar="NAME",
                         help=f"the catalogue's column of cut-out paths (default {FILE_KEY})")
    predict.add_argument("--shard", metavar="K/N",
                         help="predict the K-th of N shares of the inputs (every N-th from the K-th), one per job "
                              "of a cluster's array; the N outputs together hold one run's rows")
    predict.add_argument("--output", "-o", type=Path, required=True, help="results, .csv, .json or .parquet")
    predict.add_argument("--float32", dest="precision", action="store_const", const="float32", default="auto",
                         help="predict in float32 even where the CPU computes bfloat16 natively (then the default, "
                              "faster; classes agree on >= 99 %% of galaxies)")
    predict.add_argument("--gradcam", type=Path, metavar="DIR", help="also write a Grad-CAM PNG per image here")
    predict.add_argument("--tta", action="store_true",
                         help="average over the 8 rotations and flips, as the evaluate stage does (8x slower)")
    predict.add_argument("--no-captions", dest="captions", action="store_false",
                         help="classify only (faster; no captioner needed)")
    predict.add_argument("--embeddings", action="store_true",
                         help="also write each image's pooled encoder features (embedding_0 ...)")
    predict.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"images per batch (default {BATCH_SIZE})")
    predict.add_argument("--crop", type=int, metavar="PX",
                         help="classify the centre PX pixels of a 424 px frame (the same fraction of any other "
                              "size) instead of the crop the models learnt from (a GZ2 framing: see the README)")
    predict.add_argument("--lupton-stretch", type=float, default=SDSS_STRETCH.stretch, metavar="FLUX",
                         help="FITS cut-outs: the linear range of the asinh stretch, in the file's flux units "
                              f"(default {SDSS_STRETCH.stretch}, for SDSS nanomaggies)")
    predict.add_argument("--lupton-q", type=float, default=SDSS_STRETCH.Q, metavar="Q",
                         help=f"FITS cut-outs: the asinh softening (default {SDSS_STRETCH.Q})")
    predict.add_argument("--lupton-minimum", type=float, default=SDSS_STRETCH.minimum, metavar="FLUX",
                         help=f"FITS cut-outs: the flux shown black (default {SDSS_STRETCH.minimum})")
    predict.set_defaults(run=run_predict)

    evaluate = commands.add_parser("evaluate", help="score the models on a labelled folder",
                                   description="The evaluate stage's metrics on a folder in Kaggle's layout.")
    evaluate.add_argument("--data", type=Path, required=True, metavar="DIR",
                          help="folder holding images_training_rev1/ and training_solutions_rev1.csv")
    evaluate.add_argument("--output", "-o", type=Path, help="also write the metrics to this JSON file")
    evaluate.set_defaults(run=run_evaluate)

    card = commands.add_parser("card", help="print a models folder's model card (Markdown)",
                               description="The model card the library makes from a models folder's files.")
    card.add_argument("--models", type=Path, metavar="DIR", help="default: the released model")
    card.set_defaults(run=run_card)
    search_parsers(commands)

    for command in (predict, evaluate):
        command.add_argument("--models", type=Path, metavar="DIR",
                             help="folder holding classifier/ and captioner/, such as a clone's models/ (the "
                                  "pipeline's); default: the released model, trained on real GZ2")
        command.add_argument("--params", type=Path, metavar="FILE",
                             help="take the class rule, caption and inference settings from this params file "
                                  "instead of the models folder")
    return main


@cli
def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    args.argv = argv  # the command again, for the line that says how to continue it
    args.run(args)


def run_predict(args: argparse.Namespace) -> None:
    # Cheap checks first, before TensorFlow loads (seconds): these modules do not import it.
    from gzmorph.data.decoding import check_batch_size, check_geometry
    from gzmorph.inference.table import check_output
    from gzmorph.params import load_params

    output = check_output(args.output)
    check_batch_size(args.batch_size)
    if args.crop is not None:
        check_geometry(args.crop, 1)
    inputs = predict_inputs(args)
    override = load_params(args.params) if args.params else None

    lupton = LuptonStretch(args.lupton_minimum, args.lupton_stretch, args.lupton_q)
    from gzmorph.inference.streaming import Stopped  # TensorFlow loads here

    predictor = loaded(args.models, override, args.captions, args.crop, lupton, args.precision)
    stop = StopRequest()
    try:
        outcome = predictor.predict_into(output, inputs, args.tta, args.embeddings, args.batch_size, args.gradcam,
                                         stop)
    except Stopped as stopped:
        from gzmorph.inference.output import written_to

        say(f"stopped by {stop.signal.name}: {stopped.rows} row(s) are safe in {written_to(output)}; continue "
            f"with: cd {shlex.quote(os.getcwd())} && gzmorph {shlex.join(args.argv)}")
        sys.exit(EXIT_STOPPED[stop.signal])
    new = outcome.rows - outcome.earlier
    say(f"predicted {new} image(s)" + (f", skipped {len(outcome.skipped)} unreadable" if outcome.skipped else "")
        + (f"; {outcome.earlier} were there from an earlier run" if outcome.earlier else "")
        + f" -> {output} ({outcome.rows} rows)")


def predict_inputs(args: argparse.Namespace):
    """The files or catalogue rows to predict, this job's shard of them."""
    from gzmorph.data.files import find_images
    from gzmorph.data.inputs import catalogue_inputs, file_inputs, parse_shard

    if bool(args.catalogue) == bool(args.paths):
        raise GzmorphError("predict: give image PATHs or --catalogue TABLE, one of the two")
    inputs = catalogue_inputs(args.catalogue, args.path_column) if args.catalogue else file_inputs(
        find_images(args.paths))
    return inputs.shard(*parse_shard(args.shard)) if args.shard else inputs


class StopRequest:
    """SIGTERM (a cluster's wall-time limit) or Ctrl-C asks the run to stop after the batch it is on, so its
    rows reach the output whole; a second signal stops at once."""

    def __init__(self):
        self.signal: signal.Signals | None = None
        for kind in EXIT_STOPPED:
            signal.signal(kind, self.requested)

    def requested(self, number: int, frame) -> None:
        self.signal = signal.Signals(number)
        for kind in EXIT_STOPPED:
            signal.signal(kind, signal.SIG_DFL)

    def __call__(self) -> bool:
        return self.signal is not None


def run_evaluate(args: argparse.Namespace) -> None:
    from gzmorph.data.files import kaggle_layout
    from gzmorph.params import Params, load_params

    override = load_params(args.params) if args.params else None
    layout = (override or Params()).data
    kaggle_layout(args.data, layout.images, layout.solutions)  # a wrong folder is named before TensorFlow loads

    from gzmorph.inference.evaluation import evaluate_folder
    from gzmorph.io import write_json

    predictor = loaded(args.models, override)
    metrics = {**predictor.models.provenance, **evaluate_folder(args.data, predictor.models, predictor.settings,
                                                                report=say)}
    if args.output:
        write_json(args.output, metrics)
    print(json.dumps(metrics, indent=2))


def run_card(args: argparse.Namespace) -> None:
    from gzmorph.models.card import model_card
    from gzmorph.models.folder import ModelsFolder

    print(model_card(ModelsFolder.named(args.models)), end="")


def loaded(models: Path | None, override, captions: bool = True, crop: int | None = None,
           lupton: LuptonStretch = SDSS_STRETCH, precision: str = "float32"):
    """The API's predictor (TensorFlow loads here), with lines naming the models and where the settings
    come from."""
    from gzmorph.api import load

    predictor = load(models, captions, override, report=say, crop=crop, lupton=lupton, precision=precision)
    if override:
        say("settings: from --params, not the models folder's own")
    return predictor


def say(line: str) -> None:
    print(line, file=sys.stderr)


def search_parsers(commands) -> None:
    """gzmorph similar, find and unusual: searches of a predictions table written with --embeddings."""
    from gzmorph.search.fewshot import DEFAULT_TOP
    from gzmorph.search.index import SUFFIX
    from gzmorph.search.similar import DEFAULT_K

    similar = commands.add_parser("similar", help="the galaxies of a predictions table most like a query",
                                  description="The k nearest galaxies by cosine similarity of the embeddings.")
    similar.add_argument("queries", nargs="+", metavar="QUERY",
                         help="a row of the table (its file, file name or ID) or an image file")
    similar.add_argument("-k", type=int, default=DEFAULT_K, help=f"neighbours per query (default {DEFAULT_K})")
    similar.set_defaults(run=run_similar)

    find = commands.add_parser("find", help="the galaxies of a predictions table most like a few examples",
                               description="A logistic regression on the embeddings: the examples against random "
                                           "galaxies of the table (and any counter-examples).")
    find.add_argument("--like", nargs="+", required=True, metavar="EXAMPLE",
                      help="example galaxies: rows of the table (file, file name or ID) or image files")
    find.add_argument("--unlike", nargs="+", default=[], metavar="EXAMPLE", help="counter-examples, likewise")
    find.set_defaults(run=run_find)

    unusual = commands.add_parser("unusual", help="the strangest galaxies of a predictions table",
                                  description="Ranked by the predicted share of volunteers who would call the "
                                              "galaxy odd (Class6.1), or by any column with --sort.")
    unusual.add_argument("--sort", metavar="COLUMN", help="rank by this column instead, largest first (p_merger ...)")
    unusual.set_defaults(run=run_unusual)

    for command in (find, unusual):
        command.add_argument("--top", type=int, default=DEFAULT_TOP, help=f"galaxies listed (default {DEFAULT_TOP})")
    for command in (similar, find, unusual):
        command.add_argument("--in", dest="catalogue", type=Path, required=True, metavar="PREDICTIONS",
                             help="a table of gzmorph predict --embeddings, .csv or .parquet")
        command.add_argument("--output", "-o", type=Path, help="write the results here, .csv or .parquet "
                                                                 "(default: print the main columns)")
        command.add_argument("--sheet", type=Path, metavar="PNG", help="also draw the results as a contact sheet")
    for command in (similar, find):
        command.add_argument("--rebuild", action="store_true",
                             help=f"build the table's index (PREDICTIONS{SUFFIX}) afresh, as after the table changed")
        command.add_argument("--models", type=Path, metavar="DIR",
                             help="the models that wrote the table, to embed a query image (default: the released "
                                  "model)")


def run_similar(args: argparse.Namespace) -> None:
    from gzmorph.search.similar import similar_to

    checked_outputs(args)
    show(similar_to(args.queries, args.catalogue, args.k, args.rebuild, embedder(args.models)), args)


def run_find(args: argparse.Namespace) -> None:
    from gzmorph.search.fewshot import find_like

    checked_outputs(args)
    show(find_like(args.like, args.catalogue, args.unlike, args.top, args.rebuild, embedder(args.models)), args)


def run_unusual(args: argparse.Namespace) -> None:
    from gzmorph.search.catalogue import Catalogue
    from gzmorph.search.ranking import ranked, unusual

    checked_outputs(args)
    catalogue = Catalogue.read(args.catalogue, embeddings=False)
    show(ranked(catalogue, args.sort, args.top) if args.sort else unusual(catalogue, args.top), args)


def checked_outputs(args: argparse.Namespace) -> None:
    from gzmorph.search.catalogue import check_results
    from gzmorph.search.sheet import check_sheet

    if args.output:
        check_results(args.output)
    if args.sheet:
        check_sheet(args.sheet)


def embedder(models: Path | None):
    """Embeds query images with the models, loaded (TensorFlow with them) on the first image query only."""
    predictors = []

    def embed(images):
        if not predictors:
            predictors.append(loaded(models, None))
        return predictors[0].predict(images, embeddings=True)

    return embed


def show(results, args: argparse.Namespace) -> None:
    """The results to --output, or their main columns printed; and the contact sheet."""
    from gzmorph.search.catalogue import write_results
    from gzmorph.search.sheet import contact_sheet, main_columns

    if args.output:
        write_results(results, args.output)
        say(f"{len(results)} row(s) -> {args.output}")
    else:
        print(results[main_columns(results)].to_string(index=False))
    if args.sheet:
        say(f"contact sheet -> {contact_sheet(results, args.sheet)}")
