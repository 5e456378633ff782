"""seed-demo --life: every kind of activity exists, made through the services, the same twice, within bounds."""
from __future__ import annotations

import json

import sqlalchemy as sa

from portal.complaints.models import Channel, Complaint, ComplaintAttachment
from portal.core.clock import china_today
from portal.credit.models import (CreditListEntry, CreditStanding, EvaluationResult, EvaluationRun, Evidence,
                                  EvidenceSource, ListStatus, RunStatus)
from portal.credit.draw_models import Inspector
from portal.credit.models import InspectionDraw
from portal.disclosures.models import AnnualReport, ReportStatus, TemporaryReport, Trigger
from portal.extensions import db
from portal.opendays.models import OpenDay, OpenDayRegistration
from portal.rewards.models import RewardCase
from portal.servicebodies.models import ServiceBody, ServiceBodyEvidence, ServiceEngagement
from portal.monitoring.models import Device, ExceedanceIncident, IncidentState, MonitoringValue
from portal.seed.life import SIZES
from portal.seed.life_public import STATES
from tests.conftest import _empty_tables

COLOURS = {"green", "blue", "yellow", "red", "black"}


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def _snapshot() -> dict:
    """What a reader sees, keyed by stable values (codes, case states), not by ids or times."""
    standings = db.session.execute(sa.text(
        "SELECT e.uscc, s.grade, s.score FROM credit_standings s JOIN enterprises e ON e.id = s.enterprise_id "
        "ORDER BY e.uscc")).all()
    return {
        "values": _count(MonitoringValue), "incidents": sorted(db.session.execute(sa.select(
            ExceedanceIncident.pollutant_code, ExceedanceIncident.basis, ExceedanceIncident.state)).all()),
        "complaints": sorted(db.session.execute(sa.select(Complaint.status, Complaint.channel)).all()),
        "standings": [tuple(r) for r in standings],
        "lists": sorted(db.session.execute(sa.select(CreditListEntry.kind, CreditListEntry.status)).all()),
        "runs": sorted(db.session.execute(sa.select(EvaluationRun.year, EvaluationRun.status,
                                                    EvaluationRun.notice_ends_on)).all()),
        "evidence": sorted(db.session.execute(sa.select(Evidence.kind, Evidence.is_verified)).all()),
        "disclosures": sorted(db.session.execute(sa.select(AnnualReport.year, AnnualReport.status)).all()),
        "rewards": sorted(db.session.execute(sa.select(RewardCase.status, RewardCase.proposed_amount_yuan)).all()),
        "draw": [(len(d.result), d.pool_hash) for d in db.session.scalars(sa.select(InspectionDraw))],
    }


def _seed(runner, app, tmp_path):
    result = runner.invoke(args=["seed-demo", "--enterprises", "120", "--seed", "5", "--password", "pw-for-tests",
                                 "--life", "small"])
    assert result.exit_code == 0, result.output
    return result


def test_the_small_demo_has_every_kind_of_thing_twice_the_same_and_within_bounds(runner, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "OPENDATA_DIR", str(tmp_path / "opendata"))  # restored for the other tests
    size = SIZES["small"]
    _seed(runner, app, tmp_path)
    # monitoring: one device per outlet, hourly values for the whole period, episodes found by the real detection
    devices = _count(Device)
    assert devices == size.outlets
    values = _count(MonitoringValue)
    assert 0 < values <= devices * size.days * 24 * 4  # at most four limited pollutants per outlet
    states = {s for (s,) in db.session.execute(sa.select(ExceedanceIncident.state))}
    assert {IncidentState.OPEN, IncidentState.EXPLAINED, IncidentState.CLOSED} <= states
    explained = db.session.scalars(sa.select(ExceedanceIncident).where(
        ExceedanceIncident.state != IncidentState.OPEN)).all()
    assert all(i.cause and i.measures and i.reported_on for i in explained)
    # no verdict moves on unconfirmed data: every verified item was recorded by one person and confirmed by another
    verified = db.session.scalars(sa.select(Evidence).where(Evidence.is_verified.is_(True))).all()
    assert verified
    assert all(e.recorded_by_id and e.verified_by_id and e.recorded_by_id != e.verified_by_id for e in verified)
    assert any(e.source == EvidenceSource.MONITORING for e in verified)
    assert _count(Evidence, Evidence.withdrawn_at.is_not(None)) > 0  # a device fault dismissed
    # grades in every colour, now and in both runs: the one held last year finalised after its notice (given in the
    # past through the service), this year's on public notice
    grades = {g for (g,) in db.session.execute(sa.select(CreditStanding.grade))}
    assert COLOURS <= grades
    today = china_today()
    final, notice = db.session.scalars(sa.select(EvaluationRun).order_by(EvaluationRun.year)).all()
    assert (final.year, final.status) == (today.year - 2, RunStatus.FINAL)
    assert final.notice_starts_on.year == today.year - 1 and final.notice_ends_on < today
    assert final.finalised_by_id and final.finalised_at
    assert (notice.year, notice.status) == (today.year - 1, RunStatus.PUBLIC_NOTICE)
    assert notice.notice_starts_on == today and notice.notice_ends_on >= today
    for run in (final, notice):
        assert COLOURS <= {g for (g,) in db.session.execute(sa.select(EvaluationResult.grade).where(
            EvaluationResult.run_id == run.id))}, run.year
    # the final run's results are what enterprises without later changes now stand on
    assert _count(CreditStanding, CreditStanding.basis == "evaluation") > 0
    # black and white lists: listed after notice and statement, and a rejected candidate
    entries = db.session.scalars(sa.select(CreditListEntry)).all()
    for kind in ("black", "white"):
        mine = [e for e in entries if e.kind == kind]
        assert {ListStatus.LISTED, ListStatus.REJECTED} <= {e.status for e in mine}
        assert all(e.notice_sent_on and e.statement for e in mine if e.status == ListStatus.LISTED)
    # complaints in every state, 12345 cases with their ticket, photos through the upload checks
    assert {s for (s,) in db.session.execute(sa.select(Complaint.status))} == set(STATES)
    hotline = db.session.scalars(sa.select(Complaint).where(Complaint.channel == Channel.DISPATCH_12345)).all()
    assert hotline and all(c.external_ticket and c.external_due_on for c in hotline)
    assert _count(ComplaintAttachment) > 0
    # signed disclosures: annual reports, a temporary report and a CHANGE report that marks its original corrected
    annual = db.session.scalars(sa.select(AnnualReport)).all()
    assert {r.status for r in annual} == {ReportStatus.PUBLISHED, ReportStatus.CORRECTED}
    assert all(r.sha256 and r.signer_id for r in annual)
    temporary = {r.trigger: r for r in db.session.scalars(sa.select(TemporaryReport))}
    assert temporary[Trigger.ADMIN_PENALTY].status == ReportStatus.PUBLISHED
    assert temporary[Trigger.CHANGE].status == ReportStatus.PUBLISHED and temporary[Trigger.CHANGE].changes
    # rewards (four eyes, one paid), service bodies with confirmed findings, open days, roster and a published draw
    assert {r.status.value for r in db.session.scalars(sa.select(RewardCase))} >= {"approved", "paid"}
    assert all(r.decided_by_id != r.proposed_by_id for r in db.session.scalars(sa.select(RewardCase)))
    assert _count(ServiceBody) == 4 and _count(ServiceEngagement) == 8
    assert _count(ServiceBodyEvidence, ServiceBodyEvidence.is_confirmed.is_(True)) == 2
    assert _count(OpenDay) == 2 and _count(OpenDayRegistration) == 3
    assert _count(Inspector) >= 2
    draw = db.session.scalar(sa.select(InspectionDraw))
    assert draw.published_at is not None and draw.result
    # open-data files exist from the first start
    manifest = json.loads((tmp_path / "opendata" / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["files"]) >= 6
    assert all((tmp_path / "opendata" / name).exists() or any(tmp_path.joinpath("opendata").glob(name + "*"))
               for name in manifest["files"])

    first = _snapshot()
    second_run = runner.invoke(args=["seed-demo", "--password", "pw-for-tests", "--life", "small"])
    assert "already seeded" in second_run.output and _snapshot() == first  # idempotent
    _empty_tables()
    _seed(runner, app, tmp_path)
    assert _snapshot() == first  # deterministic
