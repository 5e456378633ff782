"""The public enterprise page and the footer lead to the feeds, the calendar and the bulk data."""
from __future__ import annotations

from tests.factories import make_enterprise


def test_enterprise_page_links_its_feed_calendar_region_feed_and_json(client, db):
    ent = make_enterprise("华能化工有限公司")
    db.session.commit()
    page = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    for href in (f"/enterprises/{ent.uscc}/feed.atom", f"/enterprises/{ent.uscc}/calendar.ics",
                 "/regions/320826/feed.atom", f"/api/v1/enterprises/{ent.uscc}", "/opendata"):
        assert f'href="{href}"' in page, href
    assert '<link rel="alternate" type="application/atom+xml"' in page  # feed autodiscovery
    assert "关注该企业" in page and "合规日历" in page  # Chinese first
    for href in (f"/enterprises/{ent.uscc}/feed.atom", f"/enterprises/{ent.uscc}/calendar.ics",
                 "/regions/320826/feed.atom"):
        assert client.get(href).status_code == 200, href


def test_footer_links_the_bulk_data(client, db):
    assert 'href="/opendata"' in client.get("/search").get_data(as_text=True)
