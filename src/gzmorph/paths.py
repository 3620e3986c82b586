"""The pipeline's files, relative to the repository root, each written once: the stages, the command
line and the library read them here, and dvc.yaml declares the same (tests/test_dvc_yaml.py checks)."""
import os
from pathlib import Path

PARAMS = Path("params.yaml")
SAMPLE = Path("data/sample")  # the embedded synthetic sample, the default data
LABELS = Path("data/interim/labels.csv")
SPLIT_TABLE = Path("data/interim/splits.csv")  # each galaxy's split
PROCESSED = Path("data/processed")
CAPTIONS = Path("data/captions")
MODELS = Path("models")  # the pipeline's models folder; its layout: gzmorph.models.folder
METRICS = Path("metrics")
DATA_REPORT = METRICS / "data_report.json"
SPLIT_REPORT = METRICS / "split_report.json"
CLASSIFIER_METRICS = METRICS / "classifier.json"
CAPTIONER_METRICS = METRICS / "captioner.json"
PLOTS = Path("plots")
# DVCLive's folders, a training each: metrics.json (the last epoch) and plots/metrics/{train,eval}/*.tsv
LIVE = Path("dvclive")
CLASSIFIER_CURVES = LIVE / "train_classifier"
CAPTIONER_CURVES = LIVE / "train_captioner"
CONFUSION = PLOTS / "confusion.csv"
CONFUSION_FIGURE = PLOTS / "confusion.png"
EXAMPLES = PLOTS / "examples.csv"
GALLERY = PLOTS / "gallery.png"
GRADCAM_FIGURE = PLOTS / "gradcam.png"


def is_sample(raw_dir: str | Path) -> bool:
    """Whether ``raw_dir`` is the project's embedded synthetic sample: models that learnt from it say nothing
    about real galaxies."""
    return Path(raw_dir).resolve() == SAMPLE.resolve()


def real_gz2(name: str) -> Path:
    """A folder of real GZ2 galaxies in Kaggle's layout (kaggle, hart16), for benchmarks and real-data
    tests: under $GZMORPH_REAL_DATA, or by default ../shared/gz2 beside the repository."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "gz2"
    return Path(os.environ.get("GZMORPH_REAL_DATA", default)) / name
