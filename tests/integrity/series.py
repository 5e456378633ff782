"""Hand-built hourly series for the integrity rule tests: a clean base with noise and a daily cycle, and helpers."""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

from portal.integrity.rules import Series

T0 = datetime(2026, 10, 31, 16, tzinfo=timezone.utc)  # 2026-11-01 00:00 Asia/Shanghai


def clean(hours: int = 24 * 30, level: float = 40.0, noise: float = 0.08, seed: int = 1,
          start: datetime = T0) -> Series:
    """A plant discharging around `level` with a daily cycle (±15 %) and multiplicative noise."""
    rnd = random.Random(seed)
    values = [round(level * (1 + 0.15 * math.sin(2 * math.pi * (i % 24) / 24)) * (1 + rnd.gauss(0, noise)), 2)
              for i in range(hours)]
    return Series(start, values)


def copy(s: Series) -> Series:
    return Series(s.start, list(s.values), list(s.flags))


def at(s: Series, i: int) -> datetime:
    return s.start + timedelta(hours=i)
