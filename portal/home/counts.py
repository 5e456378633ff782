"""The numbers on a role's home: one query per domain, each a single SELECT of aggregates (no per-row queries), so
the page costs the same with ten cases or a million. Every function returns plain values; the view builds links."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.extensions import db


def _count(stmt) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(stmt.subquery()).scalar_subquery()


def _sum_if(condition) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _prefix(jurisdiction: str | None) -> str:
    return jurisdiction or "\x00"  # no jurisdiction: nothing matches


# --- enterprise -------------------------------------------------------------------------------------------------

def enterprise_disclosures(enterprise_id: int, today: date) -> dict:
    """Obligations still to meet (how many, how many past due, the next due date) and drafts not yet signed."""
    from portal.disclosures.models import (AnnualReport, Obligation, ObligationStatus, ReportStatus,
                                           TemporaryReport)

    pending = sa.and_(Obligation.enterprise_id == enterprise_id, Obligation.status == ObligationStatus.PENDING)
    row = db.session.execute(sa.select(
        _count(sa.select(Obligation.id).where(pending)),
        _count(sa.select(Obligation.id).where(pending, Obligation.due_on < today)),
        sa.select(sa.func.min(Obligation.due_on)).where(pending, Obligation.due_on >= today).scalar_subquery(),
        _count(sa.select(AnnualReport.id).where(AnnualReport.enterprise_id == enterprise_id,
                                                AnnualReport.status == ReportStatus.DRAFT)),
        _count(sa.select(TemporaryReport.id).where(TemporaryReport.enterprise_id == enterprise_id,
                                                   TemporaryReport.status == ReportStatus.DRAFT)),
    )).one()
    return {"obligations": row[0], "overdue": row[1], "next_due": row[2], "drafts": row[3] + row[4]}


def enterprise_monitoring(enterprise_id: int) -> dict:
    """Exceedances to explain, integrity warnings to answer, transmission anomalies not yet repaired."""
    from portal.integrity.anomaly_rules import AnomalyState
    from portal.integrity.models import IntegrityFlag, TransmissionAnomalyReport
    from portal.integrity.rules import FlagState
    from portal.monitoring.models import ExceedanceIncident, IncidentState

    row = db.session.execute(sa.select(
        _count(sa.select(ExceedanceIncident.id).where(ExceedanceIncident.enterprise_id == enterprise_id,
                                                      ExceedanceIncident.state == IncidentState.OPEN)),
        _count(sa.select(IntegrityFlag.id).where(IntegrityFlag.enterprise_id == enterprise_id,
                                                 IntegrityFlag.state == FlagState.WARNED)),
        _count(sa.select(TransmissionAnomalyReport.id).where(
            TransmissionAnomalyReport.enterprise_id == enterprise_id,
            TransmissionAnomalyReport.state == AnomalyState.REPORTED)),
    )).one()
    return {"incidents": row[0], "warnings": row[1], "anomalies": row[2]}


def enterprise_findings(enterprise_id: int) -> int:
    """Findings about the enterprise that regulators have not decided yet (it sees them before the public)."""
    from portal.credit.evidence import FINDING_SOURCES
    from portal.credit.models import Evidence

    return db.session.scalar(sa.select(sa.func.count()).select_from(Evidence).where(
        Evidence.enterprise_id == enterprise_id, Evidence.source.in_(FINDING_SOURCES),
        Evidence.is_verified.is_(False), Evidence.withdrawn_at.is_(None))) or 0


# --- regulator --------------------------------------------------------------------------------------------------

def regulator_complaints(user, today: date) -> dict:
    """Open cases in the jurisdiction by SLA state (the deadline that applies: rules.effective_due in SQL), and
    extensions waiting for a lead's approval."""
    from portal.complaints import rules
    from portal.complaints.handling import _jurisdiction_filter, due_expression
    from portal.complaints.models import Complaint

    due = due_expression()
    soon = today + timedelta(days=rules.DUE_SOON_DAYS)
    row = db.session.execute(sa.select(
        sa.func.count(),
        _sum_if(due < today),
        _sum_if(sa.and_(due >= today, due <= soon)),
        _sum_if(sa.and_(Complaint.extension_requested_days.is_not(None),
                        Complaint.extension_approved_by_id.is_(None))),
    ).where(_jurisdiction_filter(user), Complaint.status.in_(rules.OPEN_STATUSES))).one()
    return {"open": row[0], "overdue": row[1], "due_soon": row[2], "extensions": row[3]}


def regulator_credit(jurisdiction: str | None) -> dict:
    """Evidence and findings in the jurisdiction waiting for a regulator (one pass over the evidence table)."""
    from portal.credit.evidence import FINDING_SOURCES
    from portal.credit.models import Evidence
    from portal.enterprises.models import Enterprise

    finding = Evidence.source.in_(FINDING_SOURCES)
    open_ = sa.and_(Evidence.is_verified.is_(False), Evidence.withdrawn_at.is_(None))
    row = db.session.execute(sa.select(
        _sum_if(sa.and_(sa.not_(finding), open_)),
        _sum_if(sa.and_(Evidence.withdrawal_requested_by_id.is_not(None), Evidence.withdrawn_at.is_(None))),
        _sum_if(sa.and_(finding, open_, Evidence.recorded_by_id.is_(None))),
        _sum_if(sa.and_(finding, open_, Evidence.recorded_by_id.is_not(None))),
    ).select_from(Evidence).join(Enterprise, Enterprise.id == Evidence.enterprise_id).where(
        Enterprise.region_code.startswith(_prefix(jurisdiction), autoescape=True))).one()
    return {"unconfirmed": row[0], "withdrawals": row[1], "detected": row[2], "recorded": row[3]}


def regulator_registry(jurisdiction: str | None) -> dict:
    """Change proposals and account-binding requests waiting for a decision."""
    from portal.auth.models import BindingStatus, EnterpriseBinding
    from portal.enterprises.models import ChangeProposal, Enterprise, ProposalStatus

    inside = Enterprise.region_code.startswith(_prefix(jurisdiction), autoescape=True)
    row = db.session.execute(sa.select(
        _count(sa.select(ChangeProposal.id).join(Enterprise, Enterprise.id == ChangeProposal.enterprise_id)
               .where(inside, ChangeProposal.status == ProposalStatus.PENDING)),
        _count(sa.select(EnterpriseBinding.id).join(Enterprise, Enterprise.id == EnterpriseBinding.enterprise_id)
               .where(inside, EnterpriseBinding.status == BindingStatus.PENDING)),
    )).one()
    return {"proposals": row[0], "bindings": row[1]}


def regulator_monitoring(jurisdiction: str | None) -> dict:
    """Exceedances open or explained (to close), plans submitted for confirmation, devices registered, integrity
    flags open or answered, transmission anomalies reported or repaired (to close)."""
    from portal.enterprises.models import Enterprise
    from portal.integrity.anomaly_rules import AnomalyState
    from portal.integrity.models import IntegrityFlag, TransmissionAnomalyReport
    from portal.integrity.rules import FlagState
    from portal.monitoring.models import Device, ExceedanceIncident, IncidentState, MonitoringPlan, PlanStatus

    prefix = _prefix(jurisdiction)
    inside = Enterprise.region_code.startswith(prefix, autoescape=True)

    def incidents(state):
        return _count(sa.select(ExceedanceIncident.id)
                      .join(Enterprise, Enterprise.id == ExceedanceIncident.enterprise_id)
                      .where(inside, ExceedanceIncident.state == state))

    def flags(state):
        return _count(sa.select(IntegrityFlag.id).where(IntegrityFlag.region_code.startswith(prefix, autoescape=True),
                                                        IntegrityFlag.state == state))

    def anomalies(state):
        return _count(sa.select(TransmissionAnomalyReport.id).where(
            TransmissionAnomalyReport.region_code.startswith(prefix, autoescape=True),
            TransmissionAnomalyReport.state == state))

    row = db.session.execute(sa.select(
        incidents(IncidentState.OPEN), incidents(IncidentState.EXPLAINED),
        _count(sa.select(MonitoringPlan.id).join(Enterprise, Enterprise.id == MonitoringPlan.enterprise_id)
               .where(inside, MonitoringPlan.status == PlanStatus.SUBMITTED)),
        _count(sa.select(Device.id).join(Enterprise, Enterprise.id == Device.enterprise_id).where(inside)),
        flags(FlagState.OPEN), flags(FlagState.ANSWERED),
        anomalies(AnomalyState.REPORTED), anomalies(AnomalyState.REPAIRED),
    )).one()
    keys = ("incidents_open", "incidents_explained", "plans", "devices", "flags_open", "flags_answered",
            "anomalies_reported", "anomalies_repaired")
    return dict(zip(keys, row))


def lead_rewards(jurisdiction: str | None) -> int:
    """Reward proposals waiting for a lead's decision in the jurisdiction."""
    from portal.complaints.models import Complaint
    from portal.rewards.models import RewardCase, RewardStatus

    like = _prefix(jurisdiction) + "%"
    return db.session.scalar(sa.select(sa.func.count()).select_from(RewardCase)
                             .join(Complaint, Complaint.id == RewardCase.complaint_id)
                             .where(RewardCase.status == RewardStatus.PROPOSED,
                                    sa.or_(Complaint.region_code.like(like),
                                           Complaint.assigned_region_code.like(like)))) or 0


# --- administrator ----------------------------------------------------------------------------------------------

def admin_accounts(now) -> dict:
    """Accounts by role, and the locked and deactivated ones (one grouped query)."""
    from portal.auth.models import User

    by_role: dict[str, int] = {}
    locked = inactive = 0
    rows = db.session.execute(sa.select(
        User.role, sa.func.count(),
        _sum_if(sa.and_(User.locked_until.is_not(None), User.locked_until > now)),
        _sum_if(User.is_active_account.is_(False)),
    ).group_by(User.role))
    for role, n, n_locked, n_inactive in rows:
        by_role[str(role.value if hasattr(role, "value") else role)] = n
        locked += n_locked
        inactive += n_inactive
    return {"by_role": by_role, "locked": locked, "inactive": inactive}
