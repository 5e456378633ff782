"""Obligations and supervision: timeliness (DOMAIN §1.11), the daily deadline job with reminders, the regulator's
dashboard and format review (§1.10). Every status change is audited; lateness and misses become credit evidence."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import User
from portal.core.clock import china_today, china_tz
from portal.core.links import public_url
from portal.credit.evidence import add_evidence, withdraw_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.disclosures import rules
from portal.disclosures.models import (AnnualReport, Obligation, ObligationKind, ObligationStatus, ReportStatus,
                                       Review, ReviewFlag, TemporaryReport)
from portal.enterprises.models import Enterprise, KeyUnitYear
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db
from portal.mail.services import queue_mail

CHECKLIST = ("sections_present", "units_present", "uscc_valid", "numbers_non_negative", "commitment_signed",
             "plain_language")
FLAG_TITLES = {ReviewFlag.NON_COMPLIANT: "不符合准则", ReviewFlag.UNTRUE: "不真实", ReviewFlag.INACCURATE: "不准确"}


def _title(ob: Obligation) -> str:
    if ob.kind == ObligationKind.ANNUAL:
        return f"{ob.year}年度环境信息依法披露报告"
    return f"临时环境信息依法披露报告（{ob.ref}）"


def _set_status(ob: Obligation, status: ObligationStatus, submitted_at: datetime | None, actor: Any = "system") -> bool:
    if ob.status == status and ob.submitted_at == submitted_at:
        return False
    before = snapshot(ob)
    ob.status, ob.submitted_at = status, submitted_at
    record(actor, "disclosure_obligation.status", ob, before=before)
    return True


def settle_obligation(ob: Obligation, submitted_at: datetime) -> Obligation:
    """A filing decides ON_TIME or LATE by its China date; a late filing is credit evidence (Art. 29), and a MISSING
    evidence from the deadline run is withdrawn because the report now exists (it is LATE instead)."""
    filed_on = submitted_at.astimezone(china_tz()).date()
    status = rules.obligation_status(ob.due_on, filed_on, filed_on)
    was_missing = ob.status == ObligationStatus.MISSING
    _set_status(ob, status, submitted_at)
    if status == ObligationStatus.LATE:
        add_evidence(enterprise_id=ob.enterprise_id, kind=EvidenceKind.DISCLOSURE_LATE,
                     source=EvidenceSource.DISCLOSURE, source_ref=f"obligation:{ob.id}", occurred_on=filed_on,
                     title=f"{_title(ob)}逾期披露（应于{ob.due_on.isoformat()}前披露）", verified=False, finding=True,
                     details={"due_on": ob.due_on.isoformat(), "filed_on": filed_on.isoformat()})
    if was_missing:
        missing = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == f"obligation:{ob.id}",
                                                              Evidence.kind == EvidenceKind.DISCLOSURE_MISSING))
        if missing is not None and not missing.is_verified:  # confirmed evidence is withdrawn only by two people
            withdraw_evidence(missing, "system", "filed late on " + filed_on.isoformat())
    return ob


def ensure_annual_obligations(year: int) -> int:
    """Key units of `year` owe the annual report for `year` (DOMAIN §1.2); create their obligations once."""
    from portal.disclosures.services import ensure_annual_obligation

    key_units = sa.select(KeyUnitYear.enterprise_id).where(KeyUnitYear.year == year)
    stmt = sa.select(Enterprise).where(Enterprise.id.in_(key_units)).order_by(Enterprise.id)
    existing = set(db.session.scalars(sa.select(Obligation.ref).where(Obligation.kind == ObligationKind.ANNUAL,
                                                                      Obligation.year == year)))
    created = 0
    for ent in db.session.scalars(stmt):
        if f"annual:{ent.id}:{year}" not in existing:
            ensure_annual_obligation(ent, year)
            created += 1
    return created


def _reminder_recipients(enterprise_id: int) -> list[User]:
    stmt = sa.select(User).where(User.enterprise_id == enterprise_id, User.email.is_not(None),
                                 User.is_active_account.is_(True)).order_by(User.id)
    return list(db.session.scalars(stmt))


def _remind(ob: Obligation, days: int) -> int:
    sent = 0
    link = public_url("disclosures.my_index")
    for user in _reminder_recipients(ob.enterprise_id):
        subject = f"【依法披露提醒】{_title(ob)}还有{days}天截止（{ob.due_on.isoformat()}）"
        body = (f"{user.display_name}：\n\n贵单位的{_title(ob)}应于{ob.due_on.isoformat()}（含当日）前签署披露。"
                f"\n请登录平台填报：{link}\n\n逾期披露将被记录并计入企业环境信用。")
        queue_mail(user.email, subject, body, dedupe_key=f"disclosure-reminder:{ob.ref}:{days}:{user.id}")
        sent += 1
    return sent


def run_deadlines(today: date | None = None) -> dict[str, int]:
    """Daily job: create this cycle's annual obligations, turn unfiled obligations past their due date into MISSING
    (credit evidence, Art. 28), and send reminders 30, 7 and 1 days ahead. Idempotent: a second run changes nothing."""
    today = today or china_today()
    counts = {"created": ensure_annual_obligations(today.year - 1), "missing": 0, "reminders": 0}
    pending = db.session.scalars(sa.select(Obligation).where(Obligation.status == ObligationStatus.PENDING)
                                 .order_by(Obligation.id)).all()
    for ob in pending:
        status = rules.obligation_status(ob.due_on, None, today)
        if status == ObligationStatus.MISSING:
            _set_status(ob, status, None)
            add_evidence(enterprise_id=ob.enterprise_id, kind=EvidenceKind.DISCLOSURE_MISSING,
                         source=EvidenceSource.DISCLOSURE, source_ref=f"obligation:{ob.id}", occurred_on=ob.due_on,
                         title=f"{_title(ob)}未在{ob.due_on.isoformat()}前披露", verified=False, finding=True,
                         details={"due_on": ob.due_on.isoformat()})
            counts["missing"] += 1
            continue
        days = rules.reminder_offset(ob.due_on, today)
        if days is not None:
            counts["reminders"] += _remind(ob, days)
    return counts


# --- regulator dashboard and review ---------------------------------------------------------------------------------

def obligations_query(jurisdiction: str | None, status: str = "", kind: str = "", year: int | None = None):
    stmt = (sa.select(Obligation).join(Obligation.enterprise)
            .where(Enterprise.region_code.startswith(jurisdiction or "\x00", autoescape=True)))
    if status:
        stmt = stmt.where(Obligation.status == ObligationStatus(status))
    if kind:
        stmt = stmt.where(Obligation.kind == ObligationKind(kind))
    if year:
        stmt = stmt.where(Obligation.year == year)
    return stmt.order_by(Obligation.due_on.desc(), Enterprise.name, Obligation.id)


def status_counts(jurisdiction: str | None) -> dict[str, int]:
    stmt = (sa.select(Obligation.status, sa.func.count()).join(Obligation.enterprise)
            .where(Enterprise.region_code.startswith(jurisdiction or "\x00", autoescape=True))
            .group_by(Obligation.status))
    return {(s.value if hasattr(s, "value") else s): n for s, n in db.session.execute(stmt)}


def csv_rows(obligations) -> list[list[str]]:
    header = ["统一社会信用代码", "企业名称", "区划", "类型", "年度", "截止日期", "状态", "提交时间（北京时间）"]
    rows = [header]
    tz = china_tz()
    for ob in obligations:
        rows.append([ob.enterprise.uscc, ob.enterprise.name, ob.enterprise.region_code, ob.kind.value,
                     str(ob.year or ""), ob.due_on.isoformat(), ob.status.value,
                     ob.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if ob.submitted_at else ""])
    return rows


def reviews_of(digest: str) -> list[Review]:
    return list(db.session.scalars(sa.select(Review).where(Review.report_sha256 == digest).order_by(Review.id)))


def review_report(actor: User, report: AnnualReport | TemporaryReport, checklist: dict[str, bool], flag: str,
                  note: str) -> Review:
    """Record a format review. A flag (不符合准则 / 不真实 / 不准确) asks the enterprise for a CHANGE report and is
    unverified credit evidence until a second regulator confirms it (an enforcement candidate, not a fine)."""
    if report.status == ReportStatus.DRAFT:
        raise NotAllowed(_("Drafts are private to the enterprise and cannot be reviewed."))
    flag_value = ReviewFlag(flag) if flag in {f.value for f in ReviewFlag} else None
    if flag_value is None:
        raise ValidationFailed({"flag": _("Choose a review result.")})
    note = (note or "").strip()
    if flag_value != ReviewFlag.NONE and not note:
        raise ValidationFailed({"note": _("Explain the finding in the note; the enterprise will read it.")})
    review = Review(report_sha256=report.sha256, enterprise_id=report.enterprise_id, reviewer_id=actor.id,
                    checklist={k: bool(checklist.get(k)) for k in CHECKLIST}, flag=flag_value, note=note)
    db.session.add(review)
    db.session.flush()
    record(actor, "disclosure_review.create", review)
    if flag_value != ReviewFlag.NONE:
        _notify_flag(review, report)
        add_evidence(enterprise_id=report.enterprise_id, kind=EvidenceKind.DISCLOSURE_DEFECTIVE,
                     source=EvidenceSource.DISCLOSURE, source_ref=f"review:{review.id}", occurred_on=china_today(),
                     title=f"披露报告{FLAG_TITLES[flag_value]}（{report.sha256[:12]}）", verified=False, actor=actor,
                     authority=actor.display_name, details={"flag": flag_value.value, "note": note,
                                                            "report_sha256": report.sha256})
    return review


def _notify_flag(review: Review, report) -> None:
    """E-mail the enterprise's users: a finding asks for a CHANGE report (Art. 18)."""
    link = public_url("disclosures.my_index")
    for user in _reminder_recipients(report.enterprise_id):
        subject = f"【依法披露】生态环境部门认为贵单位披露的报告{FLAG_TITLES[review.flag]}，请提交变更报告"
        body = (f"{user.display_name}：\n\n审查意见：{review.note}\n\n请登录平台，对该报告提交临时报告（变更），"
                f"说明变更事项和理由：{link}\n\n报告摘要：{report.sha256}")
        queue_mail(user.email, subject, body, dedupe_key=f"disclosure-review:{review.id}:{user.id}")


def review_queue(jurisdiction: str | None, limit: int = 200) -> list:
    """Published reports in the jurisdiction that no regulator has reviewed yet, oldest first."""
    reviewed = sa.select(Review.report_sha256)
    items = []
    for model in (AnnualReport, TemporaryReport):
        stmt = (sa.select(model).join(model.enterprise)
                .where(model.status != ReportStatus.DRAFT, model.sha256.not_in(reviewed),
                       Enterprise.region_code.startswith(jurisdiction or "\x00", autoescape=True))
                .order_by(model.submitted_at).limit(limit))
        items.extend(db.session.scalars(stmt))
    return sorted(items, key=lambda r: r.submitted_at)[:limit]


def open_flags(enterprise_id: int) -> list[Review]:
    """Flags the enterprise must answer with a CHANGE report (shown on its disclosure page)."""
    stmt = (sa.select(Review).where(Review.enterprise_id == enterprise_id, Review.flag != ReviewFlag.NONE)
            .order_by(Review.id.desc()))
    return list(db.session.scalars(stmt))


def upcoming(enterprise_id: int) -> list[Obligation]:
    stmt = (sa.select(Obligation).where(Obligation.enterprise_id == enterprise_id)
            .order_by(Obligation.due_on.desc()).limit(50))
    return list(db.session.scalars(stmt))



def obligation_digest(ob: Obligation) -> str | None:
    """The published report that answered an obligation (for the dashboard's review link)."""
    if ob.kind == ObligationKind.TEMPORARY:
        report = db.session.get(TemporaryReport, ob.temporary_report_id)
    else:
        report = db.session.scalar(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ob.enterprise_id,
                                                                 AnnualReport.year == ob.year))
    return report.sha256 if report is not None and report.status != ReportStatus.DRAFT else None
