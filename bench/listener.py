"""Province-scale HJ 212 listener benchmark (issue 19), on PostgreSQL.

N registered devices (default 10,000), each holding one TCP connection open to the listener, send minute data
(CN 2051, --values codes, default 10) once a minute and hourly data (CN 2061) once an hour, staggered over the
minute and the hour, one frame at a time, and wait for the data response (9014). Default rate: 10,000 / 60
≈ 167 minute frames/s + 2.8 hourly frames/s ≈ 170 frames/s ≈ 1,700 values/s.

  .venv/bin/python bench/listener.py                                      # 10,000 connections, 300 s, 2 listeners
  .venv/bin/python bench/listener.py --connections 2000 --duration 60     # a short run
  .venv/bin/python bench/listener.py --listeners 1 --workers 4            # one listener process

The listeners are the real CLI (`flask --app wsgi devices listen --reuse-port`), --listeners processes sharing the
port. The devices are --generators asyncio processes (this script, spawned), with RLIMIT_NOFILE raised, connecting
from many loopback source addresses (127.77.x.y, --per-address connections each), so the listener's per-address
limits apply as in the field. All connections are opened first (--connect-rate per second), then the timed phase
runs for --duration seconds; the connections stay open until the figures are taken.

Printed: reply latency p50/p95/p99/max (goal p99 <= 1 s), frames/s and values/s achieved, values stored (database
count), listener CPU seconds (utime+stime from /proc/<pid>/stat, all listener processes) per 1,000 values, the same
for the PostgreSQL backends serving the bench database (when the server is local), the listeners' RSS and open
sockets, errors (refused or dropped connections, frames without a reply), the machine's
load (loadavg, CPU busy %) and the database size. A JSON copy goes to bench/out/listener-<time>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import dbs  # noqa: E402  (per-run database names; never drops what it did not create)

PASSWORD = "123456"
OUTLETS_PER_ENTERPRISE = 5
REPLY_TIMEOUT = 30.0
CHINA = timezone(timedelta(hours=8))
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- /proc readings

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime (fields 14 and 15)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sockets(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


def backend_cpu(app, db_name: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving the bench database (the listeners' pooled connections), when
    the server runs on this machine (/proc readable); {} otherwise."""
    import sqlalchemy as sa

    from portal.extensions import db

    with app.app_context():
        pids = list(db.session.scalars(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :n AND pid <> "
                                               "pg_backend_pid()"), {"n": db_name}))
        db.session.rollback()
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_seconds(pid)
        except OSError:
            pass
    return out


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


# ---------------------------------------------------------------- setup

def make_app(url: str):
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})


def setup(app, count: int, n_values: int) -> tuple[list[str], list[str]]:
    """Schema, reference data, count/5 enterprises with 5 wastewater outlets each, one registered device per outlet
    (keyed verifier as `devices add` makes it), COD and pH limits per outlet. Returns the MNs and the codes sent."""
    from decimal import Decimal

    import sqlalchemy as sa

    from portal.enterprises.models import Averaging, Enterprise, Outlet, OutletLimit, OutletType
    from portal.enterprises.rules import uscc_check_char
    from portal.extensions import db
    from portal.monitoring import devicekeys
    from portal.monitoring.models import Device
    from portal.reference.models import Pollutant
    from portal.reference.services import load_reference

    with app.app_context():
        db.create_all()
        load_reference()
        preferred = ["w01018", "w21003", "w21011", "w21001", "w01001", "w00000", "w01010", "w01009", "w01003",
                     "w01014", "w01019", "w20122"]
        known = set(db.session.scalars(sa.select(Pollutant.code).where(Pollutant.code.like("w%"))))
        codes = [c for c in preferred if c in known] + sorted(known - set(preferred))
        # the reference table holds 8 water codes: the rest are temperature and pressure (a01012, a01013), known
        # codes, so every value is stored clean (an unknown code would make each packet `partial`)
        codes = (codes + ["a01012", "a01013", "a01011", "a01014"])[:n_values]
        industry = db.session.execute(sa.text("SELECT code FROM industries LIMIT 1")).scalar()
        n_ent = -(-count // OUTLETS_PER_ENTERPRISE)
        ents = []
        for i in range(n_ent):
            body = f"91320826MA{i:07d}"
            ents.append({"uscc": body + uscc_check_char(body), "name": f"基准企业{i:05d}", "region_code": "320826",
                         "industry_code": industry})
        db.session.execute(sa.insert(Enterprise), ents)
        ent_ids = list(db.session.scalars(sa.select(Enterprise.id).order_by(Enterprise.id)))
        outlets = [{"enterprise_id": e, "code": f"DW{k + 1:03d}", "name": f"DW{k + 1:03d}排放口",
                    "outlet_type": OutletType.MAIN} for e in ent_ids for k in range(OUTLETS_PER_ENTERPRISE)][:count]
        db.session.execute(sa.insert(Outlet), outlets)
        outlet_rows = db.session.execute(sa.select(Outlet.id, Outlet.enterprise_id).order_by(Outlet.id)).all()
        limits = []
        for outlet_id, _ in outlet_rows:
            limits.append({"outlet_id": outlet_id, "pollutant_code": "w01018", "limit_value": Decimal(100),
                           "unit": "mg/L", "averaging": Averaging.DAILY})
            limits.append({"outlet_id": outlet_id, "pollutant_code": "w01001", "limit_min": Decimal(6),
                           "limit_max": Decimal(9), "unit": "无量纲", "averaging": Averaging.INSTANT})
        db.session.execute(sa.insert(OutletLimit), limits)
        mns = [f"MNPROV{i:06d}" for i in range(count)]
        devices = [{"mn": mn, "password_hash": devicekeys.make_verifier(mn, PASSWORD), "enterprise_id": ent_id,
                    "outlet_id": outlet_id, "protocol": "2017", "is_active": True}
                   for mn, (outlet_id, ent_id) in zip(mns, outlet_rows)]
        for start in range(0, len(devices), 2000):
            db.session.execute(sa.insert(Device), devices[start:start + 2000])
        db.session.commit()
    return mns, codes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_listeners(url: str, port: int, processes: int, workers: int, max_connections: int) -> list[subprocess.Popen]:
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_LOG_LEVEL": "ERROR"}
    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "devices", "listen", "--host", "127.0.0.1",
               "--port", str(port), "--reuse-port", "--workers", str(workers), "--max-connections",
               str(max_connections)]
    procs = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(processes)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a listener process exited at start")
            time.sleep(0.2)
    time.sleep(2)  # the other processes bind too
    return procs


# ---------------------------------------------------------------- the devices (generator processes)

def _qn(moment: datetime, seq: int) -> str:
    return moment.strftime("%Y%m%d%H%M%S") + f"{(moment.microsecond // 1000 + seq) % 1000:03d}"


def _frame(mn: str, cn: str, codes: list[str], data_time: datetime, sent: datetime, rng: random.Random) -> bytes:
    from portal.monitoring.hj212 import build_frame

    items = []
    for code in codes:
        base = 7.2 if code == "w01001" else 20.0
        avg = round(base * (0.9 + rng.random() * 0.2), 3)
        items.append(f"{code}-Min={avg * 0.98:.3f},{code}-Avg={avg},{code}-Max={avg * 1.02:.3f},{code}-Flag=N")
    segment = (f"QN={_qn(sent, 0)};ST=32;CN={cn};PW={PASSWORD};MN={mn};Flag=5;"
               f"CP=&&DataTime={data_time.strftime('%Y%m%d%H%M%S')};{';'.join(items)}&&")
    return build_frame(segment)


async def _device(mn: str, source: str, port: int, codes: list[str], duration: float, minute_offset: float,
                  hour_offset: float, state: dict) -> None:
    """One data logger: connect, wait for the start, send its frames on schedule, each after the previous reply."""
    rng = random.Random(mn)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0), limit=65536)
    except OSError:
        state["connect_errors"] += 1
        state["pending"] -= 1
        if state["pending"] == 0:
            state["connected"].set()
        return
    state["open"] += 1
    state["pending"] -= 1
    if state["pending"] == 0:
        state["connected"].set()
    try:
        await state["go"].wait()
        t0 = state["t0"]
        sends = [(t0 + minute_offset + 60 * k, "2051") for k in range(int(duration // 60) + 1)
                 if minute_offset + 60 * k < duration]
        if hour_offset < duration:
            sends.append((t0 + hour_offset, "2061"))
        sends.sort()
        for at, cn in sends:
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = datetime.now(CHINA)
            if cn == "2061":
                data_time = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
            else:
                data_time = now.replace(second=0, microsecond=0)
            frame = _frame(mn, cn, codes, data_time.replace(tzinfo=None), now, rng)
            started = time.perf_counter()
            writer.write(frame)
            await writer.drain()
            state["frames"] += 1
            state["values"] += len(codes)
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\r\n"), REPLY_TIMEOUT)
            except TimeoutError:
                state["no_reply"] += 1
                continue
            except (asyncio.IncompleteReadError, ConnectionError):
                state["no_reply"] += 1
                state["dropped"] += 1
                return
            state["latencies"].append(time.perf_counter() - started)
            if b"CN=9014" not in line:
                state["bad_reply"] += 1
        await state["close"].wait()
        if reader.at_eof():
            state["dropped"] += 1
    except ConnectionError:
        state["dropped"] += 1
    finally:
        state["open"] -= 1
        writer.close()


async def _generate(devices: list[tuple[str, str, float, float]], port: int, codes: list[str], duration: float,
                    connect_rate: float, conn) -> dict:
    state = {"frames": 0, "values": 0, "latencies": [], "no_reply": 0, "dropped": 0, "bad_reply": 0,
             "connect_errors": 0, "open": 0, "pending": len(devices), "go": asyncio.Event(),
             "close": asyncio.Event(), "connected": asyncio.Event(), "t0": 0.0}
    loop = asyncio.get_running_loop()
    tasks = []
    step = max(1, int(connect_rate / 20))
    for i, (mn, source, minute_offset, hour_offset) in enumerate(devices):
        tasks.append(asyncio.create_task(_device(mn, source, port, codes, duration, minute_offset, hour_offset,
                                                 state)))
        if (i + 1) % step == 0:
            await asyncio.sleep(0.05)  # connect_rate connections per second
    await state["connected"].wait()
    conn.send({"connected": state["open"], "connect_errors": state["connect_errors"]})
    state["t0"] = await loop.run_in_executor(None, conn.recv)
    state["go"].set()
    await loop.run_in_executor(None, conn.recv)  # "sample": the main process reads /proc while all is open
    conn.send({"held": state["open"]})
    await loop.run_in_executor(None, conn.recv)  # "close"
    held = state["open"]
    state["close"].set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {k: v for k, v in state.items() if k not in ("go", "close", "pending", "connected", "t0")} | {
        "held_at_end": held}


def generator_main(devices, port, codes, duration, connect_rate, conn) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per device
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    result = asyncio.run(_generate(devices, port, codes, duration, connect_rate, conn))
    conn.send(result)


# ---------------------------------------------------------------- main

def source_address(index: int, per_address: int) -> str:
    n = index // per_address
    return f"127.77.{n // 250}.{n % 250 + 1}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10000, help="devices, one open connection each")
    parser.add_argument("--duration", type=float, default=300, help="seconds of sending after all are connected")
    parser.add_argument("--listeners", type=int, default=2, help="listener processes sharing the port")
    parser.add_argument("--workers", type=int, default=4, help="ingest threads per listener process")
    parser.add_argument("--generators", type=int, default=2, help="device processes (asyncio)")
    parser.add_argument("--per-address", type=int, default=20, help="devices per loopback source address")
    parser.add_argument("--values", type=int, default=10, help="codes per frame")
    parser.add_argument("--connect-rate", type=float, default=1000, help="new connections per second")
    dbs.add_arguments(parser, "listener")
    args = parser.parse_args()
    dbs.configure(args)
    if not dbs.pg_answers():
        raise SystemExit("PostgreSQL does not answer on 127.0.0.1:5432")
    started = time.time()
    url = dbs.create("postgresql", args.db_name)
    app = make_app(url)
    mns, codes = setup(app, args.connections, args.values)
    print(f"setup: {len(mns)} devices, {len(codes)} codes per frame, {time.time() - started:.1f} s", flush=True)
    port = free_port()
    listeners = start_listeners(url, port, args.listeners, args.workers, args.connections + 100)
    rng = random.Random(19)
    devices = [(mn, source_address(i, args.per_address), rng.uniform(0, 60), rng.uniform(0, 3600))
               for i, mn in enumerate(mns)]
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    try:
        for g in range(args.generators):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=generator_main, args=(devices[g::args.generators], port, codes, args.duration,
                                                            args.connect_rate / args.generators, child))
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        connect_started = time.time()
        hello = [p.recv() for p in pipes]
        connected = sum(h["connected"] for h in hello)
        print(f"connected: {connected} of {len(mns)} in {time.time() - connect_started:.1f} s "
              f"({sum(h['connect_errors'] for h in hello)} refused)", flush=True)
        cpu0 = {p.pid: cpu_seconds(p.pid) for p in listeners}
        db0 = backend_cpu(app, args.db_name)
        machine0, load0 = machine_cpu(), loadavg()
        t0 = time.time() + 1
        for p in pipes:
            p.send(t0)
        time.sleep(max(0.0, t0 + args.duration + 2 - time.time()))
        for p in pipes:  # let the last replies arrive
            p.send("sample")
        time.sleep(min(REPLY_TIMEOUT, 5))
        held = sum(p.recv()["held"] for p in pipes)
        cpu1 = {p.pid: cpu_seconds(p.pid) for p in listeners}
        db1 = backend_cpu(app, args.db_name)
        machine1, load1 = machine_cpu(), loadavg()
        rss = {p.pid: rss_mb(p.pid) for p in listeners}
        open_sockets = {p.pid: sockets(p.pid) for p in listeners}
        wall = time.time() - t0
        for p in pipes:
            p.send("close")
        results = [p.recv() for p in pipes]
        for proc in procs:
            proc.join(30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for p in listeners:
            p.send_signal(signal.SIGTERM)
        for p in listeners:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()
    db_cpu = sum(db1[pid] - db0.get(pid, 0.0) for pid in db1)
    report(args, app, url, mns, codes, results, connected, held, cpu0, cpu1, rss, open_sockets, machine0, machine1,
           load0, load1, wall, listeners, db_cpu)


def report(args, app, url, mns, codes, results, connected, held, cpu0, cpu1, rss, open_sockets, machine0, machine1,
           load0, load1, wall, listeners, db_cpu) -> None:
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.monitoring.models import MonitoringValue, ReceivedPacket

    latencies = sorted(v for r in results for v in r["latencies"])
    frames = sum(r["frames"] for r in results)
    values = sum(r["values"] for r in results)
    answered = len(latencies)
    cpu = sum(cpu1[pid] - cpu0[pid] for pid in cpu0)
    with app.app_context():
        stored_values = db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue))
        stored_packets = db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedPacket))
        size = db.session.execute(sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
    busy = (machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]) * 100
    figures = {
        "connections": len(mns), "connected": connected, "held_after_run": held, "listeners": args.listeners,
        "workers": args.workers, "generators": args.generators, "per_address": args.per_address,
        "source_addresses": -(-len(mns) // args.per_address), "duration_s": args.duration,
        "codes_per_frame": len(codes),
        "frames_sent": frames, "frames_answered": answered, "values_sent": values,
        "frames_per_s": round(frames / args.duration, 1), "values_per_s": round(values / args.duration, 1),
        "values_stored": stored_values, "packets_stored": stored_packets,
        "latency_ms": {q: round(percentile(latencies, p) * 1000, 1) for q, p in
                       (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))},
        "latency_mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "listener_cpu_s": round(cpu, 2), "listener_cpu_s_per_1000_values": round(cpu / max(1, values) * 1000, 3),
        "database_backend_cpu_s": round(db_cpu, 2),
        "database_backend_cpu_s_per_1000_values": round(db_cpu / max(1, values) * 1000, 3),
        "listener_rss_mb": {str(k): round(v, 1) for k, v in rss.items()},
        "listener_sockets": {str(k): v for k, v in open_sockets.items()},
        "errors": {"connect_refused": len(mns) - connected, "dropped": sum(r["dropped"] for r in results),
                   "no_reply": sum(r["no_reply"] for r in results), "bad_reply": sum(r["bad_reply"] for r in results)},
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load0, "loadavg_after": load1,
                    "cpu_busy_percent": round(busy, 1)},
        "database": {"name": args.db_name, "size": size}, "wall_s": round(wall, 1),
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    lat = figures["latency_ms"]
    print(f"\n{len(mns)} devices on {args.listeners} listener process(es) x {args.workers} workers: "
          f"{figures['frames_per_s']} frames/s, {figures['values_per_s']} values/s for {args.duration:g} s; "
          f"reply p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms (goal <= 1000), max {lat['max']} ms; "
          f"CPU per 1,000 values: listeners {figures['listener_cpu_s_per_1000_values']} s, database backends "
          f"{figures['database_backend_cpu_s_per_1000_values']} s; RSS {sum(rss.values()):.0f} MB; held {held} "
          f"connections; "
          f"errors {figures['errors']}; load {load0} -> {load1}, machine CPU busy {busy:.0f}% of {os.cpu_count()}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"listener-{datetime.now():%Y%m%d-%H%M%S}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
