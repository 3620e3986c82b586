"""What oneDNN's instruction set and the encoder's precision cost: the committed classifier's training
step and prediction, timed in one process per condition, the conditions interleaved round by round.

    python benchmarks/bench_isa.py [--rounds 3] [--steps 8]

Conditions: oneDNN's own choice for this CPU (``native``) and capped at AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``)
in float32, and native mixed_bfloat16. Capped at AVX2, bfloat16 is emulated (about 10x slower than float32:
docs/reproducibility.md), too slow to time here. Prints milliseconds per image, median over the rounds, and
each one's ratio to AVX2 float32.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONDITIONS = {  # name: (ONEDNN_MAX_CPU_ISA, precision)
    "AVX2 float32": ("AVX2", "float32"),
    "native float32": ("ALL", "float32"),
    "native mixed_bfloat16": ("ALL", "mixed_bfloat16"),
}

TIMER = """
import json, sys, time
import gzmorph.quiet_tensorflow
import numpy as np
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, build_classifier, compile_classifier
from gzmorph.params import load_params
from gzmorph.threads import pin_threads
precision, steps = sys.argv[1], int(sys.argv[2])
params = load_params()
pin_threads(params.threads)
p, pixels = params.train_classifier, params.image.pixels
model = build_classifier(pixels, p.backbone, p.width, p.dropout, p.weights, precision)
compile_classifier(model, p.learning_rate, p.vote_loss_weight, 0.0)
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (p.batch_size, pixels, pixels, 3), dtype=np.uint8)
targets = {CLASS_OUTPUT: rng.integers(0, 5, p.batch_size), VOTES_OUTPUT: rng.random((p.batch_size, 37), "float32")}
many = rng.integers(0, 256, (512, pixels, pixels, 3), dtype=np.uint8)
model.train_on_batch(images, targets), model.predict_on_batch(many)  # traced and warm
start = time.perf_counter()
for _ in range(steps):
    model.train_on_batch(images, targets)
train = (time.perf_counter() - start) / steps / p.batch_size
start = time.perf_counter()
model.predict_on_batch(many)
predict = (time.perf_counter() - start) / len(many)
print(json.dumps({"train_ms": 1000 * train, "predict_ms": 1000 * predict}))
"""


def time_condition(isa: str, precision: str, steps: int) -> dict:
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": isa}
    done = subprocess.run([sys.executable, "-c", TIMER, precision, str(steps)], env=env, capture_output=True,
                          text=True, cwd=REPO)  # params.yaml is read from the repository root
    if done.returncode != 0:
        sys.exit(f"{isa} {precision} failed: {(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    times = {name: [] for name in CONDITIONS}
    for _ in range(args.rounds):
        for name, (isa, precision) in CONDITIONS.items():
            times[name].append(time_condition(isa, precision, args.steps))
    base = {k: statistics.median(t[k] for t in times["AVX2 float32"]) for k in ("train_ms", "predict_ms")}
    for name, rounds in times.items():
        train, predict = (statistics.median(t[k] for t in rounds) for k in ("train_ms", "predict_ms"))
        print(f"{name:24s} train {train:6.2f} ms/image ({train / base['train_ms']:.2f}x)   "
              f"predict {predict:6.3f} ms/image ({predict / base['predict_ms']:.2f}x)")


if __name__ == "__main__":
    main()
