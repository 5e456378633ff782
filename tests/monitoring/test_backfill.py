"""Back-fill at speed (issue 19): hourly values get no hour roll-up row of their own; PostgreSQL inserts a batch of
new keys without RETURNING (a savepoint falls back to the exact path when some were stored). Every value is stored
once, the roll-ups as the readers see them equal those the old path kept (every hour, day and month recomputed from
the raw values), hourly series read identically, the landing table is empty after a batch, and a failure in the
middle of a batch leaves nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.core.clock import china_tz
from portal.monitoring import bulk_sql, ingest, pgcopy, services, sqlitebulk
from portal.monitoring.models import (ExceedanceIncident, MonitoringRollup, MonitoringValue, ReceivedPacket)
from tests.monitoring.helpers import merged_hours, packet, water_setup
from tests.monitoring.test_rollup_invariant import _expected

UTC = timezone.utc
NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # the data below is weeks older: back-fill
FIRST = datetime(2026, 10, 31, 14, 0, tzinfo=UTC)  # 22:00 China: the packets cross a local midnight and month end


def _body(mn: str, first: int, count: int, value=lambda h: 20 + h % 17) -> bytes:
    frames = []
    for h in range(first, first + count):
        when = (FIRST + timedelta(hours=h)).astimezone(china_tz()).strftime("%Y%m%d%H%M%S")
        frames.append(packet(mn, 2061, when, {"w01018": f"Avg={value(h)},Flag={'D' if h % 11 == 0 else 'N'}",
                                              "w21003": f"Avg={h % 5 + 0.5},Min=0.1,Max={h % 5 + 1}"},
                             qn=f"{when}{h % 1000:03d}"))
    return b"".join(frames)


def _stored(db) -> list[dict]:
    v = MonitoringValue
    return [dict(r._mapping) for r in db.session.execute(
        sa.select(v.outlet_id, v.pollutant_code, v.period, v.measured_at, v.value, v.value_min, v.value_max,
                  v.value_converted, v.flag))]


def _rollups_as_read(db) -> dict:
    found = {(r.outlet_id, r.pollutant_code, str(r.resolution), r.period_start.astimezone(UTC)):
             [r.n_all, r.n_valid, r.sum_valid, r.min_valid, r.max_valid, r.n_conv, r.sum_conv]
             for r in db.session.scalars(sa.select(MonitoringRollup).where(MonitoringRollup.resolution != "hour"))}
    found.update({(o, c, "hour", at): sums for (o, c, at), sums in merged_hours(db).items()})
    return found


def _manual_row(outlet, at: datetime, value: float) -> dict:
    return {"enterprise_id": outlet.enterprise_id, "outlet_id": outlet.id, "pollutant_code": "w01018",
            "period": "manual", "measured_at": at, "value": value, "value_min": None, "value_max": None,
            "value_converted": None, "flag": "N", "source": "manual", "packet_id": None, "submission_id": None}


def test_back_fill_stores_every_value_once_and_the_roll_ups_equal_the_old_paths(db):
    _, outlet, device = water_setup(db)
    results = services.ingest_hj212(_body(device.mn, 0, 60), now=NOW)
    assert {r["result"] for r in results} == {"accepted"} and all(r["backfill"] for r in results)
    # a manual sample in an hour that holds a device's hourly value, and one in an hour of its own
    ingest.ingest_values([_manual_row(outlet, FIRST + timedelta(hours=3, minutes=20), 41.0),
                          _manual_row(outlet, FIRST + timedelta(hours=100), 5.0)], china_tz())
    # the logger re-sends an overlapping range after an outage: new packets and values stored once
    again = services.ingest_hj212(_body(device.mn, 40, 40), now=NOW)
    assert [r["result"] for r in again] == ["duplicate"] * 20 + ["accepted"] * 20
    db.session.commit()

    stored = _stored(db)
    assert len(stored) == 80 * 2 + 2  # 80 hourly packets of two values, two manual samples
    assert db.session.scalar(sa.select(sa.func.count()).select_from(
        sa.select(MonitoringValue.outlet_id, MonitoringValue.pollutant_code, MonitoringValue.period,
                  MonitoringValue.measured_at).distinct().subquery())) == len(stored)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedPacket)) == 80
    expected = _expected(stored)  # hour, day and month sums as the old path kept them, from the raw values
    read = _rollups_as_read(db)
    assert set(read) == set(expected)
    for key, sums in read.items():
        assert sums == pytest.approx(expected[key]), key
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExceedanceIncident)) == 0  # never judged
    # the hour roll-up table holds the manual samples only
    assert sorted((r.n_all, r.sum_valid) for r in db.session.scalars(
        sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "hour"))) == [(1, 5.0), (1, 41.0)]


def test_hourly_packets_read_identically_in_the_public_series(db, client):
    ent, outlet, device = water_setup(db)
    services.ingest_hj212(_body(device.mn, 0, 6, value=lambda h: 30 + h), now=NOW)
    ingest.ingest_values([_manual_row(outlet, FIRST + timedelta(hours=2, minutes=30), 50.0)], china_tz())
    db.session.commit()
    response = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?resolution=hour&outlet=DW001"
                          "&pollutant=w01018&from=2026-10-31&to=2026-11-01")
    assert response.status_code == 200
    [series] = response.get_json()["data"]
    points = [(p["period"], p["mean"], p["valid"], p["total"], p["min"], p["max"]) for p in series["points"]]
    assert points == [
        ("2026-10-31T22:00:00+08:00", None, 0, 1, None, None),  # flag D: counted, not valid
        ("2026-10-31T23:00:00+08:00", 31.0, 1, 1, 31.0, 31.0),
        ("2026-11-01T00:00:00+08:00", 41.0, 2, 2, 32.0, 50.0),  # the hourly value and the manual sample
        ("2026-11-01T01:00:00+08:00", 33.0, 1, 1, 33.0, 33.0),
        ("2026-11-01T02:00:00+08:00", 34.0, 1, 1, 34.0, 34.0),
        ("2026-11-01T03:00:00+08:00", 35.0, 1, 1, 35.0, 35.0)]
    daily = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?resolution=day&outlet=DW001"
                       "&pollutant=w01018&from=2026-10-31&to=2026-11-01").get_json()["data"][0]["points"]
    assert [(p["period"], p["valid"], p["total"], p["mean"]) for p in daily] == [
        ("2026-10-31T00:00:00+08:00", 1, 2, 31.0), ("2026-11-01T00:00:00+08:00", 5, 5, 36.8)]


def test_a_live_hour_over_its_limit_is_judged_on_the_merged_hour(db):
    """Hourly detection reads the hour merged: a manual sample and the device's hourly value share one mean."""
    from tests.monitoring.helpers import gas_setup

    _, outlet, device = gas_setup(db)
    when = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    row = {"enterprise_id": outlet.enterprise_id, "outlet_id": outlet.id, "pollutant_code": "a21026",
           "period": "manual", "measured_at": when + timedelta(minutes=10), "value": 40.0, "value_min": None,
           "value_max": None, "value_converted": None, "flag": "N", "source": "manual", "packet_id": None,
           "submission_id": None}
    ingest.ingest_values([row], china_tz())
    local = when.astimezone(china_tz()).strftime("%Y%m%d%H%M%S")
    services.ingest_hj212(packet(device.mn, 2061, local, {"a21026": "Avg=64"}, qn=f"{local}001"),
                          now=when + timedelta(hours=1))
    [incident] = db.session.scalars(sa.select(ExceedanceIncident)).all()
    assert incident.value == 52.0  # (40 + 64) / 2 over the limit of 50; 64 alone would say 64


@pytest.mark.parametrize("fail_at", ["values", "rollups"])
def test_a_failure_in_the_middle_of_a_batch_leaves_nothing(db, monkeypatch, fail_at):
    _, _, device = water_setup(db)
    db.session.commit()
    module = pgcopy if ingest.is_postgres() else sqlitebulk
    missing = "no_such_table_mid_batch"  # the packet records are written; then the values, or the roll-ups, fail
    if fail_at == "values" and module is pgcopy:
        monkeypatch.setattr(pgcopy, "_INSERT_NEW", f"SELECT * FROM {missing}")
    elif fail_at == "values":
        monkeypatch.setattr(sqlitebulk, "_INSERT", f"INSERT INTO {missing} VALUES "
                                                   f"({', '.join('?' * len(bulk_sql.VALUE_COLUMNS))})")
    else:
        monkeypatch.setattr(module, "_UPSERT", f"SELECT * FROM {missing}")
    with pytest.raises(sa.exc.DBAPIError):
        services.ingest_hj212(_body(device.mn, 0, 30), now=NOW)
    db.session.rollback()
    for model in (MonitoringValue, MonitoringRollup, ReceivedPacket):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model
    monkeypatch.undo()
    assert {r["result"] for r in services.ingest_hj212(_body(device.mn, 0, 30), now=NOW)} == {"accepted"}
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 60


def test_the_landing_table_is_empty_after_a_batch_and_after_a_failed_one(db):
    if not ingest.is_postgres():
        pytest.skip("PostgreSQL's landing table (SQLite inserts straight into the table under its write lock)")
    _, _, device = water_setup(db)
    services.ingest_hj212(_body(device.mn, 0, 30), now=NOW)
    def landed() -> int:
        """Rows in this connection's landing table; none when the table is gone (a rollback can undo the CREATE
        TEMP TABLE of its own transaction, and the pool may hand out another connection after a commit)."""
        if db.session.execute(sa.text("SELECT to_regclass('pg_temp.monitoring_values_in')")).scalar() is None:
            return 0
        return db.session.execute(sa.text("SELECT count(*) FROM pg_temp.monitoring_values_in")).scalar()

    assert landed() == 60  # the batch's rows, until its transaction ends
    db.session.commit()
    assert landed() == 0
    services.ingest_hj212(_body(device.mn, 30, 30), now=NOW)
    db.session.rollback()
    assert landed() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 60


def test_migration_0012_keeps_only_manual_samples_in_the_hour_roll_ups_and_the_readers_see_the_same(tmp_path):
    """Hour roll-ups written by the old path (hourly values and manual samples) are rebuilt from the manual samples:
    read merged, every hour is what it was; the downgrade gives the old rows back."""
    from alembic import command

    from portal import create_app
    from portal.config import TestConfig
    from portal.extensions import db as _db
    from tests.test_migrations import _alembic_config

    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    hour = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    with app.app_context():
        cfg = _alembic_config()
        from alembic.script import ScriptDirectory

        before = ScriptDirectory.from_config(cfg).get_revision("0012_landing").down_revision
        # The registry rows are made with today's models at the head, then the schema goes back to just before 0012
        # (later migrations add columns the models already have); the value and roll-up tables are 0012's own.
        command.upgrade(cfg, "head")
        _, outlet, _ = water_setup(_db)
        _db.session.commit()
        command.downgrade(cfg, before)
        rows = [{**_manual_row(outlet, hour, 30.0), "period": "hour", "source": "auto"},
                _manual_row(outlet, hour + timedelta(minutes=30), 50.0),
                {**_manual_row(outlet, hour + timedelta(hours=1), 20.0), "period": "hour", "source": "auto"}]
        _db.session.execute(sa.insert(MonitoringValue), rows)
        old = [(hour, 2, 80.0, 30.0, 50.0), (hour + timedelta(hours=1), 1, 20.0, 20.0, 20.0)]
        _db.session.execute(sa.insert(MonitoringRollup), [
            {"outlet_id": outlet.id, "pollutant_code": "w01018", "resolution": "hour", "period_start": at,
             "n_all": n, "n_valid": n, "sum_valid": total, "min_valid": low, "max_valid": high, "n_conv": 0,
             "sum_conv": 0.0} for at, n, total, low, high in old])
        _db.session.commit()
        command.upgrade(cfg, "0012_landing")
        stored = [(r.period_start.astimezone(UTC), r.n_all, r.sum_valid) for r in _db.session.scalars(
            sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "hour"))]
        assert stored == [(hour, 1, 50.0)]  # the manual sample alone
        assert merged_hours(_db) == {(outlet.id, "w01018", at): [n, n, total, low, high, 0, 0.0]
                                     for at, n, total, low, high in old}
        _db.session.commit()
        command.downgrade(cfg, before)
        assert sorted((r.period_start.astimezone(UTC), r.n_all, r.sum_valid) for r in _db.session.scalars(
            sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "hour"))) == \
            [(at, n, total) for at, n, total, _, _ in old]
        _db.session.remove()
        _db.engine.dispose()
