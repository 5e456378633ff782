"""The enterprise page's charts open on the range that has data (issue 21), and say so when there is none."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from portal.monitoring import queries, services
from tests.monitoring.helpers import packet, water_setup


def _ingest(db, device, day: date, hours=range(3)):
    body = b"".join(packet(device.mn, 2061, f"{day:%Y%m%d}{h:02d}0000", {"w01018": "Avg=35"}) for h in hours)
    services.ingest_hj212(body, now=datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone.utc))
    db.session.commit()


def test_old_data_only_opens_the_charts_on_its_own_days_and_says_so(client, db):
    ent, _, device = water_setup(db)
    first, last = date(2025, 3, 10), date(2025, 3, 12)  # long before the default last-90-days window
    for day in (first, last):
        _ingest(db, device, day)
    assert queries.data_span(ent.id) == (first, last)
    html = client.get(f"/enterprises/{ent.uscc}?lang=zh").get_data(as_text=True)
    assert 'name="m_from" type="date" value="2025-03-10"' in html
    assert 'name="m_to" type="date" value="2025-03-12"' in html
    assert "显示 2025-03-10 至 2025-03-12 的数据，截至最近有数据的一天。" in html
    assert "from=2025-03-10" in html and "to=2025-03-12" in html  # the chart's API URL asks for the same range
    assert "表格视图（2 个时段）" in html  # the two days with data, at the default daily resolution


def test_a_long_history_opens_on_the_last_ninety_days_up_to_the_latest_value(client, db):
    ent, _, device = water_setup(db)
    _ingest(db, device, date(2024, 1, 5))
    _ingest(db, device, date(2025, 6, 30))
    html = client.get(f"/enterprises/{ent.uscc}?lang=en").get_data(as_text=True)
    assert 'name="m_to" type="date" value="2025-06-30"' in html
    assert f'name="m_from" type="date" value="{date(2025, 6, 30) - timedelta(days=90)}"' in html


def test_no_data_at_all_is_said_plainly(client, db):
    ent, _, _ = water_setup(db)
    db.session.commit()
    html = client.get(f"/enterprises/{ent.uscc}?lang=en").get_data(as_text=True)
    assert "No monitoring data has been reported for this enterprise yet." in html
    zh = client.get(f"/enterprises/{ent.uscc}?lang=zh").get_data(as_text=True)
    assert "该企业尚未报送自行监测数据。" in zh


def test_an_asked_range_without_data_says_when_the_latest_value_was(client, db):
    ent, _, device = water_setup(db)
    _ingest(db, device, date(2025, 3, 10))
    html = client.get(f"/enterprises/{ent.uscc}?lang=en&m_from=2025-05-01&m_to=2025-05-31").get_data(as_text=True)
    assert "No data in this range. The latest value was reported on 2025-03-10." in html
    assert '<details class="page-section" id="monitoring" open>' in html  # an asked range opens its section
