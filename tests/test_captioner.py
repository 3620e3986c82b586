import keras
import numpy as np
import pytest

from gzmorph.gz2.captions import build_vocab, encode_caption, vocab_index
from gzmorph.models.captioner import AttentionDecoder
from gzmorph.models.forward import Encoded, generate_captions
from gzmorph.params import CaptionerParams
from gzmorph.training.captioner import fit_captioner, rows_of
from helpers import logged

CAPTIONS = ["a spiral galaxy , with a bar", "an elliptical galaxy , completely round"]


def toy_data(n=64):
    """Two kinds of feature map, each with its own caption: the decoder must look at the features."""
    rng = np.random.default_rng(0)
    kinds = np.arange(n) % 2
    features = rng.normal(0, 0.1, (n, 2, 2, 8)).astype("float32")
    features[..., 0] += kinds[:, None, None] * 2.0
    # An uninformative summary: the decoder must find the kind in the spatial features.
    summary = np.full((n, 42), 0.5, "float32")
    vocab = build_vocab(CAPTIONS)
    tokens = np.stack([encode_caption(CAPTIONS[k], vocab_index(vocab), 10) for k in kinds])
    return Encoded(features, summary), kinds, tokens, vocab


@pytest.mark.slow
def test_decoder_learns_to_caption_from_the_features(tmp_path):
    encoded, kinds, tokens, vocab = toy_data()
    ids = np.arange(len(kinds))
    data = (encoded, rows_of(ids, ids), tokens)
    params = CaptionerParams(embed_dim=8, units=16, attention_units=8, dropout=0.0, epochs=60,
                             batch_size=16, learning_rate=0.02, patience=60)
    decoder, history = fit_captioner(data, data, len(vocab), params, seed=0, curves=tmp_path / "c")
    assert history["loss"][-1] < history["loss"][0] / 4
    for split, key in (("train", "token_accuracy"), ("eval", "val_token_accuracy")):  # DVCLive's curves
        assert logged(tmp_path / "c", split, "token_accuracy")["token_accuracy"].tolist() == pytest.approx(history[key])
    first = Encoded(*(array[:6] for array in encoded))
    greedy = generate_captions(decoder, first, vocab, max_len=10, beam_width=1, length_penalty=0.0)
    assert greedy == [CAPTIONS[k] for k in kinds[:6]]
    beam = generate_captions(decoder, first, vocab, max_len=10, beam_width=3, length_penalty=0.7)
    assert beam == greedy


def test_beam_search_of_width_one_is_greedy_on_the_real_decoder():
    from gzmorph.models.beam import beam_search, greedy_decode
    from gzmorph.models.captioner import StepFunction

    encoded, _, _, vocab = toy_data(8)
    keras.utils.set_random_seed(1)
    step = StepFunction(AttentionDecoder(len(vocab), 8, 16, 8, 0.2))
    state = step.initial_state(encoded.features, encoded.summary)
    start, end = vocab.index("<start>"), vocab.index("<end>")
    assert beam_search(step, state, start, end, 1, 12, 0.0) == greedy_decode(step, state, start, end, 12)


def test_beam_search_on_the_real_decoder_gives_each_image_what_it_gets_alone():
    from gzmorph.models.beam import beam_search
    from gzmorph.models.captioner import StepFunction

    encoded, _, _, vocab = toy_data(8)
    keras.utils.set_random_seed(2)
    decoder = AttentionDecoder(len(vocab), 8, 16, 8, 0.2)
    start, end = vocab.index("<start>"), vocab.index("<end>")

    def search(images: slice) -> list[list[int]]:
        step = StepFunction(decoder)
        state = step.initial_state(encoded.features[images], encoded.summary[images])
        return beam_search(step, state, start, end, width=3, max_len=12, length_penalty=0.7)

    together = search(slice(None))
    assert together == [search(slice(i, i + 1))[0] for i in range(8)]
    assert len({len(tokens) for tokens in together}) > 1  # images left the search at different steps


def test_saved_decoder_reloads_with_the_same_outputs(tmp_path):
    encoded, _, tokens, vocab = toy_data(4)
    decoder = AttentionDecoder(len(vocab), 8, 16, 8, 0.2)
    before = np.asarray(decoder((*encoded, tokens[:, :-1])))
    decoder.save(tmp_path / "decoder.keras")
    reloaded = keras.models.load_model(tmp_path / "decoder.keras", compile=False)
    assert np.allclose(np.asarray(reloaded((*encoded, tokens[:, :-1]))), before, atol=1e-6)
