"""NDRC Order 36 publication (DOMAIN §3.1): minor information is not published, general and serious information is
published until its class maximum and then unpublished by a job (audited, shown on the ledger); the classes and the
portal's default where MEE's and NDRC's periods conflict are scheme data."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.core.clock import china_today
from portal.credit import presets, publication, services
from portal.credit.evidence import add_evidence
from portal.credit.models import CreditStanding, Evidence, EvidenceKind, EvidenceSource
from portal.jobs.registry import JOBS
from tests.factories import make_enterprise

PUB = presets.PUBLICATION


@pytest.mark.parametrize("kind, details, cls", [
    ("penalty", {"penalty_type": "warning"}, "minor"), ("penalty", {"penalty_type": "fine"}, "general"),
    ("penalty", {}, "general"), ("production_stop", {}, "serious"), ("permit_revoked", {}, "serious"),
    ("disclosure_late", {}, None),
])
def test_items_are_classed_by_kind_and_penalty_type(kind, details, cls):
    assert publication.item_class(PUB, kind, details) == cls


def test_publication_ends_at_the_class_maximum_from_the_decision_date():
    decided = date(2026, 1, 10)
    assert publication.publication_end(PUB, "general", decided) == date(2027, 1, 10)  # 1 year
    assert publication.publication_end(PUB, "serious", decided) == date(2029, 1, 10)  # 3 years
    assert publication.publication_end(PUB, "minor", decided) == decided  # never published
    assert publication.publication_end(PUB, None, decided) is None
    assert not PUB["minor_published"] and PUB["internal_retention_years"] == 5 and "161" in PUB["basis"]


def test_the_job_is_registered():
    assert JOBS["credit-publication-end"].func is publication.unpublish_due


@pytest.fixture
def ent(db):
    services.seed_schemes()
    return make_enterprise()  # Jiangsu


def test_a_confirmed_minor_item_is_not_published_but_still_counts(db, client, ent):
    ev = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                      source_ref="warn:1", occurred_on=china_today() - timedelta(days=5), title="警告决定书甲",
                      verified=True, document_no="淮环警〔2026〕1号", authority="淮安市生态环境局",
                      details={"penalty_type": "warning"})
    db.session.commit()
    assert not ev.is_public and ev.details["publication_end"]["reason"] == "minor"
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "evidence.publication_end"))
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id))
    assert standing.score == 8  # Jiangsu warning −1: the grade still counts it
    page = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert "警告决定书甲" not in page and "淮环警〔2026〕1号" not in page
    api = client.get(f"/api/v1/enterprises/{ent.uscc}/credit").get_json()["data"]
    assert api["ledger"][0]["evidence"]["title"] is None


def _raw_evidence(db, ent, ref, kind, days_ago, details=None):
    """A confirmed item stored before the rule existed (no listener ran)."""
    ev = Evidence(enterprise_id=ent.id, kind=kind, source=EvidenceSource.REGULATOR, source_ref=ref,
                  occurred_on=china_today() - timedelta(days=days_ago), title=f"决定书{ref}", is_verified=True,
                  is_public=True, details=details or {})
    db.session.add(ev)
    db.session.flush()
    return ev


def test_the_job_ends_publication_at_the_maximum_period_audited_and_once(db, client, ent):
    old_fine = _raw_evidence(db, ent, "fine:old", EvidenceKind.PENALTY, 400, {"penalty_type": "fine"})
    new_fine = _raw_evidence(db, ent, "fine:new", EvidenceKind.PENALTY, 100, {"penalty_type": "fine"})
    stop = _raw_evidence(db, ent, "stop:1", EvidenceKind.PRODUCTION_STOP, 800)
    legacy_warning = _raw_evidence(db, ent, "warn:old", EvidenceKind.PENALTY, 10, {"penalty_type": "warning"})
    services.recompute_enterprise(ent.id)
    db.session.commit()
    assert publication.unpublish_due() == 2
    db.session.commit()
    assert (old_fine.is_public, new_fine.is_public, stop.is_public, legacy_warning.is_public) == (
        False, True, True, False)
    assert old_fine.details["publication_end"] == {
        "on": (old_fine.occurred_on.replace(year=old_fine.occurred_on.year + 1)).isoformat(), "reason": "max_period"}
    audits = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "evidence.publication_end")).all()
    assert len(audits) == 2
    page = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert "决定书fine:old" not in page and "决定书fine:new" in page and "决定书stop:1" in page
    assert "NDRC Order 36" in page or "第36号" in page or "36 号" in page
    assert publication.unpublish_due() == 0
