"""Per-address limits for the HJ 212 channel (HTTP endpoint and TCP listener), in process memory.

- Failed authentications: more than `max_failures` within `window` seconds blocks the address for `block_seconds`
  (the endpoint answers 429, the listener closes its connections and refuses new ones). Guessing MNs or passwords
  from one address is cut off after a few dozen tries; other addresses are not affected.
- Frames per second: a token bucket per address (`rate` frames/s, `burst` at most); the listener waits for tokens
  before reading more from that address's connections (back-pressure, nothing dropped), the endpoint refuses a body
  with more lines than the bucket holds.
Entries are bounded (`max_entries`, least recently used dropped); thread-safe (the listener's workers and gunicorn
threads share one instance per process). The HTTP endpoint's guard follows HJ212_GUARD_ENABLED, by default the
limiter's switch RATELIMIT_ENABLED (off in the test configuration, like the limiter; tests of the guard install
their own); the listener's guard is always on.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Entry:
    failures: int = 0
    window_start: float = 0.0
    blocked_until: float = 0.0
    tokens: float = 0.0
    refilled: float = 0.0


class AddressGuard:
    def __init__(self, max_failures: int = 20, window: float = 60.0, block_seconds: float = 300.0,
                 rate: float = 50.0, burst: float = 2000.0, max_entries: int = 100_000, clock=time.monotonic,
                 enabled: bool = True):
        self.enabled = enabled
        self.max_failures, self.window, self.block_seconds = max_failures, window, block_seconds
        self.rate, self.burst, self.max_entries = rate, burst, max_entries
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def _entry(self, address: str, now: float) -> _Entry:
        entry = self._entries.get(address)
        if entry is None:
            entry = self._entries[address] = _Entry(window_start=now, tokens=self.burst, refilled=now)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(address)
        return entry

    def blocked(self, address: str) -> bool:
        if not self.enabled:
            return False
        with self._lock:
            entry = self._entries.get(address)
            return entry is not None and entry.blocked_until > self.clock()

    def failed(self, address: str, count: int = 1) -> bool:
        """Count failed authentications; True when the address is (now) blocked."""
        if count <= 0 or not self.enabled:
            return self.blocked(address)
        with self._lock:
            now = self.clock()
            entry = self._entry(address, now)
            if now - entry.window_start > self.window:
                entry.failures, entry.window_start = 0, now
            entry.failures += count
            if entry.failures > self.max_failures:
                entry.blocked_until = now + self.block_seconds
            return entry.blocked_until > now

    def take(self, address: str, frames: int) -> float:
        """Take `frames` tokens; returns 0 when allowed now, else the seconds to wait (the tokens are taken anyway,
        so the caller waits and proceeds). More frames than the burst are never allowed: float('inf')."""
        if not self.enabled:
            return 0.0
        if frames > self.burst:
            return float("inf")
        with self._lock:
            now = self.clock()
            entry = self._entry(address, now)
            entry.tokens = min(self.burst, entry.tokens + (now - entry.refilled) * self.rate)
            entry.refilled = now
            entry.tokens -= frames
            return 0.0 if entry.tokens >= 0 else -entry.tokens / self.rate


def from_config(config, enabled: bool = True) -> AddressGuard:
    return AddressGuard(enabled=enabled, max_failures=int(config.get("HJ212_MAX_AUTH_FAILURES", 20)),
                        window=float(config.get("HJ212_AUTH_FAILURE_WINDOW_SECONDS", 60)),
                        block_seconds=float(config.get("HJ212_AUTH_BLOCK_SECONDS", 300)),
                        rate=float(config.get("HJ212_FRAMES_PER_SECOND", 50)),
                        burst=float(config.get("HJ212_FRAME_BURST", 10000)))


def for_app(app) -> AddressGuard:
    """The process's guard for an app (created on first use)."""
    guard = app.extensions.get("hj212_guard")
    if guard is None:
        enabled = app.config.get("HJ212_GUARD_ENABLED", app.config.get("RATELIMIT_ENABLED", True))
        guard = app.extensions["hj212_guard"] = from_config(app.config, enabled=bool(enabled))
    return guard
