"""TensorFlow's threads per op, fixed by params.yaml's ``threads`` rather than the machine's core count.

oneDNN splits some sums (the convolutions' weight gradients; on AVX2-only CPUs more of them) by thread,
so the bits of a trained model follow the thread count: a param keeps them the same on any machine.
"""
import tensorflow as tf


def pin_threads(threads: int) -> None:
    """Must run before TensorFlow runs its first op."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
