"""A real SMTP server on a free port for fault tests: counts the messages it accepts, by Subject.

A message counts as delivered only when the server can still answer 250 to its DATA (RFC 5321 §4.1.1.4: the
transaction completes with that reply); a client that died before the reply delivered nothing. `hold_at` makes
the server stop before accepting the n-th message and wait until release(), so a test can kill the sender exactly
while a message is in flight.
"""
from __future__ import annotations

import select
import socket
import socketserver
import threading
import time
from email import message_from_bytes
from email.header import decode_header, make_header


class SmtpSink:
    def __init__(self, delay: float = 0.01, hold_at: int | None = None):
        self.delivered: list[str] = []
        self.dropped: list[str] = []
        self.delay, self.hold_at = delay, hold_at
        self.holding, self.released = threading.Event(), threading.Event()
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                sink._session(self)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _client_gone(sock: socket.socket) -> bool:
        try:
            readable, _, _ = select.select([sock], [], [], 0.2)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _session(self, h) -> None:
        h.wfile.write(b"220 sink ESMTP\r\n")
        while True:
            line = h.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                h.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                h.wfile.write(b"221 bye\r\n")
                return
            elif verb == b"DATA":
                h.wfile.write(b"354 go ahead\r\n")
                chunks = []
                while (chunk := h.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                subject = str(make_header(decode_header(message_from_bytes(b"".join(chunks))["Subject"] or "")))
                with self.lock:
                    hold = self.hold_at is not None and len(self.delivered) + 1 == self.hold_at
                if hold:
                    self.holding.set()
                    self.released.wait(60)
                    self.hold_at = None
                time.sleep(self.delay)
                if self._client_gone(h.connection):
                    self.dropped.append(subject)
                    return
                with self.lock:
                    self.delivered.append(subject)
                h.wfile.write(b"250 queued\r\n")
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                h.wfile.write(b"250 OK\r\n")
