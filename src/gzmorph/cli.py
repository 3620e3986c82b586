"""The ``gzmorph`` command: use the trained models on your own images, or score them on a labelled folder.

    gzmorph predict PATH... --output predictions.csv [--tta] [--gradcam DIR]
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
import sys
from dataclasses import replace
from pathlib import Path

from gzmorph.errors import cli


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
    predict.add_argument("--embeddings", action="store_true",
                         help="also write each image's pooled encoder features (embedding_0 ...)")
    predict.add_argument("--batch-size", type=int, default=512, help="images per batch (default 512)")
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
    args = parser().parse_args(argv)
    args.run(args)


def run_predict(args: argparse.Namespace) -> None:
    # Cheap checks first, before TensorFlow loads (seconds): these modules do not import it.
    from gzmorph.data.files import check_batch_size, find_images
    from gzmorph.inference.output import check_output

    output = check_output(args.output)
    check_batch_size(args.batch_size)
    paths = find_images(args.paths)
    override = overriding_params(args.params)

    models = loaded_models(args.models, override, captions=args.captions)
    from gzmorph.inference.output import write_predictions
    from gzmorph.inference.predict import predict_files

    settings = override or models.settings()
    settings = settings.model_copy(update={"inference": replace(settings.inference, tta=args.tta)})
    rows, problems = predict_files(paths, models, settings, args.batch_size, args.gradcam, args.embeddings)
    write_predictions(rows, output, models.vote_columns, models.provenance)
    skipped = f", skipped {len(problems)} unreadable" if problems else ""
    print(f"predicted {len(rows)} image(s){skipped} -> {output}", file=sys.stderr)


def run_evaluate(args: argparse.Namespace) -> None:
    from gzmorph.data.files import kaggle_layout
    from gzmorph.params import Params

    override = overriding_params(args.params)
    layout = (override or Params()).data
    kaggle_layout(args.data, layout.images, layout.solutions)  # a wrong folder is named before TensorFlow loads

    models = loaded_models(args.models, override)
    from gzmorph.inference.evaluation import evaluate_folder
    from gzmorph.io import write_json

    metrics = {**models.provenance, **evaluate_folder(args.data, models, override or models.settings(),
                                                      report=lambda line: print(line, file=sys.stderr))}
    if args.output:
        write_json(args.output, metrics)
    print(json.dumps(metrics, indent=2))


def run_card(args: argparse.Namespace) -> None:
    from gzmorph.models.card import model_card
    from gzmorph.models.folder import ModelsFolder

    print(model_card(ModelsFolder.named(args.models)), end="")


def overriding_params(path: Path | None):
    """The params file a user named, read and checked before TensorFlow loads; None: the folder's settings."""
    if path is None:
        return None
    from gzmorph.params import load_params

    return load_params(path)


def loaded_models(folder: Path | None, override, captions: bool = True):
    """TensorFlow on the evaluate stage's threads, then the models, with a line naming them, what they learnt
    from and where the settings come from; one more, a warning, when they learnt from the sample."""
    import gzmorph.quiet_tensorflow  # noqa: F401  (before the modules that load TensorFlow: no start-up lines)
    from gzmorph.inference.predict import load_models
    from gzmorph.models.folder import ModelsFolder
    from gzmorph.params import Params
    from gzmorph.threads import pin_threads

    pin_threads((override or Params()).threads)  # the evaluate stage's arithmetic: the same image, the same answer
    models = load_models(ModelsFolder.named(folder), captions=captions)
    about = models.provenance
    print(f"models: {about['models']} (trained on {about['trained_on']})", file=sys.stderr)
    if override is not None:
        print("settings: from --params, not the models folder's own", file=sys.stderr)
    if about["warning"]:
        print(f"warning: {about['warning']}", file=sys.stderr)
    return models
