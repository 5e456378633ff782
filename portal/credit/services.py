"""Credit use cases: seed the scheme presets, keep each enterprise's ledger and standing current, record and confirm
regulators' evidence, and read an enterprise's credit for the public page and the API. Services flush; the caller's
edge (view, CLI, job runner) commits."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.credit import presets, rules, scoring, standing as standing_rules
from portal.credit.evidence import EVIDENCE_LISTENERS, add_evidence, scoring_evidence, verify_evidence, \
    withdraw_evidence
from portal.credit.models import (CreditScheme, CreditSchemeVersion, CreditStanding, Evidence, EvidenceKind,
                                  EvidenceSource, GradeChange, JurisdictionScheme, LedgerEntry, SchemeStatus)
from portal.core.clock import china_today
from portal.core.messages import evidence_title
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.core.links import public_url


# --- schemes ------------------------------------------------------------------------------------------------------

def seed_schemes() -> dict[str, str]:
    """Create the preset schemes (version 1, active) and the default jurisdiction mapping when missing; never
    touches a scheme or mapping that exists, so it is safe to run on every deploy. Like the reference data this is
    installation data, not a regulator's decision, so it is not audited; later changes by a lead are."""
    if not sa.inspect(db.engine).has_table(CreditScheme.__tablename__):
        return {"credit schemes": "skipped: the credit tables do not exist yet (run `flask db upgrade`)"}
    result = {}
    for code, (name, description, data) in presets.PRESETS.items():
        scheme = db.session.scalar(sa.select(CreditScheme).where(CreditScheme.code == code))
        if scheme is not None:
            result[code] = "exists"
            continue
        scheme = CreditScheme(code=code, name=name, description=description)
        db.session.add(scheme)
        db.session.flush()
        version = CreditSchemeVersion(scheme_id=scheme.id, number=1, status=SchemeStatus.ACTIVE, rules=data,
                                      activated_at=utcnow())
        db.session.add(version)
        db.session.flush()
        result[code] = "created"
    for prefix, code in presets.DEFAULT_JURISDICTIONS.items():
        if db.session.scalar(sa.select(JurisdictionScheme).where(JurisdictionScheme.jurisdiction_prefix == prefix)):
            continue
        scheme = db.session.scalar(sa.select(CreditScheme).where(CreditScheme.code == code))
        mapping = JurisdictionScheme(jurisdiction_prefix=prefix, scheme_id=scheme.id)
        db.session.add(mapping)
        db.session.flush()
        result[f"jurisdiction {prefix}"] = code
    from portal.credit.schemes import upgrade_presets

    for code, outcome in upgrade_presets().items():
        result[code] = f"upgraded to {outcome}"
    return result


def active_version(scheme_id: int) -> CreditSchemeVersion | None:
    return db.session.scalar(sa.select(CreditSchemeVersion).where(CreditSchemeVersion.scheme_id == scheme_id,
                                                                 CreditSchemeVersion.status == SchemeStatus.ACTIVE))


def version_for_region(region_code: str) -> CreditSchemeVersion | None:
    """The active scheme version for a region: the most specific jurisdiction mapping, else the national scheme."""
    mappings = {m.jurisdiction_prefix: m.scheme_id for m in db.session.scalars(sa.select(JurisdictionScheme))}
    prefix = rules.scheme_prefix_for(region_code, list(mappings))
    if prefix is not None:
        version = active_version(mappings[prefix])
        if version is not None:
            return version
    national = db.session.scalar(sa.select(CreditScheme).where(CreditScheme.code == presets.NATIONAL_CODE))
    return active_version(national.id) if national else None


def parsed(version: CreditSchemeVersion) -> scoring.SchemeRules:
    return scoring.parse_rules(version.rules)


# --- the ledger ---------------------------------------------------------------------------------------------------

def fact(evidence: Evidence) -> scoring.Fact:
    return scoring.Fact(evidence_id=evidence.id, kind=evidence.kind.value, occurred_on=evidence.occurred_on,
                        amount_yuan=evidence.amount_yuan, details=evidence.details or {},
                        repaired_on=evidence.repaired_on)


def recompute_enterprise(enterprise_id: int, as_of: date | None = None, reason: str = "") -> CreditStanding | None:
    """Rebuild one enterprise's ledger and standing from its scoring evidence and its latest final annual result
    (incremental update after new evidence, a finalised run or a repair). No active scheme: nothing to do; not
    evaluated (no ledger line, no final result): no standing row (credit.standing)."""
    ent = db.session.get(Enterprise, enterprise_id)
    version = version_for_region(ent.region_code) if ent else None
    if version is None:
        return None
    as_of = as_of or china_today()
    result = scoring.evaluate(parsed(version), [fact(e) for e in scoring_evidence(enterprise_id)], as_of)
    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.enterprise_id == enterprise_id))
    db.session.add_all([LedgerEntry(enterprise_id=enterprise_id, evidence_id=e.evidence_id,
                                    scheme_version_id=version.id, rule_code=e.rule_code, rule_label=e.rule_label,
                                    points=e.points, is_veto=e.is_veto, counts_from=e.counts_from,
                                    expires_on=e.expires_on) for e in result.entries])
    annual = standing_rules.latest_annual([enterprise_id]).get(enterprise_id)
    decision = standing_rules.decide(parsed(version), version.id, list(result.entries), as_of, annual, result)
    if decision is None:
        db.session.execute(sa.delete(CreditStanding).where(CreditStanding.enterprise_id == enterprise_id))
        db.session.flush()
        return None
    return _store_standing(enterprise_id, version, result, reason, decision, annual)


def recompute_enterprises(enterprise_ids: list[int], reason: str = "recompute") -> int:
    """Re-decide the standings of some enterprises in batches (a run finalised, a grade repaired)."""
    rows = db.session.execute(sa.select(Enterprise.id, Enterprise.region_code)
                              .where(Enterprise.id.in_(enterprise_ids)).order_by(Enterprise.id)).all()
    versions, count = VersionCache(), 0
    for start in range(0, len(rows), 5000):
        count += _recompute_batch(rows[start:start + 5000], versions, china_today(), reason=reason)
    db.session.expire_all()
    return count


def _store_standing(enterprise_id: int, version: CreditSchemeVersion, result: scoring.Result, reason: str,
                    decision: standing_rules.Decision, annual: standing_rules.Annual | None) -> CreditStanding:
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == enterprise_id))
    now, s = utcnow(), decision
    changed = standing is None or standing.grade != s.grade or standing.scheme_version_id != version.id
    previous = standing.grade if standing is not None and standing.scheme_version_id == version.id else None
    if standing is None:
        standing = CreditStanding(enterprise_id=enterprise_id)
        db.session.add(standing)
    standing.scheme_version_id, standing.score, standing.grade = version.id, s.score, s.grade
    standing.is_vetoed, standing.as_of, standing.next_change_on = s.is_vetoed, result.as_of, s.next_change_on
    standing.basis, standing.since = s.basis, s.since
    standing.result_id = annual.result_id if annual else None
    standing.computed_at = now
    if changed:
        change = GradeChange(enterprise_id=enterprise_id, scheme_version_id=version.id, grade=s.grade,
                             score=s.score, effective_on=result.as_of, recorded_at=now, reason=reason[:200])
        db.session.add(change)
        db.session.flush()
        _notify_grade_change(enterprise_id, version, previous, change)
    db.session.flush()
    return standing


def _notify_grade_change(enterprise_id: int, version: CreditSchemeVersion, previous: str | None,
                         change: GradeChange) -> None:
    """Dynamic re-evaluation: when new evidence lowers the grade between runs, the enterprise's users are told
    (DOMAIN §2.1 dynamic re-evaluation, §2.3 the enterprise is notified)."""
    scheme = parsed(version)
    if previous is None or not scheme.grade_codes.index(change.grade) > scheme.grade_codes.index(previous):
        return
    from portal.auth.models import User
    from portal.core.links import public_enterprise_url
    from portal.mail.services import queue_mail

    ent = db.session.get(Enterprise, enterprise_id)
    subject = _("Environmental credit: %(name)s is now %(grade)s", name=ent.name,
                grade=scheme.grade(change.grade).label)
    body = _("The environmental credit grade of %(name)s changed from %(old)s to %(new)s (score %(score)s) on "
             "%(day)s after new evidence was confirmed. The ledger, rule by rule, and the dates on which each "
             "deduction expires: %(url)s", name=ent.name, old=scheme.grade(previous).label,
             new=scheme.grade(change.grade).label, score=change.score, day=change.effective_on.isoformat(),
             url=public_enterprise_url(ent.uscc))
    for user in db.session.scalars(sa.select(User).where(User.enterprise_id == enterprise_id,
                                                         User.email.is_not(None))):
        queue_mail(user.email, subject, body, dedupe_key=f"credit-grade:{change.id}:{user.id}")


def on_evidence(evidence: Evidence) -> None:
    recompute_enterprise(evidence.enterprise_id, reason=f"evidence:{evidence.id}")
    from portal.credit import publication

    publication.apply(evidence)  # NDRC Order 36: a confirmed minor item is not published


if on_evidence not in EVIDENCE_LISTENERS:
    EVIDENCE_LISTENERS.append(on_evidence)


def refresh_due_standings(batch: int = 5000) -> int:
    """Job credit-refresh: recompute every standing whose next change (an entry expiring or starting, or a scheme
    change) is due, in batches. Idempotent: a recomputed standing's next_change_on moves past today."""
    today = china_today()
    due = db.session.execute(sa.select(Enterprise.id, Enterprise.region_code)
                             .join(CreditStanding, CreditStanding.enterprise_id == Enterprise.id)
                             .where(CreditStanding.next_change_on <= today).order_by(Enterprise.id)).all()
    # Evaluated by a final annual run but without a standing yet (e.g. results finalised before migration 0006).
    from portal.credit.models import EvaluationResult, EvaluationRun, RunStatus

    unstanding = (sa.select(Enterprise.id, Enterprise.region_code).distinct()
                  .join(EvaluationResult, EvaluationResult.enterprise_id == Enterprise.id)
                  .join(EvaluationRun, EvaluationRun.id == EvaluationResult.run_id)
                  .where(EvaluationRun.status == RunStatus.FINAL,
                         ~sa.exists().where(CreditStanding.enterprise_id == Enterprise.id)))
    due = sorted({*due, *db.session.execute(unstanding).all()})
    versions = VersionCache()
    for start in range(0, len(due), batch):
        _recompute_batch(due[start:start + batch], versions, today, reason="expiry")
    db.session.expire_all()
    return len(due)


def facts_by_enterprise(enterprise_ids: list[int]) -> dict[int, list[scoring.Fact]]:
    """Scoring facts for many enterprises in one Core query per 5,000 (the batch paths: runs, full recompute);
    kind and details are read raw (details is decoded only when it holds something)."""
    t = Evidence.__table__
    facts: dict[int, list[scoring.Fact]] = defaultdict(list)
    conn = db.session.connection()
    for start in range(0, len(enterprise_ids), 5000):
        chunk = enterprise_ids[start:start + 5000]
        stmt = (sa.select(t.c.id, t.c.enterprise_id, sa.type_coerce(t.c.kind, sa.String), t.c.occurred_on,
                          t.c.amount_yuan, sa.type_coerce(t.c.details, sa.Text), t.c.repaired_on)
                .where(t.c.enterprise_id.in_(chunk), t.c.is_verified.is_(True), t.c.withdrawn_at.is_(None)))
        for ev_id, ent_id, kind, occurred_on, amount, details, repaired_on in conn.execute(stmt):
            if isinstance(details, str):  # SQLite hands back the JSON text; psycopg decodes json itself
                details = json.loads(details) if details not in ("{}", "null") else None
            data = details or {}
            facts[ent_id].append(scoring.Fact(ev_id, kind, occurred_on, amount, data, repaired_on))
    return facts


class VersionCache:
    """Active scheme version (and its parsed rules) per region code, resolved once per batch."""

    def __init__(self) -> None:
        self._by_region: dict[str, tuple[CreditSchemeVersion, scoring.SchemeRules] | None] = {}

    def get(self, region_code: str) -> tuple[CreditSchemeVersion, scoring.SchemeRules] | None:
        if region_code not in self._by_region:
            version = version_for_region(region_code)
            self._by_region[region_code] = (version, parsed(version)) if version else None
        return self._by_region[region_code]


def recompute_all(region_prefix: str = "", as_of: date | None = None, batch: int = 5000) -> int:
    """Rebuild every ledger and standing (optionally under a region prefix) in batches: one evidence query, one
    delete and bulk inserts per batch. Used after a scheme activation, by `credit recompute` and the benchmark."""
    as_of = as_of or china_today()
    versions, count, last_id = VersionCache(), 0, 0
    while True:
        stmt = sa.select(Enterprise.id, Enterprise.region_code).where(Enterprise.id > last_id)
        if region_prefix:
            stmt = stmt.where(Enterprise.region_code.startswith(region_prefix, autoescape=True))
        rows = db.session.execute(stmt.order_by(Enterprise.id).limit(batch)).all()
        if not rows:
            db.session.expire_all()  # the batches wrote with Core statements
            return count
        last_id = rows[-1].id
        count += _recompute_batch(rows, versions, as_of)


_LEDGER_KEY = ("evidence_id", "scheme_version_id", "rule_code", "points", "is_veto", "counts_from", "expires_on")
_STANDING_KEY = ("scheme_version_id", "score", "grade", "is_vetoed", "next_change_on", "basis", "since", "result_id")


def _current_state(ids: list[int]) -> tuple[dict, dict]:
    """The stored ledger lines (as comparable tuples) and standings of a batch of enterprises."""
    lt, st = LedgerEntry.__table__, CreditStanding.__table__
    conn = db.session.connection()
    ledgers: dict[int, list[tuple]] = defaultdict(list)
    for row in conn.execute(sa.select(lt.c.enterprise_id, *(lt.c[k] for k in _LEDGER_KEY))
                            .where(lt.c.enterprise_id.in_(ids))):
        ledgers[row[0]].append(tuple(row[1:]))
    standings = {row.enterprise_id: row for row in conn.execute(
        sa.select(st.c.id, st.c.enterprise_id, *(st.c[k] for k in _STANDING_KEY)).where(st.c.enterprise_id.in_(ids)))}
    return ledgers, standings


def _recompute_batch(rows, versions: VersionCache, as_of: date, reason: str = "recompute") -> int:
    """Recompute a batch and write only what changed: an enterprise whose ledger lines are unchanged keeps its
    rows, and an unchanged standing is not rewritten (a re-evaluation mostly reads)."""
    ids = [r.id for r in rows]
    facts = facts_by_enterprise(ids)
    ledgers, standings = _current_state(ids)
    annual = standing_rules.latest_annual(ids)
    now = utcnow()
    stale, ledger_rows, new_standings, updates, changes, unevaluated = [], [], [], [], [], []
    done = 0
    for ent_id, region in rows:
        resolved = versions.get(region)
        if resolved is None:
            continue
        version, scheme = resolved
        done += 1
        result = scoring.evaluate(scheme, facts.get(ent_id, []), as_of, with_steps=False)
        lines = [(e.evidence_id, version.id, e.rule_code, e.points, e.is_veto, e.counts_from, e.expires_on)
                 for e in result.entries]
        if sorted(lines) != sorted(ledgers.get(ent_id, [])):
            stale.append(ent_id)
            ledger_rows += [dict(enterprise_id=ent_id, evidence_id=e.evidence_id, scheme_version_id=version.id,
                                 rule_code=e.rule_code, rule_label=e.rule_label, points=e.points, is_veto=e.is_veto,
                                 counts_from=e.counts_from, expires_on=e.expires_on) for e in result.entries]
        old = standings.get(ent_id)
        ent_annual = annual.get(ent_id)
        s = standing_rules.decide(scheme, version.id, list(result.entries), as_of, ent_annual, result)
        if s is None:  # not evaluated: no standing row
            if old is not None:
                unevaluated.append(old.id)
            continue
        result_id = ent_annual.result_id if ent_annual else None
        values = dict(enterprise_id=ent_id, scheme_version_id=version.id, score=s.score, grade=s.grade,
                      is_vetoed=s.is_vetoed, as_of=as_of, next_change_on=s.next_change_on, computed_at=now,
                      basis=s.basis, since=s.since, result_id=result_id)
        if old is None:
            new_standings.append(values)
        elif tuple(old[2:]) != (version.id, s.score, s.grade, s.is_vetoed, s.next_change_on, s.basis, s.since,
                                result_id):
            updates.append({"id": old.id, **values})
        if old is None or old.grade != s.grade or old.scheme_version_id != version.id:
            changes.append(dict(enterprise_id=ent_id, scheme_version_id=version.id, grade=s.grade, score=s.score,
                                effective_on=as_of, recorded_at=now, reason=reason))
    if stale:
        db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.enterprise_id.in_(stale)))
    if unevaluated:
        db.session.execute(sa.delete(CreditStanding).where(CreditStanding.id.in_(unevaluated)))
    for model, data in ((LedgerEntry, ledger_rows), (CreditStanding, new_standings), (GradeChange, changes)):
        if data:  # Core executemany: the ORM's bulk path costs several times more per row
            db.session.execute(model.__table__.insert(), data)
    if updates:
        db.session.execute(sa.update(CreditStanding), updates)
    db.session.flush()
    return done


# --- reading ------------------------------------------------------------------------------------------------------

@dataclass
class CreditView:
    """What the public section, the what-if and the API show about one enterprise: the current standing (the one
    answer, credit.standing), and for explanation the ledger, the history and the ledger's what-if steps."""

    current: standing_rules.CurrentStanding
    version: CreditSchemeVersion | None
    scheme: scoring.SchemeRules | None
    ledger: list[LedgerEntry]
    history: list[GradeChange]
    result: scoring.Result | None

    def grade(self, code: str) -> scoring.Grade | None:
        return self.scheme.grade(code) if self.scheme and code in self.scheme.grade_codes else None

    def indicator_of(self, rule_code: str):
        """The weighted indicator a rule lowers (weighted-indicator schemes), else None."""
        if self.scheme is None or self.scheme.method != "weighted_indicators":
            return None
        rule = self.scheme.rules_by_code.get(rule_code)
        return next((i for i in self.scheme.indicators if rule and i.code == rule.indicator), None)

    @property
    def adjustments(self) -> list[LedgerEntry]:
        ids = set(self.current.adjustment_ids)
        return [line for line in self.ledger if line.id in ids]

    @property
    def earliest_improvement(self) -> date | None:
        """The first future day on which the ledger gives a better grade than the current one, if nothing new is
        recorded (None when not evaluated or no lapse raises it)."""
        code = self.current.grade_code
        if self.result is None or not self.current.evaluated or code not in self.scheme.grade_codes:
            return None
        return next((step.on for step in self.result.steps
                     if scoring.is_better(self.scheme, step.standing.grade, code)), None)


def credit_view(ent: Enterprise, as_of: date | None = None) -> CreditView:
    current = standing_rules.current_standing(ent.id, as_of)
    version = current.version or version_for_region(ent.region_code)
    if version is None:
        return CreditView(current, None, None, [], [], None)
    scheme = parsed(version)
    ledger = list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.enterprise_id == ent.id)
                                     .order_by(LedgerEntry.counts_from.desc(), LedgerEntry.id.desc())))
    history = list(db.session.scalars(sa.select(GradeChange).where(GradeChange.enterprise_id == ent.id)
                                      .order_by(GradeChange.recorded_at.desc(), GradeChange.id.desc())))
    entries = [scoring.Entry(e.evidence_id, e.rule_code, e.rule_label, e.points, e.is_veto, e.counts_from,
                             e.expires_on) for e in ledger]
    result = scoring.evaluate_entries(scheme, entries, as_of or china_today())
    return CreditView(current, version, scheme, ledger, history, result)


# --- regulator evidence -------------------------------------------------------------------------------------------

_PROBLEM_MESSAGES = {
    "required": lambda: _("This field is required."),
    "future": lambda: _("The date cannot be in the future; give the date on the decision document."),
    "negative": lambda: _("Give the amount in whole yuan, zero or more."),
    "fine_amount": lambda: _("A fine needs its amount in yuan."),
    "kind": lambda: _("Choose one of the listed kinds of evidence."),
}


def record_regulator_evidence(actor: Any, ent: Enterprise, *, kind: EvidenceKind, occurred_on: date | None,
                              title: str, document_no: str, authority: str, amount_yuan: int | None = None,
                              penalty_type: str = "", legal_basis: str = "", incident_level: str = "",
                              findings: str = "", is_public: bool = True) -> tuple[Evidence, bool]:
    """A regulator records a penalty, order, inspection, incident, criminal outcome or 挂牌督办. It starts
    unverified and scores only once another regulator (or a lead) confirms it. Returns (evidence, created):
    the same document number recorded twice for the same enterprise and kind is one record."""
    if not rules.can_record_evidence(actor.role, actor.jurisdiction_code, ent.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))
    problems = rules.evidence_problems(kind, occurred_on, china_today(), document_no, authority, amount_yuan,
                                       penalty_type, incident_level, findings)
    if problems:
        raise ValidationFailed({k: _PROBLEM_MESSAGES[v]() for k, v in problems.items()})
    source_ref = f"regulator:{ent.id}:{document_no.strip()}"
    existing = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == source_ref, Evidence.kind == kind))
    if existing is not None:
        return existing, False
    details = {k: v for k, v in (("penalty_type", penalty_type), ("legal_basis", legal_basis.strip()),
                                 ("level", incident_level), ("findings", findings.strip())) if v}
    evidence = add_evidence(enterprise_id=ent.id, kind=kind, source=EvidenceSource.REGULATOR, source_ref=source_ref,
                            occurred_on=occurred_on, title=title.strip() or document_no.strip(), verified=False,
                            actor=actor, document_no=document_no.strip(), authority=authority.strip(),
                            amount_yuan=amount_yuan, details=details, is_public=is_public)
    return evidence, True


def confirm_evidence(actor: Any, evidence: Evidence) -> Evidence:
    from portal.credit import findings

    if evidence.source in findings.FINDING_SOURCES:  # an automatic finding: recorded, then confirmed by another
        findings.confirm(actor, evidence)
        return evidence
    refusal = rules.verify_refusal(actor.role, actor.id, actor.jurisdiction_code, evidence.enterprise.region_code,
                                   evidence.recorded_by_id, evidence.is_verified, evidence.withdrawn_at is not None)
    if refusal == "jurisdiction":
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))
    if refusal == "own_record":
        raise NotAllowed(_("Another regulator must confirm evidence you recorded yourself."))
    if refusal is not None:
        raise InvalidTransition(_("This evidence is already confirmed or withdrawn."))
    return verify_evidence(evidence, actor)


def withdraw_regulator_evidence(actor: Any, evidence: Evidence, reason: str) -> Evidence:
    if not rules.can_record_evidence(actor.role, actor.jurisdiction_code, evidence.enterprise.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))
    if not reason.strip():
        raise ValidationFailed({"reason": _("Say why the evidence is withdrawn (for example: decision revoked).")})
    if evidence.withdrawn_at is not None:
        raise InvalidTransition(_("This evidence is already confirmed or withdrawn."))
    return withdraw_evidence(evidence, actor, reason.strip())


def evidence_in_jurisdiction(jurisdiction: str, limit: int = 200) -> list[Evidence]:
    """Evidence about enterprises in a jurisdiction: unconfirmed first, then the newest."""
    stmt = (sa.select(Evidence).join(Enterprise, Enterprise.id == Evidence.enterprise_id)
            .where(Enterprise.region_code.startswith(jurisdiction, autoescape=True))
            .order_by(Evidence.is_verified, Evidence.withdrawn_at.is_not(None), Evidence.occurred_on.desc(),
                      Evidence.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def _grade_json(scheme: scoring.SchemeRules, code: str, english: bool) -> dict:
    g = scheme.grade(code)
    return {"code": g.code, "label": g.label_en if english else g.label, "colour": g.colour}


def credit_json(ent: Enterprise, english: bool = False) -> dict:
    """The public credit record of one enterprise (API, PDF): the current standing (`"grade": null` and
    `"status": "not_evaluated"` when never evaluated), the ledger with public evidence details, the history."""
    view = credit_view(ent)
    current = view.current
    base = {"uscc": ent.uscc, **current.to_json(english)}
    if view.scheme is None:
        return {**base, "scheme": None, "ledger": [], "history": []}
    scheme, result = view.scheme, view.result
    ledger = []
    for line in view.ledger:
        ev = line.evidence
        public = ev.is_public and ev.repaired_on is None  # a repaired item's details are no longer published
        ledger.append({"id": line.id, "rule": line.rule_code, "rule_label": line.rule_label, "points": line.points,
                       "veto": line.is_veto, "counts_from": line.counts_from.isoformat(),
                       "expires_on": line.expires_on.isoformat() if line.expires_on else None,
                       "counting": result.as_of >= line.counts_from and (
                           line.expires_on is None or result.as_of < line.expires_on),
                       "evidence": {"id": ev.id, "kind": ev.kind.value, "source": ev.source.value,
                                    "occurred_on": ev.occurred_on.isoformat(),
                                    "title": evidence_title(ev) if public else None,
                                    "document_no": ev.document_no if public else None,
                                    "authority": ev.authority if public else None,
                                    "repaired_on": ev.repaired_on.isoformat() if ev.repaired_on else None,
                                    "publication_end": (ev.details or {}).get("publication_end"),
                                    "attachments": [{"name": f.filename, "content_type": f.content_type,
                                                     "sha256": f.sha256,
                                                     "url": public_url("credit_files.download", evidence_id=ev.id,
                                                                       file_id=f.id)}
                                                    for f in ev.attachments] if public else []}})
    return {
        **base,
        "scheme": {"code": view.version.scheme.code, "name": view.version.scheme.name,
                   "version": view.version.number, "start_score": scheme.start_score,
                   "max_score": scheme.max_score},
        "ledger": ledger,
        "history": [{"grade": _grade_json(scheme, h.grade, english) if h.grade in scheme.grade_codes else
                     {"code": h.grade}, "score": h.score, "effective_on": h.effective_on.isoformat(),
                     "scheme_version": h.scheme_version_id} for h in view.history],
    }
