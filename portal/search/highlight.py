"""Mark the parts of a name that a query matched, safely: the name is escaped, only <mark> is added."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

from portal.search.tokens import _runs, normalise_query


def _pattern(query: str) -> re.Pattern[str] | None:
    runs = sorted({run for run in _runs(normalise_query(query))}, key=len, reverse=True)
    if not runs:
        return None
    return re.compile("|".join(re.escape(run) for run in runs), re.IGNORECASE)


def highlight(text: str, query: str) -> Markup:
    """Escape `text` and wrap every occurrence of a query run (CJK run or ASCII word) in <mark>."""
    pattern = _pattern(query)
    if pattern is None or not text:
        return Markup(escape(text or ""))
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos : m.start()]))
        out.append(Markup("<mark>") + escape(m.group()) + Markup("</mark>"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def matches(text: str, query: str) -> bool:
    pattern = _pattern(query)
    return bool(pattern and text and pattern.search(text))
