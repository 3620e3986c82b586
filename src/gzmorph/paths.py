"""The pipeline's files, relative to the repository root, each written once: the stages, the command
line and the library read them here, and dvc.yaml declares the same (tests/test_dvc_yaml.py checks)."""
from pathlib import Path

PARAMS = Path("params.yaml")
LABELS = Path("data/interim/labels.csv")
SPLITS = Path("data/interim/splits.csv")
PROCESSED = Path("data/processed")
CAPTIONS = Path("data/captions")
MODELS = Path("models")
CLASSIFIER = MODELS / "classifier"
CAPTIONER = MODELS / "captioner"
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
EXAMPLES = PLOTS / "examples.csv"
