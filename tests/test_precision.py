"""Prediction's arithmetic: bfloat16 only where the CPU computes it natively, float32 on asking, and a bfloat16
copy of a float32 classifier that answers as it does. Nothing here depends on this machine's CPU."""
import numpy as np
import pytest

from gzmorph.errors import GzmorphError
from gzmorph.models.classifier import CLASS_OUTPUT, build_classifier
from gzmorph.models.encoders import FEATURES
from gzmorph.models.precision import chosen_precision, in_precision, native_bfloat16


def test_auto_is_bfloat16_only_where_native_and_bfloat16_is_refused_where_it_would_be_emulated():
    assert chosen_precision("auto", native=True) == "bfloat16"
    assert chosen_precision("auto", native=False) == "float32"
    assert chosen_precision("float32", native=True) == "float32"
    assert chosen_precision("bfloat16", native=True) == "bfloat16"
    with pytest.raises(GzmorphError, match="no native bfloat16"):
        chosen_precision("bfloat16", native=False)
    with pytest.raises(GzmorphError, match="unknown 'half'"):
        chosen_precision("half", native=True)


@pytest.mark.parametrize(("flags", "native"), [("fpu avx2 avx512f avx512_bf16", True), ("fpu avx2 amx_bf16", True),
                                               ("fpu avx2 fma", False)])
def test_the_cpus_own_flags_say_whether_bfloat16_is_native(tmp_path, monkeypatch, flags, native):
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    (tmp_path / "cpuinfo").write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert native_bfloat16(tmp_path / "cpuinfo") is native
    assert native_bfloat16(tmp_path / "absent") is False


def test_a_bfloat16_copy_computes_its_encoder_in_bfloat16_keeps_the_heads_float32_and_the_weights():
    # Its dtypes, not its answers: held to AVX2, oneDNN has no bfloat16 convolution to run it with
    # (benchmarks/bench_precision.py compares the answers where the CPU has one).
    model = build_classifier(16, "small_cnn", 4, 0.0, "none", "float32")
    copy = in_precision(model, "bfloat16")
    assert in_precision(model, "float32") is model
    assert copy.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert copy.get_layer("block1_conv1").variable_dtype == "float32"
    for name in (FEATURES, "hidden", CLASS_OUTPUT, "vote_logits"):
        assert copy.get_layer(name).compute_dtype == "float32"
    for mine, theirs in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("environment", [{"ONEDNN_MAX_CPU_ISA": "AVX2"}, {"ONEDNN_MAX_CPU_ISA": "avx512_core"},
                                         {"TF_ENABLE_ONEDNN_OPTS": "0"}])
def test_onednn_held_below_bfloat16_or_switched_off_is_not_native(tmp_path, monkeypatch, environment):
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    (tmp_path / "cpuinfo").write_text("flags\t\t: fpu avx2 avx512_bf16 amx_bf16\n")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert native_bfloat16(tmp_path / "cpuinfo") is False
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    assert native_bfloat16(tmp_path / "cpuinfo") is True
