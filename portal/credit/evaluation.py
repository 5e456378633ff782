"""Annual evaluation runs (DOMAIN §2.5): compute the proposed grades (拟评) from the ledger on 31 December, put them
on public notice, take and answer objections (a sustained one recomputes), and let the lead finalise and publish.
Services flush; the caller commits."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.core.clock import china_today
from portal.credit import rules, scoring, services
from portal.credit.models import (EvaluationResult, EvaluationRun, Objection, ObjectionStatus, RunStatus)
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db


def _explain(result: scoring.Result) -> list[dict]:
    return [{"evidence_id": e.evidence_id, "rule": e.rule_code, "label": e.rule_label, "points": e.points,
             "veto": e.is_veto, "counts_from": e.counts_from.isoformat(),
             "expires_on": e.expires_on.isoformat() if e.expires_on else None} for e in result.counting]


def compute_run(year: int, prefix: str, actor: Any = None, notice_days: int | None = None) -> EvaluationRun:
    """Compute (or, while still only proposed, recompute) the run for `year` and the enterprises under `prefix`:
    each enterprise's standing on 31 December under its jurisdiction's active scheme."""
    if date(year, 12, 31) >= china_today():
        raise ValidationFailed({"year": _("The period %(year)d ends on 31 December; evaluate it after that.",
                                          year=year)})
    run = db.session.scalar(sa.select(EvaluationRun).where(EvaluationRun.year == year,
                                                           EvaluationRun.jurisdiction_prefix == prefix))
    if run is not None and not rules.can_transition_run(run.status, RunStatus.COMPUTED):
        raise InvalidTransition(_("This run is already on public notice or final; it can no longer be recomputed."))
    if run is None:
        run = EvaluationRun(year=year, jurisdiction_prefix=prefix, created_by_id=getattr(actor, "id", None),
                            notice_days=notice_days or current_app.config.get("CREDIT_NOTICE_DAYS", 15),
                            computed_at=utcnow())
        db.session.add(run)
        db.session.flush()
    run.computed_at = utcnow()
    _compute_results(run)
    record(actor, "credit_run.compute", run, after={**snapshot(run), "grades": grade_counts(run)})
    return run


def grade_counts(run: EvaluationRun) -> dict[str, int]:
    stmt = (sa.select(EvaluationResult.grade, sa.func.count()).where(EvaluationResult.run_id == run.id)
            .group_by(EvaluationResult.grade))
    return {grade: count for grade, count in db.session.execute(stmt)}


def _compute_results(run: EvaluationRun) -> None:
    """(Re)write the run's results with Core statements: a proposed run has no objections yet, so its results are
    replaced wholesale; one evidence query and one insert per 5,000 enterprises."""
    as_of = date(run.year, 12, 31)
    stmt = sa.select(Enterprise.id, Enterprise.region_code).order_by(Enterprise.id)
    if run.jurisdiction_prefix:
        stmt = stmt.where(Enterprise.region_code.startswith(run.jurisdiction_prefix, autoescape=True))
    enterprises = db.session.execute(stmt).all()
    db.session.execute(sa.delete(EvaluationResult).where(EvaluationResult.run_id == run.id))
    versions, now = services.VersionCache(), utcnow()
    for start in range(0, len(enterprises), 5000):
        chunk = enterprises[start:start + 5000]
        facts = services.facts_by_enterprise([e.id for e in chunk])
        rows = []
        for ent_id, region in chunk:
            resolved = versions.get(region)
            if resolved is None:
                continue
            version, scheme = resolved
            result = scoring.evaluate(scheme, facts.get(ent_id, []), as_of, with_steps=False)
            rows.append(dict(run_id=run.id, enterprise_id=ent_id, scheme_version_id=version.id,
                             score=result.standing.score, grade=result.standing.grade,
                             is_vetoed=result.standing.is_vetoed, explanation=_explain(result), revision=1,
                             created_at=now, updated_at=now))
        if rows:
            db.session.execute(EvaluationResult.__table__.insert(), rows)
    db.session.flush()
    db.session.expire(run, ["results"])


def start_notice(run: EvaluationRun, actor: Any, days: int | None = None,
                 starts_on: date | None = None) -> EvaluationRun:
    """Publish the proposed results for `days` natural days (default the run's notice_days, 7–30) from `starts_on`
    (default today; an earlier day, after the period ended, records a notice already given, as the demo does)."""
    if not rules.can_manage_run(actor.role, actor.jurisdiction_code, run.jurisdiction_prefix):
        raise NotAllowed(_("This run is outside your jurisdiction."))
    days = days or run.notice_days
    if not rules.MIN_NOTICE_DAYS <= days <= rules.MAX_NOTICE_DAYS:
        raise ValidationFailed({"notice_days": _("Give a notice period of %(a)d to %(b)d days.",
                                                 a=rules.MIN_NOTICE_DAYS, b=rules.MAX_NOTICE_DAYS)})
    if not rules.can_transition_run(run.status, RunStatus.PUBLIC_NOTICE) or run.status == RunStatus.PUBLIC_NOTICE:
        raise InvalidTransition(_("Only a computed run can be put on public notice."))
    today = china_today()
    starts_on = starts_on or today
    if not date(run.year, 12, 31) < starts_on <= today:
        # only the demo seed passes a day; no view does
        raise ValueError(f"a notice for {run.year} starts in {run.year + 1} and no later than today")
    before = snapshot(run)
    run.notice_days = days
    run.notice_starts_on, run.notice_ends_on = rules.notice_period(starts_on, days)
    run.status = RunStatus.PUBLIC_NOTICE
    record(actor, "credit_run.notice", run, before=before)
    return run


def open_objections(run: EvaluationRun) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Objection)
                             .join(EvaluationResult, EvaluationResult.id == Objection.result_id)
                             .where(EvaluationResult.run_id == run.id, Objection.status == ObjectionStatus.OPEN))


def finalise_refusal_message(run: EvaluationRun) -> str | None:
    """Why the run cannot be finalised today (translated), or None. The run page shows it beside the disabled
    button; finalise_run refuses with the same words."""
    refusal = rules.finalise_refusal(run.status, run.notice_ends_on, china_today(), open_objections(run))
    messages = {"status": _("Only a run on public notice can be finalised."),
                "notice_running": _("The public notice runs until %(d)s; finalise after that.",
                                    d=run.notice_ends_on.isoformat() if run.notice_ends_on else ""),
                "open_objections": _("Answer every objection before finalising.")}
    return messages[refusal] if refusal else None


def finalise_run(run: EvaluationRun, actor: Any) -> EvaluationRun:
    """The lead approves the results once the notice has ended and every objection has a written answer."""
    if not rules.can_finalise_run(actor.role, actor.jurisdiction_code, run.jurisdiction_prefix):
        raise NotAllowed(_("Only a lead of this jurisdiction can finalise the results."))
    refusal = finalise_refusal_message(run)
    if refusal:
        raise InvalidTransition(refusal)
    before = snapshot(run)
    run.status, run.finalised_at, run.finalised_by_id = RunStatus.FINAL, utcnow(), actor.id
    db.session.flush()
    # The published results become the enterprises' current standing (credit.standing.decide).
    ids = list(db.session.scalars(sa.select(EvaluationResult.enterprise_id).where(EvaluationResult.run_id == run.id)))
    services.recompute_enterprises(ids, reason=f"run:{run.id}")
    record(actor, "credit_run.finalise", run, before=before)
    return run


def file_objection(actor: Any, result: EvaluationResult, grounds: str, supporting: str) -> Objection:
    """An enterprise user objects to its own proposed result during the notice."""
    if not (actor.role.is_enterprise and actor.enterprise_id == result.enterprise_id):
        raise NotAllowed(_("You can object only to your own enterprise's result."))
    if not grounds.strip():
        raise ValidationFailed({"grounds": _("State the grounds of the objection.")})
    has_open = any(o.status == ObjectionStatus.OPEN for o in result.objections)
    refusal = rules.objection_refusal(result.run.status, result.run.notice_ends_on, china_today(), has_open)
    if refusal == "closed":
        raise InvalidTransition(_("Objections are accepted only while the result is on public notice."))
    if refusal == "open":
        raise InvalidTransition(_("Your earlier objection to this result is still being reviewed."))
    objection = Objection(enterprise_id=result.enterprise_id, submitted_by_id=actor.id, grounds=grounds.strip(),
                          supporting_evidence=supporting.strip())
    result.objections.append(objection)
    db.session.flush()
    record(actor, "credit_objection.file", objection)
    return objection


def answer_objection(actor: Any, objection: Objection, sustain: bool, reply: str) -> Objection:
    """Answer in writing; a sustained objection recomputes the result from the evidence as it now stands (the
    regulator withdraws or corrects the contested evidence first)."""
    run = objection.result.run
    if not rules.can_manage_run(actor.role, actor.jurisdiction_code, run.jurisdiction_prefix):
        raise NotAllowed(_("This run is outside your jurisdiction."))
    if not rules.can_answer_objection(objection.status, run.status):
        raise InvalidTransition(_("This objection has already been answered."))
    if not reply.strip():
        raise ValidationFailed({"reply": _("Write the answer the enterprise will receive.")})
    before = snapshot(objection)
    objection.status = ObjectionStatus.SUSTAINED if sustain else ObjectionStatus.DISMISSED
    objection.reply, objection.answered_by_id, objection.answered_at = reply.strip(), actor.id, utcnow()
    if sustain:
        _recompute_result(objection.result)
    record(actor, "credit_objection.answer", objection, before=before)
    return objection


def _recompute_result(row: EvaluationResult) -> None:
    version = row.scheme_version
    facts = services.facts_by_enterprise([row.enterprise_id]).get(row.enterprise_id, [])
    result = scoring.evaluate(services.parsed(version), facts, date(row.run.year, 12, 31))
    row.score, row.grade, row.is_vetoed = result.standing.score, result.standing.grade, result.standing.is_vetoed
    row.explanation, row.revision = _explain(result), row.revision + 1
    db.session.flush()


def runs_for(jurisdiction: str) -> list[EvaluationRun]:
    stmt = (sa.select(EvaluationRun).where(EvaluationRun.jurisdiction_prefix.startswith(jurisdiction,
                                                                                         autoescape=True),
                                           EvaluationRun.jurisdiction_prefix != "")
            .order_by(EvaluationRun.year.desc(), EvaluationRun.jurisdiction_prefix))
    return list(db.session.scalars(stmt))


def public_runs() -> list[EvaluationRun]:
    stmt = (sa.select(EvaluationRun).where(EvaluationRun.status != RunStatus.COMPUTED)
            .order_by(EvaluationRun.year.desc(), EvaluationRun.jurisdiction_prefix))
    return list(db.session.scalars(stmt))


def results_of(enterprise_id: int) -> list[EvaluationResult]:
    """An enterprise's results in runs that are on notice or final (what it may object to or cite)."""
    stmt = (sa.select(EvaluationResult).join(EvaluationRun)
            .where(EvaluationResult.enterprise_id == enterprise_id, EvaluationRun.status != RunStatus.COMPUTED)
            .order_by(EvaluationRun.year.desc()))
    return list(db.session.scalars(stmt))
