"""Benchmark a DVC push/pull round trip of the pipeline's outputs through the local SeaweedFS S3 server
(gzmorph.devtools.s3_server): seconds and megabytes each way, from a reproduced repository's cache.

    .venv/bin/python benchmarks/bench_remote.py [--repo .] [--rounds 3]

Run `dvc repro` first: what is pushed is every output that the repository's dvc.lock names. The
repository itself is left alone: the pushes and pulls run in throwaway folders that read its cache.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from gzmorph.devtools import s3_server as s3
from gzmorph.devtools.project import REPO, copy_project, exit_on_failure, run


def dvc(args: list[str], cwd: Path) -> float:
    """Wall seconds of one dvc command, which must succeed."""
    start = time.perf_counter()
    run(["dvc", *args], cwd)
    return time.perf_counter() - start


def megabytes(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def pipeline_copy(repo: Path, folder: Path, cache: Path, remote: dict, prefix: str) -> Path:
    """The pipeline's DVC files in a new git repository whose cache is ``cache``, the S3 remote its
    default: enough for `dvc push` and `dvc pull`, which go by dvc.lock's hashes."""
    copy_project(folder, names=("dvc.yaml", "dvc.lock", "params.yaml", ".dvc"), source=repo,
                 message="the benchmark's copy")
    for setting in (["cache", "dir", "--local", str(cache)], ["remote", "default", "--local", "seaweedfs"],
                    ["remote", "modify", "--local", "seaweedfs", "endpointurl", remote["endpoint"]],
                    ["remote", "modify", "--local", "seaweedfs", "url", f"s3://{remote['bucket']}/{prefix}"],
                    ["remote", "modify", "--local", "seaweedfs", "access_key_id", remote["key"]],
                    ["remote", "modify", "--local", "seaweedfs", "secret_access_key", remote["secret"]]):
        dvc(setting, folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="a repository after `dvc repro`")
    parser.add_argument("--rounds", type=int, default=3, help="round trips, each to a new prefix")
    args = parser.parse_args()
    repo = args.repo.resolve()
    if not (repo / "dvc.lock").is_file():
        sys.exit(f"{repo / 'dvc.lock'} is missing: run `dvc repro` there first")

    with tempfile.TemporaryDirectory(prefix="bench_remote_") as tmp:
        tmp = Path(tmp)
        remote = {"port": s3.free_port(), "bucket": "bench", "key": "bench", "secret": "bench-secret-key"}
        server = s3.start(tmp / "s3", remote["port"], remote["bucket"], remote["key"], remote["secret"],
                          tmp / "weed.log")
        remote["endpoint"] = f"http://127.0.0.1:{remote['port']}"
        try:
            print(f"SeaweedFS {remote['endpoint']}, outputs of {repo / 'dvc.lock'}")
            for round_ in range(1, args.rounds + 1):
                prefix, cache = f"round{round_}", tmp / f"cache{round_}"
                push = dvc(["push"], pipeline_copy(repo, tmp / f"push{round_}", repo / ".dvc/cache", remote, prefix))
                pull = dvc(["pull"], pipeline_copy(repo, tmp / f"pull{round_}", cache, remote, prefix))
                size, objects = megabytes(cache), sum(1 for f in cache.rglob("*") if f.is_file())
                print(f"round {round_}: {size:.1f} MB in {objects} objects, push {push:.2f} s "
                      f"({size / push:.1f} MB/s), pull {pull:.2f} s ({size / pull:.1f} MB/s)")
        finally:
            s3.stop(server)


if __name__ == "__main__":
    exit_on_failure(main)
