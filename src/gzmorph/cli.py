"""The ``gzmorph`` command: use the trained models on your own images, or score them on a labelled folder.

    gzmorph predict PATH... --output predictions.csv [--tta] [--gradcam DIR]
    gzmorph evaluate --data FOLDER [--output metrics.json]

Run it from the repository root. The models come from models/released (trained on real GZ2 galaxies,
committed) unless --models names another folder, such as models/ (the pipeline's); the settings come from
params.yaml, the same as the evaluate stage's.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from gzmorph.errors import cli
from gzmorph.paths import PARAMS, RELEASED


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="gzmorph", description=__doc__.splitlines()[0])
    commands = main.add_subparsers(dest="command", required=True)

    predict = commands.add_parser("predict", help="classify and caption image files",
                                  description="Class, class probabilities, vote fractions and caption per image.")
    predict.add_argument("paths", nargs="+", metavar="PATH", help="JPEG or PNG files, folders of them, or globs")
    predict.add_argument("--output", "-o", type=Path, required=True, help="results, .csv or .json")
    predict.add_argument("--gradcam", type=Path, metavar="DIR", help="also write a Grad-CAM PNG per image here")
    predict.add_argument("--tta", action="store_true",
                         help="average over the 8 rotations and flips, as the evaluate stage does (8x slower)")
    predict.add_argument("--no-captions", dest="captions", action="store_false",
                         help="classify only (faster; no captioner needed)")
    predict.add_argument("--batch-size", type=int, default=512, help="images per batch (default 512)")
    predict.set_defaults(run=run_predict)

    evaluate = commands.add_parser("evaluate", help="score the models on a labelled folder",
                                   description="The evaluate stage's metrics on a folder in Kaggle's layout.")
    evaluate.add_argument("--data", type=Path, required=True, metavar="DIR",
                          help="folder holding images_training_rev1/ and training_solutions_rev1.csv")
    evaluate.add_argument("--output", "-o", type=Path, help="also write the metrics to this JSON file")
    evaluate.set_defaults(run=run_evaluate)

    for command in (predict, evaluate):
        command.add_argument("--models", type=Path, default=RELEASED, metavar="DIR",
                             help=f"folder holding classifier/ and captioner/ (default: {RELEASED}, trained on "
                                  "real GZ2; models for the pipeline's own)")
        command.add_argument("--params", type=Path, default=PARAMS, metavar="FILE",
                             help="tta, beam search, label rule and caption settings (default: params.yaml)")
    return main


@cli
def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


def run_predict(args: argparse.Namespace) -> None:
    # Cheap checks first, before TensorFlow loads (seconds): these modules do not import it.
    from gzmorph.data.files import find_images
    from gzmorph.inference.output import check_output, write_predictions

    output = check_output(args.output)
    paths = find_images(args.paths)

    import gzmorph.quiet_tensorflow  # noqa: F401  (before the modules that load TensorFlow: no start-up lines)
    from gzmorph.inference.predict import load_models, predict_files
    from gzmorph.params import load_params
    from gzmorph.threads import pin_threads

    params = load_params(args.params)
    pin_threads(params.threads)  # the evaluate stage's arithmetic, so the same image gets the same answer
    inference = replace(params.inference, tta=args.tta)
    models = load_models(args.models, captions=args.captions)
    say_which(models)
    rows, problems = predict_files(paths, models, inference, params.clean_labels.rule, args.batch_size, args.gradcam)
    write_predictions(rows, output, models.vote_columns, models.provenance)
    skipped = f", skipped {len(problems)} unreadable" if problems else ""
    print(f"predicted {len(rows)} image(s){skipped} -> {output}", file=sys.stderr)


def run_evaluate(args: argparse.Namespace) -> None:
    import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
    from gzmorph.inference.evaluation import evaluate_folder, folder_layout
    from gzmorph.inference.predict import load_models
    from gzmorph.io import write_json
    from gzmorph.params import load_params
    from gzmorph.threads import pin_threads

    params = load_params(args.params)
    pin_threads(params.threads)  # the evaluate stage's arithmetic: the same metrics on the same split
    folder_layout(args.data, params)  # a wrong folder is found before the models take seconds to load
    models = load_models(args.models)
    say_which(models)
    metrics = {**models.provenance, **evaluate_folder(args.data, models, params,
                                                      report=lambda line: print(line, file=sys.stderr))}
    if args.output:
        write_json(args.output, metrics)
    print(json.dumps(metrics, indent=2))


def say_which(models) -> None:
    """One line naming the models and what they learnt from; one more, a warning, when that was the sample."""
    about = models.provenance
    print(f"models: {about['models']} (trained on {about['trained_on']})", file=sys.stderr)
    if about["warning"]:
        print(f"warning: {about['warning']}", file=sys.stderr)
