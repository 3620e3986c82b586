"""The captioner: an LSTM decoder with soft attention over the encoder's feature map (Show, Attend and Tell).

Besides the spatial features, the decoder's initial state sees the classifier's summary of the image
(its class probabilities and predicted vote fractions): a caption names the galaxy's class and its
vote-derived features, which the classifier's heads already estimate, so the decoder need not learn them
again from a few thousand captions. Both come from the image alone.

Training unrolls the decoder over the caption with teacher forcing; decoding calls one step at a time
(``step``) so that greedy and beam search (gzmorph.models.beam) share it.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops


@keras.saving.register_keras_serializable(package="gzmorph")
class AttentionDecoder(keras.Model):
    def __init__(self, vocab_size: int, embed_dim: int, units: int, attention_units: int, dropout: float,
                 **kwargs):
        super().__init__(**kwargs)
        self.config = dict(vocab_size=vocab_size, embed_dim=embed_dim, units=units,
                           attention_units=attention_units, dropout=dropout)
        self.embed = layers.Embedding(vocab_size, embed_dim, name="embed")
        self.init_h = layers.Dense(units, activation="tanh", name="init_h")
        self.init_c = layers.Dense(units, activation="tanh", name="init_c")
        # Every weight that sees all locations learns through a matrix product (see ``rowwise``), never
        # through a long sum, whose bits TensorFlow makes depend on the machine (threads, cache sizes):
        # so no bias on the features' projection (attend_hidden's covers it) or on the scores (a softmax
        # ignores a shift), and the score vector is two columns added, as a one-column product's
        # gradient is a matrix-vector product, which oneDNN splits by thread count.
        self.attend_features = layers.Dense(attention_units, use_bias=False, name="attend_features")
        self.attend_hidden = layers.Dense(attention_units, name="attend_hidden")
        self.attention_score = layers.Dense(2, use_bias=False, name="attention_score")
        self.cell = layers.LSTMCell(units, name="lstm")
        self.drop = layers.Dropout(dropout)
        self.logits = layers.Dense(vocab_size, name="logits")

    def get_config(self):
        return {**super().get_config(), **self.config}

    def start(self, features, summary):
        """Flattened features, their attention projection and the initial LSTM state."""
        features = ops.reshape(features, (ops.shape(features)[0], -1, ops.shape(features)[-1]))
        image = ops.concatenate([ops.mean(features, axis=1), summary], axis=-1)
        return features, rowwise(self.attend_features, features), self.init_h(image), self.init_c(image)

    def attend(self, features, projected, h):
        """Context vectors and attention weights for ``h``, whose rows are the images' rows of ``features``
        repeated beam by beam (row image * beams + beam): one beam per image when training, several in beam
        search, where repeating the feature map per beam would copy it at every step."""
        n, locations = ops.shape(features)[0], ops.shape(features)[1]
        hidden = ops.reshape(self.attend_hidden(h), (n, -1, 1, ops.shape(projected)[-1]))  # (n, beams, 1, a)
        scores = ops.sum(rowwise(self.attention_score, ops.tanh(ops.expand_dims(projected, 1) + hidden)), axis=-1)
        weights = ops.softmax(scores, axis=-1)  # (n, beams, locations)
        context = ops.einsum("nbl,nld->nbd", weights, features)
        return ops.reshape(context, (-1, ops.shape(features)[-1])), ops.reshape(weights, (-1, locations))

    def step(self, tokens, features, projected, h, c, training=False):
        """Next-token logits for ``tokens``, one per row of ``h`` and ``c`` (see ``attend``)."""
        context, weights = self.attend(features, projected, h)
        x = ops.concatenate([self.embed(tokens), context], axis=-1)
        out, (h, c) = self.cell(x, [h, c], training=training)
        logits = self.logits(self.drop(ops.concatenate([out, context], axis=-1), training=training))
        return logits, h, c, weights

    # Traced once per decoder and kept with it: every caption batch reuses the trace, which costs far
    # more than a step.
    @tf.function(reduce_retracing=True)
    def log_prob_step(self, tokens, features, projected, h, c):
        logits, h, c, _ = self.step(tokens, features, projected, h, c)
        return tf.nn.log_softmax(logits), h, c

    def call(self, inputs, training=False):
        """Teacher forcing: ``tokens`` (batch, T) in, next-token logits (batch, T, vocab) out."""
        features, summary, tokens = inputs
        features, projected, h, c = self.start(features, summary)
        outputs = []
        for t in range(tokens.shape[1]):
            logits, h, c, _ = self.step(tokens[:, t], features, projected, h, c, training=training)
            outputs.append(logits)
        return ops.stack(outputs, axis=1)


def rowwise(dense: layers.Dense, x):
    """``dense`` over the last axis of ``x`` as one 2-D matrix product, so that its kernel's gradient is
    one too, rather than the sum over leading axes that a product broadcast over them takes."""
    return ops.reshape(dense(ops.reshape(x, (-1, ops.shape(x)[-1]))), (*ops.shape(x)[:-1], dense.units))


def compile_decoder(decoder: AttentionDecoder, learning_rate: float) -> None:
    decoder.compile(
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=5.0),
        # Padding (index 0) after the end token carries no signal.
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
    )


class StepFunction:
    """Adapts the decoder to gzmorph.models.beam's protocol: numpy tokens and state in, log-probabilities out.

    ``initial_state`` binds a batch of images: their feature maps stay here, fixed for the whole search,
    and the state is each row's image number and the LSTM's (h, c), which beam search repeats per beam,
    reorders and drops cheaply. Rows come grouped by image, as many per image (its beams) for every image.
    """

    def __init__(self, decoder: AttentionDecoder):
        self.decoder = decoder
        self._features = self._projected = None
        self._images = None  # the images of the rows at the last step, and their features below
        self._live = ()

    def initial_state(self, features, summary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        features, projected, h, c = self.decoder.start(tf.convert_to_tensor(features), tf.convert_to_tensor(summary))
        self._features, self._projected = features, projected
        self._images, self._live = np.arange(len(h)), (features, projected)
        return self._images, h.numpy(), c.numpy()

    def __call__(self, tokens, state):
        rows_image, h, c = state
        features, projected = self._features_of(np.unique(rows_image))
        tokens = tf.convert_to_tensor(tokens, tf.int32)
        log_probs, h, c = self.decoder.log_prob_step(tokens, features, projected, h, c)
        return log_probs.numpy(), (rows_image, h.numpy(), c.numpy())

    def _features_of(self, images: np.ndarray) -> tuple:
        """The feature maps of ``images``, gathered again only when an image has left the search."""
        if not np.array_equal(images, self._images):
            self._images = images
            self._live = (tf.gather(self._features, images), tf.gather(self._projected, images))
        return self._live
