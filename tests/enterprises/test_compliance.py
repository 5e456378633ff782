"""The compliance grid's counts (one GROUP BY per row source, in one statement), the grid on the public page and its
JSON."""
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from portal.api import openapi
from portal.complaints.models import Findings, Status as ComplaintStatus
from portal.core.clock import china_today
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus
from portal.enterprises.compliance import Row, bucket_of, last_quarters
from portal.enterprises.compliance_queries import SOURCES, compliance_grid
from portal.monitoring.models import Basis, ExceedanceIncident
from tests.factories import make_complaint, make_enterprise, make_outlet

TODAY = date(2026, 2, 15)  # window 2023-Q2 … 2026-Q1


def _incident(db, ent, outlet, start: datetime, pollutant="w01018"):
    db.session.add(ExceedanceIncident(enterprise_id=ent.id, outlet_id=outlet.id, pollutant_code=pollutant,
                                      basis=Basis.DAILY_MEAN, period_start=start, value=150.0, limit_value=100.0,
                                      multiple=0.5))
    db.session.flush()


def _obligation(db, ent, due: date, status: ObligationStatus):
    db.session.add(Obligation(ref=f"t:{ent.id}:{due}:{status}", enterprise_id=ent.id, kind=ObligationKind.ANNUAL,
                              year=due.year - 1, due_on=due, status=status))
    db.session.flush()


def _evidence(ent, kind, day, ref, *, verified=True, public=True):
    return add_evidence(enterprise_id=ent.id, kind=kind, source=EvidenceSource.REGULATOR, source_ref=ref,
                        occurred_on=day, title="处罚", verified=verified, is_public=public)


def _closed_complaint(db, ent, closed_at: datetime, findings: Findings):
    c, _ = make_complaint(ent)
    c.status, c.findings, c.closed_at = ComplaintStatus.CLOSED, findings, closed_at
    db.session.flush()
    return c


def _cells(grid, row):
    return {i: c.count for r in grid.rows if r.row is row for i, c in enumerate(r.cells) if c.count}


@pytest.fixture
def ent(db):
    return make_enterprise(name="涟水合规测试化工有限公司")


def test_exceedances_fall_in_the_china_quarter_of_their_start(db, ent):
    outlet = make_outlet(ent, "DW001")
    utc = timezone.utc
    _incident(db, ent, outlet, datetime(2025, 12, 31, 15, 30, tzinfo=utc))  # 23:30 China: 2025-Q4
    _incident(db, ent, outlet, datetime(2025, 12, 31, 16, 30, tzinfo=utc))  # 00:30 China on 1 Jan: 2026-Q1
    _incident(db, ent, outlet, datetime(2026, 1, 5, tzinfo=utc), pollutant="w21003")
    _incident(db, ent, outlet, datetime(2023, 3, 20, tzinfo=utc))  # before the window
    other = make_enterprise()
    _incident(db, other, make_outlet(other, "DW001"), datetime(2026, 1, 5, tzinfo=utc))
    grid = compliance_grid(ent.id, TODAY)
    assert _cells(grid, Row.EXCEEDANCES) == {10: 1, 11: 2}


def test_only_late_or_missing_reports_count_by_due_date_with_the_split(db, ent):
    _obligation(db, ent, date(2025, 3, 31), ObligationStatus.LATE)  # 2025-Q1 → index 7
    _obligation(db, ent, date(2025, 4, 1), ObligationStatus.MISSING)  # 2025-Q2 → index 8
    _obligation(db, ent, date(2025, 5, 1), ObligationStatus.LATE)
    _obligation(db, ent, date(2024, 3, 31), ObligationStatus.ON_TIME)
    _obligation(db, ent, date(2024, 4, 30), ObligationStatus.PENDING)
    grid = compliance_grid(ent.id, TODAY)
    assert _cells(grid, Row.REPORTS) == {7: 1, 8: 2}
    reports = next(r for r in grid.rows if r.row is Row.REPORTS)
    assert reports.cells[8].detail == {"missing": 1, "late": 1} and reports.cells[7].detail == {"late": 1}


def test_penalties_count_only_verified_public_unwithdrawn_sanctions(db, ent):
    from portal.db import utcnow

    _evidence(ent, EvidenceKind.PENALTY, date(2025, 7, 1), "p1")  # 2025-Q3 → 9
    _evidence(ent, EvidenceKind.PRODUCTION_STOP, date(2025, 9, 30), "p2")
    _evidence(ent, EvidenceKind.PENALTY, date(2025, 7, 2), "p3", verified=False)
    _evidence(ent, EvidenceKind.PENALTY, date(2025, 7, 3), "p4", public=False)
    _evidence(ent, EvidenceKind.INSPECTION_FINDING, date(2025, 7, 4), "p5")
    _evidence(ent, EvidenceKind.PENALTY, date(2025, 7, 5), "p6").withdrawn_at = utcnow()
    db.session.flush()
    assert _cells(compliance_grid(ent.id, TODAY), Row.PENALTIES) == {9: 2}


def test_complaints_count_when_closed_as_substantiated_by_closing_date(db, ent):
    _closed_complaint(db, ent, datetime(2024, 6, 30, 17, 0, tzinfo=timezone.utc), Findings.SUBSTANTIATED)  # Q3 China
    _closed_complaint(db, ent, datetime(2024, 5, 1, tzinfo=timezone.utc), Findings.NOT_SUBSTANTIATED)
    make_complaint(ent)  # still open
    assert _cells(compliance_grid(ent.id, TODAY), Row.COMPLAINTS) == {5: 1}


def test_the_grid_needs_one_statement_whatever_the_number_of_quarters(app, db, ent):
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    db.session.flush()
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        compliance_grid(ent.id, TODAY)
        compliance_grid(ent.id, TODAY, n=40)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2
    assert all(s.upper().count("GROUP BY") == len(SOURCES) and "UNION ALL" in s.upper() for s in statements)


# --- page and API -------------------------------------------------------------------------------------------------

def test_the_enterprise_page_shows_an_accessible_grid_with_counts_and_no_violation_cells(client, db, ent):
    today = china_today()
    _obligation(db, ent, today, ObligationStatus.MISSING)
    _evidence(ent, EvidenceKind.PENALTY, today, "page-p1")
    db.session.commit()
    html = client.get(f"/enterprises/{ent.uscc}?lang=en").get_data(as_text=True)
    grid_html = html[html.index('class="compliance-section"'):html.index("</section>", html.index("compliance-h"))]
    assert "<caption" in grid_html and grid_html.count('<th scope="col"') == 14
    assert grid_html.count('<th scope="row"') == 4
    assert grid_html.count("cg-violation") == 2
    assert grid_html.count('class="visually-hidden">No violation identified') == 4 * 12 - 2
    assert "1 missing" in grid_html and "/api/v1/enterprises/" in grid_html
    chinese = client.get(f"/enterprises/{ent.uscc}?lang=zh_CN").get_data(as_text=True)
    assert chinese.count("未发现违法违规") >= 4 * 12 - 2 and "未披露 1 份" in chinese


def test_the_compliance_json_has_twelve_quarters_and_four_rows(client, db, ent):
    today = china_today()
    _obligation(db, ent, today, ObligationStatus.LATE)
    db.session.commit()
    response = client.get(f"/api/v1/enterprises/{ent.uscc.lower()}/compliance")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["uscc"] == ent.uscc and len(data["quarters"]) == 12
    assert [r["row"] for r in data["rows"]] == ["exceedances", "reports", "penalties", "complaints"]
    reports = data["rows"][1]
    assert reports["cells"][-1] == {"quarter": data["quarters"][-1]["key"], "count": 1, "state": "violation",
                                    "detail": {"late": 1}}
    assert data["quarters_in_violation"] == 1 and data["links"]["html"].endswith("#compliance")


def test_the_compliance_json_errors_are_400_for_a_bad_code_and_404_for_an_unknown_one(client, db):
    bad = client.get("/api/v1/enterprises/123/compliance")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_parameter"
    from tests.factories import make_uscc

    unknown = client.get(f"/api/v1/enterprises/{make_uscc(999999)}/compliance")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"


def test_the_openapi_document_lists_the_compliance_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/api/v1/enterprises/{uscc}/compliance"]["get"]
    assert operation["operationId"] == "getEnterpriseCompliance"
    assert {"200", "400", "404"} <= set(operation["responses"])
    assert openapi.document()["paths"]["/api/v1/enterprises/{uscc}/compliance"] == doc["paths"][
        "/api/v1/enterprises/{uscc}/compliance"]


def test_bucket_of_agrees_with_the_database_buckets(db, ent):
    quarters = last_quarters(TODAY)
    days = [date(2023, 4, 1), date(2024, 12, 31), date(2025, 1, 1), date(2026, 3, 31)]
    for i, day in enumerate(days):
        _evidence(ent, EvidenceKind.PENALTY, day, f"b{i}")
    expected = {}
    for day in days:
        expected[bucket_of(day, quarters)] = expected.get(bucket_of(day, quarters), 0) + 1
    assert _cells(compliance_grid(ent.id, TODAY), Row.PENALTIES) == expected
