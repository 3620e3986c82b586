"""One seed for Python, NumPy and TensorFlow, deterministic TensorFlow ops, and each epoch's random
numbers drawn from (seed, epoch) alone: the same params give the same model and metrics on a CPU,
however the machine's threads interleave, and a resumed training continues as if never stopped."""
import keras
import tensorflow as tf

# More draws than any layer makes in one epoch (one a step), so that no two epochs share numbers.
DRAWS_PER_EPOCH = 1 << 16


def seed_everything(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class SeedEachEpoch(keras.callbacks.Callback):
    """Starts each epoch's batch order and random layers (augmentation, dropout) from (seed, epoch).

    Keras' own streams run on from the start of ``fit``, and BackupAndRestore saves the weights and the
    optimizer but not the random layers' state: without this a resumed training would draw other
    numbers than the run it continues. ``batches`` is anything with ``start_epoch`` (gzmorph.training.batches).
    """

    def __init__(self, batches=None):
        super().__init__()
        self.batches = batches

    def on_train_begin(self, logs=None):
        self.states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        self.layer_seeds = [int(keras.ops.convert_to_numpy(v)[0]) for v in self.states]

    def on_epoch_begin(self, epoch, logs=None):
        if self.batches is not None:
            self.batches.start_epoch(epoch)
        for state, layer_seed in zip(self.states, self.layer_seeds):
            state.assign(keras.ops.convert_to_tensor([layer_seed, epoch * DRAWS_PER_EPOCH], dtype=state.dtype))
