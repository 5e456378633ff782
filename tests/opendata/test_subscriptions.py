"""E-mail subscriptions: double opt-in, signed one-click unsubscribe, digests through the outbox, a rate-limited and
non-revealing public form."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.extensions import limiter
from portal.jobs.registry import JOBS
from portal.mail.models import OutboxMessage
from portal.opendata import subscriptions as subs
from portal.opendata.models import Subscription
from tests.factories import make_enterprise


@pytest.fixture
def ent(db):
    e = make_enterprise("华能化工有限公司")
    db.session.commit()
    return e


def outbox(db) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def link_in(body: str, path: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]+)", body)
    assert match, body
    return match.group(1)


def subscribe(client, ent, email="Li.Ming@Example.org ", frequency="immediate", lang="en"):
    return client.post(f"/subscriptions/new?lang={lang}", data={"email": email, "frequency": frequency,
                                                                 "enterprise": ent.uscc})


def penalty(ent, ref="pen:1", title="超标排放水污染物"):
    return add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                        source_ref=ref, occurred_on=date(2026, 4, 5), title=title, verified=True,
                        document_no="淮环罚〔2026〕12号", authority="淮安市生态环境局")


def test_form_page_names_the_enterprise(client, ent):
    page = client.get(f"/subscriptions/new?enterprise={ent.uscc}")
    assert page.status_code == 200
    assert ent.name in page.get_data(as_text=True)
    assert client.get("/subscriptions/new?enterprise=123").status_code == 404
    assert client.get("/subscriptions/new").status_code == 404


def test_request_stores_a_pending_row_and_mails_only_a_confirmation_link(client, ent, db):
    response = subscribe(client, ent)
    assert response.status_code == 200
    assert "Check your mailbox" in response.get_data(as_text=True)
    sub = db.session.scalar(sa.select(Subscription))
    assert sub.email == "li.ming@example.org" and not sub.is_active and sub.scope_key == ent.uscc
    [mail] = outbox(db)
    assert mail.to_address == "li.ming@example.org"
    assert "/subscriptions/confirm/" in mail.body_text


def test_nothing_but_the_confirmation_is_sent_before_confirming(client, ent, db):
    subscribe(client, ent)
    penalty(ent)
    db.session.commit()
    assert subs.send_digests("immediate").startswith("immediate: 0 digests")
    assert len(outbox(db)) == 1


def test_confirming_activates_and_digests_then_carry_new_events_and_an_unsubscribe_link(client, ent, db):
    subscribe(client, ent)
    confirm_path = link_in(outbox(db)[0].body_text, "/subscriptions/confirm/")
    assert client.get(confirm_path + "?lang=en").status_code == 200
    sub = db.session.scalar(sa.select(Subscription))
    assert sub.is_active and sub.frequency == "immediate" and sub.locale == "en"
    sub.last_sent_at -= timedelta(seconds=5)  # the penalty below is confirmed after the subscription
    db.session.commit()
    penalty(ent)
    db.session.commit()
    assert "1 digests queued" in subs.send_digests("immediate")
    db.session.commit()
    digest = outbox(db)[-1]
    assert digest.to_address == "li.ming@example.org"
    assert "超标排放水污染物" in digest.subject + digest.body_text
    assert "/subscriptions/unsubscribe/" in digest.body_text
    from portal.mail.services import build_email
    email = build_email(digest, "portal@example.cn")  # RFC 8058: one-click unsubscribe in the header too
    assert email["List-Unsubscribe"] == f"<{subs.unsubscribe_url(sub)}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "0 digests" in subs.send_digests("immediate")  # nothing new: nothing sent twice
    assert subs.send_digests("weekly").startswith("weekly: 0 digests queued for 0")


def test_unsubscribe_page_asks_first_and_the_post_stops_the_mails(client, ent, db):
    subscribe(client, ent)
    client.get(link_in(outbox(db)[0].body_text, "/subscriptions/confirm/"))
    sub = db.session.scalar(sa.select(Subscription))
    path = link_in(subs.unsubscribe_url(sub), "/subscriptions/unsubscribe/")
    assert client.get(path).status_code == 200
    assert db.session.get(Subscription, sub.id).is_active  # a prefetching link scanner changes nothing
    assert client.post(path).status_code == 200  # no CSRF token: RFC 8058 one-click
    assert not db.session.get(Subscription, sub.id).is_active
    penalty(ent)
    db.session.commit()
    assert "queued for 0 subscriptions" in subs.send_digests("immediate")


@pytest.mark.parametrize("token", ["garbage", "open311:unknown"])
def test_forged_or_broken_tokens_are_refused(client, ent, db, token):
    assert client.get(f"/subscriptions/confirm/{token}").status_code == 400
    assert client.post(f"/subscriptions/unsubscribe/{token}").status_code == 400


def test_a_confirmation_token_cannot_unsubscribe_and_expires(client, ent, db, app, monkeypatch):
    subscribe(client, ent)
    token = link_in(outbox(db)[0].body_text, "/subscriptions/confirm/").rsplit("/", 1)[1]
    assert client.post(f"/subscriptions/unsubscribe/{token}").status_code == 400  # other salt
    monkeypatch.setitem(app.config, "OPENDATA_CONFIRM_DAYS", -1)
    response = client.get(f"/subscriptions/confirm/{token}?lang=en")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_the_answer_is_the_same_for_a_known_address_and_repeats_do_not_flood_it(client, ent, db):
    first = subscribe(client, ent).get_data(as_text=True)
    second = subscribe(client, ent).get_data(as_text=True)
    assert first == second
    assert len(outbox(db)) == 1  # one confirmation per subscription and hour
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1


def test_bad_address_is_a_form_error_naming_the_field(client, ent, db):
    response = subscribe(client, ent, email="not an address")
    assert response.status_code == 400
    assert "name@example.com" in response.get_data(as_text=True)
    assert outbox(db) == []


def test_honeypot_submissions_are_dropped(client, ent, db):
    response = client.post("/subscriptions/new", data={"email": "a@example.org", "frequency": "weekly",
                                                        "enterprise": ent.uscc, "website": "http://spam"})
    assert response.status_code == 400 and outbox(db) == []


def test_region_subscriptions_get_the_regions_events(client, ent, db):
    client.post("/subscriptions/new", data={"email": "a@example.org", "frequency": "weekly", "region": "320800"})
    client.get(link_in(outbox(db)[0].body_text, "/subscriptions/confirm/"))
    sub = db.session.scalar(sa.select(Subscription))
    assert (sub.scope, sub.scope_key, sub.frequency) == ("region", "320800", "weekly")
    sub.last_sent_at -= timedelta(seconds=5)
    other = make_enterprise("外省某化工厂", region_code="210100")
    penalty(ent)
    penalty(other, ref="pen:other", title="沈阳的处罚")
    db.session.commit()
    subs.send_weekly()
    body = outbox(db)[-1].body_text
    assert "华能化工有限公司: " in body and "沈阳的处罚" not in body


def test_digest_jobs_are_registered():
    assert JOBS["opendata-digest-immediate"].func is subs.send_immediate
    assert JOBS["opendata-digest-weekly"].func is subs.send_weekly


def test_subscription_posts_are_rate_limited(app, db):
    ent = make_enterprise("华能化工有限公司")
    db.session.commit()
    was_enabled = limiter.enabled
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config.update(RATELIMIT_ENABLED=True, OPENDATA_SUBSCRIBE_RATE_LIMIT="2 per minute",
                  RATELIMIT_STORAGE_URI="memory://")
    try:
        limited = create_app(config)
        client = limited.test_client()
        with limited.app_context():
            codes = [subscribe(client, ent, email=f"u{i}@example.org").status_code for i in range(3)]
            assert client.get(f"/subscriptions/new?enterprise={ent.uscc}").status_code == 200  # GET not limited
            db.session.remove()  # return the connection first: dispose() closes only pooled ones
            db.engine.dispose()
    finally:
        limiter.enabled = was_enabled
    assert codes == [200, 200, 429]
