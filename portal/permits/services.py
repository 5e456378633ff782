"""Execution-report obligations: generated per permit and period, judged at their deadline, filed by the enterprise
with the national platform's receipt; late or missing reports become findings (credit evidence that counts only
after two regulators confirm it, portal/credit/findings.py). Services flush; views and jobs commit."""
from __future__ import annotations

from datetime import date, timezone
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import User
from portal.core.clock import china_today, china_tz
from portal.core.links import public_url
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.enterprises.models import Enterprise, Permit, PermitClass, PermitStatus
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.permits import rules
from portal.permits.models import ExecutionReport, PermitShutdown, ReportDeadline, ReportFrequency, ReportStatus
from portal.workdays.services import calendar, is_provisional

FREQUENCY_TITLES = {ReportFrequency.YEAR: "年度", ReportFrequency.HALF: "半年", ReportFrequency.QUARTER: "季度",
                    ReportFrequency.MONTH: "月度"}


def frequencies_for(permit: Permit) -> tuple[ReportFrequency, ...]:
    """PERMIT_REPORT_FREQUENCIES by management class (registration-class units owe none)."""
    table = current_app.config.get("PERMIT_REPORT_FREQUENCIES") or {}
    return rules.parse_frequencies(table.get(permit.management_class.value, ()))


def default_annual_due(year: int) -> date:
    month, day = (int(x) for x in str(current_app.config.get("PERMIT_REPORT_ANNUAL_DUE", "01-15")).split("-"))
    return date(year + 1, month, day)


def configured(region_code: str, year: int) -> ReportDeadline | None:
    prefixes = [region_code[:n] for n in (2, 4, 6) if len(region_code) >= n]
    stmt = (sa.select(ReportDeadline).where(ReportDeadline.year == year, ReportDeadline.region_code.in_(prefixes))
            .order_by(sa.func.length(ReportDeadline.region_code).desc()).limit(1))
    return db.session.scalar(stmt)


def annual_due(region_code: str, year: int) -> date:
    row = configured(region_code, year)
    return row.due_on if row is not None else default_annual_due(year)


def effective_due(report: ExecutionReport) -> date:
    return rules.effective_due(report.due_on, calendar().is_workday)


def provisional(report: ExecutionReport) -> bool:
    """The nominal day's year has no official holidays yet, so whether it moves to a later working day is unknown."""
    return is_provisional(report.due_on)


def _title(report: ExecutionReport) -> str:
    return (f"排污许可证{report.permit.permit_no}{FREQUENCY_TITLES[report.frequency]}执行报告"
            f"（{rules.period_label(report.frequency, report.period_start)}）")


def _shutdowns(permit_id: int) -> list[tuple[date, date | None]]:
    return [(s.started_on, s.ended_on) for s in db.session.scalars(
        sa.select(PermitShutdown).where(PermitShutdown.permit_id == permit_id).order_by(PermitShutdown.started_on))]


def _held_to(permit: Permit) -> date:
    if permit.status in (PermitStatus.REVOKED, PermitStatus.CANCELLED) and permit.status_since is not None:
        return min(permit.valid_to, date.fromordinal(permit.status_since.toordinal() - 1))
    return permit.valid_to


def ensure_reports(permit: Permit, today: date, existing: set | None = None,
                   annual: dict[tuple[str, int], date] | None = None) -> int:
    """Create the obligations of every period that has started, whose deadline is not before the permit entered the
    portal (earlier duties were judged elsewhere), that the permit was held long enough for, and that is not wholly
    in a shutdown so far. Idempotent."""
    frequencies = frequencies_for(permit)
    if not frequencies:
        return 0
    registered = permit.created_at.replace(tzinfo=timezone.utc).astimezone(china_tz()).date() \
        if permit.created_at.tzinfo is None else permit.created_at.astimezone(china_tz()).date()
    held_to = _held_to(permit)
    shutdowns = _shutdowns(permit.id)
    if existing is None:
        existing = set(db.session.execute(sa.select(ExecutionReport.frequency, ExecutionReport.period_start)
                                          .where(ExecutionReport.permit_id == permit.id)).all())
    annual = {} if annual is None else annual  # (region, year) → annual due day, shared across one job run
    region = permit.enterprise.region_code
    created = 0
    # Periods of the last two years at most: older ones were created when they were current (a daily job).
    for year in range(max(permit.valid_from.year, registered.year - 1, today.year - 2), today.year + 1):
        if (region, year) not in annual:
            annual[(region, year)] = annual_due(region, year)
        periods = rules.periods_of_year(year, frequencies, annual[(region, year)],
                                        int(current_app.config.get("PERMIT_REPORT_DUE_DAY", 15)))
        for period in periods:
            if period.start > today or (period.frequency, period.start) in existing:
                continue
            if period.due_on < registered or not rules.held_enough(period, permit.valid_from, held_to):
                continue
            if rules.covered(period.start, min(period.end, today), shutdowns, today):
                continue
            report = ExecutionReport(permit_id=permit.id, enterprise_id=permit.enterprise_id,
                                     frequency=period.frequency, period_start=period.start, period_end=period.end,
                                     due_on=period.due_on, status=ReportStatus.PENDING)
            db.session.add(report)
            db.session.flush()
            record("system", "permit_report.create", report)
            created += 1
    return created


def _late_finding(report: ExecutionReport, occurred_on: date, filed_on: date | None) -> None:
    due = effective_due(report)
    title = (f"{_title(report)}逾期提交（应于{due.isoformat()}前提交，{filed_on.isoformat()}提交）" if filed_on
             else f"{_title(report)}未在{due.isoformat()}前提交")
    add_evidence(enterprise_id=report.enterprise_id, kind=EvidenceKind.PERMIT_REPORT_LATE,
                 source=EvidenceSource.PERMIT, source_ref=f"permit-report:{report.id}", occurred_on=occurred_on,
                 title=title, verified=False, finding=True,
                 details={"permit_no": report.permit.permit_no, "frequency": report.frequency.value,
                          "period": rules.period_label(report.frequency, report.period_start),
                          "due_on": due.isoformat(), "filed_on": filed_on.isoformat() if filed_on else None})


def _set_status(report: ExecutionReport, status: ReportStatus, actor: Any = "system") -> None:
    before = snapshot(report)
    report.status = status
    record(actor, "permit_report.status", report, before=before)


def _remind(report: ExecutionReport, days: int, due: date) -> int:
    sent = 0
    link = public_url("permits.my_reports")
    users = db.session.scalars(sa.select(User).where(User.enterprise_id == report.enterprise_id,
                                                     User.email.is_not(None), User.email != "",
                                                     User.is_active_account.is_(True)).order_by(User.id))
    for user in users:
        subject = f"【排污许可提醒】{_title(report)}还有{days}天截止（{due.isoformat()}）"
        body = (f"{user.display_name}：\n\n贵单位的{_title(report)}应于{due.isoformat()}（含当日）前在全国排污许可证管理"
                f"信息平台提交，提交后请在本平台登记提交日期和回执编号：{link}\n\n"
                "逾期提交将被记录为待核实的发现（《排污许可管理条例》第三十七条）。")
        queue_mail(user.email, subject, body,
                   dedupe_key=f"permit-report-reminder:{report.id}:{due.isoformat()}:{days}:{user.id}")
        sent += 1
    return sent


def run_deadlines(today: date | None = None) -> dict[str, int]:
    """Daily job: create the obligations of started periods, judge those past their deadline (wholly shut down →
    SHUTDOWN, else MISSING and a finding), and remind 14, 3 and 1 days ahead. A second run changes nothing."""
    today = today or china_today()
    counts = {"created": 0, "missing": 0, "shutdown": 0, "reminders": 0}
    permits = db.session.scalars(sa.select(Permit).where(Permit.management_class != PermitClass.REGISTRATION)
                                 .order_by(Permit.id)).all()
    existing: dict[int, set] = {}
    for permit_id, frequency, start in db.session.execute(sa.select(
            ExecutionReport.permit_id, ExecutionReport.frequency, ExecutionReport.period_start)
            .where(ExecutionReport.period_start >= date(today.year - 2, 1, 1))):  # ensure_reports' window
        existing.setdefault(permit_id, set()).add((frequency, start))
    annual: dict[tuple[str, int], date] = {}
    for permit in permits:
        if not frequencies_for(permit):
            continue
        counts["created"] += ensure_reports(permit, today, existing.get(permit.id, set()), annual)
    pending = db.session.scalars(sa.select(ExecutionReport).where(ExecutionReport.status == ReportStatus.PENDING)
                                 .order_by(ExecutionReport.id)).all()
    for report in pending:
        due = effective_due(report)
        if rules.judge(due, None, today) == ReportStatus.MISSING:
            if rules.covered(report.period_start, report.period_end, _shutdowns(report.permit_id), today):
                _set_status(report, ReportStatus.SHUTDOWN)
                counts["shutdown"] += 1
            else:
                _set_status(report, ReportStatus.MISSING)
                _late_finding(report, due, None)
                counts["missing"] += 1
            continue
        days = rules.reminder_offset(due, today)
        if days is not None and report.permit.status != PermitStatus.SHUTDOWN:
            counts["reminders"] += _remind(report, days, due)
    return counts


def _parse_date(raw: Any) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        return None


def file_report(actor: Any, report: ExecutionReport, data: dict, today: date | None = None) -> ExecutionReport:
    """Record the filing on the national platform: its date and receipt number. A late filing is a finding; filing
    the same obligation twice is refused (a regulator corrects a wrong record)."""
    today = today or china_today()
    if report.status not in (ReportStatus.PENDING, ReportStatus.MISSING):
        raise InvalidTransition(_("This report is already recorded as filed on %(d)s.",
                                  d=report.submitted_on.isoformat() if report.submitted_on else "—"))
    errors = {}
    filed_on = _parse_date(data.get("submitted_on"))
    if filed_on is None:
        errors["submitted_on"] = _("Enter the day the report was filed on the national platform, e.g. %(d)s.",
                                   d=today.isoformat())
    elif filed_on > today:
        errors["submitted_on"] = _("The filing day cannot be in the future: enter %(d)s or an earlier day.",
                                   d=today.isoformat())
    elif filed_on < report.period_start:
        errors["submitted_on"] = _("A report for the period from %(d)s cannot be filed before that day.",
                                   d=report.period_start.isoformat())
    receipt = " ".join(str(data.get("receipt_no") or "").split())
    if not receipt:
        errors["receipt_no"] = _("Enter the receipt number the national permit platform gave for this report.")
    elif len(receipt) > 64:
        errors["receipt_no"] = _("The receipt number has at most 64 characters.")
    note = str(data.get("note") or "").strip()
    if len(note) > 2000:
        errors["note"] = _("The note has at most 2000 characters.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(report)
    status = rules.judge(effective_due(report), filed_on, today)
    report.submitted_on, report.receipt_no, report.note = filed_on, receipt, note
    report.status, report.filed_by_id, report.filed_at = status, getattr(actor, "id", None), utcnow()
    db.session.flush()
    record(actor, "permit_report.file", report, before=before)
    if status == ReportStatus.LATE:
        _late_finding(report, filed_on, filed_on)
    return report


# --- permit status and shutdowns ------------------------------------------------------------------------------------

def set_status(actor: Any, permit: Permit, data: dict, today: date | None = None) -> Permit:
    """Change a permit's state (audited). 停产 needs its first day and the unit's statement and opens a shutdown;
    back in force closes the open shutdown the day before; revocation and cancellation take effect on a day."""
    today = today or china_today()
    errors = {}
    try:
        status = PermitStatus(str(data.get("status") or ""))
    except ValueError:
        status = None
        errors["status"] = _("Choose the permit's state from the list.")
    since = _parse_date(data.get("since"))
    statement = str(data.get("statement") or "").strip()
    if since is None:
        errors["since"] = _("Enter the day the state takes effect, e.g. %(d)s.", d=today.isoformat())
    elif since > today:
        errors["since"] = _("The day cannot be in the future: enter %(d)s or an earlier day.", d=today.isoformat())
    elif since < permit.valid_from:
        errors["since"] = _("The day cannot be before the permit's validity starts (%(d)s).",
                            d=permit.valid_from.isoformat())
    if status == PermitStatus.SHUTDOWN and not statement:
        errors["statement"] = _("Enter the unit's shutdown statement (reason and expected duration).")
    if len(statement) > 4000:
        errors["statement"] = _("The statement has at most 4000 characters.")
    if status is not None and status == permit.status:
        errors["status"] = _("The permit is already in this state; choose another one.")
    if errors:
        raise ValidationFailed(errors)
    open_shutdown = db.session.scalar(sa.select(PermitShutdown).where(PermitShutdown.permit_id == permit.id,
                                                                      PermitShutdown.ended_on.is_(None)))
    if open_shutdown is not None and since <= open_shutdown.started_on:
        raise ValidationFailed({"since": _("The shutdown began on %(d)s: the new state takes effect after that day.",
                                           d=open_shutdown.started_on.isoformat())})
    before = snapshot(permit)
    if open_shutdown is not None:
        shut_before = snapshot(open_shutdown)
        open_shutdown.ended_on = date.fromordinal(since.toordinal() - 1)
        record(actor, "permit_shutdown.end", open_shutdown, before=shut_before)
    if status == PermitStatus.SHUTDOWN:
        shutdown = PermitShutdown(permit_id=permit.id, started_on=since, statement=statement,
                                  recorded_by_id=getattr(actor, "id", None))
        db.session.add(shutdown)
        db.session.flush()
        record(actor, "permit_shutdown.start", shutdown)
    permit.status = status
    permit.status_since = since
    db.session.flush()
    record(actor, "permit.status", permit, before=before)
    return permit


def shutdowns_of(permit_ids: list[int]) -> dict[int, list[PermitShutdown]]:
    result: dict[int, list[PermitShutdown]] = {}
    if not permit_ids:
        return result
    for s in db.session.scalars(sa.select(PermitShutdown).where(PermitShutdown.permit_id.in_(permit_ids))
                                .order_by(PermitShutdown.started_on.desc())):
        result.setdefault(s.permit_id, []).append(s)
    return result


# --- per-year annual deadline (as for disclosures, portal/disclosures/deadlines.py) -------------------------------

def can_set(actor: User) -> bool:
    from portal.auth.models import Role

    return actor.role == Role.REGULATOR_LEAD and len(actor.jurisdiction_code or "") in (2, 4)


def set_deadline(actor: User, year: int | None, raw: str, today: date) -> tuple[ReportDeadline, int, int]:
    """Set the annual execution report deadline of the actor's jurisdiction for `year` (between 1 January and
    30 June of the next year, not in the past); re-date PENDING annual obligations (each audited)."""
    if not can_set(actor):
        raise NotAllowed(_("Only the lead of a province or prefecture bureau sets the execution report deadline."))
    if year is None or not 2021 <= year <= today.year + 1:
        raise ValidationFailed({"year": _("Choose a report year from the list.")})
    due = _parse_date(raw)
    if due is None:
        raise ValidationFailed({"due_on": _("Enter the deadline as a date, e.g. %(d)s.",
                                            d=date(year + 1, 1, 15).isoformat())})
    if not date(year + 1, 1, 1) <= due <= date(year + 1, 6, 30):
        raise ValidationFailed({"due_on": _("The annual execution reports for %(y)d are due between %(a)s and %(b)s.",
                                            y=year, a=date(year + 1, 1, 1).isoformat(),
                                            b=date(year + 1, 6, 30).isoformat())})
    if due < today:
        raise ValidationFailed({"due_on": _("The deadline cannot be in the past: choose %(d)s or a later day.",
                                            d=today.isoformat())})
    region = actor.jurisdiction_code
    row = db.session.scalar(sa.select(ReportDeadline).where(ReportDeadline.region_code == region,
                                                            ReportDeadline.year == year))
    before = snapshot(row) if row is not None else None
    if row is None:
        row = ReportDeadline(region_code=region, year=year, due_on=due, set_by_id=actor.id)
        db.session.add(row)
    else:
        row.due_on, row.set_by_id = due, actor.id
    db.session.flush()
    record(actor, "permit_report_deadline.set", row, before=before)
    stmt = (sa.select(ExecutionReport).join(ExecutionReport.enterprise)
            .where(ExecutionReport.frequency == ReportFrequency.YEAR, ExecutionReport.period_start == date(year, 1, 1),
                   Enterprise.region_code.startswith(region, autoescape=True)).order_by(ExecutionReport.id))
    redated = kept = 0
    for report in db.session.scalars(stmt):
        new_due = annual_due(report.enterprise.region_code, year)
        if report.due_on == new_due:
            continue
        if report.status != ReportStatus.PENDING:
            kept += 1
            continue
        before = snapshot(report)
        report.due_on = new_due
        record(actor, "permit_report.redate", report, before=before)
        redated += 1
    return row, redated, kept


def deadlines_in(jurisdiction: str | None) -> list[ReportDeadline]:
    jurisdiction = jurisdiction or "\x00"
    stmt = (sa.select(ReportDeadline)
            .where(sa.or_(ReportDeadline.region_code.startswith(jurisdiction, autoescape=True),
                          sa.literal(jurisdiction).startswith(ReportDeadline.region_code)))
            .order_by(ReportDeadline.year.desc(), ReportDeadline.region_code))
    return list(db.session.scalars(stmt))


def reports_of(enterprise_id: int, limit: int = 60) -> list[ExecutionReport]:
    stmt = (sa.select(ExecutionReport).where(ExecutionReport.enterprise_id == enterprise_id)
            .order_by(ExecutionReport.period_start.desc(), ExecutionReport.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def open_reports(enterprise_id: int) -> list[ExecutionReport]:
    stmt = (sa.select(ExecutionReport).where(ExecutionReport.enterprise_id == enterprise_id,
                                             ExecutionReport.status == ReportStatus.PENDING)
            .order_by(ExecutionReport.due_on, ExecutionReport.id))
    return list(db.session.scalars(stmt))




def confirmed_late_clause() -> sa.ColumnElement[bool]:
    """The report's late/missing finding was confirmed by two regulators and stands (the public sees only those:
    the portal is not the filing platform, so an unrecorded filing is a clue until people check it)."""
    from portal.credit.models import Evidence

    return sa.exists().where(
        Evidence.source_ref == sa.literal("permit-report:") + sa.cast(ExecutionReport.id, sa.String),
        Evidence.kind == EvidenceKind.PERMIT_REPORT_LATE, Evidence.is_verified.is_(True),
        Evidence.withdrawn_at.is_(None))


def public_status(enterprise_id: int, today: date) -> list[dict]:
    permits = list(db.session.scalars(sa.select(Permit).where(Permit.enterprise_id == enterprise_id)
                                      .order_by(Permit.permit_no)))
    shutdowns = shutdowns_of([p.id for p in permits])
    counts: dict[int, dict[str, int]] = {}
    for permit_id, status, n in db.session.execute(
            sa.select(ExecutionReport.permit_id, ExecutionReport.status, sa.func.count())
            .where(ExecutionReport.enterprise_id == enterprise_id,
                   ExecutionReport.status.in_((ReportStatus.LATE, ReportStatus.MISSING)), confirmed_late_clause())
            .group_by(ExecutionReport.permit_id, ExecutionReport.status)):
        counts.setdefault(permit_id, {})[ReportStatus(status).value] = int(n)
    result = []
    for permit in permits:
        next_due = db.session.scalar(sa.select(ExecutionReport).where(
            ExecutionReport.permit_id == permit.id, ExecutionReport.status == ReportStatus.PENDING)
            .order_by(ExecutionReport.due_on).limit(1))
        ongoing = next((s for s in shutdowns.get(permit.id, []) if s.ended_on is None), None)
        result.append({"permit_no": permit.permit_no, "management_class": permit.management_class,
                       "state": permit.state_on(today), "since": permit.status_since,
                       "shutdown_from": ongoing.started_on if ongoing else None,
                       "frequencies": frequencies_for(permit), "counts": counts.get(permit.id, {}),
                       "next": next_due, "next_due": effective_due(next_due) if next_due else None,
                       "next_provisional": provisional(next_due) if next_due else False})
    return result
