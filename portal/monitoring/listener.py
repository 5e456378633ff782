"""HJ 212-2017 TCP listener: data loggers connect, upload frames and get the standard's data response.

It runs as its own process (`flask --app wsgi devices listen`) beside gunicorn and the scheduler. One asyncio loop
holds the connections; frames go to `services.ingest_hj212` (the same code as POST /api/v1/monitoring/hj212) in a
small thread pool, inside an app context, committed per batch and rolled back on any exception.

Framing. A frame is ``##`` + 4-digit length + data segment + 4 hex CRC + CRLF, at most 10,011 bytes (a 9,999-byte
segment). The stream is cut at each LF: a line may hold garbage before its ``##``, and a broken frame followed by
another ``##`` is cut there (resync); lines without ``##`` are discarded. Several frames per read and frames split
across reads are normal. A line longer than the standard's maximum closes the connection. All complete frames of one
read (up to READ_SIZE bytes) form one request; `workers` dispatchers each take every request waiting (from any
connection, up to MAX_BATCH frames) into one ingest call, so a busy listener makes fewer, larger calls (one call
costs about as much as a few dozen extra frames). A batch that raises is rolled back and retried in halves until
the failing frame is alone, so one poisonous frame cannot hold back the others; a database outage is not retried (no
responses: the devices resend).

Responses, as HJ 212-2017 defines them for an upload from the field device (上传数据 → 数据应答):
- A data upload whose Flag has bit A set (``Flag & 1``: the command wants a response) that is accepted, or is a
  duplicate (same MN and QN already stored), gets a data response CN=9014: QN echoed (left out for a 2005-edition
  packet without QN), ST=91 (system interaction), the packet's PW and MN, Flag=4 (2017 edition, no response wanted)
  and an empty CP=&&&&. A duplicate is answered because its data is held: the first response was probably lost, and
  answering stops the resends.
- A rejected packet (bad CRC or length, unknown device, wrong password, malformed item, unsupported command, ...)
  gets nothing. The data response carries no result field (QnRtn and ExeRtn belong to 9011/9012, which the field
  device sends for the upper computer's commands), so any 9014 would tell the logger its data arrived. Without one,
  the logger resends ReCount times after OverTime and keeps the data for a later resend (补传): the standard's path
  for refused or lost data. Packets whose Flag bit A is clear get no response either way.
- Each rejection is logged at WARNING with its result code, MN and QN; never the password nor the raw frame.
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

log = logging.getLogger(__name__)

MAX_LINE = 2 + 4 + hj212.MAX_SEGMENT + 4 + 2  # ## + length + segment + CRC + CRLF = 10,011 bytes
READ_SIZE = 256 * 1024
MAX_BATCH = 5000  # frames per ingest call, give or take the last request taken
ANSWERED = frozenset({"accepted", "duplicate"})
STOP_GRACE_SECONDS = 30
_RAW_MN = re.compile(rb"(?:^|;)MN=([A-Za-z0-9]{1,24})(?=;|$)")
_RAW_QN = re.compile(rb"(?:^|;)QN=(\d{17})(?=;|$)")


class LineTooLong(Exception):
    """The peer sent more than MAX_LINE bytes without a line feed."""


# ---------------------------------------------------------------- framing (pure)

def _declared_length(line: bytes, pos: int) -> int | None:
    digits = line[pos + 2:pos + 6]
    return int(digits) if len(digits) == 4 and digits.isdigit() else None


def split_line(line: bytes) -> list[bytes]:
    """Candidate frames in one LF-terminated line, each ending with CRLF. Bytes before the first plausible frame
    start (``##`` + 4 digits) are garbage; a frame whose length does not reach the end of the line is cut at the
    next ``##`` so the frame after it is not lost."""
    pieces = []
    pos = line.find(b"##")
    while pos >= 0:
        length = _declared_length(line, pos)
        if length is None:  # not a frame start: resync on the next ##
            pos = line.find(b"##", pos + 1)
            continue
        rest = line[pos:].rstrip(b"\r\n")
        following = line.find(b"##", pos + 2)
        if len(rest) == length + 10 or following < 0:
            pieces.append(rest)
            break
        pieces.append(line[pos:following])
        pos = following
    return [piece + b"\r\n" for piece in pieces]


class FrameReader:
    """Accumulates a connection's bytes and returns the candidate frames of each complete line."""

    def __init__(self, max_line: int = MAX_LINE):
        self.max_line = max_line
        self.buffer = bytearray()
        self.discarded = 0  # bytes of lines without a frame

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        frames: list[bytes] = []
        start = 0
        while (end := self.buffer.find(b"\n", start)) >= 0:
            if end + 1 - start > self.max_line:
                raise LineTooLong
            line = bytes(self.buffer[start:end + 1])
            found = split_line(line)
            if not found:
                self.discarded += len(line)
            frames.extend(found)
            start = end + 1
        del self.buffer[:start]
        if len(self.buffer) > self.max_line:
            raise LineTooLong
        return frames


def header_fields(frame: bytes) -> dict[str, str]:
    """QN, PW, MN, Flag, ... of a frame that ingest accepted (so its framing and fields are valid)."""
    segment = frame[6:6 + int(frame[2:6])].decode("ascii")
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
    return hj212.build_frame(f"{head}ST=91;CN=9014;PW={fields.get('PW', '')};MN={fields.get('MN', '')};"
                             f"Flag=4;CP=&&&&")


def _raw(pattern: re.Pattern, frame: bytes) -> str | None:
    match = pattern.search(frame[6:])
    return match.group(1).decode("ascii") if match else None


def log_rejection(frame: bytes, result: dict[str, Any], peer: str) -> None:
    mn = result.get("mn") or _raw(_RAW_MN, frame)
    qn = result.get("qn") or _raw(_RAW_QN, frame)
    position = f" item={result['position']}" if result.get("position") else ""
    log.warning("HJ 212 packet rejected: %s mn=%s qn=%s%s peer=%s", result["result"], mn, qn, position, peer)


# ---------------------------------------------------------------- server

class Hj212Listener:
    """The TCP server. `run()` blocks until SIGTERM/SIGINT (or `stop()` from another thread); `ready` is set once
    the socket listens and `port` is the bound port (useful with port 0)."""

    def __init__(self, app: Flask, host: str | None = None, port: int | None = None,
                 idle_seconds: float | None = None, max_connections: int | None = None,
                 workers: int | None = None):
        config = app.config
        self.app = app
        self.host = host if host is not None else config["HJ212_LISTEN_HOST"]
        self.port = int(port if port is not None else config["HJ212_LISTEN_PORT"])
        self.idle_seconds = float(idle_seconds if idle_seconds is not None else config["HJ212_LISTEN_IDLE_SECONDS"])
        self.max_connections = int(max_connections if max_connections is not None
                                   else config["HJ212_LISTEN_MAX_CONNECTIONS"])
        self.workers = int(workers if workers is not None else config["HJ212_LISTEN_WORKERS"])
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
        dispatchers = [asyncio.create_task(self._dispatch()) for _ in range(self.workers)]
        server = await asyncio.start_server(self._handle, self.host, self.port, limit=READ_SIZE)
        self.port = server.sockets[0].getsockname()[1]
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, self._stop.set)
        log.info("HJ 212 listener on %s:%d (idle %gs, at most %d connections, %d ingest workers)", self.host,
                 self.port, self.idle_seconds, self.max_connections, self.workers)
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
        peer = "%s:%s" % tuple(writer.get_extra_info("peername") or ("?", "?"))[:2]
        task = asyncio.current_task()
        if self._stopping or len(self._busy) >= self.max_connections:
            log.warning("HJ 212 connection from %s refused: %d connections open (HJ212_LISTEN_MAX_CONNECTIONS)",
                        peer, len(self._busy))
            writer.close()
            return
        self._busy[task] = False
        try:
            await self._serve_connection(reader, writer, peer, task)
        except (ConnectionError, TimeoutError):
            pass
        except Exception:  # never let one connection take the listener down
            log.exception("HJ 212 connection from %s failed", peer)
        finally:
            self._busy.pop(task, None)
            writer.close()

    async def _serve_connection(self, reader, writer, peer: str, task: asyncio.Task) -> None:
        frames_reader = FrameReader()
        while not self._stopping:
            try:
                data = await asyncio.wait_for(reader.read(READ_SIZE), self.idle_seconds)
            except TimeoutError:
                log.info("HJ 212 connection from %s idle for %gs: closed", peer, self.idle_seconds)
                return
            if not data:
                return
            discarded = frames_reader.discarded
            try:
                frames = frames_reader.feed(data)
            except LineTooLong:
                log.warning("HJ 212 connection from %s closed: a line longer than %d bytes", peer, MAX_LINE)
                return
            if frames_reader.discarded > discarded:
                log.warning("HJ 212 connection from %s: %d bytes without a frame discarded", peer,
                            frames_reader.discarded - discarded)
            if not frames:
                continue
            self._busy[task] = True
            try:
                done = self._loop.create_future()
                self._queue.put_nowait((frames, peer, done))
                replies = await done
            finally:
                self._busy[task] = False
            if replies:
                writer.write(b"".join(replies))
                await writer.drain()

    async def _dispatch(self) -> None:
        """Take every waiting request (up to MAX_BATCH frames) and ingest them together in a worker thread."""
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0][0])
            while size < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                size += len(batch[-1][0])
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

    # ------------------------------------------------------------ ingest (worker threads)

    def ingest_requests(self, requests: list[tuple[list[bytes], str]]) -> list[list[bytes]]:
        """One ingest call for the frames of several connections; each gets its own responses back, in order."""
        replies = self.ingest([f for frames, _ in requests for f in frames],
                              [peer for frames, peer in requests for _ in frames])
        out, start = [], 0
        for frames, _ in requests:
            out.append([r for r in replies[start:start + len(frames)] if r is not None])
            start += len(frames)
        return out

    def ingest(self, frames: list[bytes], peers: list[str]) -> list[bytes | None]:
        """Store a batch of frames (committed) and return each frame's data response, or None."""
        with self.app.app_context():
            results = self._ingest_split(frames)
        replies: list[bytes | None] = []
        for frame, result, peer in zip(frames, results, peers):
            if result["result"] in ANSWERED:
                replies.append(data_response(header_fields(frame)))
            else:
                log_rejection(frame, result, peer)
                replies.append(None)
        return replies

    def _ingest_split(self, frames: list[bytes]) -> list[dict[str, Any]]:
        """One result per frame. A batch that raises is rolled back and halved until the failing frame is alone
        (it gets server_error, so no response); a deadlock is run again (commit_retrying), a database outage is not
        retried: the devices resend."""
        try:
            results = commit_retrying(lambda: services.ingest_hj212(b"".join(frames)), what="HJ 212 listener batch")
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
            return self._ingest_split(frames[:half]) + self._ingest_split(frames[half:])
        by_line = {r["line"]: r for r in results}
        return [by_line.get(n, {"result": "server_error"}) for n in range(1, len(frames) + 1)]


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        log.exception("HJ 212 listener: rollback failed")
