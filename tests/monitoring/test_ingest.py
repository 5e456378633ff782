"""HJ 212 ingest: per-line results, duplicates, authentication, roll-ups and exceedance incidents."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from portal.credit.models import Evidence, EvidenceKind
from portal.monitoring import services
from portal.monitoring.models import (Basis, ExceedanceIncident, MonitoringRollup, MonitoringValue, ReceivedPacket,
                                     RejectedPacket, UnknownSender)
from tests.monitoring.helpers import gas_setup, merged_hours, packet, water_setup

NOW = datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)


def _count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_each_packet_line_gets_its_own_result(db):
    _, _, device = water_setup(db)
    good = packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=35.2,Flag=N"}, qn="20261101100000001")
    body = b"".join([good, good, b"##0010garbage\r\n", good[:-6] + b"0000\r\n",
                     packet("NOSUCH", 2061, "20261101090000", {"w01018": "Avg=1"}),
                     packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=1"}, qn="20261101100000002", pw="bad"),
                     packet(device.mn, 2061, "20261101100000", {"w01018": "Avg=x"})])
    results = services.ingest_hj212(body, now=NOW)
    assert [r["result"] for r in results] == ["accepted", "duplicate", "bad_length", "bad_crc", "unauthorised",
                                              "unauthorised", "partial"]
    assert [r.get("reason") for r in results[4:6]] == ["unknown_device", "wrong_password"]  # for the regulator
    assert results[-1]["issues"] == [{"position": 2, "key": "w01018-Avg", "issue": "malformed_value", "value": "x"}]
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5, 6, 7]
    assert _count(db, MonitoringValue) == 1
    assert _count(db, ReceivedPacket) == 2
    rejected = db.session.scalars(sa.select(RejectedPacket).order_by(RejectedPacket.id)).all()
    assert [(r.reason, r.mn, r.device_id) for r in rejected] == [  # a registered MN: on its device page
        ("bad_crc", device.mn, device.id), ("wrong_password", device.mn, device.id)]
    assert {(r.mn, r.reason, r.count) for r in db.session.scalars(sa.select(UnknownSender))} == {
        ("", "bad_length", 1), ("NOSUCH", "unknown_device", 1)}  # no registered MN: the unknown-senders list


def test_re_sent_values_without_qn_never_duplicate(db):
    _, _, device = water_setup(db)
    frame = packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=35.2"})
    services.ingest_hj212(frame, now=NOW)
    services.ingest_hj212(frame, now=NOW)
    assert _count(db, MonitoringValue) == 1
    rollup = db.session.scalar(sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "day"))
    assert (rollup.n_all, rollup.n_valid, rollup.sum_valid) == (1, 1, 35.2)


def test_unknown_pollutant_codes_are_kept_and_reported(db):
    _, _, device = water_setup(db)
    results = services.ingest_hj212(packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=3", "x99999": "Avg=7"}),
                                    now=NOW)
    assert results[0]["unknown_codes"] == ["x99999"]
    assert db.session.scalar(sa.select(MonitoringValue.value).where(MonitoringValue.pollutant_code == "x99999")) == 7


def test_hourly_roll_ups_are_china_local_and_exclude_flagged_values_from_means(db):
    _, outlet, device = water_setup(db)
    body = b"".join(packet(device.mn, 2061, f"20261101{h:02d}0000", {"w01018": f"Avg={v},Flag={f}"})
                    for h, v, f in ((0, 40, "N"), (1, 60, "N"), (2, 500, "D")))
    services.ingest_hj212(body, now=NOW)
    day = db.session.scalar(sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "day"))
    assert day.period_start == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)  # 2026-11-01 00:00 +08:00
    assert (day.n_all, day.n_valid, day.mean, day.max_valid) == (3, 2, 50.0, 60.0)


def test_a_daily_water_mean_above_the_limit_opens_one_incident_with_credit_evidence(db):
    ent, _, device = water_setup(db)
    body = b"".join(packet(device.mn, 2061, f"20261101{h:02d}0000", {"w01018": "Avg=150"}) for h in range(3))
    services.ingest_hj212(body, now=NOW)
    services.ingest_hj212(packet(device.mn, 2061, "20261101040000", {"w01018": "Avg=150"}), now=NOW)
    incidents = db.session.scalars(sa.select(ExceedanceIncident)).all()
    assert [(i.basis, i.value, i.multiple) for i in incidents] == [(Basis.DAILY_MEAN, 150.0, 0.5)]
    evidence = db.session.scalar(sa.select(Evidence))
    assert (evidence.kind, evidence.source_ref, evidence.is_verified, evidence.enterprise_id) == (
        EvidenceKind.MONITORING_EXCEEDANCE, f"exceedance:{incidents[0].id}", False, ent.id)  # a finding


def test_a_daily_mean_is_not_judged_before_the_day_is_over(db):
    _, _, device = water_setup(db)
    services.ingest_hj212(packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=150"}),
                          now=datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc))
    assert _count(db, ExceedanceIncident) == 0


def test_ph_outside_its_range_is_an_exceedance_without_a_multiple_even_when_the_mean_is_fine(db):
    _, _, device = water_setup(db)
    services.ingest_hj212(packet(device.mn, 2061, "20261101090000", {"w01001": "Avg=7.5,Min=5.2,Max=8.1"}), now=NOW)
    incident = db.session.scalar(sa.select(ExceedanceIncident))
    assert (incident.basis, incident.value, incident.multiple, incident.limit_min) == (Basis.RANGE, 5.2, None, 6.0)


def test_flagged_ph_values_are_kept_but_never_count(db):
    _, _, device = water_setup(db)
    services.ingest_hj212(packet(device.mn, 2011, "20261101090000", {"w01001": "Rtd=3,Flag=M"}), now=NOW)
    assert _count(db, ExceedanceIncident) == 0
    assert db.session.scalar(sa.select(MonitoringValue.flag)) == "M"


def test_gas_hourly_mean_is_converted_to_reference_oxygen_before_comparison(db):
    _, _, device = gas_setup(db, reference_o2=6)
    # 40 mg/m³ at 12 % O2 → 40 × (21 − 6) / (21 − 12) = 66.67 > 50
    services.ingest_hj212(packet(device.mn, 2061, "20261101090000", {"a21026": "Avg=40", "a19001": "Avg=12"}),
                          now=NOW)
    incident = db.session.scalar(sa.select(ExceedanceIncident))
    assert incident.basis == Basis.HOURLY_MEAN
    assert round(incident.value, 2) == 66.67


def test_gas_below_the_limit_after_conversion_opens_nothing(db):
    _, _, device = gas_setup(db, reference_o2=6)
    services.ingest_hj212(packet(device.mn, 2061, "20261101090000", {"a21026": "Avg=40", "a19001": "Avg=3"}),
                          now=NOW)
    assert _count(db, ExceedanceIncident) == 0


def test_a_device_sent_converted_value_is_used_as_is(db):
    _, _, device = gas_setup(db, reference_o2=6)
    services.ingest_hj212(packet(device.mn, 2061, "20261101090000", {"a21026": "Avg=80,ZsAvg=45"}), now=NOW)
    assert _count(db, ExceedanceIncident) == 0


def test_roll_up_extremes_use_the_periods_own_minimum_and_maximum(db):
    _, _, device = water_setup(db)
    services.ingest_hj212(packet(device.mn, 2061, "20261101090000", {"w01001": "Avg=7,Min=5.5,Max=8.2"}), now=NOW)
    day = db.session.scalar(sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "day"))
    assert (day.min_valid, day.max_valid, day.mean) == (5.5, 8.2, 7.0)


def test_the_same_value_twice_in_one_body_is_stored_and_rolled_up_once(db):
    _, _, device = water_setup(db)
    frame = packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=35.2"})
    services.ingest_hj212(frame + frame, now=NOW)
    assert _count(db, MonitoringValue) == 1
    [(n_all, _, total, *_)] = merged_hours(db).values()
    assert (n_all, total) == (1, 35.2)


def test_a_packet_re_sent_in_a_later_request_is_a_duplicate_and_stores_nothing_more(db):
    _, _, device = water_setup(db)
    first = packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=35.2,Flag=N"}, qn="20261101100000001")
    other = packet(device.mn, 2061, "20261101100000", {"w01018": "Avg=36.0,Flag=N"}, qn="20261101110000001")
    assert [r["result"] for r in services.ingest_hj212(first, now=NOW)] == ["accepted"]
    results = services.ingest_hj212(first + other + first, now=NOW)
    assert [r["result"] for r in results] == ["duplicate", "accepted", "duplicate"]
    assert results[0]["qn"] == "20261101100000001"
    assert (_count(db, ReceivedPacket), _count(db, MonitoringValue)) == (2, 2)
    day = db.session.scalar(sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "day"))
    assert (day.n_all, day.sum_valid) == (2, 71.2)
