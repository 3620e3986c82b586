"""Reruns the training and evaluate stages in a scratch clone and compares what they write with HEAD.

    python scripts/check_reproducible.py                                  # as this machine runs it
    python scripts/check_reproducible.py --env TF_NUM_INTRAOP_THREADS=1 --busy
    python scripts/check_reproducible.py --env ONEDNN_MAX_CPU_ISA=AVX512_CORE --keep /tmp/isa
    python scripts/check_reproducible.py --set threads=4   # how far another value moves them

The clone is of HEAD (uncommitted changes are not in it) and shares this repository's DVC cache, so the
data stages come back from the cache instead of running again. Prints "identical" when metrics/*.json,
the DVCLive curves, plots/*.csv and dvc.lock match HEAD byte for byte, else each metric that moved and by
how much, and the first epoch at which a training curve parts from HEAD's.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from gzmorph.devtools.project import REPO, exit_on_failure
from gzmorph.devtools.reproduce import RERUN, clone, differences, rerun
from gzmorph.params import set_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="set for the rerun stages, e.g. TF_NUM_INTRAOP_THREADS=1 or ONEDNN_MAX_CPU_ISA=AVX2")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a param for the rerun, e.g. threads=4")
    parser.add_argument("--stages", nargs="+", default=RERUN, choices=RERUN,
                        help="the stages to rerun (default: all three); the others keep HEAD's outputs")
    parser.add_argument("--busy", action="store_true", help="keep every core busy with other work meanwhile")
    parser.add_argument("--keep", type=Path, help="clone here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    if any("=" not in pair for pair in args.env + args.set):
        raise SystemExit("error: --env and --set take KEY=VALUE")
    env = dict(pair.split("=", 1) for pair in args.env)
    with tempfile.TemporaryDirectory() as scratch:
        root = clone(REPO, args.keep or Path(scratch) / "clone")
        set_params(root / "params.yaml", dict(pair.split("=", 1) for pair in args.set))
        rerun(root, env, args.busy, tuple(args.stages))
        found = differences(root)
    print("\n".join(found) if found else "identical")


if __name__ == "__main__":
    exit_on_failure(main)
