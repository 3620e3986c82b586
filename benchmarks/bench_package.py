"""Benchmark gzmorph as a package: wheel size, install time, start-up, and the CLI's and the API's throughput.

    .venv/bin/python benchmarks/bench_package.py [--count 1000] [--skip-install] [--images DIR]

1. Wheel: `pip wheel --no-deps --no-build-isolation` of this repository; its size.
2. Install: a regular (non-editable) `pip install` of the wheel into a fresh python3.11 venv, which resolves
   and installs the declared dependencies (~600 MB of TensorFlow; pip's cache may be warm); seconds and the
   venv's size on disk. --skip-install leaves this out and times the project's .venv instead.
3. Start-up, from an empty folder, each run a fresh process, median of --runs: `import gzmorph`, and the
   time to the first table from `gzmorph.predict([one JPEG])` (inside the process from before the import,
   and the whole process).
4. Throughput on --count real JPEGs copied to a temporary folder, with and without captions: the CLI's whole
   wall time (start-up included) against the API in one process (`gzmorph.load()`, a warm-up call on 64
   images, then only `predict(folder)` timed).
Also "files vs arrays": the API's answers from the JPEG files against those from the same JPEGs decoded
with PIL into a uint8 array (same class, difference of the p_* columns).

The figures are printed, never asserted. The JPEGs are read from --images and copied to a temporary folder,
never into the project.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gzmorph.paths import real_gz2

REPO = Path(__file__).resolve().parents[1]
KAGGLE_IMAGES = real_gz2("kaggle") / "images_training_rev1"
WARM_UP = 64  # images in the API's warm-up call

# Timed inside the subprocess from before `import gzmorph` to the returned table
FIRST_PREDICTION = """import json, sys, time
start = time.perf_counter()
import gzmorph
table = gzmorph.predict([sys.argv[1]])
print(json.dumps({"seconds": time.perf_counter() - start, "rows": len(table)}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=KAGGLE_IMAGES, help="folder of real JPEGs")
    parser.add_argument("--count", type=int, default=1000, help="images for the throughput runs")
    parser.add_argument("--runs", type=int, default=3, help="runs per start-up figure (the median is printed)")
    parser.add_argument("--skip-install", action="store_true",
                        help="no fresh venv (saves downloading TensorFlow): time the project's .venv")
    # The API's side runs as this script in the venv under test, so that it imports that venv's gzmorph
    parser.add_argument("--api-worker", type=Path, metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--no-captions", dest="captions", action="store_false", help=argparse.SUPPRESS)
    parser.add_argument("--files-vs-arrays", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH, so that a subprocess imports its own venv's gzmorph."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def run(command: list, cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of a command and what it printed; a failure stops the benchmark with its stderr."""
    start = time.perf_counter()
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, env=clean_env())
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, command))}\n{done.stderr[-3000:]}")
    return seconds, done


def last_json(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.strip().splitlines()[-1])


def printed(text: str) -> str:
    """What a process printed, for the report: 'nothing', or its lines indented."""
    lines = [line for line in text.splitlines() if line.strip()]
    return "nothing" if not lines else f"{len(lines)} line(s):\n" + "\n".join(f"      | {line}" for line in lines)


def cpu() -> str:
    models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
              if line.startswith("model name")]
    return f"{models[0] if models else 'unknown'}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)"


def build_wheel(out_dir: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out_dir, REPO])
    wheel = next(out_dir.glob("gzmorph-*.whl"))
    print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1e6:.1f} MB")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A fresh venv with the wheel and its dependencies; its bin folder."""
    run(["python3.11", "-m", "venv", venv])
    seconds, _ = run([venv / "bin" / "pip", "install", "-q", wheel])
    size = subprocess.run(["du", "-sm", str(venv)], capture_output=True, text=True, check=True).stdout.split()[0]
    print(f"install: {seconds:.1f} s for `pip install <wheel>` into a fresh venv (pip's cache may be warm; "
          f"pip's own configuration applies: {pip_sources(venv)}), venv {size} MB on disk")
    return venv / "bin"


def pip_sources(venv: Path) -> str:
    """Where pip looks besides PyPI (index URLs, find-links), as its configuration says: figures depend on it."""
    _, done = run([venv / "bin" / "pip", "config", "list"])
    sources = [line for line in done.stdout.splitlines() if "index-url" in line or "find-links" in line]
    return "; ".join(sources) or "PyPI only"


def start_up(bin_dir: Path, jpeg: Path, empty: Path, runs: int) -> None:
    """`import gzmorph` and the first prediction, each a fresh process in an empty folder: medians."""
    imports = [run([bin_dir / "python", "-c", "import gzmorph"], cwd=empty) for _ in range(runs)]
    print(f"import gzmorph: {statistics.median(s for s, _ in imports):.2f} s (median of {runs} processes); "
          f"it printed {printed(imports[0][1].stdout + imports[0][1].stderr)}")
    firsts = [run([bin_dir / "python", "-c", FIRST_PREDICTION, jpeg], cwd=empty) for _ in range(runs)]
    inside = statistics.median(last_json(done)["seconds"] for _, done in firsts)
    print(f"first prediction, gzmorph.predict([one JPEG]): {inside:.1f} s from before `import gzmorph` to the "
          f"table, {statistics.median(s for s, _ in firsts):.1f} s the whole process (medians of {runs})")
    print(f"    stderr of the first: {printed(firsts[0][1].stderr)}")


def copy_images(source: Path, folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    files = sorted(source.glob("*.jpg"))[:count]
    for path in files:
        shutil.copy(path, folder)
    return sorted(folder.iterdir())


def throughput(bin_dir: Path, folder: Path, scratch: Path, empty: Path, count: int) -> None:
    """The CLI and the API side by side, with and without captions; then files vs arrays (classifier only)."""
    print(f"throughput on {count} real JPEGs (batch 512):")
    for captions in (True, False):
        flag = [] if captions else ["--no-captions"]
        seconds, _ = run([bin_dir / "gzmorph", "predict", folder, "-o", scratch / "p.csv", *flag], cwd=empty)
        _, done = run([bin_dir / "python", Path(__file__).resolve(), "--api-worker", folder, *flag,
                       *([] if captions else ["--files-vs-arrays"])], cwd=empty)
        api = last_json(done)
        setup = "with captions" if captions else "no captions  "
        print(f"  {setup}  CLI {count / seconds:6.0f} images/s from its whole wall time ({seconds:.1f} s, "
              f"start-up included)   API {api['images'] / api['seconds']:6.0f} images/s "
              f"(predict(folder) only, {api['seconds']:.1f} s)")
    print(f"  (the API imported gzmorph from {api['gzmorph']})")
    print(f"files vs arrays ({api['images']} images, API, classifier only; PIL-decoded full-size JPEGs as uint8): "
          f"same class {api['same_class']:.1%}, |p_* difference| max {api['max_difference']:.6f} mean "
          f"{api['mean_difference']:.6f} over {', '.join(api['columns'])} (answers rounded to 6 decimals)")


def api_worker(folder: Path, captions: bool, compare: bool) -> None:
    """The API's side, in the venv under test: load, warm up, time one predict(folder); JSON on stdout."""
    import gzmorph  # here: this process times the venv under test's gzmorph, never the parent's

    files = sorted(folder.iterdir())
    predictor = gzmorph.load(captions=captions)
    predictor.predict(files[:WARM_UP])  # traces TensorFlow's functions, as a notebook's first call would
    start = time.perf_counter()
    table = predictor.predict(folder)
    result = {"images": len(table), "seconds": time.perf_counter() - start, "gzmorph": gzmorph.__file__}
    if compare:
        result |= files_vs_arrays(predictor, table)
    print(json.dumps(result))


def files_vs_arrays(predictor, from_files) -> dict:
    """The same JPEGs as a uint8 array decoded by PIL: does the API answer as it does from the files?"""
    import numpy as np
    from PIL import Image

    def decoded(path: str) -> np.ndarray:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))

    from_arrays = predictor.predict(np.stack([decoded(path) for path in from_files["file"]]))
    columns = [column for column in from_files.columns if column.startswith("p_")]
    difference = np.abs(from_files[columns].to_numpy(float) - from_arrays[columns].to_numpy(float))
    same = (from_files["class"].to_numpy() == from_arrays["class"].to_numpy()).mean()
    return {"same_class": float(same), "max_difference": float(difference.max()),
            "mean_difference": float(difference.mean()), "columns": columns}


def main() -> None:
    args = parse_args()
    if args.api_worker:
        return api_worker(args.api_worker, args.captions, args.files_vs_arrays)
    print(f"CPU: {cpu()}")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        wheel = build_wheel(scratch / "wheel")
        if args.skip_install:
            bin_dir = REPO / ".venv" / "bin"
            print(f"install: skipped (--skip-install); timing the project's venv, {bin_dir.parent}")
        else:
            bin_dir = install(wheel, scratch / "venv")
        empty = scratch / "empty"  # no gzmorph, no params.yaml, no models/ to find by accident
        empty.mkdir()
        files = copy_images(args.images, scratch / "images", args.count)
        start_up(bin_dir, files[0], empty, args.runs)
        throughput(bin_dir, scratch / "images", scratch, empty, len(files))


if __name__ == "__main__":
    main()
