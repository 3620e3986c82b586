"""Stage train_classifier: packed train/val images -> the two-head classifier and its training curves."""
from pathlib import Path

from gzmorph.classifier_training import choose_class_source, fit_classifier, train_vote_means
from gzmorph.datasets import load_split
from gzmorph.errors import cli
from gzmorph.model_files import CLASSIFIER_DIR, save_model
from gzmorph.params import load_params
from gzmorph.seeding import pin_threads

PROCESSED = Path("data/processed")
CURVES = Path("plots/train_classifier.csv")


@cli
def main():
    params = load_params()
    pin_threads(params.train_classifier.threads)
    train, val = load_split(PROCESSED, "train"), load_split(PROCESSED, "val")
    model, _ = fit_classifier(train, val, params.train_classifier, params.seed, CURVES)
    choice = choose_class_source(model, val, params.clean_labels.rule, params.evaluate.tta)
    print(f"class from {choice['class_choice']}; validation accuracy + macro F1: "
          + ", ".join(f"{k[len('val_score_'):]} {v}" for k, v in choice.items() if k.startswith("val_score_")))
    save_model(CLASSIFIER_DIR, model, {**choice, "train_vote_means": train_vote_means(train),
                                       "image_size": params.image.pixels, "crop": params.image.crop})


if __name__ == "__main__":
    main()
