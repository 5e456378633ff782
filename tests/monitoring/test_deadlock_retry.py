"""A real PostgreSQL deadlock between a writer that stores values in two steps of one transaction (as a CSV import
does, chunk by chunk) and an HJ 212 request on the same keys: the request, aborted as the victim, runs again and
answers 200 instead of 503; every value is stored once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.core.clock import china_tz
from portal.monitoring import ingest, partitions
from portal.monitoring.models import MonitoringValue, ReceivedPacket
from tests.monitoring.helpers import hourly_row, merged_hours, packet, someone_waits_for_a_lock, water_setup

BASE = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 China


def test_an_hj212_request_aborted_by_a_deadlock_runs_again_and_is_stored_once(app, db, client):
    if not ingest.is_postgres():
        pytest.skip("PostgreSQL only: SQLite has a single writer, so no deadlock")
    _, outlet, device = water_setup(db)
    partitions.ensure_months(partitions.months_of([BASE]))
    db.session.commit()
    tz = china_tz()
    # this transaction stores the 10:00 value first (it holds that key), the 09:00 value later
    assert len(ingest.ingest_values([hourly_row(outlet, BASE + timedelta(hours=1), 11.0)], tz).inserted) == 1
    body = b"".join(packet(device.mn, 2061, (BASE + timedelta(hours=h)).astimezone(tz).strftime("%Y%m%d%H%M%S"),
                           {"w01018": f"Avg={10.0 + h}"}, qn=f"20261101090{h}00000") for h in (0, 1))
    outcome: dict = {}

    def device_request():  # takes 09:00, then waits for 10:00
        outcome["response"] = client.post("/api/v1/monitoring/hj212", data=body, content_type="text/plain")

    thread = threading.Thread(target=device_request)
    thread.start()
    try:
        assert someone_waits_for_a_lock(db), "the request did not wait for the 10:00 key"
        # 09:00 is held by the request, which waits for us: a deadlock. The request began waiting first, so its
        # deadlock check (deadlock_timeout after it began) finds the cycle and PostgreSQL aborts the request.
        assert len(ingest.ingest_values([hourly_row(outlet, BASE, 10.0)], tz).inserted) == 1
        db.session.commit()
    finally:
        thread.join(60)
    response = outcome["response"]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [r["result"] for r in response.json["results"]] == ["accepted", "accepted"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedPacket)) == 2  # no half-written first try
    values = db.session.execute(sa.select(MonitoringValue.measured_at, MonitoringValue.value)
                                .order_by(MonitoringValue.measured_at)).all()
    assert values == [(BASE, 10.0), (BASE + timedelta(hours=1), 11.0)]
    hours = [merged_hours(db)[k] for k in sorted(merged_hours(db), key=lambda k: k[2])]
    assert [(n_all, total) for n_all, _, total, *_ in hours] == [(1, 10.0), (1, 11.0)]


def test_driver_errors_on_the_bulk_paths_raw_cursor_are_sqlalchemys_so_the_handlers_see_them(db):
    """Before: a deadlock inside the PostgreSQL COPY path escaped as psycopg's own error and gave a 500."""
    from portal.monitoring.bulk_sql import raw_cursor

    with pytest.raises(sa.exc.DBAPIError) as caught:
        with raw_cursor() as cur:
            cur.execute("SELECT * FROM no_such_table")
    assert isinstance(caught.value.orig, db.engine.dialect.loaded_dbapi.Error)
    db.session.rollback()
