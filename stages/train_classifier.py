"""Stage train_classifier: packed train/val images -> the two-head classifier and its training curves."""

import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.packed_splits import load_split
from gzmorph.errors import cli
from gzmorph.models.files import ClassifierRecord, save_model
from gzmorph.params import load_params
from gzmorph.paths import CLASSIFIER, CLASSIFIER_CURVES, PROCESSED, is_sample
from gzmorph.threads import pin_threads
from gzmorph.training.classifier import choose_class_source, fit_classifier, train_vote_means


@cli
def main():
    params = load_params()
    pin_threads(params.threads)
    train, val = load_split(PROCESSED, "train"), load_split(PROCESSED, "val")
    model, _ = fit_classifier(train, val, params.train_classifier, params.seed, CLASSIFIER_CURVES)
    choice = choose_class_source(model, val, params.clean_labels.rule, params.evaluate.tta)
    print(f"class from {choice.name}; validation accuracy + macro F1: "
          + ", ".join(f"{name} {score}" for name, score in choice.val_scores.items()))
    save_model(CLASSIFIER, model, ClassifierRecord(
        choice.decision, choice.name, choice.val_scores, train_vote_means(train),
        pixels=model.input.shape[1],  # the packed arrays' size, which the split stage took from params
        crop=params.image.crop, trained_on=params.data.raw_dir, synthetic=is_sample(params.data.raw_dir)))


if __name__ == "__main__":
    main()
