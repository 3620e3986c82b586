"""The arithmetic a loaded classifier predicts in: float32 everywhere, or bfloat16 in the encoder where the
CPU computes it natively (AVX512-BF16 or AMX). Elsewhere oneDNN emulates bfloat16, several times slower than
float32, so ``auto`` never picks it there, and asking for it there is refused.

The saved model is float32; a bfloat16 copy is built from its config with the encoder's layers under
Keras' ``mixed_bfloat16`` policy (bfloat16 maths, float32 weights), as training's ``precision`` makes
them, and the same weights. The heads stay float32, as in training.
"""
from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Literal

import keras

from gzmorph.errors import GzmorphError
from gzmorph.models.encoders import FEATURES

Precision = Literal["float32", "bfloat16"]
PRECISIONS = ("auto", "float32", "bfloat16")  # what a user may ask for
NATIVE_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo's names of the instructions that compute bfloat16
CPU_INFO = Path("/proc/cpuinfo")
# oneDNN's instruction sets that compute bfloat16 (ONEDNN_MAX_CPU_ISA may hold oneDNN below them, as on an
# AVX2-only CPU); TensorFlow's own Eigen kernels (TF_ENABLE_ONEDNN_OPTS=0) emulate it whatever the CPU.
BFLOAT16_ISAS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "ALL", "DEFAULT")


def native_bfloat16(cpu_info: Path = CPU_INFO) -> bool:
    """Whether this machine's CPU computes bfloat16 natively (read from Linux's /proc/cpuinfo; elsewhere no),
    and TensorFlow's oneDNN kernels may use those instructions."""
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "DEFAULT").upper()
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0" or not isa.startswith(BFLOAT16_ISAS):
        return False
    if platform.machine().lower() not in ("x86_64", "amd64") or not cpu_info.is_file():
        return False
    for line in cpu_info.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return bool(set(line.split()) & set(NATIVE_FLAGS))
    return False


def chosen_precision(asked: str, native: bool | None = None) -> Precision:
    """``asked`` (auto, float32 or bfloat16) made the precision to run: auto is bfloat16 only where native."""
    if asked not in PRECISIONS:
        raise GzmorphError(f"precision: unknown {asked!r}; use one of {', '.join(PRECISIONS)}")
    native = native_bfloat16() if native is None else native
    if asked == "bfloat16" and not native:
        raise GzmorphError("precision: this CPU has no native bfloat16 (AVX512-BF16 or AMX), where it runs "
                           "several times slower than float32; use auto or float32")
    if asked == "auto":
        return "bfloat16" if native else "float32"
    return asked


def in_precision(model: keras.Model, precision: Precision) -> keras.Model:
    """``model`` itself for float32; for bfloat16 a copy whose encoder (every layer before FEATURES, which
    casts back to float32) computes in bfloat16, with the same weights."""
    if precision == "float32":
        return model
    config = model.get_config()
    for layer in config["layers"]:
        if layer["name"] == FEATURES:
            break
        if layer["class_name"] != "InputLayer":
            set_policy(layer, "mixed_bfloat16")
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def set_policy(layer: dict, policy: str) -> None:
    """A layer's config with ``policy``, the layers nested in it (a backbone such as ResNet50) included."""
    layer["config"]["dtype"] = policy
    for inner in layer["config"].get("layers", []):
        if inner["class_name"] != "InputLayer":
            set_policy(inner, policy)
