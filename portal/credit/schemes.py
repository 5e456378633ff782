"""Scheme versions as data: a provincial lead copies a version into a draft, edits its rules, and activates it (the
previous active version retires and every standing it produced is recomputed); a lead maps its jurisdiction to a
scheme. Services flush; the caller commits."""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.jsondata import load_json_field
from portal.audit.services import record, snapshot
from portal.core.clock import china_today
from portal.credit import rules, scoring
from portal.credit.models import (CreditScheme, CreditSchemeVersion, CreditStanding, JurisdictionScheme, SchemeStatus)
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import Conflict, InvalidTransition, NotAllowed
from portal.extensions import db


def _editor(actor: Any) -> None:
    if not rules.can_edit_schemes(actor.role, actor.jurisdiction_code):
        raise NotAllowed(_("Only a provincial lead edits credit schemes."))


def new_draft(actor: Any, source: CreditSchemeVersion) -> CreditSchemeVersion:
    """Copy a version's rules into the scheme's next draft (one draft per scheme at a time)."""
    _editor(actor)
    scheme = source.scheme
    if any(v.status == SchemeStatus.DRAFT for v in scheme.versions):
        raise Conflict(_("This scheme already has a draft; edit or activate it first."))
    number = max(v.number for v in scheme.versions) + 1
    draft = CreditSchemeVersion(scheme_id=scheme.id, number=number, status=SchemeStatus.DRAFT,
                                rules=json.loads(json.dumps(source.rules)))
    scheme.versions.append(draft)
    db.session.flush()
    record(actor, "credit_scheme.draft", draft)
    return draft


def update_draft(actor: Any, version: CreditSchemeVersion, text: str) -> CreditSchemeVersion:
    """Replace a draft's rules with the JSON text, refused with the line or key at fault when it is malformed."""
    _editor(actor)
    if version.status != SchemeStatus.DRAFT:
        raise InvalidTransition(_("Only a draft can be edited; make a new draft from this version."))
    data = load_json_field(text, "rules", scoring.parse_rules, (scoring.SchemeError,))
    before = snapshot(version)
    version.rules = data
    record(actor, "credit_scheme.edit", version, before=before)
    return version


def activate(actor: Any, version: CreditSchemeVersion) -> int:
    """Activate a draft: the active version retires, and the standings it produced are due for recomputation
    today (the credit-refresh job or `flask credit refresh`). Returns how many standings are due."""
    _editor(actor)
    if not rules.can_transition_scheme(version.status, SchemeStatus.ACTIVE):
        raise InvalidTransition(_("Only a draft can be activated."))
    scoring.parse_rules(version.rules)
    previous = next((v for v in version.scheme.versions if v.status == SchemeStatus.ACTIVE), None)
    if previous is not None:
        before = snapshot(previous)
        previous.status = SchemeStatus.RETIRED
        record(actor, "credit_scheme.retire", previous, before=before)
    before = snapshot(version)
    version.status, version.activated_at, version.activated_by_id = SchemeStatus.ACTIVE, utcnow(), actor.id
    db.session.flush()
    record(actor, "credit_scheme.activate", version, before=before)
    if previous is None:
        return 0
    return _mark_due(sa.select(CreditStanding.id).where(CreditStanding.scheme_version_id == previous.id))


def _mark_due(ids_stmt) -> int:
    ids = list(db.session.scalars(ids_stmt))
    if ids:
        db.session.execute(sa.update(CreditStanding).where(CreditStanding.id.in_(ids))
                           .values(next_change_on=china_today()).execution_options(synchronize_session=False))
    return len(ids)


def map_jurisdiction(actor: Any, scheme: CreditScheme) -> int:
    """The lead's own jurisdiction uses `scheme` from now on; its standings are due for recomputation."""
    if not rules.can_map_scheme(actor.role, actor.jurisdiction_code):
        raise NotAllowed(_("Only a lead chooses the scheme of its jurisdiction."))
    prefix = actor.jurisdiction_code
    mapping = db.session.scalar(sa.select(JurisdictionScheme).where(JurisdictionScheme.jurisdiction_prefix == prefix))
    if mapping is not None and mapping.scheme_id == scheme.id:
        return 0
    before = snapshot(mapping) if mapping else None
    if mapping is None:
        mapping = JurisdictionScheme(jurisdiction_prefix=prefix, scheme_id=scheme.id)
        db.session.add(mapping)
    mapping.scheme_id = scheme.id
    db.session.flush()
    record(actor, "credit_jurisdiction.map", mapping, before=before)
    return _mark_due(sa.select(CreditStanding.id).join(Enterprise, Enterprise.id == CreditStanding.enterprise_id)
                     .where(Enterprise.region_code.startswith(prefix, autoescape=True)))


def all_schemes() -> list[CreditScheme]:
    return list(db.session.scalars(sa.select(CreditScheme).order_by(CreditScheme.code)))


def mappings() -> list[JurisdictionScheme]:
    return list(db.session.scalars(sa.select(JurisdictionScheme).order_by(JurisdictionScheme.jurisdiction_prefix)))


def rules_text(version: CreditSchemeVersion) -> str:
    return json.dumps(version.rules, ensure_ascii=False, indent=2)




def upgrade_presets() -> dict[str, str]:
    """A shipped preset changed (presets.PRESET_REVISION rose): a scheme whose active version is still an unedited
    shipped preset (activated by nobody, an older preset_revision) and that has no draft gets the new preset as its
    next active version; the old one retires and its standings are due today, so the daily refresh regrades them.
    A scheme a lead has changed is left alone. Audited as a system action."""
    from portal.credit import presets

    done = {}
    for code, (_name, _description, data) in presets.PRESETS.items():
        scheme = db.session.scalar(sa.select(CreditScheme).where(CreditScheme.code == code))
        if scheme is None:
            continue
        active = next((v for v in scheme.versions if v.status == SchemeStatus.ACTIVE), None)
        if (active is None or active.activated_by_id is not None
                or (active.rules or {}).get("preset_revision", 1) >= presets.PRESET_REVISION
                or any(v.status == SchemeStatus.DRAFT for v in scheme.versions)):
            continue
        before = snapshot(active)
        active.status = SchemeStatus.RETIRED
        record(None, "credit_scheme.retire", active, before=before)
        version = CreditSchemeVersion(scheme_id=scheme.id, number=max(v.number for v in scheme.versions) + 1,
                                      status=SchemeStatus.ACTIVE, rules=json.loads(json.dumps(data)),
                                      activated_at=utcnow())
        scheme.versions.append(version)
        db.session.flush()
        record(None, "credit_scheme.preset_upgrade", version,
               after={**snapshot(version), "from_version": active.number,
                      "preset_revision": presets.PRESET_REVISION})
        due = _mark_due(sa.select(CreditStanding.id).where(CreditStanding.scheme_version_id == active.id))
        done[code] = f"version {version.number} (preset revision {presets.PRESET_REVISION}); {due} standings due"
    return done
