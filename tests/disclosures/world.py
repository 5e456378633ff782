"""Disclosure objects for the route-authorisation matrix (tests/test_route_authorisation.py `world`)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from portal.auth.models import Role
from portal.disclosures import services
from portal.disclosures.models import DisclosureList, DisclosureListEntry, Trigger, WorkReport
from tests.disclosures.helpers import valid_sections
from tests.factories import DEFAULT_PASSWORD, make_user, totp_code


def disclosure_objects(db, ent) -> dict:
    """A draft annual report (report_id), a draft temporary report (temp_id), a published annual report (digest)
    of `ent`, and a draft enterprise list of its prefecture with `ent` on it (list_id, entry_id)."""
    signer = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=ent)
    published = services.create_annual_draft(signer, ent, 2024)
    published.sections = valid_sections(ent.uscc)
    services.submit_annual(signer, published, DEFAULT_PASSWORD, [], now=datetime(2025, 3, 1, tzinfo=timezone.utc), code=totp_code(signer))
    draft = services.create_annual_draft(signer, ent, 2025)
    temp = services.save_temporary(signer, ent, Trigger.DETENTION, "淮公拘〔2026〕1号", date(2026, 1, 5),
                                   {"position": "车间主任", "case": "非法排放", "decided_on": "2026-01-04"})
    lst = DisclosureList(region_code=ent.region_code[:4], year=2026)
    db.session.add(lst)
    db.session.flush()
    entry = DisclosureListEntry(list_id=lst.id, enterprise_id=ent.id, bases=["key_unit"], triggers=[])
    db.session.add(entry)
    work = WorkReport(region_code=ent.region_code[:4], year=2025, due_on=date(2026, 3, 31))
    db.session.add(work)
    db.session.flush()
    return {"work_report_id": work.id, "report_id": draft.id, "temp_id": temp.id, "section": "basic", "digest": published.sha256,
            "list_id": lst.id, "entry_id": entry.id}
