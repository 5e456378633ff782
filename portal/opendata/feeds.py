"""Atom feeds (RFC 4287) of public events, built with feedgen: one per enterprise and one per region."""
from __future__ import annotations

from datetime import datetime, timezone

from feedgen.feed import FeedGenerator
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.core.links import public_enterprise_url, public_url
from portal.enterprises.models import Enterprise
from portal.opendata import events as ev
from portal.reference.models import Region

EMPTY_REGION_UPDATED = datetime(2026, 1, 1, tzinfo=timezone.utc)  # a region feed that never had an entry


def _kind_label(kind: str) -> str:
    return {"disclosure": _("Disclosure"), "exceedance": _("Exceedance"), "penalty": _("Penalty"),
            "grade": _("Credit grade")}[kind]


def _feed(feed_key: str, title: str, subtitle: str, self_url: str, html_url: str, items: list[ev.Event],
          updated: datetime, with_names: bool) -> bytes:
    fg = FeedGenerator()
    fg.id(ev.tag_uri(feed_key))
    fg.title(title)
    fg.subtitle(subtitle)
    fg.author({"name": _("Enterprise Environmental Credit and Disclosure Portal")})
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=html_url, rel="alternate", type="text/html")
    fg.language("en" if str(get_locale() or "zh_CN").startswith("en") else "zh-CN")
    fg.updated(max([e.at for e in items], default=updated).replace(microsecond=0))
    for item in items:
        entry = fg.add_entry(order="append")
        entry.id(ev.tag_uri(item.key))
        entry.title(f"{item.enterprise_name}: {item.title}" if with_names else item.title)
        at = item.at.replace(microsecond=0)
        entry.updated(at)
        entry.published(at)
        entry.link(href=item.link, rel="alternate", type="text/html")
        entry.summary(item.summary)
        entry.category(term=item.kind, label=_kind_label(item.kind))
    return fg.atom_str(pretty=True)


def enterprise_feed(ent: Enterprise) -> bytes:
    items = ev.recent(ev.Scope(enterprise_id=ent.id))
    return _feed(f"feed/enterprise/{ent.uscc}", ent.name,
                 _("Disclosures, exceedances, penalties and credit grade changes of %(name)s.", name=ent.name),
                 public_url("feeds.enterprise_atom", uscc=ent.uscc), public_enterprise_url(ent.uscc), items,
                 ent.created_at, with_names=False)


def region_feed(region: Region) -> bytes:
    items = ev.recent(ev.Scope(region_prefix=region.prefix))
    return _feed(f"feed/region/{region.code}", _("%(region)s: enterprise environmental events", region=region.name),
                 _("Disclosures, exceedances, penalties and credit grade changes of the enterprises in %(region)s.",
                   region=region.name),
                 public_url("feeds.region_atom", region=region.code),
                 public_url("search.search", region=region.code), items, EMPTY_REGION_UPDATED, with_names=True)
