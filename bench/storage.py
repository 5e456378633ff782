"""Storage backends side by side (docs/architecture.md, Files): put+get of a complaint-photo-sized object and a
streamed read of a large one, on the filesystem backend and on the S3 backend against a local S3-protocol server
(moto's, started here on a free port, or --endpoint for a MinIO/Ceph you run). No database is used.

    .venv/bin/python bench/storage.py [--count 200] [--size 204800] [--big-mb 64] [--endpoint http://host:9000]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402

from portal.core.storage import FileStore, S3Store  # noqa: E402


def _moto() -> tuple[str, subprocess.Popen]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}", proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto's server did not start")


def measure(name: str, store, count: int, size: int, big_mb: int) -> None:
    payload = os.urandom(size)
    times = []
    for i in range(count):
        start = time.perf_counter()
        store.put(f"bench/{i:05d}.jpg", payload)
        assert store.get(f"bench/{i:05d}.jpg") == payload
        times.append((time.perf_counter() - start) * 1000)
    with tempfile.TemporaryFile() as fh:
        block = os.urandom(1 << 20)
        for _ in range(big_mb):
            fh.write(block)
        fh.seek(0)
        store.put("bench/big.bin", fh)
    tracemalloc.start()
    start = time.perf_counter()
    body, read = store.open("bench/big.bin"), 0
    while chunk := body.read(256 * 1024):
        read += len(chunk)
    body.close()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.sort()
    print(f"{name:10s} put+get {size // 1024} KB: p50 {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms ({count} objects); streamed read {big_mb} MB: "
          f"{read / seconds / 1e6:.0f} MB/s, peak Python memory {peak / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=200 * 1024)
    parser.add_argument("--big-mb", type=int, default=64)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--access-key", default="bench")
    parser.add_argument("--secret-key", default="bench-secret")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    with tempfile.TemporaryDirectory() as tmp:
        measure("filesystem", FileStore(Path(tmp)), args.count, args.size, args.big_mb)
    proc = None
    endpoint = args.endpoint
    if not endpoint:
        endpoint, proc = _moto()
    try:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=args.access_key, aws_secret_access_key=args.secret_key)
        bucket = f"bench-{uuid.uuid4().hex[:10]}"
        client.create_bucket(Bucket=bucket)
        measure("s3" + ("" if args.endpoint else " (moto)"), S3Store(client, bucket, "portal/complaints/"),
                args.count, args.size, args.big_mb)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
