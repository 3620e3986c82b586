"""One seed for Python, NumPy and TensorFlow, and deterministic TensorFlow ops: the same params must
give the same model and metrics on a CPU, however the machine's threads interleave."""
import keras
import tensorflow as tf


def seed_everything(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
