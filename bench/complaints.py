"""Complaint intake benchmark (PRODUCT §4, issue 6): complaints per second through the public web form over HTTP,
each with a 2 MB JPEG photo, against gunicorn -w 2 (as `make run`); goal >= 10/s with none lost.

  .venv/bin/python bench/complaints.py                          # 200 complaints, 8 clients, SQLite and PostgreSQL
  .venv/bin/python bench/complaints.py --count 60 --dbs sqlite  # smoke run

Each complaint is what a phone does: GET /complaints/new (CSRF token and submission key from the page, session
cookie kept), then POST the multipart form with one photo; a 302 to the receipt is a success. The timed figure is
complaints completed per second of wall time over the whole run, GET included. Afterwards the database is counted:
every submission key sent must be one complaint row with one attachment whose original and public (re-encoded,
EXIF-free) files exist on disk, else the run reports them as lost.

The public POST rate limit stays ON: the bench raises it through the existing setting COMPLAINT_RATE_LIMIT
(environment PORTAL_COMPLAINT_RATE_LIMIT), because all clients share 127.0.0.1; production keeps its default
("10 per minute;100 per day" per client).
"""
from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import dbs  # noqa: E402  (per-run database names; never drops what it did not create)
from run import free_port, pg_answers, stop_server, wait_ready  # noqa: E402  (one copy of the server helpers)

PG_HOST, PG_PORT = dbs.PG_HOST, dbs.PG_PORT
GOAL_PER_SECOND = 10.0
PHOTO_BYTES = 2 * 1024 * 1024
BENCH_RATE_LIMIT = "100000 per minute"
REGIONS = ("320826", "320803", "320804", "320812", "320813")


# ---------------------------------------------------------------- data

def make_photo(target: int = PHOTO_BYTES, seed: int = 2024) -> bytes:
    """A camera-sized JPEG of about `target` bytes (smoothed noise compresses about as badly as a real photo), with
    EXIF GPS, so the intake's sniffing, stripping and re-encoding do their full work."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    width, height = 2000, 1500
    for _ in range(8):
        image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
        image = image.filter(ImageFilter.GaussianBlur(1.2))
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (33.0, 46.0, 48.0), 3: "E", 4: (119.0, 15.0, 36.0)}
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=85, exif=exif)
        size = buf.tell()
        if abs(size - target) <= target * 0.05:
            break
        scale = (target / size) ** 0.5
        width, height = max(64, int(width * scale) // 8 * 8), max(48, int(height * scale) // 8 * 8)
    return buf.getvalue()


def unique(photo: bytes, n: int) -> bytes:
    """The same photo with a JPEG comment naming the submission, so every file has its own hash and is written
    (uploads are content-addressed: identical bytes would be stored once)."""
    comment = f"bench complaint {n} {secrets.token_hex(4)}".encode()
    return photo[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + photo[2:]


def multipart(fields: list[tuple[str, str]], photo: bytes) -> tuple[bytes, str]:
    boundary = "----bench" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="IMG_0001.jpg"\r\n'
                 f"Content-Type: image/jpeg\r\n\r\n".encode() + photo + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------- databases



def fresh_database(kind: str, name: str) -> str:
    """A new database `name` (refused if it exists) with the current schema and the reference tables (regions)."""
    url = dbs.create(kind, name)
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    from portal import create_app
    from portal.extensions import db
    from portal.reference.services import load_reference
    from portal.search import ddl

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            ddl.create(conn)
        load_reference()
        db.session.commit()
        db.engine.dispose()
    return url


def count_stored(url: str, keys: list[str], upload_dir: Path) -> dict:
    import sqlalchemy as sa

    from portal import create_app
    from portal.complaints.models import Complaint, ComplaintAttachment
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        rows = db.session.execute(
            sa.select(Complaint.submission_key, ComplaintAttachment.original_path, ComplaintAttachment.public_path,
                      ComplaintAttachment.size)
            .join(ComplaintAttachment, ComplaintAttachment.complaint_id == Complaint.id, isouter=True)).all()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))
        db.engine.dispose()
    by_key: dict[str, list] = {}
    for key, original, public, size in rows:
        by_key.setdefault(key, []).append((original, public, size))
    complete = 0
    for key in keys:
        files = [f for f in by_key.get(key, []) if f[0]]
        if len(files) == 1 and (upload_dir / files[0][0]).is_file() and (upload_dir / files[0][1]).is_file():
            complete += 1
    stored_bytes = sum(p.stat().st_size for p in upload_dir.rglob("*") if p.is_file())
    return {"rows": total, "complete": complete, "lost": len(keys) - complete, "stored_bytes": stored_bytes}


# ---------------------------------------------------------------- HTTP



class Client:
    """One phone: a keep-alive connection and its session cookie."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
    KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submission_key"')

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", data

    def submit(self, photo: bytes, n: int) -> tuple[str, int, float, int]:
        """(submission key, POST status, POST seconds, request bytes)."""
        status, _, page = self.request("GET", "/complaints/new")
        html = page.decode("utf-8", "replace")
        token, key = self.TOKEN.search(html), self.KEY.search(html)
        if status != 200 or token is None or key is None:
            return "", status, 0.0, 0
        key = key.group(1) or key.group(2)
        fields = [("csrf_token", token.group(1) or token.group(2)), ("submission_key", key),
                  ("category", ("air", "water", "noise", "solid_waste")[n % 4]),
                  ("reported_name", f"无名小作坊{n}"), ("reported_address", f"涟水县某村河边{n}号"),
                  ("region_code", REGIONS[n % len(REGIONS)]),
                  ("description", "夜间有黑色污水从暗管排入河道，气味刺鼻，已拍照。"), ("website", "")]
        if n % 2:
            fields += [("identity", "named"), ("name", "王五"), ("phone", "13800000000"),
                       ("email", f"reporter{n}@example.cn")]
        else:
            fields += [("identity", "anonymous")]
        body, content_type = multipart(fields, unique(photo, n))
        started = time.perf_counter()
        status, location, _ = self.request("POST", "/complaints/new", body, {"Content-Type": content_type})
        elapsed = time.perf_counter() - started
        ok = status == 302 and "/complaints/receipt" in location
        return key, status if not ok else 302, elapsed, len(body)


def server_cpu_seconds(master: int) -> float:
    """User + system CPU of gunicorn's master and workers so far (from /proc; 0 where it is not available)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == master or ppid == master:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total




def run(kind: str, name: str, count: int, clients: int, workers: int, photo: bytes) -> dict:
    print(f"== {kind}: {count} complaints, {clients} clients, gunicorn -w {workers} (database {name})")
    url = fresh_database(kind, name)
    upload_dir = OUT / f"{name}_uploads"
    mail_dir = OUT / f"{name}_mail"
    shutil.rmtree(upload_dir, ignore_errors=True)
    port = free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_LOG_LEVEL": "WARNING",
           "PORTAL_COMPLAINT_RATE_LIMIT": BENCH_RATE_LIMIT, "PORTAL_COMPLAINT_UPLOAD_DIR": str(upload_dir),
           "PORTAL_MAIL_DIR": str(mail_dir)}
    env.pop("PORTAL_RATELIMIT_ENABLED", None)  # the limiter stays on, as in production
    log = (OUT / f"gunicorn_{name}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    results: list[tuple[str, int, float, int]] = []
    lock = threading.Lock()
    try:
        wait_ready(port, proc)
        warm = Client(port)
        warm_keys = [warm.submit(photo, 1_000_000 + i)[0] for i in range(2)]  # first requests load templates, PIL
        todo = iter(range(count))

        def worker():
            client = Client(port)
            while True:
                with lock:
                    n = next(todo, None)
                if n is None:
                    return
                outcome = client.submit(photo, n)
                with lock:
                    results.append(outcome)

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        cpu_before = server_cpu_seconds(proc.pid)
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        cpu = server_cpu_seconds(proc.pid) - cpu_before
    finally:
        stop_server(proc)
        log.close()
    accepted = [r for r in results if r[1] == 302]
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r[1]] = statuses.get(r[1], 0) + 1
    keys = [r[0] for r in accepted]
    stored = count_stored(url, keys, upload_dir)
    shutil.rmtree(upload_dir, ignore_errors=True)  # about 2.7 MB per complaint: counted, then removed
    shutil.rmtree(mail_dir, ignore_errors=True)
    post_times = sorted(r[2] for r in accepted) or [0.0]
    figures = {
        "db": kind, "sent": count, "accepted": len(accepted), "statuses": statuses, "wall_s": round(wall, 2),
        "per_second": round(len(accepted) / wall, 2) if wall else 0.0,
        "post_p50_ms": round(statistics.median(post_times) * 1000, 1),
        "post_p95_ms": round(post_times[int(0.95 * (len(post_times) - 1))] * 1000, 1),
        "request_bytes": accepted[0][3] if accepted else 0, "photo_bytes": len(photo),
        "db_rows": stored["rows"], "db_rows_expected": len(accepted) + len([k for k in warm_keys if k]),
        "complete_with_files": stored["complete"], "lost": stored["lost"] + (count - len(accepted)),
        "stored_mb": round(stored["stored_bytes"] / 1e6, 1), "clients": clients, "workers": workers,
        "server_cpu_ms_per_complaint": round(cpu / len(accepted) * 1000, 1) if accepted else None,
        "load_average": os.getloadavg()[0],
    }
    cpu_ms = figures["server_cpu_ms_per_complaint"]
    figures["cpu_bound_per_second"] = round(min(workers, os.cpu_count() or 1) * 1000 / cpu_ms, 1) if cpu_ms else None
    print(f"  {figures['accepted']}/{count} accepted in {figures['wall_s']} s = {figures['per_second']} complaints/s; "
          f"POST p50 {figures['post_p50_ms']} ms, p95 {figures['post_p95_ms']} ms; statuses {statuses}")
    print(f"  server CPU {cpu_ms} ms per complaint (gunicorn master + workers) -> at most "
          f"{figures['cpu_bound_per_second']}/s with {workers} workers on idle cores; load average now "
          f"{figures['load_average']:.1f} on {os.cpu_count()} CPUs")
    print(f"  database: {figures['db_rows']} complaint rows (expected {figures['db_rows_expected']}), "
          f"{figures['complete_with_files']} with original + public file on disk ({figures['stored_mb']} MB); "
          f"lost {figures['lost']}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="complaints to submit per database")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (make run uses 2)")
    parser.add_argument("--dbs", default="sqlite,postgresql", help="sqlite and/or postgresql")
    dbs.add_arguments(parser, "complaints")
    args = parser.parse_args()
    dbs.configure(args)
    OUT.mkdir(parents=True, exist_ok=True)
    kinds = [k.strip() for k in args.dbs.split(",") if k.strip()]
    if "postgresql" in kinds and not pg_answers():
        print(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}: SQLite only")
        kinds.remove("postgresql")
    photo = make_photo()
    print(f"photo: JPEG {len(photo):,} bytes ({len(photo) / 1024 / 1024:.2f} MiB) with EXIF GPS")
    runs = [run(kind, f"{args.db_name}_{kind[:2]}", args.count, args.clients, args.workers, photo) for kind in kinds]
    print()
    print(f"{'db':<11}{'sent':>6}{'ok':>6}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'request':>11}{'rows':>7}"
          f"{'lost':>6}  goal >= {GOAL_PER_SECOND:.0f}/s, none lost")
    for r in runs:
        verdict = "OK" if r["per_second"] >= GOAL_PER_SECOND and r["lost"] == 0 else "MISSED"
        print(f"{r['db']:<11}{r['sent']:>6}{r['accepted']:>6}{r['per_second']:>8.2f}{r['post_p50_ms']:>9.0f}"
              f"{r['post_p95_ms']:>9.0f}{r['request_bytes'] / 1e6:>9.2f}MB{r['db_rows']:>7}{r['lost']:>6}  {verdict}")
    result = {"run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "goal_per_second": GOAL_PER_SECOND, "runs": runs}
    (OUT / "complaints.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwrote {OUT / 'complaints.json'}")
    return 0 if all(r["lost"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
