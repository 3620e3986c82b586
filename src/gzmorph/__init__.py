"""gzmorph: galaxy morphology classification and captioning on Galaxy Zoo 2."""
import os

# TensorFlow's start-up chatter (oneDNN, CPU features) buries the pipeline's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
