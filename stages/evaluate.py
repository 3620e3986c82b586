"""Stage evaluate: the test split only -> metrics, confusion matrix, example captions, Grad-CAM figures."""

import numpy as np
import pandas as pd

import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.caption_files import load_references
from gzmorph.data.packed_splits import load_split
from gzmorph.data.sources import source_splits, sources_of
from gzmorph.errors import cli
from gzmorph.gz2.rule import CLASSES
from gzmorph.inference.evaluation import example_rows, examples_table, score_models
from gzmorph.inference.figures import confusion_png, gallery_png, gradcam_png
from gzmorph.inference.gradcam import gradcam
from gzmorph.io import write_json
from gzmorph.models.folder import PIPELINE
from gzmorph.models.loaded import load_models
from gzmorph.params import load_params
from gzmorph.paths import (
    CAPTIONER_METRICS,
    CAPTIONS,
    CLASSIFIER_METRICS,
    CONFUSION,
    CONFUSION_FIGURE,
    EXAMPLES,
    GALLERY,
    GRADCAM_FIGURE,
    PLOTS,
    PROCESSED,
)
from gzmorph.threads import pin_threads


@cli
def main():
    params = load_params()
    pin_threads(params.threads)
    references, models = load_references(CAPTIONS), load_models(PIPELINE)
    # The main source's test galaxies make the headline figures and the plots; each other source's are scored
    # apart, on its own catalogue, under "sources".
    tests = source_splits(load_split(PROCESSED, "test"), sources_of(params.data))
    main_source, *more = tests
    # The class rule, caption templates and inference settings are the ones the models carry, as for gzmorph
    # evaluate and predict; params.yaml gives the seed and the evaluate section.
    settings = models.settings(params)
    test = tests[main_source]
    scores = score_models(models, test, references, settings)
    for name in more:
        other = score_models(models, tests[name], references, settings)
        scores.classifier.setdefault("sources", {})[name] = other.classifier
        scores.captioner.setdefault("sources", {})[name] = other.captioner
    # Written as JSON, not through DVCLive: a Live folder holds one metrics.json, so the two files named for
    # the models would become one, and every figure's name and path would change under `dvc metrics diff`.
    write_json(CLASSIFIER_METRICS, scores.classifier)
    write_json(CAPTIONER_METRICS, scores.captioner)

    PLOTS.mkdir(exist_ok=True)
    names = np.array(CLASSES)
    confusion = pd.DataFrame({"actual": names[test.classes], "predicted": names[scores.predicted]})
    confusion.to_csv(CONFUSION, index=False)
    confusion_png(test.classes, scores.predicted, CONFUSION_FIGURE)

    rows = example_rows(test.classes, params.evaluate.examples_per_class)
    examples = examples_table(test, rows, scores.predicted, references, scores.generated)
    examples.to_csv(EXAMPLES, index=False)
    images = np.asarray(test.images[rows])
    gallery_png(images, [f"true {e.true_class}, predicted {e.predicted_class}\nreference: {e.reference}\n"
                         f"beam: {e.beam}" for e in examples.itertuples()], GALLERY)
    gradcam_png(images, gradcam(models.classifier.model, images, scores.predicted[rows]),
                [f"{e.true_class} -> {e.predicted_class}" for e in examples.itertuples()], GRADCAM_FIGURE)
    for name, metrics in (("classifier", scores.classifier), ("captioner", scores.captioner)):
        print(name, {k: v for k, v in metrics.items() if not isinstance(v, dict)})  # the headline figures


if __name__ == "__main__":
    main()
