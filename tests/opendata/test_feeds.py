"""Atom feeds per enterprise and per region: valid RFC 4287 documents with disclosures, exceedances, public
penalties and grade changes, nothing that is not public."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from lxml import etree

from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource, GradeChange
from portal.db import utcnow
from portal.monitoring.models import Basis, ExceedanceIncident
from portal.credit import services as credit_services
from tests.factories import make_enterprise

NS = {"a": "http://www.w3.org/2005/Atom"}
RFC3339 = "%Y-%m-%dT%H:%M:%S%z"


@pytest.fixture
def events(world, db):
    a, b = world
    outlet = a.outlets[0]
    db.session.add(ExceedanceIncident(enterprise_id=a.id, outlet_id=outlet.id, pollutant_code="w01018",
                                      basis=Basis.DAILY_MEAN, period_start=datetime(2026, 4, 2, 16, tzinfo=timezone.utc),
                                      value=150.0, limit_value=50.0, multiple=2.0,
                                      created_at=datetime(2026, 4, 3, 1, tzinfo=timezone.utc)))
    penalty = add_evidence(enterprise_id=a.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                           source_ref="pen:1", occurred_on=date(2026, 4, 5), title="超标排放水污染物", verified=True,
                           document_no="淮环罚〔2026〕12号", authority="淮安市生态环境局", amount_yuan=200000)
    penalty.verified_at = datetime(2026, 4, 6, 1, tzinfo=timezone.utc)  # confirmed (made public) the next day
    add_evidence(enterprise_id=a.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="pen:2", occurred_on=date(2026, 4, 6), title="未经核实的处罚", verified=False)
    withdrawn = add_evidence(enterprise_id=a.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                             source_ref="pen:3", occurred_on=date(2026, 4, 7), title="已撤销的处罚", verified=True)
    withdrawn.withdrawn_at = utcnow()
    add_evidence(enterprise_id=a.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="pen:4", occurred_on=date(2026, 4, 8), title="不公开的处罚", verified=True, is_public=False)
    version = credit_services.version_for_region(a.region_code)
    db.session.add(GradeChange(enterprise_id=a.id, scheme_version_id=version.id, grade="yellow", score=7,
                               effective_on=date(2026, 4, 10), recorded_at=datetime(2026, 4, 10, 1, tzinfo=timezone.utc),
                               reason="处罚计入"))
    other = make_enterprise("外省某化工厂", region_code="210100")
    add_evidence(enterprise_id=other.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="pen:other", occurred_on=date(2026, 4, 5), title="沈阳的处罚", verified=True)
    db.session.commit()
    return a, b


def parse_atom(response) -> etree._Element:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = etree.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    # RFC 4287 §4.1.1: exactly one id, title, updated; an author (feed-level here); a self link
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"a:{name}", NS)) == 1, name
    assert root.find("a:author/a:name", NS).text
    assert root.find("a:link[@rel='self']", NS).get("href").startswith("http")
    datetime.strptime(root.find("a:updated", NS).text, RFC3339)
    ids = []
    for entry in root.findall("a:entry", NS):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", NS)) == 1, name
        datetime.strptime(entry.find("a:updated", NS).text, RFC3339)
        link = entry.find("a:link", NS)  # rel defaults to "alternate" (RFC 4287 §4.2.7.2)
        assert link.get("rel", "alternate") == "alternate" and link.get("href").startswith("http")
        ids.append(entry.find("a:id", NS).text)
    assert len(ids) == len(set(ids))
    assert all(i.startswith("tag:") for i in ids + [root.find("a:id", NS).text])
    return root


def titles(root) -> list[str]:
    return [e.find("a:title", NS).text for e in root.findall("a:entry", NS)]


def test_enterprise_feed_has_the_four_kinds_of_public_event_newest_first(client, events):
    a, _b = events
    root = parse_atom(client.get(f"/enterprises/{a.uscc}/feed.atom?lang=en"))
    entries = root.findall("a:entry", NS)
    kinds = [e.find("a:category", NS).get("term") for e in entries]
    assert kinds == ["grade", "penalty", "exceedance", "disclosure", "disclosure"]
    text = etree.tostring(root, encoding="unicode")
    assert "超标排放水污染物" in text and "淮环罚〔2026〕12号" in text and "200,000" in text
    for hidden in ("未经核实", "已撤销", "不公开"):
        assert hidden not in text
    assert "Annual disclosure report 2025 published" in titles(root)
    assert root.find("a:title", NS).text == a.name
    updated = [e.find("a:updated", NS).text for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert root.find("a:updated", NS).text == updated[0]


def test_feed_entry_links_lead_to_the_public_report(client, events):
    a, _b = events
    root = parse_atom(client.get(f"/enterprises/{a.uscc}/feed.atom"))
    links = [e.find("a:link", NS).get("href") for e in root.findall("a:entry", NS)]
    assert any(link.endswith("/disclosures/" + "a" * 64) for link in links)


def test_region_feed_covers_the_region_and_names_the_enterprise(client, events):
    a, _b = events
    root = parse_atom(client.get("/regions/320800/feed.atom"))  # 淮安市 includes 涟水县
    assert all(t.startswith(a.name + ": ") for t in titles(root))
    assert "沈阳的处罚" not in etree.tostring(root, encoding="unicode")
    shenyang = parse_atom(client.get("/regions/210100/feed.atom"))
    assert any("沈阳的处罚" in t for t in titles(shenyang))


def test_feed_of_an_enterprise_without_events_is_still_valid(client, events):
    _a, b = events
    root = parse_atom(client.get(f"/enterprises/{b.uscc}/feed.atom"))
    assert root.findall("a:entry", NS) == []


def test_feed_is_cacheable_and_open_to_other_sites(client, events):
    a, _b = events
    first = client.get(f"/enterprises/{a.uscc}/feed.atom")
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"/enterprises/{a.uscc}/feed.atom",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("url", ["/enterprises/123/feed.atom", "/enterprises/91320826MA1XXXXXX0/feed.atom",
                                 "/regions/999999/feed.atom", "/regions/abc/feed.atom"])
def test_unknown_enterprise_or_region_is_404(client, db, url):
    assert client.get(url).status_code == 404
