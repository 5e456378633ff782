"""One finding per behaviour episode (DOMAIN §2.6.3): a late back-fill is one late-publication finding that moves no
score until two regulators confirm it; an exceedance episode is one incident whatever mix of samples and means
revealed it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today, china_tz
from portal.credit import findings
from portal.credit import services as credit
from portal.credit.models import Evidence, EvidenceKind, LedgerEntry
from portal.monitoring import episodes, manual, rules, services
from portal.monitoring.models import Basis, ExceedanceIncident
from tests.factories import make_outlet, make_limit, make_user
from tests.monitoring.helpers import gas_setup, water_setup

HEADER = "排放口编码,污染物编码,采样时间,监测结果,监测完成日期,检测机构,监测方法,数据标记\n"
UTC = timezone.utc


def _count(db, stmt) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def _verdict(value: float, limit: float = 100.0) -> rules.Verdict:
    return rules.Verdict(value, limit, None, None, round(value / limit - 1, 3))


def test_a_ten_thousand_row_late_back_fill_is_one_finding_that_scores_only_once_confirmed(tmp_path, db):
    credit.seed_schemes()
    ent, outlet, _ = water_setup(db)
    make_limit(outlet, "w21003", "15", "daily")
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    first, second = make_user(Role.REGULATOR), make_user(Role.REGULATOR)
    assert credit.recompute_enterprise(ent.id) is None  # never evaluated
    start = china_today() - timedelta(days=430)  # 14 months back, one lab day after another
    lines = [HEADER]
    for i in range(10_000):
        day = start + timedelta(days=i // 25)
        code = "w01018" if i % 2 else "w21003"
        sampled = datetime.combine(day, datetime.min.time()) + timedelta(minutes=8 + (i % 25) * 40)
        lines.append(f"DW001,{code},{sampled:%Y-%m-%d %H:%M},1.5,{day},淮安检测,HJ 828-2017,N\n")
    path = tmp_path / "backfill.csv"
    path.write_text("".join(lines), encoding="utf-8")
    result = manual.commit_upload(staff, ent, path, "backfill.csv")
    assert result.inserted == 10_000 and len(result.submissions) == 400 and result.incidents == 0
    late = db.session.scalars(sa.select(Evidence).where(Evidence.kind == EvidenceKind.MONITORING_LATE)).all()
    assert len(late) == 1
    [finding] = late
    assert (finding.details["late_groups"], finding.details["rows"]) == (400, 10_000)
    assert (finding.is_verified, finding.recorded_by_id) == (False, None)
    assert credit.recompute_enterprise(ent.id) is None  # 10,000 rows, one finding, still not evaluated
    findings.confirm(first, finding)
    assert credit.recompute_enterprise(ent.id) is None
    findings.confirm(second, finding)
    assert credit.recompute_enterprise(ent.id) is not None
    [line] = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.enterprise_id == ent.id)).all()
    assert line.points < 0


def test_a_form_entry_published_on_time_creates_no_finding(tmp_path, db):
    ent, _, _ = water_setup(db)
    day = china_today() - timedelta(days=1)
    path = tmp_path / "r.csv"
    path.write_text(HEADER + f"DW001,w01018,{day} 09:30,35.6,{day},检测公司,HJ 828-2017,N\n", encoding="utf-8")
    manual.commit_upload(None, ent, path, "r.csv")
    assert _count(db, sa.select(Evidence)) == 0


def test_a_manual_exceedance_opens_one_incident_and_one_finding(tmp_path, db):
    ent, _, _ = water_setup(db)
    day = china_today() - timedelta(days=1)
    path = tmp_path / "r.csv"
    path.write_text(HEADER + f"DW001,w01018,{day} 09:30,150,{day},检测公司,HJ 828-2017,N\n", encoding="utf-8")
    result = manual.commit_upload(None, ent, path, "r.csv")
    assert result.incidents == 1
    assert _count(db, sa.select(ExceedanceIncident)) == 1
    assert _count(db, sa.select(Evidence).where(Evidence.kind == EvidenceKind.MONITORING_EXCEEDANCE)) == 1


def test_samples_on_following_days_extend_the_episode_and_a_compliant_day_closes_it(db):
    ent, outlet, _ = water_setup(db)
    day0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # 09:30 in China
    assert len(services.open_incident(ent.id, outlet.id, "w01018", Basis.MANUAL, day0, _verdict(150))) == 1
    assert services.open_incident(ent.id, outlet.id, "w01018", Basis.DAILY_MEAN,
                                  datetime(2026, 11, 1, 16, 0, tzinfo=UTC), _verdict(150)) == []  # same day's mean
    assert services.open_incident(ent.id, outlet.id, "w01018", Basis.MANUAL, day0 + timedelta(days=1, hours=5),
                                  _verdict(210)) == []  # next day: same episode, new peak
    assert services.open_incident(ent.id, outlet.id, "w01018", Basis.MANUAL, day0 + timedelta(days=1, hours=5),
                                  _verdict(210)) == []  # judged again: nothing changes
    [incident] = db.session.scalars(sa.select(ExceedanceIncident)).all()
    assert (incident.occurrences, incident.value, incident.multiple) == (2, 210, 1.1)
    assert incident.last_period_start == day0 + timedelta(days=1, hours=5)
    evidence = db.session.scalar(sa.select(Evidence))
    assert evidence.details["occurrences"] == 2 and evidence.details["multiple"] == 1.1
    later = day0 + timedelta(days=3)  # 3 Nov was a whole day without an exceedance
    assert len(services.open_incident(ent.id, outlet.id, "w01018", Basis.MANUAL, later, _verdict(120))) == 1
    other = make_outlet(ent, "DW002")
    assert len(services.open_incident(ent.id, other.id, "w01018", Basis.MANUAL, day0, _verdict(150))) == 1
    assert _count(db, sa.select(Evidence)) == 3


def test_gas_episodes_close_after_24_hours_without_an_exceedance(db):
    ent, outlet, _ = gas_setup(db)
    h0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    opened = [len(services.open_incident(ent.id, outlet.id, "a21026", Basis.HOURLY_MEAN, h0 + timedelta(hours=h),
                                         _verdict(80, 50))) for h in (0, 3, 27, 52)]
    assert opened == [1, 0, 0, 1]  # 27 h is 24 h after hour 3; hour 52 is 25 h after hour 27


def test_the_episode_rule_itself():
    tz = china_tz()
    t = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    assert episodes.joins("gas", t, t, t + timedelta(hours=24), tz)
    assert not episodes.joins("gas", t, t, t + timedelta(hours=25), tz)
    assert episodes.joins("gas", t, t, t - timedelta(hours=24), tz)
    assert episodes.joins("water", t, t, t + timedelta(days=1, hours=12), tz)
    assert not episodes.joins("water", t, t, t + timedelta(days=2), tz)
    assert episodes.medium_of("da001") == "gas" and episodes.medium_of("DW001") == "water"
    assert date(2026, 11, 2) == t.astimezone(tz).date()


def test_the_scheme_page_states_the_episode_rule(client, db):
    credit.seed_schemes()
    db.session.commit()
    body = client.get("/credit/schemes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "one whole day without one (wastewater)" in body or "废水连续一个完整日无超标" in body
