"""Stage train_classifier: packed train/val images -> the two-head classifier and its training curves."""

import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.packed_splits import load_split
from gzmorph.errors import cli
from gzmorph.models.familiarity import save_familiarity
from gzmorph.models.folder import PIPELINE
from gzmorph.params import load_params
from gzmorph.paths import CLASSIFIER_CURVES, PROCESSED
from gzmorph.threads import pin_threads
from gzmorph.training.classifier import familiarity_of, train_classifier


@cli
def main():
    params = load_params()
    pin_threads(params.threads)
    train, val = load_split(PROCESSED, "train"), load_split(PROCESSED, "val")
    trained = train_classifier(train, val, params, CLASSIFIER_CURVES)
    print(f"class from {trained.record.decision.class_from}; validation accuracy + macro F1: "
          + ", ".join(f"{name} {score}" for name, score in trained.record.val_scores.items()))
    PIPELINE.save(trained)
    save_familiarity(PIPELINE.familiarity, familiarity_of(trained.model, train, val))


if __name__ == "__main__":
    main()
