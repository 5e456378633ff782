"""Publication of dishonesty information under NDRC Order 36 (信用修复管理办法, effective 1 April 2026; DOMAIN §3.1).

* 轻微 (minor) information is not published: its details leave the public ledger, API, PDF and feeds as soon as it is
  confirmed (it still counts toward the grade under the scheme's own rules).
* 一般 (general) and 严重 (serious) information is published from its decision date until its class maximum
  (1 year / 3 years); then publication ends automatically: the `credit-publication-end` job unpublishes it, audited,
  and the item's ledger line says so.
* Where MEE's 环发〔2015〕161号 ("queryable generally ≥ 5 years") and Order 36 conflict, the portal's default is
  scheme data (`publication` in the scheme version, see presets.PUBLICATION): public pages follow Order 36; the
  internal record keeps every item for regulators.

The class of an item is scheme data too: by evidence kind, and for a penalty by its penalty type (DOMAIN's portal
default [M]). Services flush; the job runner commits.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from portal.audit.services import record, snapshot
from portal.core.clock import china_today
from portal.credit import scoring
from portal.credit.models import Evidence
from portal.enterprises.models import Enterprise
from portal.extensions import db

MINOR, GENERAL, SERIOUS = "minor", "general", "serious"


def item_class(publication: dict[str, Any], kind: str, details: dict | None) -> str | None:
    """minor | general | serious under the scheme's publication data; None: not dishonesty information that
    Order 36 classes (the scheme's own validity governs it)."""
    classes = publication.get("classes") or {}
    entry = classes.get(kind)
    if isinstance(entry, dict):
        key, by_value = next(iter(entry.items()), (None, {}))
        return by_value.get(str((details or {}).get(key, "")), by_value.get("*"))
    return entry


def publication_end(publication: dict[str, Any], cls: str | None, decided_on: date) -> date | None:
    """The first day an item is no longer published: the decision date for minor items (never published, unless
    the scheme says minor items are published), the decision date + the class maximum otherwise."""
    if cls is None:
        return None
    if cls == MINOR and not publication.get("minor_published", False):
        return decided_on
    months = (publication.get("max_months") or {}).get(cls)
    return scoring.add_months(decided_on, int(months)) if months else None


def _unpublish(evidence: Evidence, reason: str, on: date) -> None:
    before = snapshot(evidence)
    evidence.is_public = False
    evidence.details = {**(evidence.details or {}), "publication_end": {"on": on.isoformat(), "reason": reason}}
    record(None, "evidence.publication_end", evidence, before=before, enterprise_id=evidence.enterprise_id)


def apply(evidence: Evidence, today: date | None = None) -> bool:
    """Unpublish one confirmed item when its scheme says it is not (or no longer) published. True if it changed."""
    from portal.credit.services import parsed, version_for_region

    if not (evidence.is_verified and evidence.is_public and evidence.withdrawn_at is None):
        return False
    version = version_for_region(evidence.enterprise.region_code)
    if version is None:
        return False
    publication = parsed(version).publication
    cls = item_class(publication, evidence.kind.value, evidence.details)
    end = publication_end(publication, cls, evidence.occurred_on)
    today = today or china_today()
    if end is None or today < end:
        return False
    _unpublish(evidence, "minor" if cls == MINOR else "max_period", end)
    return True


def unpublish_due(batch: int = 2000) -> int:
    """Job credit-publication-end: every confirmed, still public item whose class is minor or whose maximum
    publication period has ended is unpublished (idempotent: it is no longer public afterwards)."""
    from portal.credit.services import VersionCache

    from portal.credit.models import CreditSchemeVersion, SchemeStatus

    kinds = set()
    for version in db.session.scalars(sa.select(CreditSchemeVersion)
                                      .where(CreditSchemeVersion.status == SchemeStatus.ACTIVE)):
        kinds |= set((scoring.parse_rules(version.rules).publication.get("classes") or {}))
    if not kinds:
        return 0
    today, versions, count, last_id = china_today(), VersionCache(), 0, 0
    while True:
        rows = db.session.execute(
            sa.select(Evidence, Enterprise.region_code).join(Enterprise, Enterprise.id == Evidence.enterprise_id)
            .where(Evidence.id > last_id, Evidence.is_verified.is_(True), Evidence.is_public.is_(True),
                   Evidence.withdrawn_at.is_(None), Evidence.occurred_on <= today,
                   sa.type_coerce(Evidence.kind, sa.String).in_(sorted(kinds)))
            .order_by(Evidence.id).limit(batch)).all()
        if not rows:
            return count
        last_id = rows[-1][0].id
        for evidence, region in rows:
            resolved = versions.get(region)
            if resolved is None:
                continue
            publication = resolved[1].publication
            cls = item_class(publication, evidence.kind.value, evidence.details)
            end = publication_end(publication, cls, evidence.occurred_on)
            if end is not None and today >= end:
                _unpublish(evidence, "minor" if cls == MINOR else "max_period", end)
                count += 1
        db.session.flush()
