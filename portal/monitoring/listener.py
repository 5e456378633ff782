"""HJ 212-2017 TCP listener: data loggers connect, upload frames and get the standard's data response.

It runs as its own process (`flask --app wsgi devices listen`) beside gunicorn and the scheduler. One asyncio loop
holds the connections; frames go to `services.ingest_hj212` (the same code as POST /api/v1/monitoring/hj212) in a
small thread pool, inside an app context, committed per batch and rolled back on any exception.

Framing. A frame is ``##`` + 4-digit length + data segment + 4 hex CRC, then CRLF, at most 10,011 bytes. The stream
is cut by the length field, not by CRLF: a complete frame is taken as soon as its last CRC byte arrives, so a logger
that omits CRLF and waits is answered at once (DOMAIN §5.10 rule 5). Bytes before a ``##`` + 4 digits are garbage
(counted, dropped); a frame whose declared span holds a line feed, or whose CRC does not match while another ``##``
starts inside its span, is cut there (resync) and refused, so the frame after it survives. A partial frame that does
not complete within FRAME_SECONDS closes the connection (slow-frame timeout); a connection holds at most one partial
frame plus one read in memory. All complete frames of one read form one request; one dispatcher takes every
request waiting (from any connection, up to MAX_BATCH frames) and those arriving within BATCH_SECONDS of the first
into one ingest call (one commit); at most `workers` calls run at once in the thread pool. The cost of a call is
mostly per call, so a busy listener makes fewer, larger calls and its CPU per value falls as the load rises.
Several listener processes may share the port (SO_REUSEPORT, `--reuse-port`): the kernel spreads new connections
over them; each holds its own connections, per-address counts and guard (docs/deployment.md).
A batch that raises is rolled back and retried in halves until the failing frame is alone, so
one poisonous frame cannot hold back the others; a database outage is not retried (no responses: the devices resend).

Limits per address (guard.py): at most MAX_PER_ADDRESS connections, a frames/s budget (reading waits for tokens),
and an address with too many failed authentications is disconnected and refused for a while. One address cannot
use up the listener: MAX_PER_ADDRESS is well below MAX_CONNECTIONS.

Responses, as HJ 212-2017 defines them for an upload from the field device (上传数据 → 数据应答):
- A data upload whose Flag has bit A set (``Flag & 1``: the command wants a response) that is accepted (also
  `partial`: its clear items are stored), or is a duplicate (same MN, QN and PNO already stored), gets, after the
  commit, a data response CN=9014: QN echoed (left out for a 2005-edition
  packet without QN), ST=91 (system interaction), the packet's PW and MN, Flag=4 (2017 edition, no response wanted)
  and an empty CP=&&&&. A duplicate is answered because its data is held: the first response was probably lost, and
  answering stops the resends.
- A rejected packet (bad CRC or length, unknown device, wrong password, malformed item, unsupported command, ...)
  gets nothing. The data response carries no result field (QnRtn and ExeRtn belong to 9011/9012, which the field
  device sends for the upper computer's commands), so any 9014 would tell the logger its data arrived. Without one,
  the logger resends ReCount times after OverTime and keeps the data for a later resend (补传): the standard's path
  for refused or lost data. Packets whose Flag bit A is clear get no response either way.
- Each rejection is logged at WARNING with its reason, MN and QN (never the password nor the raw frame) and kept in
  monitoring_rejections with the peer address.
"""
from __future__ import annotations

import asyncio
import logging
import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import exc as sa_exc

from portal.core.transactions import commit_retrying
from portal.extensions import db
from portal.monitoring import hj212, services
from portal.monitoring.guard import AddressGuard
from portal.monitoring.guard import from_config as guard_from_config

log = logging.getLogger(__name__)

MAX_LINE = 2 + 4 + hj212.MAX_SEGMENT + 4 + 2  # ## + length + segment + CRC + CRLF = 10,011 bytes
READ_SIZE = 256 * 1024
MAX_BATCH = 5000  # frames per ingest call, give or take the last request taken
BACKLOG = 1024  # pending connections (loggers reconnecting together after an outage)
BATCH_SECONDS = 0.1  # a batch also takes what arrives this long after its first frame (one commit for many)
ANSWERED = frozenset({"accepted", "partial", "duplicate"})
FRAME_SECONDS = 30.0  # a started frame must complete within this (slow-frame timeout)
MAX_PER_ADDRESS = 100  # connections per peer address
STOP_GRACE_SECONDS = 30
_RAW_MN = re.compile(rb"(?:^|;)MN=([A-Za-z0-9_-]{1,24})(?=;|$)")
_RAW_QN = re.compile(rb"(?:^|;)QN=(\d{17})(?=;|$)")


class LineTooLong(Exception):
    """Kept for callers of the earlier line-based reader; the length-based reader never raises it."""


# ---------------------------------------------------------------- framing (pure)

def _declared_length(data: bytes | bytearray, pos: int) -> int | None:
    digits = bytes(data[pos + 2:pos + 6])
    return int(digits) if len(digits) == 4 and digits.isdigit() else None


def _crc_matches(frame: bytes) -> bool:
    length = int(frame[2:6])
    try:
        return int(frame[6 + length:10 + length], 16) == hj212.crc16(frame[6:6 + length])
    except ValueError:
        return False


class FrameReader:
    """Accumulates a connection's bytes and returns its complete frames, cut by their length field (each returned
    with CRLF, as the parser takes it). `pending` tells whether a partial frame is waiting (slow-frame timeout)."""

    def __init__(self, max_line: int = MAX_LINE):
        self.max_line = max_line
        self.buffer = bytearray()
        self.discarded = 0  # bytes outside any frame (CRLF terminators excepted)

    @property
    def pending(self) -> bool:
        return bool(self.buffer)

    def _drop(self, count: int) -> None:
        chunk = bytes(self.buffer[:count])
        self.discarded += len(chunk) if chunk.strip(b"\r\n") else 0
        del self.buffer[:count]

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        frames: list[bytes] = []
        buf = self.buffer
        while buf:
            pos = buf.find(b"##")
            if pos < 0:  # keep a trailing '#' that may start the next frame
                self._drop(len(buf) - 1 if buf.endswith(b"#") else len(buf))
                break
            if pos:
                self._drop(pos)
                continue
            if len(buf) < 6:
                break
            length = _declared_length(buf, 0)
            if length is None:  # not a frame start: resync on the next ##
                self._drop(1)
                continue
            total = 6 + length + 4
            window = bytes(buf[:min(total, len(buf))])
            lf = window.find(b"\n", 6)
            if lf >= 0:  # a line ended inside the declared span: a cut frame, refused, the rest survives
                frames.append(window[:lf + 1].rstrip(b"\r\n") + b"\r\n")
                del buf[:lf + 1]
                continue
            following = window.find(b"##", 6)
            if len(buf) < total:
                # wait for the rest, unless a later frame start already holds a complete good frame (a truncated
                # frame followed by another one without CRLF)
                if following >= 0 and self._complete_good_frame_at(following):
                    frames.append(window[:following] + b"\r\n")
                    del buf[:following]
                    continue
                break
            frame = window
            if not _crc_matches(frame) and following >= 0 and self._complete_good_frame_at(following):
                frames.append(frame[:following] + b"\r\n")
                del buf[:following]
                continue
            del buf[:total]
            if buf[:2] == b"\r\n":
                del buf[:2]
            elif buf[:1] == b"\n":
                del buf[:1]
            frames.append(frame + b"\r\n")
        return frames

    def _complete_good_frame_at(self, pos: int) -> bool:
        length = _declared_length(self.buffer, pos)
        if length is None or len(self.buffer) < pos + 10 + length:
            return False
        return _crc_matches(bytes(self.buffer[pos:pos + 10 + length]))


def split_line(line: bytes) -> list[bytes]:
    """The frames of one LF-terminated line (the reader applied to one line)."""
    reader = FrameReader()
    frames = reader.feed(line)
    if reader.buffer:  # the line ended: what remains is a cut frame
        rest = bytes(reader.buffer)
        start = rest.find(b"##")
        if start >= 0:
            frames.append(rest[start:].rstrip(b"\r\n") + b"\r\n")
    return frames


def header_fields(frame: bytes) -> dict[str, str]:
    """QN, PW, MN, Flag, ... of a frame that ingest accepted (so its framing and fields are valid)."""
    segment = frame[6:6 + int(frame[2:6])].decode("utf-8", "replace")  # 2025 segments are UTF-8
    start = segment.find("CP=&&")
    if start >= 0:
        end = segment.find("&&", start + 5)
        segment = segment[:start] + segment[end + 2:] if end >= 0 else segment[:start]
    return dict(part.partition("=")[::2] for part in segment.split(";") if "=" in part)


def data_response(fields: dict[str, str]) -> bytes | None:
    """The CN=9014 data response for an upload that asks for one (Flag bit A), else None."""
    flag = fields.get("Flag", "")
    if not flag.isdigit() or not int(flag) & 1:
        return None
    qn = fields.get("QN")
    head = f"QN={qn};" if qn else ""
    version = int(flag) >> 2 if len(flag) <= 9 else 1
    reply_flag = 8 if version == 2 else 4  # the device's edition (2025: 000010), no response wanted
    return hj212.build_frame(f"{head}ST=91;CN=9014;PW={fields.get('PW', '')};MN={fields.get('MN', '')};"
                             f"Flag={reply_flag};CP=&&&&")


def _raw(pattern: re.Pattern, frame: bytes) -> str | None:
    match = pattern.search(frame[6:])
    return match.group(1).decode("ascii") if match else None


def log_rejection(frame: bytes, result: dict[str, Any], peer: str) -> None:
    mn = result.get("mn") or _raw(_RAW_MN, frame)
    qn = result.get("qn") or _raw(_RAW_QN, frame)
    position = f" item={result['position']}" if result.get("position") else ""
    log.warning("HJ 212 packet rejected: %s mn=%s qn=%s%s peer=%s", result.get("reason") or result["result"], mn,
                qn, position, peer)


# ---------------------------------------------------------------- server

class Hj212Listener:
    """The TCP server. `run()` blocks until SIGTERM/SIGINT (or `stop()` from another thread); `ready` is set once
    the socket listens and `port` is the bound port (useful with port 0)."""

    def __init__(self, app: Flask, host: str | None = None, port: int | None = None,
                 idle_seconds: float | None = None, max_connections: int | None = None,
                 workers: int | None = None, max_per_address: int | None = None,
                 frame_seconds: float | None = None, guard: AddressGuard | None = None,
                 reuse_port: bool | None = None, batch_seconds: float | None = None):
        config = app.config
        self.app = app
        self.host = host if host is not None else config["HJ212_LISTEN_HOST"]
        self.port = int(port if port is not None else config["HJ212_LISTEN_PORT"])
        self.idle_seconds = float(idle_seconds if idle_seconds is not None else config["HJ212_LISTEN_IDLE_SECONDS"])
        self.max_connections = int(max_connections if max_connections is not None
                                   else config["HJ212_LISTEN_MAX_CONNECTIONS"])
        self.workers = int(workers if workers is not None else config["HJ212_LISTEN_WORKERS"])
        self.batch_seconds = float(batch_seconds if batch_seconds is not None
                                   else config.get("HJ212_LISTEN_BATCH_SECONDS", BATCH_SECONDS))
        self.max_per_address = int(max_per_address if max_per_address is not None
                                   else config.get("HJ212_LISTEN_MAX_PER_ADDRESS", MAX_PER_ADDRESS))
        self.frame_seconds = float(frame_seconds if frame_seconds is not None
                                   else config.get("HJ212_LISTEN_FRAME_SECONDS", FRAME_SECONDS))
        self.guard = guard or guard_from_config(config)
        # several listener processes on one port (SO_REUSEPORT): the kernel spreads new connections over them
        self.reuse_port = bool(reuse_port if reuse_port is not None else config.get("HJ212_LISTEN_REUSE_PORT", False))
        self._per_address: dict[str, int] = {}
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = False
        self._executor: ThreadPoolExecutor | None = None
        self._queue: asyncio.Queue | None = None
        self._busy: dict[asyncio.Task, bool] = {}

    def run(self, install_signals: bool = True) -> None:
        asyncio.run(self._serve(install_signals))

    def stop(self) -> None:
        """Ask a running listener to stop (safe from any thread or a signal handler)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def _serve(self, install_signals: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="hj212-ingest")
        self._queue = asyncio.Queue()
        dispatchers = [asyncio.create_task(self._dispatch())]
        raise_fd_limit(self.max_connections + 200)
        server = await asyncio.start_server(self._handle, self.host, self.port, limit=READ_SIZE,
                                            reuse_port=self.reuse_port or None, backlog=BACKLOG)
        self.port = server.sockets[0].getsockname()[1]
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, self._stop.set)
        log.info("HJ 212 listener on %s:%d (idle %gs, at most %d connections, %d ingest workers%s)", self.host,
                 self.port, self.idle_seconds, self.max_connections, self.workers,
                 ", port shared (SO_REUSEPORT)" if self.reuse_port else "")
        self.ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._shutdown(server, dispatchers)

    async def _shutdown(self, server: asyncio.Server, dispatchers: list[asyncio.Task]) -> None:
        """Stop accepting, close idle connections, let busy ones finish (commit and answer) their batch."""
        self._stopping = True
        server.close()
        for task, busy in list(self._busy.items()):
            if not busy:
                task.cancel()
        if self._busy:
            done, pending = await asyncio.wait(list(self._busy), timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
        for task in dispatchers:
            task.cancel()
        await asyncio.gather(*dispatchers, return_exceptions=True)
        self._executor.shutdown(wait=True)
        log.info("HJ 212 listener stopped")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername") or ("?", "?")
        address = str(peername[0])
        peer = "%s:%s" % tuple(peername)[:2]
        task = asyncio.current_task()
        if self._stopping or len(self._busy) >= self.max_connections:
            log.warning("HJ 212 connection from %s refused: %d connections open (HJ212_LISTEN_MAX_CONNECTIONS)",
                        peer, len(self._busy))
            writer.close()
            return
        if self._per_address.get(address, 0) >= self.max_per_address:
            log.warning("HJ 212 connection from %s refused: %d connections from this address "
                        "(HJ212_LISTEN_MAX_PER_ADDRESS)", peer, self._per_address[address])
            writer.close()
            return
        if self.guard.blocked(address):
            log.warning("HJ 212 connection from %s refused: too many failed authentications", peer)
            writer.close()
            return
        self._busy[task] = False
        self._per_address[address] = self._per_address.get(address, 0) + 1
        try:
            await self._serve_connection(reader, writer, peer, address, task)
        except (ConnectionError, TimeoutError):
            pass
        except Exception:  # never let one connection take the listener down
            log.exception("HJ 212 connection from %s failed", peer)
        finally:
            self._busy.pop(task, None)
            left = self._per_address.get(address, 1) - 1
            if left > 0:
                self._per_address[address] = left
            else:
                self._per_address.pop(address, None)
            writer.close()

    async def _serve_connection(self, reader, writer, peer: str, address: str, task: asyncio.Task) -> None:
        frames_reader = FrameReader()
        frame_started: float | None = None
        while not self._stopping:
            timeout = self.idle_seconds
            if frame_started is not None:  # a partial frame is waiting: it must complete in time
                timeout = min(timeout, max(0.0, frame_started + self.frame_seconds - self._loop.time()))
            try:
                data = await asyncio.wait_for(reader.read(READ_SIZE), timeout)
            except TimeoutError:
                if frame_started is not None:
                    log.warning("HJ 212 connection from %s closed: a frame did not complete within %gs", peer,
                                self.frame_seconds)
                else:
                    log.info("HJ 212 connection from %s idle for %gs: closed", peer, self.idle_seconds)
                return
            if not data:
                return
            discarded = frames_reader.discarded
            frames = frames_reader.feed(data)
            if frames_reader.discarded > discarded:
                log.warning("HJ 212 connection from %s: %d bytes without a frame discarded", peer,
                            frames_reader.discarded - discarded)
            if not frames_reader.pending:
                frame_started = None
            elif frame_started is None or frames:
                frame_started = self._loop.time()
            if not frames:
                continue
            wait = self.guard.take(address, len(frames))
            if wait == float("inf"):
                log.warning("HJ 212 connection from %s closed: %d frames in one read exceed the frame budget", peer,
                            len(frames))
                return
            if wait > 0:  # back-pressure: this address's budget is spent; others are not slowed
                await asyncio.sleep(wait)
            self._busy[task] = True
            try:
                done = self._loop.create_future()
                self._queue.put_nowait((frames, peer, done))
                replies, failures = await done
            finally:
                self._busy[task] = False
            if replies:
                writer.write(b"".join(replies))
                await writer.drain()
            if failures and self.guard.failed(address, failures):
                log.warning("HJ 212 connection from %s closed: too many failed authentications", peer)
                return

    async def _dispatch(self) -> None:
        """Form batches and ingest each in a worker thread, at most `workers` at a time. A batch is every request
        waiting (up to MAX_BATCH frames) plus those arriving within `batch_seconds` of its first one: one commit
        for many frames (the cost of an ingest call is mostly per call), bought with a bounded wait."""
        slots = asyncio.Semaphore(self.workers)
        running: set[asyncio.Task] = set()
        try:
            while True:
                # a slot first: while every worker is busy, requests wait in the queue and the next batch takes them
                await slots.acquire()
                try:
                    batch = [await self._queue.get()]
                except asyncio.CancelledError:
                    slots.release()
                    raise
                size = len(batch[0][0])
                deadline = self._loop.time() + self.batch_seconds
                while size < MAX_BATCH:
                    if self._queue.empty():
                        remaining = deadline - self._loop.time()
                        if remaining <= 0 or self._stopping:
                            break
                        try:
                            batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                        except TimeoutError:
                            break
                    else:
                        batch.append(self._queue.get_nowait())
                    size += len(batch[-1][0])
                task = asyncio.create_task(self._ingest_batch(batch, slots))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            for task in running:
                task.cancel()

    async def _ingest_batch(self, batch: list, slots: asyncio.Semaphore) -> None:
        try:
            try:
                replies = await self._loop.run_in_executor(self._executor, self.ingest_requests,
                                                           [(frames, peer) for frames, peer, _ in batch])
            except Exception as exc:  # the worker itself failed: the connections close, the devices resend
                replies = [exc] * len(batch)
            for (_, _, done), reply in zip(batch, replies):
                if done.done():
                    continue
                if isinstance(reply, Exception):
                    done.set_exception(reply)
                else:
                    done.set_result(reply)
        finally:
            slots.release()

    # ------------------------------------------------------------ ingest (worker threads)

    def ingest_requests(self, requests: list[tuple[list[bytes], str]]) -> list[tuple[list[bytes], int]]:
        """One ingest call for the frames of several connections; each gets its own responses back, in order,
        with its count of unauthorised frames (for the per-address guard)."""
        replies, results = self.ingest([f for frames, _ in requests for f in frames],
                                       [peer for frames, peer in requests for _ in frames])
        out, start = [], 0
        for frames, _ in requests:
            part = slice(start, start + len(frames))
            out.append(([r for r in replies[part] if r is not None],
                        sum(1 for r in results[part] if r.get("result") == "unauthorised")))
            start += len(frames)
        return out

    def ingest(self, frames: list[bytes], peers: list[str]) -> tuple[list[bytes | None], list[dict[str, Any]]]:
        """Store a batch of frames (committed) and return each frame's data response, or None, and the results."""
        with self.app.app_context():
            results = self._ingest_split(frames, [p.rpartition(":")[0] for p in peers])
        replies: list[bytes | None] = []
        for frame, result, peer in zip(frames, results, peers):
            if result["result"] in ANSWERED:
                replies.append(data_response(header_fields(frame)))
            else:
                log_rejection(frame, result, peer)
                replies.append(None)
        return replies, results

    def _ingest_split(self, frames: list[bytes], addresses: list[str]) -> list[dict[str, Any]]:
        """One result per frame. A batch that raises is rolled back and halved until the failing frame is alone
        (it gets server_error, so no response); a deadlock is run again (commit_retrying), a database outage is not
        retried: the devices resend."""
        try:
            results = commit_retrying(lambda: services.ingest_hj212(b"".join(frames), addresses=addresses,
                                                                    channel="tcp"),
                                      what="HJ 212 listener batch")
        except Exception as exc:
            _rollback()
            unavailable = isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)) or getattr(
                exc, "connection_invalidated", False)
            if unavailable or len(frames) == 1:
                log.exception("HJ 212 batch of %d frame(s) failed and was rolled back", len(frames))
                return [{"result": "server_error"}] * len(frames)
            log.warning("HJ 212 batch of %d frames failed (%s); retrying it in halves", len(frames),
                        type(exc).__name__)
            half = len(frames) // 2
            return (self._ingest_split(frames[:half], addresses[:half])
                    + self._ingest_split(frames[half:], addresses[half:]))
        by_line = {r["line"]: r for r in results}
        return [by_line.get(n, {"result": "server_error"}) for n in range(1, len(frames) + 1)]


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit (soft, up to the hard limit) so it can hold `wanted` sockets; returns
    the limit in force (a warning is logged when it stays below `wanted`: raise the hard limit, e.g. LimitNOFILE=)."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < wanted:
        log.warning("HJ 212 listener: the open-file limit %d is below the %d sockets it may hold", soft, wanted)
    return soft


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        log.exception("HJ 212 listener: rollback failed")
