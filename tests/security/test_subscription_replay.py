"""An old subscription confirmation link stops working after an unsubscribe; a new request gets a link that works
(issue 20)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.opendata import subscriptions as subs
from portal.opendata.models import Subscription
from tests.opendata.test_subscriptions import ent, link_in, outbox, subscribe  # noqa: F401  (fixture)


def test_an_old_confirmation_link_does_not_resubscribe_after_an_unsubscribe(client, db, ent):  # noqa: F811
    subscribe(client, ent, frequency="immediate")
    old_link = link_in(outbox(db)[0].body_text, "/subscriptions/confirm/")
    assert client.get(old_link).status_code == 200
    sub = db.session.scalar(sa.select(Subscription))
    assert client.post(link_in(subs.unsubscribe_url(sub), "/subscriptions/unsubscribe/")).status_code == 200
    replay = client.get(old_link + "?lang=en")
    assert replay.status_code == 400 and "before you unsubscribed" in replay.text
    assert not db.session.get(Subscription, sub.id).is_active
    subscribe(client, ent, frequency="weekly")  # a new request after the unsubscribe mails a new link
    new_link = link_in(outbox(db)[-1].body_text, "/subscriptions/confirm/")
    assert new_link != old_link and client.get(new_link).status_code == 200
    assert db.session.get(Subscription, sub.id).is_active
    assert client.get(new_link).status_code == 200  # following the same link twice is harmless
