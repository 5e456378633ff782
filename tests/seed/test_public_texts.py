"""Public pages of the demo never show internal codes, login names or commands (issue 21).

Seeds the small demo (seed-demo --life small, through the real services), then walks the public pages a visitor
reaches from the home page by links, in Chinese and in English, and reads the visible text of each.
"""
from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db

MAX_PAGES = 80
SKIP = ("/static/", "/api/", "/auth/", "/login", "/logout", "/lang/", "/set-language", "/feeds/", "/open311/",
        "/opendata/files", "/verify/")
SKIP_ENDINGS = (".pdf", ".csv", ".json", ".zip", ".xml", ".atom", ".svg", ".png", ".ics", ".xlsx")

# An HJ 212 code joined to a raw basis ("a21026 hourly_mean"), enum values, a shell command.
RAW = [re.compile(r"\b(hourly_mean|daily_mean|half_yearly)\b"), re.compile(r"\b[wa]\d{5}\s+(manual|range|instant)\b"),
       re.compile(r"flask "), re.compile(r"\bdemo_ent_\d+\b")]
ZH_ENUMS = re.compile(r"(?<![A-Za-z_-])(key|general|special|simplified|registration)(?![A-Za-z_-])")
EN_ENUMS = re.compile(r">\s*(key|general|special)\s*<")
BARE_CODE = re.compile(r">\s*([wa]\d{5}|[wa]\d{5}z)\s*<")  # a pollutant shown only by its HJ 212 code


def _visible(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    return page


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def _links(page: str) -> list[str]:
    out = []
    for href in re.findall(r'<a\b[^>]*\bhref="([^"]+)"', page):
        href = urldefrag(html.unescape(href))[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue
        if href.startswith(SKIP) or parts.path.endswith(SKIP_ENDINGS) or "cursor=" in href:
            continue
        out.append(href)
    return out


def test_public_demo_pages_show_no_codes_logins_or_commands(runner, app, client, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "OPENDATA_DIR", str(tmp_path / "opendata"))
    result = runner.invoke(args=["seed-demo", "--enterprises", "40", "--seed", "5", "--password", "pw-for-tests",
                                 "--life", "small"])
    assert result.exit_code == 0, result.output
    logins = [u for u in db.session.scalars(sa.select(User.username)) if len(u) > 4]
    login_re = re.compile(r"(?<![\w@.])(" + "|".join(map(re.escape, logins)) + r")(?![\w@])")
    from portal.reference.models import Pollutant

    names = [n for n, en in db.session.execute(sa.select(Pollutant.name, Pollutant.name_en)) if en and len(n) > 1]
    # a reference name standing alone (not a word inside quoted Chinese text such as a scheme's official criteria)
    zh_names = re.compile("(?<![\u4e00-\u9fff])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
                          + ")(?![\u4e00-\u9fff])")
    problems: list[str] = []
    seen: set[str] = set()
    from portal.credit.models import Evidence
    from portal.enterprises.models import Enterprise

    watched = db.session.scalars(sa.select(Enterprise.uscc).join(Evidence, Evidence.enterprise_id == Enterprise.id)
                                 .group_by(Enterprise.uscc).order_by(sa.func.count().desc()).limit(12)).all()
    queue = deque([f"/enterprises/{u}" for u in watched] + ["/", "/search?q=", "/complaints/", "/opendata/"])
    pages = 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        path = urlsplit(url).path
        # every page of the enterprises with the most evidence, then one page per path shape
        key = url if url.startswith("/enterprises/") and path.count("/") == 2 and len(seen) < 40 else (
            re.sub(r"/[0-9A-Z]{18}|/\d+", "/*", path) if not url.startswith("/search") else url)
        if key in seen:
            continue
        seen.add(key)
        for lang in ("zh_CN", "en"):
            sep = "&" if "?" in url else "?"
            response = client.get(f"{url}{sep}lang={lang}")
            if response.status_code != 200 or "text/html" not in response.content_type:
                break
            page = _visible(response.get_data(as_text=True))
            text = _text(page)
            for pattern in RAW:
                for m in pattern.finditer(text):
                    problems.append(f"{url} [{lang}]: {m.group(0)!r}")
            for m in login_re.finditer(text):
                problems.append(f"{url} [{lang}]: login name {m.group(0)!r}")
            for m in BARE_CODE.finditer(page):
                if 'muted">' not in page[max(0, m.start() - 40):m.start() + 1]:  # a code beside its name is fine
                    problems.append(f"{url} [{lang}]: bare pollutant code {m.group(1)!r}")
            if lang == "en":
                for m in zh_names.finditer(text):
                    problems.append(f"{url} [{lang}]: Chinese pollutant name {m.group(0)!r}")
            if lang == "zh_CN":
                for m in ZH_ENUMS.finditer(text):
                    problems.append(f"{url} [{lang}]: enum {m.group(0)!r}")
            else:
                for m in EN_ENUMS.finditer(page):
                    problems.append(f"{url} [{lang}]: enum {m.group(1)!r}")
            if lang == "zh_CN":
                queue.extend(_links(page))
        pages += 1
    assert pages > 20, f"only {pages} public pages reached"
    assert not problems, "\n".join(sorted(set(problems))[:60])
