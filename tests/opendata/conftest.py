"""Open-data fixtures: an export directory per test and one enterprise with a bit of every public data set."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from portal.complaints.models import Category
from portal.core.clock import china_tz
from portal.credit import services as credit_services
from portal.credit.models import CreditListEntry, CreditStanding, ListKind, ListStatus
from portal.db import utcnow
from portal.disclosures.models import AnnualReport, ReportStatus, TemporaryReport, Trigger
from portal.monitoring.models import MonitoringRollup, Resolution
from tests.factories import make_complaint, make_enterprise, make_limit, make_outlet, make_permit


@pytest.fixture(autouse=True)
def export_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "OPENDATA_DIR", str(tmp_path / "opendata"))
    return tmp_path / "opendata"


@pytest.fixture
def world(db):
    """华能化工 (涟水县) with a grade, a black listing, a published annual and temporary report, a monthly COD
    roll-up and complaints; 沈阳鸿达 with nothing but its registry record."""
    a = make_enterprise("华能化工有限公司", former_names=["华能化学品厂", "华能厂"])
    b = make_enterprise("沈阳鸿达精细化工股份有限公司", region_code="210100", industry_code="4411")
    permit = make_permit(a)
    outlet = make_outlet(a, "DW001", permit)
    make_limit(outlet, "w01018", "50")
    credit_services.seed_schemes()
    version = credit_services.version_for_region(a.region_code)
    db.session.add(CreditStanding(enterprise_id=a.id, scheme_version_id=version.id, score=9, grade="blue",
                                  is_vetoed=False, as_of=date(2026, 3, 1), computed_at=utcnow()))
    db.session.add(CreditListEntry(enterprise_id=a.id, kind=ListKind.BLACK, status=ListStatus.LISTED, basis="veto",
                                   reason="篡改监测数据", decision_note="决定书 2026-1", listed_on=date(2026, 2, 1),
                                   min_until=date(2027, 2, 1), max_until=date(2029, 2, 1)))
    db.session.add(CreditListEntry(enterprise_id=b.id, kind=ListKind.WHITE, status=ListStatus.CANDIDATE,
                                   basis="proposal", reason="候选，尚未公示"))
    db.session.add(AnnualReport(enterprise_id=a.id, year=2025, status=ReportStatus.PUBLISHED, sha256="a" * 64,
                                submitted_at=datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)))
    db.session.add(AnnualReport(enterprise_id=b.id, year=2025, status=ReportStatus.DRAFT))
    db.session.add(TemporaryReport(enterprise_id=a.id, trigger=Trigger.ADMIN_PENALTY, status=ReportStatus.PUBLISHED,
                                   sha256="b" * 64, submitted_at=datetime(2026, 4, 1, 2, 0, tzinfo=timezone.utc)))
    march = datetime(2026, 3, 1, tzinfo=china_tz()).astimezone(timezone.utc)  # 2026-02-28T16:00Z
    db.session.add(MonitoringRollup(outlet_id=outlet.id, pollutant_code="w01018", resolution=Resolution.MONTH,
                                    period_start=march, n_all=744, n_valid=740, sum_valid=740 * 21.5,
                                    min_valid=3.25, max_valid=61.0, n_conv=0, sum_conv=0.0))
    db.session.add(MonitoringRollup(outlet_id=outlet.id, pollutant_code="w01018", resolution=Resolution.DAY,
                                    period_start=march, n_all=24, n_valid=24, sum_valid=24.0))
    db.session.flush()
    first, _code = make_complaint(a)
    make_complaint(a)
    make_complaint(region_code="320826", category=Category.AIR)
    duplicate, _code = make_complaint(a)
    duplicate.merged_into_id = first.id
    db.session.commit()
    return a, b

