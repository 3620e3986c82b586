"""Stage evaluate: the test split only -> metrics, confusion matrix, example captions, Grad-CAM figures."""
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.caption_data import load_references
from gzmorph.datasets import load_split
from gzmorph.errors import cli
from gzmorph.evaluation import example_rows, examples_table, score_captioner, score_classifier
from gzmorph.figures import confusion_png, gallery_png, gradcam_png
from gzmorph.gradcam import gradcam
from gzmorph.io import read_json, write_json
from gzmorph.model_files import CAPTIONER_DIR, CLASSIFIER_DIR, VOCAB, load_model
from gzmorph.params import load_params
from gzmorph.rule import CLASSES
from gzmorph.classifier import VOTES_OUTPUT

PROCESSED, CAPTIONS, METRICS, PLOTS = Path("data/processed"), Path("data/captions"), Path("metrics"), Path("plots")


@cli
def main():
    params = load_params()
    test, train = load_split(PROCESSED, "test"), load_split(PROCESSED, "train")
    classifier = load_model(CLASSIFIER_DIR, "train_classifier")
    captioner = load_model(CAPTIONER_DIR, "train_captioner")
    evaluate = params.evaluate
    clf_metrics, predicted, outputs = score_classifier(classifier, test, train.votes, params.clean_labels.rule,
                                                       evaluate.tta)
    cap_metrics, generated = score_captioner(
        classifier, captioner, read_json(CAPTIONER_DIR / VOCAB), test, load_references(CAPTIONS), train.ids,
        params.build_captions, outputs[VOTES_OUTPUT], predicted, evaluate.beam_width,
        evaluate.length_penalty)
    write_json(METRICS / "classifier.json", clf_metrics)
    write_json(METRICS / "captioner.json", cap_metrics)

    names = np.array(CLASSES)
    pd.DataFrame({"actual": names[test.classes], "predicted": names[predicted]}).to_csv(
        PLOTS / "confusion.csv", index=False)
    confusion_png(test.classes, predicted, PLOTS / "confusion.png")
    rows = example_rows(test.classes, evaluate.examples_per_class)
    examples = examples_table(test, rows, predicted, load_references(CAPTIONS), generated)
    examples.to_csv(PLOTS / "examples.csv", index=False)
    images = np.asarray(test.images[rows])
    gallery_png(images, [f"true {t}, predicted {p}\nref: {r}\nbeam: {b}" for t, p, r, b in
                         examples[["true_class", "predicted_class", "reference", "beam"]].itertuples(index=False)],
                PLOTS / "gallery.png")
    gradcam_png(images, gradcam(classifier.model, images, predicted[rows]),
                [f"{t} -> {p}" for t, p in examples[["true_class", "predicted_class"]].itertuples(index=False)],
                PLOTS / "gradcam.png")
    print({k: clf_metrics[k] for k in ("accuracy", "f1_weighted", "f1_macro", "vote_rmse")})
    print({k: v for k, v in cap_metrics.items() if k.startswith("beam_bleu") or k.startswith("greedy_bleu")})


if __name__ == "__main__":
    main()
