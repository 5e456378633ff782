"""Scanning stored data: flags raised on a tampered outlet and not on its clean twin, once per episode; the
incremental job and its watermark; the rule data the scan reads; the CLI."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.enterprises.models import Averaging
from portal.integrity import scanning, services
from portal.integrity.models import IntegrityFlag, IntegrityWatermark
from portal.integrity.rules import Series
from tests.factories import make_enterprise, make_limit, make_outlet, make_user
from tests.integrity.series import T0, clean, copy
from tests.integrity.world import add_device, store

END = T0 + timedelta(days=30)


def _outlet(db, mn: str, region: str = "320826"):
    ent = make_enterprise(region_code=region)
    outlet = make_outlet(ent, "DW001")
    make_limit(outlet, "w01018", "100", Averaging.DAILY)
    device = add_device(ent, outlet, mn)
    device.created_at = T0 - timedelta(days=1)  # registered before the data window
    db.session.flush()
    return ent, outlet, device


def _rules(ent) -> list[str]:
    return sorted(f.rule_id for f in ent_flags(ent))


def ent_flags(ent):
    from portal.extensions import db

    return list(db.session.scalars(sa.select(IntegrityFlag).where(IntegrityFlag.enterprise_id == ent.id)))


@pytest.fixture
def twins(db):
    """Two outlets with clean series; the second gets a flat day and a silence."""
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    clean_ent, clean_outlet, clean_dev = _outlet(db, "MNCLEAN01")
    bad_ent, bad_outlet, bad_dev = _outlet(db, "MNBAD0001")
    base = clean(level=40.0)
    tampered = copy(clean(level=40.0, seed=2))  # a different plant: same-seed series would be R7's identical days
    for i in range(100, 130):
        tampered.values[i] = 35.0 + (i % 3) * 0.4
    for i in range(400, 410):
        tampered.values[i], tampered.flags[i] = None, ""
    store(clean_outlet, "w01018", base)
    store(bad_outlet, "w01018", tampered)
    for ent, dev in ((clean_ent, clean_dev), (bad_ent, bad_dev)):
        services.save_channel(regulator, ent, device_id=dev.id, pollutant_code="w01018", range_low=0,
                              range_high=200, detection_limit=4.0)
    db.session.commit()
    return regulator, (clean_ent, clean_outlet), (bad_ent, bad_outlet)


def test_scan_raises_flags_on_the_tampered_outlet_only_and_not_twice(db, twins):
    _reg, (clean_ent, _), (bad_ent, _) = twins
    scanning.scan(None, T0, END)
    db.session.commit()
    assert _rules(clean_ent) == []
    assert _rules(bad_ent) == ["R1", "R12"]
    flat = next(f for f in ent_flags(bad_ent) if f.rule_id == "R1")
    assert flat.threshold == pytest.approx(4.0) and flat.series["values"] and flat.params["range_share"] == 0.02
    again = scanning.scan(bad_ent.uscc, T0, END)
    assert again.flags == []


def test_supervisory_result_far_from_cems_raises_r8(db, twins):
    regulator, (clean_ent, clean_outlet), _ = twins
    at = T0 + timedelta(hours=200)
    services.add_supervisory(regulator, clean_ent, outlet_id=clean_outlet.id, pollutant_code="w01018",
                             sampled_at=at, value=400.0, agency="市生态环境监测站")
    scanning.scan(clean_ent.uscc, T0, END)
    [flag] = ent_flags(clean_ent)
    assert flag.rule_id == "R8" and flag.threshold == 400.0


def test_production_without_treatment_raises_r10_from_st44_series(db, twins):
    _reg, (clean_ent, clean_outlet), _ = twins
    hours = 24 * 30
    store(clean_outlet, "d20001", Series(T0, [500.0 + i % 3 for i in range(hours)]))
    treatment = [80.0 + i % 4 for i in range(hours)]
    treatment[300:303] = [1.0, 1.0, 1.0]
    store(clean_outlet, "d30001", Series(T0, treatment))
    scanning.scan(clean_ent.uscc, T0, END)
    [flag] = ent_flags(clean_ent)
    assert flag.rule_id == "R10" and set(flag.series["extra"]) == {"production", "treatment"}


def test_lab_sample_issued_before_sampling_raises_r11(db, twins):
    regulator, (clean_ent, clean_outlet), _ = twins
    start = T0 + timedelta(days=3)
    services.add_lab_sample(regulator, clean_ent, outlet_id=clean_outlet.id, pollutant_code="w01018",
                            lab_name="某检测公司", lab_cma_no="CMA-001", method="HJ 828-2017", samplers="张三, 李四",
                            sampling_start=start, sampling_end=start + timedelta(hours=2), analysed_at=None,
                            report_no="R-1", report_issued_at=start - timedelta(days=1), value_text="12.30")
    scanning.scan(clean_ent.uscc, T0, END)
    [flag] = ent_flags(clean_ent)
    assert flag.rule_id == "R11" and flag.details["kind"] == "issued_before_sampling"


def test_incremental_job_scans_new_days_only_and_moves_the_watermark(db, twins):
    _reg, (clean_ent, clean_outlet), (bad_ent, bad_outlet) = twins
    now = END + timedelta(hours=1)
    message = scanning.run_incremental(now=now)
    db.session.commit()
    marks = {w.outlet_id: w.scanned_to for w in db.session.scalars(sa.select(IntegrityWatermark))}
    assert marks[bad_outlet.id] == END and marks[clean_outlet.id] == END
    assert "scanned 2 outlets" in message
    # The first run starts 14 days back: the flat day of day 4-5 is older and not judged by the job.
    assert _rules(clean_ent) == []
    late = copy(clean(hours=48, level=40.0, start=END, seed=9))
    late.values[5:35] = [36.0 + (i % 2) * 0.5 for i in range(30)]
    store(bad_outlet, "w01018", late)
    db.session.commit()
    scanning.run_incremental(now=END + timedelta(hours=49))
    new = [f for f in ent_flags(bad_ent) if f.rule_id == "R1"]
    assert len(new) == 1 and new[0].window_start >= END
    assert scanning.run_incremental(now=END + timedelta(hours=50)).startswith("scanned 0 outlets")


def test_rule_data_forms_name_the_field_at_fault(db, twins, client):
    from tests.conftest import login_as

    regulator, (clean_ent, clean_outlet), _ = twins
    login_as(client, regulator)
    base = f"/regulator/integrity/enterprises/{clean_ent.uscc}"
    assert client.get(base).status_code == 200
    bad = client.post(f"{base}/channels?lang=en", data={"c-device_id": "999999", "c-pollutant_code": "w01018",
                                                "c-range_high": "10"})
    assert bad.status_code == 400 and "Choose one of this enterprise" in bad.get_data(as_text=True)
    wrong_range = client.post(f"{base}/supervisory?lang=en", data={
        "s-outlet_id": str(clean_outlet.id), "s-pollutant_code": "zz999", "s-sampled_at": "2026-11-02T10:00",
        "s-value": "3", "s-agency": "监测站"})
    assert wrong_range.status_code == 400 and "known HJ 212 pollutant code" in wrong_range.get_data(as_text=True)
    ok = client.post(f"{base}/supervisory", data={
        "s-outlet_id": str(clean_outlet.id), "s-pollutant_code": "w01018", "s-sampled_at": "2026-11-02T10:00",
        "s-value": "3", "s-agency": "监测站"})
    assert ok.status_code == 302
    scope = client.post("/regulator/integrity/lab-scopes", data={"cma_no": "cma-9", "lab_name": "实验室",
                                                                 "method": "HJ 828-2017"})
    assert scope.status_code == 302
    again = client.post("/regulator/integrity/lab-scopes", data={"cma_no": "CMA-9", "lab_name": "实验室",
                                                                 "method": "HJ 828-2017"})
    assert again.status_code == 400


def test_cli_scan_for_one_enterprise_and_a_bad_credit_code(db, twins, runner):
    _reg, _clean, (bad_ent, _) = twins
    result = runner.invoke(args=["integrity", "scan", "--uscc", bad_ent.uscc, "--from", "2026-11-01",
                                 "--to", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert "new flags: 2 (R1: 1, R12: 1)" in result.output
    wrong = runner.invoke(args=["integrity", "scan", "--uscc", "91110000000000000X"])
    assert wrong.exit_code != 0 and "no enterprise has the credit code" in wrong.output
    reversed_ = runner.invoke(args=["integrity", "scan", "--from", "2026-11-30", "--to", "2026-11-01"])
    assert reversed_.exit_code != 0 and "--to" in reversed_.output


def test_the_job_judges_bunching_below_the_limit_once_the_month_is_complete(db):
    ent, outlet, _device = _outlet(db, "MNBUNCH01")
    s = clean(level=88.0, noise=0.04, seed=5)
    s.values = [min(v, 99.5) for v in s.values]  # never above the limit of 100
    store(outlet, "w01018", s)
    db.session.commit()
    scanning.run_incremental(now=END - timedelta(days=2))  # November not over yet: no month judged
    assert "R3" not in _rules(ent)
    scanning.run_incremental(now=END + timedelta(hours=1))
    assert _rules(ent).count("R3") == 1


def test_digit_test_is_raised_only_beside_another_flag_of_the_year(db, twins):
    import random

    regulator, (clean_ent, clean_outlet), _ = twins
    rnd = random.Random(3)
    for k in range(60):  # made-up manual values: few first digits, last digit 0 or 5
        start = T0 + timedelta(days=k % 28, hours=9)
        services.add_lab_sample(regulator, clean_ent, outlet_id=clean_outlet.id, pollutant_code="w01018",
                                lab_name="某检测公司", lab_cma_no="CMA-002", method="HJ 828-2017",
                                samplers=f"采样员{k}", sampling_start=start, sampling_end=start + timedelta(hours=1),
                                analysed_at=None, report_no=f"R-{k}", report_issued_at=start + timedelta(days=2),
                                value_text=f"{rnd.randint(40, 49)}.{rnd.choice('05')}")
    scanning.scan_lab_samples([clean_ent], T0, END)
    assert "R13" not in _rules(clean_ent)  # a weak signal never stands alone
    services.add_supervisory(regulator, clean_ent, outlet_id=clean_outlet.id, pollutant_code="w01018",
                             sampled_at=T0 + timedelta(hours=200), value=400.0, agency="市生态环境监测站")
    scanning.scan(clean_ent.uscc, T0, END)
    assert _rules(clean_ent) == ["R13", "R8"]
