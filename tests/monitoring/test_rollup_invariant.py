"""Roll-ups always equal a recomputation from the stored raw values, whatever the batches hold: repeated keys inside
a batch and across batches, flagged and empty values, min/max and converted values, periods that do not feed the
roll-ups, China-local day and month boundaries. The batch result (inserted rows, duplicate count, new totals,
touched hours and days) is checked against the same recomputation after every batch."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.core.clock import china_tz
from portal.monitoring import ingest, partitions, rules
from portal.monitoring.models import MonitoringRollup, MonitoringValue
from tests.monitoring.helpers import (gas_setup, hourly_row, merged_hours, someone_waits_for_a_lock,
                                      water_setup)

UTC = timezone.utc
# 2026-10-31 12:00 UTC = 20:00 China: batches cross a local midnight and the end of a local month
BASE = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
PERIODS = ("hour", "hour", "hour", "manual", "minute", "realtime")


def _row(rng: random.Random, outlets: list[tuple[int, int]]) -> dict:
    enterprise_id, outlet_id = rng.choice(outlets)
    period = rng.choice(PERIODS)
    step = timedelta(hours=1) if period == "hour" else timedelta(minutes=rng.choice((0, 10, 20)), hours=1)
    value = None if rng.random() < 0.08 else round(rng.uniform(0, 120), 3)
    low = round(value - rng.uniform(0, 5), 3) if value is not None and rng.random() < 0.3 else None
    high = round(value + rng.uniform(0, 5), 3) if value is not None and rng.random() < 0.3 else None
    return {"enterprise_id": enterprise_id, "outlet_id": outlet_id, "pollutant_code": rng.choice(("w01018", "a21026")),
            "period": period, "measured_at": BASE + step * rng.randrange(60), "value": value, "value_min": low,
            "value_max": high, "value_converted": round(rng.uniform(0, 90), 3) if rng.random() < 0.4 else None,
            "flag": rng.choice(("N", "N", "N", "D", "F", "M")), "source": "manual" if period == "manual" else "auto",
            "packet_id": None, "submission_id": None}


def _key(row: dict) -> tuple:
    return row["outlet_id"], row["pollutant_code"], str(row["period"]), row["measured_at"].astimezone(UTC)


def _expected(rows: list[dict]) -> dict[tuple, list]:
    """(outlet, pollutant, resolution, UTC start) -> [n_all, n_valid, sum_valid, min, max, n_conv, sum_conv]."""
    tz = china_tz()
    out: dict[tuple, list] = {}
    for r in rows:
        if str(r["period"]) not in ("hour", "manual") or r["value"] is None:
            continue
        valid = rules.is_valid_flag(r["flag"])
        for resolution in ("hour", "day", "month"):
            start = rules.local_period_start(r["measured_at"], resolution, tz).astimezone(UTC)
            a = out.setdefault((r["outlet_id"], r["pollutant_code"], resolution, start), [0, 0, 0.0, None, None, 0,
                                                                                         0.0])
            a[0] += 1
            if valid:
                low = r["value"] if r["value_min"] is None else r["value_min"]
                high = r["value"] if r["value_max"] is None else r["value_max"]
                a[1], a[2] = a[1] + 1, a[2] + r["value"]
                a[3] = low if a[3] is None else min(a[3], low)
                a[4] = high if a[4] is None else max(a[4], high)
                if r["value_converted"] is not None:
                    a[5], a[6] = a[5] + 1, a[6] + r["value_converted"]
    return out


def _stored_rollups(db) -> dict[tuple, list]:
    """Day and month roll-ups as stored; hours as the readers see them (hourly values have no hour roll-up row)."""
    found = {(r.outlet_id, r.pollutant_code, str(r.resolution), r.period_start.astimezone(UTC)):
             [r.n_all, r.n_valid, r.sum_valid, r.min_valid, r.max_valid, r.n_conv, r.sum_conv]
             for r in db.session.scalars(sa.select(MonitoringRollup).where(MonitoringRollup.resolution != "hour"))}
    found.update({(o, c, "hour", at): sums for (o, c, at), sums in merged_hours(db).items()})
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_roll_ups_and_batch_results_match_a_recomputation_from_raw_values(db, seed):
    rng = random.Random(seed)
    water, water_outlet, _ = water_setup(db)
    gas, gas_outlet, _ = gas_setup(db)
    outlets = [(water.id, water_outlet.id), (gas.id, gas_outlet.id)]
    stored: dict[tuple, dict] = {}
    tz = china_tz()
    for _ in range(6):
        batch_rows = [_row(rng, outlets) for _ in range(rng.randrange(1, 120))]
        batch_rows += [dict(r) for r in rng.sample(batch_rows, min(5, len(batch_rows)))]  # repeats inside the batch
        if stored:
            batch_rows += [dict(r) for r in rng.sample(list(stored.values()), min(5, len(stored)))]  # re-sent rows
        rng.shuffle(batch_rows)
        new: dict[tuple, dict] = {}
        for r in batch_rows:
            if _key(r) not in stored:
                new.setdefault(_key(r), r)

        batch = ingest.ingest_values(batch_rows, tz)

        assert sorted(_key(r) for r in batch.inserted) == sorted(new)
        assert batch.duplicates == len(batch_rows) - len(new)
        stored.update(new)
        expected = _expected(list(stored.values()))
        touched = set(_expected(list(new.values())))
        # hour totals are read merged (hours.totals), never from the batch
        assert {(o, c, res, s.astimezone(UTC)) for (o, c, res, s) in batch.totals} == \
            {k for k in touched if k[2] != "hour"}
        for (o, c, res, s), (n_valid, sum_valid, n_conv, sum_conv) in batch.totals.items():
            e = expected[(o, c, res, s.astimezone(UTC))]
            assert (n_valid, n_conv) == (e[1], e[5])
            assert (sum_valid, sum_conv) == (pytest.approx(e[2]), pytest.approx(e[6]))
        assert {(o, c, s.astimezone(UTC)) for o, c, s in batch.touched_hours} == \
            {(o, c, s) for o, c, res, s in touched if res == "hour"}
        assert {(o, c, s.astimezone(UTC)) for o, c, s in batch.touched_days} == \
            {(o, c, s) for o, c, res, s in touched if res == "day"}

    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == len(stored)
    rollups = _stored_rollups(db)
    expected = _expected(list(stored.values()))
    assert set(rollups) == set(expected)
    for key, sums in rollups.items():
        assert sums == pytest.approx(expected[key]), key


def test_batches_sharing_keys_in_another_order_wait_for_each_other_instead_of_deadlocking(app, db):
    """PostgreSQL: a batch holding key k1 uncommitted, another batch of (k2, k1) waiting for it, then the first
    transaction's next batch with k2. Inserted in the batch's order the second would hold k2 while waiting for k1 and
    the two would deadlock; inserted in key order it waits for k1 holding nothing, and both finish."""
    if not ingest.is_postgres():
        pytest.skip("PostgreSQL only: SQLite has a single writer")
    _, outlet, _ = water_setup(db)
    partitions.ensure_months(partitions.months_of([BASE]))
    db.session.commit()
    tz = china_tz()
    # first sorts before second in the value key
    first, second = (hourly_row(outlet, BASE + timedelta(hours=h), 10.0 + h) for h in (0, 1))
    assert len(ingest.ingest_values([first], tz).inserted) == 1  # this transaction now holds the first key
    outcome: dict = {}

    def other_request():
        with app.app_context():
            try:
                outcome["inserted"] = len(ingest.ingest_values([dict(second), dict(first)], tz).inserted)
                db.session.commit()
            except Exception as exc:  # a deadlock victim
                db.session.rollback()
                outcome["error"] = exc

    thread = threading.Thread(target=other_request)
    thread.start()
    if not someone_waits_for_a_lock(db):
        pytest.fail("the other request did not wait for the first key")
    try:
        assert len(ingest.ingest_values([second], tz).inserted) == 1
        db.session.commit()
    finally:
        thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["inserted"] == 0
    assert sorted((n_all, total) for n_all, _, total, *_ in merged_hours(db).values()) == [(1, 10.0), (1, 11.0)]
