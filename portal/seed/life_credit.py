"""Demo credit life through the real services: automatic findings recorded by one demo regulator and confirmed by a
second (no verdict moves on unconfirmed data), regulator evidence recorded and confirmed by two people, the ledger
and standings maintained by credit.services, the evaluation run held last year finalised and this year's run put on
public notice, and black/white list entries taken through prior notice, the enterprise's statement and the lead's
decision.

Evidence profiles on the Jiangsu 12-point scheme (start 9): green = two commendations (11), yellow = an order to
stop production (3), red = stop + warning + inspection finding (1), black = criminal liability (-3); enterprises
without confirmed evidence stay "not evaluated" (DOMAIN §2.5). A seeding edge: it commits per step."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher

from portal.auth.models import BindingStatus, EnterpriseBinding, Role, User
from portal.credit import evaluation, findings, lists
from portal.credit import services as credit
from portal.credit.models import CreditListEntry, Evidence, EvidenceKind, ListKind
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.extensions import db

# profile → [(kind, penalty_type, amount, incident level / findings)]
PROFILES: dict[str, list[tuple[EvidenceKind, str, int | None, str]]] = {
    "green": [(EvidenceKind.COMMENDATION, "", None, ""), (EvidenceKind.COMMENDATION, "", None, "")],
    "yellow": [(EvidenceKind.PRODUCTION_STOP, "", None, "")],
    "red": [(EvidenceKind.PRODUCTION_STOP, "", None, ""), (EvidenceKind.PENALTY, "warning", None, ""),
            (EvidenceKind.INSPECTION_FINDING, "", None, "危险废物贮存场所未设置识别标志。")],
    "black": [(EvidenceKind.CRIMINAL, "", None, "")],
    "blue": [(EvidenceKind.PENALTY, "warning", None, "")],
}
_TITLES = {EvidenceKind.COMMENDATION: "签订环保信用承诺", EvidenceKind.PRODUCTION_STOP: "责令停产整治决定书",
           EvidenceKind.PENALTY: "行政处罚决定书（警告）", EvidenceKind.INSPECTION_FINDING: "现场检查责令改正",
           EvidenceKind.CRIMINAL: "移送司法机关追究刑事责任"}


def confirm_findings(first, second_for, dismiss_every: int = 7) -> dict[str, int]:
    """Every open automatic finding: the first regulator records it and a second (by jurisdiction) confirms it;
    every `dismiss_every`-th is dismissed instead as a device fault (it stays on record, never scores)."""
    open_ids = list(db.session.scalars(sa.select(Evidence.id).where(
        Evidence.source.in_(findings.FINDING_SOURCES), Evidence.is_verified.is_(False),
        Evidence.withdrawn_at.is_(None)).order_by(Evidence.id)))
    done = {"confirmed": 0, "dismissed": 0}
    # at least one dismissal whenever there are two findings or more, so the demo always shows one
    last = len(open_ids) if 1 < len(open_ids) < dismiss_every else None
    for i, ev_id in enumerate(open_ids, start=1):
        ev = db.session.get(Evidence, ev_id)
        if i % dismiss_every == 0 or i == last:
            findings.dismiss(first, ev, "设备校准期间数据异常，经核实为设备故障。")
            done["dismissed"] += 1
        else:
            # A finding already recorded by a person (a complaint's handler) needs only the second step.
            if findings.confirm(first, ev, "经核对数据属实。") == findings.Status.RECORDED:
                findings.confirm(second_for(ev.enterprise), ev, "复核确认。")
            done["confirmed"] += 1
    db.session.commit()
    return done


def record_profiles(recorder, confirmer, targets: dict[str, list[Enterprise]], on: date, tag: str) -> int:
    """Record each profile's evidence for its enterprises (dated `on`) and have a second person confirm it."""
    count = 0
    for profile, ents in targets.items():
        for ent in ents:
            for n, (kind, penalty_type, amount, extra) in enumerate(PROFILES[profile], start=1):
                ev, _created = credit.record_regulator_evidence(
                    recorder, ent, kind=kind, occurred_on=on - timedelta(days=n), title=_TITLES[kind],
                    document_no=f"淮环{tag}〔{on.year}〕{ent.id:05d}-{n}号", authority="淮安市生态环境局",
                    amount_yuan=amount, penalty_type=penalty_type,
                    incident_level="", findings=extra if kind == EvidenceKind.INSPECTION_FINDING else "")
                credit.confirm_evidence(confirmer, ev)
                count += 1
    db.session.commit()
    return count


def pick_targets(candidates: list[Enterprise], per_profile: int) -> dict[str, list[Enterprise]]:
    order = ("green", "blue", "yellow", "red", "black")
    out = {p: [] for p in order}
    for i, ent in enumerate(candidates[:per_profile * len(order)]):
        out[order[i % len(order)]].append(ent)
    return out


def evaluate_runs(lead, prefix: str, today: date):
    """The run held last year, for the year before (its notice given from 15 January last year, over long ago),
    finalised by the lead; then this year's run, for last year, computed and put on public notice today."""
    earlier = evaluation.compute_run(today.year - 2, prefix, actor=lead)
    evaluation.start_notice(earlier, lead, days=15, starts_on=date(today.year - 1, 1, 15))
    evaluation.finalise_run(earlier, lead)
    db.session.commit()
    run = evaluation.compute_run(today.year - 1, prefix, actor=lead)
    evaluation.start_notice(run, lead, days=7)
    db.session.commit()
    return earlier, run


def enterprise_user(ent: Enterprise) -> User:
    """A bound signatory for an enterprise that takes part in a list procedure; its password is random and never
    shown (the accounts to log in with are the demo accounts)."""
    user = db.session.scalar(sa.select(User).where(User.username == f"demo_ent_{ent.id}"))
    if user is not None:
        return user
    user = User(username=f"demo_ent_{ent.id}", display_name=f"{ent.name} 法定代表人",
                password_hash=PasswordHasher().hash(secrets.token_urlsafe(16)), role=Role.ENTERPRISE_SIGNATORY,
                enterprise_id=ent.id)
    db.session.add(user)
    db.session.flush()
    db.session.add(EnterpriseBinding(user_id=user.id, enterprise_id=ent.id, requested_role=Role.ENTERPRISE_SIGNATORY,
                                     status=BindingStatus.APPROVED, note="demo data", decided_at=utcnow(),
                                     decision_note="demo data"))
    db.session.flush()
    return user


def list_procedures(regulator, lead, targets: dict[str, list[Enterprise]]) -> dict[str, int]:
    """Black-list entries for the black profile and white-list entries for the green one: the first of each is
    listed after its statement, the second rejected, the rest wait in prior notice."""
    states: dict[str, int] = {}
    for kind, ents, reason in ((ListKind.BLACK, targets["black"], "因环境违法被追究刑事责任，拟列入严重失信名单。"),
                               (ListKind.WHITE, targets["green"], "守法记录良好并签订环保信用承诺，拟列入监督执法正面清单。")):
        for i, ent in enumerate(ents):
            entry = lists.propose(regulator, ent, kind, reason)
            lists.send_prior_notice(regulator, entry)
            if i < 2:
                lists.submit_statement(enterprise_user(ent), entry, "我单位已知悉并已完成整改，请予考虑。")
                lists.decide(lead, entry, include=i == 0,
                             note="经审查，事实清楚、依据充分。" if i == 0 else "陈述理由成立，不予列入。")
            states[f"{kind.value}:{entry.status.value}"] = states.get(f"{kind.value}:{entry.status.value}", 0) + 1
    db.session.commit()
    return states


def list_entry_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CreditListEntry)) or 0
