"""Public enterprise search: filters → one SELECT, keyset pagination, capped counts.

Name search uses the CJK bigram index (STACK.md §4): every CJK run of 2+ characters becomes a phrase of its
bigrams, every ASCII word a one-token phrase, and all phrases must match. That gives exact substring semantics for
Chinese without a segmenter. The phrases are built only from the tokens tokens.py extracts (CJK runs and [A-Za-z0-9]
words), and they reach the database as bound parameters, so FTS syntax typed by users (quotes, *, AND, NEAR(, -)
is plain text here. A lone CJK character is found through its unigram token (tokens.py), so every name query uses
the index.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from flask import current_app
from flask_babel import gettext as _

from portal.enterprises.models import Enterprise, KeyUnitType, KeyUnitYear, Permit, PermitClass
from portal.enterprises.rules import check_permit_no, check_uscc, normalise_code
from portal.core.clock import china_today
from portal.errors import DomainError
from portal.extensions import db
from portal.search import facets as facet_rules
from portal.search import pgcount
from portal.search.tokens import _runs, industry_token, normalise_query, query_phrases, region_token

TOTAL_CAP = 5_000  # beyond this a count says "5,000+" and matches come in registry order
SORTS = ("relevance", "name", "grade", "penalty")
RANKED_SORTS = ("grade", "penalty")  # need a query or a facet: ranking every enterprise is refused
MAX_QUERY_LENGTH = 100
_REGION = re.compile(r"^\d{2}(\d{2}(\d{2})?)?$")
_INDUSTRY = re.compile(r"^\d{2,4}$")
_FTS = sa.table("enterprise_fts", sa.column("rowid"))


@dataclass
class SearchParams:
    q: str = ""
    region: str = ""
    industry: str = ""
    key_unit: str = ""
    permit_class: str = ""  # 排污许可管理类别 of any of its permits: key / simplified / registration
    grade: str = ""
    list: str = ""
    exceedance: str = ""
    disclosure: str = ""
    sort: str = "relevance"
    after: str = ""
    per_page: int = 20


@dataclass
class SearchResult:
    items: list[Enterprise]
    next_cursor: str | None
    total: int | None
    mode: str  # "uscc" / "permit" / "fulltext" / "like" / "all"
    prev_cursor: str | None = None
    total_is_capped: bool = False  # True when more than TOTAL_CAP rows match (the UI says "5,000+")
    sort: str = "relevance"  # the order used: "name" without a query, "id" (registry order) above TOTAL_CAP
    grades: dict[int, str] = field(default_factory=dict)  # enterprise id → current credit grade code


@dataclass
class _Cursor:
    sort: str
    forward: bool
    key: list[Any] = field(default_factory=list)


# ---------------------------------------------------------------- parsing


def region_prefix(raw: str) -> str:
    """'32', '3208', '320826' stay as they are; a province or city code ('320000', '320800') becomes its prefix."""
    code = (raw or "").strip()
    if not code:
        return ""
    if not _REGION.match(code):
        raise DomainError(_("The region must be a region code of 2, 4 or 6 digits, for example 32, 3208 or 320826."),
                          field="region")
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


def _check_industry(raw: str) -> str:
    code = (raw or "").strip()
    if code and not _INDUSTRY.match(code):
        raise DomainError(_("The industry must be a GB/T 4754 code of 2 to 4 digits, for example 26 or 2614."),
                          field="industry")
    return code


def _check_key_unit(raw: str) -> str:
    value = (raw or "").strip().lower()
    if value and value not in {k.value for k in KeyUnitType}:
        raise DomainError(_("Unknown key-unit type “%(value)s”; use one of: %(choices)s.", value=raw,
                            choices=", ".join(k.value for k in KeyUnitType)), field="key_unit")
    return value


def _check_permit_class(raw: str) -> str:
    value = (raw or "").strip().lower()
    if value and value not in {k.value for k in PermitClass}:
        raise DomainError(_("Unknown permit management class “%(value)s”; use one of: %(choices)s.", value=raw,
                            choices=", ".join(k.value for k in PermitClass)), field="permit_class")
    return value


def _check_sort(raw: str) -> str:
    value = (raw or "relevance").strip()
    if value not in SORTS:
        raise DomainError(_("Unknown sort “%(value)s”; use one of: %(choices)s.", value=raw,
                            choices=", ".join(SORTS)), field="sort")
    return value


def _looks_like_code(text: str, length: int) -> bool:
    return len(text) == length and text.isascii() and text.isalnum()


def classify_query(q: str) -> tuple[str, str]:
    """(mode, value): an exact credit code, an exact permit number, or a name search.

    Something shaped like a credit code or permit number that fails its check raises DomainError with the check's
    message (for example the expected check character), instead of silently searching names for it.
    """
    text = normalise_query(q)
    if not text:
        return "all", ""
    code = normalise_code(text)
    if _looks_like_code(code, 18) and sum(c.isdigit() for c in code) >= 6:
        result = check_uscc(code)
        if result.error:
            raise DomainError(result.error, field="q")
        return "uscc", result.value
    compact = re.sub(r"[\s\-]", "", text)
    if _looks_like_code(compact, 22) and compact[18:21].isdigit():
        result = check_permit_no(compact)
        if result.error:
            raise DomainError(result.error, field="q")
        return "permit", result.value
    if not _runs(text):
        raise DomainError(_("The search text has no Chinese characters, letters or digits. Type part of a name, a "
                            "credit code or a permit number."), field="q")
    return "name", text


# ---------------------------------------------------------------- cursors


def encode_cursor(cursor: _Cursor) -> str:
    payload = {"v": 1, "s": cursor.sort, "d": "a" if cursor.forward else "b", "k": cursor.key}
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> DomainError:
    return DomainError(_("The page cursor is invalid or out of date. Start the search again from the first page."),
                       field="cursor")


def decode_cursor(token: str, sort: str) -> _Cursor:
    """Parse a cursor and check every field's type, so an edited cursor is either valid or refused clearly."""
    if len(token) > 1000:
        raise _bad_cursor()
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if not _valid_cursor_payload(data, sort):
        raise _bad_cursor()
    return _Cursor(sort, data["d"] == "a", data["k"])


def _valid_cursor_payload(data: Any, sort: str) -> bool:
    if not isinstance(data, dict) or data.get("v") != 1 or data.get("d") not in ("a", "b") or data.get("s") != sort:
        return False
    key = data.get("k")
    if not isinstance(key, list) or len(key) != 2:
        return False
    first, last = key
    if not _is_int(last):
        return False
    return isinstance(first, str) and len(first) <= 400 if sort == "name" else _is_int(first)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -2**62 < value < 2**62


# ---------------------------------------------------------------- query building


def fts_match_expression(phrases: list[list[str]]) -> str:
    """SQLite FTS5 query: one quoted phrase per run, implicitly AND-ed. Tokens only hold CJK characters, letters and
    digits, but quotes are doubled anyway so the expression can never leave its phrase."""
    return " ".join('"' + " ".join(tok.replace('"', '""') for tok in phrase) + '"' for phrase in phrases)


def _name_conditions(text: str, dialect: str, region: str = "", industry: str = ""
                     ) -> tuple[sa.ColumnElement[bool] | None, list, str]:
    """(FTS5 MATCH condition or None, other WHERE conditions, mode) for a name search. Every run of the query,
    a lone Chinese character included (unigram token), is a phrase of the full-text index, and so are the region
    and industry filters (code-prefix tokens): the index intersects them without reading any row.

    The SQLite MATCH is returned apart because where it goes depends on the plan (join or EXISTS probe)."""
    phrases = query_phrases(text)
    if phrases and region:
        phrases.append([region_token(region)])
    if phrases and industry:
        phrases.append([industry_token(industry)])
    match = None
    conditions: list[sa.ColumnElement[bool]] = []
    if phrases and dialect == "sqlite":
        match = sa.literal_column("enterprise_fts").op("MATCH")(
            sa.bindparam("fts_query", fts_match_expression(phrases)))
    elif phrases:
        tsquery = None
        for i, phrase in enumerate(phrases):
            part = sa.func.phraseto_tsquery(sa.literal_column("'simple'::regconfig"),
                                            sa.bindparam(f"phrase_{i}", " ".join(phrase), sa.String))
            tsquery = part if tsquery is None else tsquery.op("&&")(part)
        conditions.append(sa.literal_column("enterprises.search_tsv").op("@@")(tsquery))
    return match, conditions, "fulltext"


def _prefix_range(column, prefix: str) -> sa.ColumnElement[bool]:
    """column LIKE 'prefix%' written as a range, so both databases can use the plain b-tree index."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return sa.and_(column >= prefix, column < upper)


def _filter_conditions(region: str, industry: str, key_unit: str,
                       permit_class: str = "") -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if region:
        conditions.append(_prefix_range(Enterprise.region_code, region) if len(region) < 6
                          else Enterprise.region_code == region)
    if industry:
        conditions.append(_prefix_range(Enterprise.industry_code, industry) if len(industry) < 4
                          else Enterprise.industry_code == industry)
    if key_unit:
        conditions.append(sa.exists().where(KeyUnitYear.enterprise_id == Enterprise.id,
                                            KeyUnitYear.year == current_year(),
                                            KeyUnitYear.unit_type == KeyUnitType(key_unit)))
    if permit_class:
        conditions.append(sa.exists().where(Permit.enterprise_id == Enterprise.id,
                                            Permit.management_class == PermitClass(permit_class)))
    return conditions


def current_year() -> int:
    return datetime.now(ZoneInfo(current_app.config.get("PORTAL_TIMEZONE", "Asia/Shanghai"))).year


def _sort_columns(sort: str, id_col: sa.ColumnElement[Any]) -> list[sa.ColumnElement[Any]]:
    """Sort columns, id last. "id" (registry order) is what the full-text index yields for free."""
    if sort == "relevance":
        return [sa.func.length(Enterprise.name), id_col]
    if sort == "name":
        return [Enterprise.name, id_col]
    if sort == "grade":
        return [facet_rules.grade_rank(), id_col]
    if sort == "penalty":
        return [facet_rules.penalty_key(db.engine.dialect.name), id_col]
    return [id_col]


# ---------------------------------------------------------------- the use case


def search_enterprises(params: SearchParams) -> SearchResult:
    """Search the public registry. Raises DomainError (with .field set to the parameter) on bad input.

    The capped count runs first and picks the plan. Up to TOTAL_CAP matches are fetched through the full-text
    index and sorted as asked (cheap). Above that, sorting every match would cost hundreds of milliseconds on a
    million rows, so matches come in registry order (id), which the index yields without sorting; the result says
    so (sort == "id") and the page asks the user to narrow the search. Measured in the issue report.
    """
    if len(params.q or "") > MAX_QUERY_LENGTH:
        raise DomainError(_("The search text is too long; use at most %(n)d characters.", n=MAX_QUERY_LENGTH),
                          field="q")
    if not 1 <= int(params.per_page) <= 1000:
        raise DomainError(_("The page size must be between 1 and %(n)d.", n=1000), field="per_page")
    sort = _check_sort(params.sort)
    region = region_prefix(params.region)
    industry = _check_industry(params.industry)
    key_unit = _check_key_unit(params.key_unit)
    facets = facet_rules.check_facets(params.grade, params.list, params.exceedance, params.disclosure)
    kind, value = classify_query(params.q)

    # A name search carries the region and industry filters in its full-text query (see _name_conditions).
    indexed = kind == "name" and bool(query_phrases(value))
    conditions = _filter_conditions("" if indexed else region, "" if indexed else industry, key_unit,
                                    _check_permit_class(params.permit_class))
    conditions.extend(facet_rules.facet_conditions(facets, china_today()))
    match = None
    if kind == "uscc":
        conditions.append(Enterprise.uscc == value)
        mode = "uscc"
    elif kind == "permit":
        conditions.append(Enterprise.id.in_(sa.select(Permit.enterprise_id).where(Permit.permit_no == value)))
        mode = "permit"
    elif kind == "name":
        match, name_conditions, mode = _name_conditions(value, db.engine.dialect.name, region, industry)
        conditions.extend(name_conditions)
    else:
        mode = "all"

    total, capped, ids = _capped_count(match, conditions, fulltext=mode == "fulltext")
    if ids is not None:  # every match is known: the page reads them by primary key
        conditions = [Enterprise.id == sa.any_(sa.bindparam("match_ids", ids, type_=postgresql.ARRAY(sa.BigInteger)))]
    if mode == "all" and not (sort in RANKED_SORTS and not capped):
        sort = "name"  # no relevance without a query; the name index serves this order
    elif capped:
        sort = "id"  # too many matches to rank on every request (see the docstring)
    cursor = decode_cursor(params.after, sort) if params.after else None
    base = sa.select(Enterprise)
    id_col: sa.ColumnElement[Any] = Enterprise.id
    if match is not None:
        base = base.join(_FTS, _FTS.c.rowid == Enterprise.id).where(match)
        id_col = _FTS.c.rowid  # FTS5 consumes ORDER BY rowid and rowid ranges itself
    base = base.where(*conditions)
    items, next_cursor, prev_cursor = _page(base, sort, cursor, int(params.per_page), id_col)
    return SearchResult(items=items, next_cursor=next_cursor, total=total, mode=mode, prev_cursor=prev_cursor,
                        total_is_capped=capped, sort=sort, grades=facet_rules.grades_for([e.id for e in items]))


def _page(base: sa.Select, sort: str, cursor: _Cursor | None, per_page: int, id_col: sa.ColumnElement[Any]):
    columns = _sort_columns(sort, id_col)
    forward = cursor is None or cursor.forward
    stmt = base
    if cursor is not None:
        ka, kid = cursor.key
        if len(columns) == 1:
            stmt = stmt.where(id_col > kid if forward else id_col < kid)
        else:
            # (a, id) > (ka, kid) spelled out, with a leading range on `a` that a plain index on `a` can serve.
            first_col = columns[0]
            if forward:
                stmt = stmt.where(first_col >= ka, sa.or_(first_col > ka, id_col > kid))
            else:
                stmt = stmt.where(first_col <= ka, sa.or_(first_col < ka, id_col < kid))
    order = columns if forward else [c.desc() for c in columns]
    stmt = stmt.order_by(*order).limit(per_page + 1)
    if len(columns) == 1:
        rows = _walk_primary_key(stmt) if db.engine.dialect.name == "postgresql" else list(db.session.scalars(stmt).unique())
        keys = {ent.id: [ent.id, ent.id] for ent in rows}
    else:
        pairs = list(db.session.execute(stmt.add_columns(columns[0])).unique())
        rows = [ent for ent, _key in pairs]
        keys = {ent.id: [key, ent.id] for ent, key in pairs}
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not forward:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        has_next = more if forward else True
        has_prev = (cursor is not None) if forward else more
        if has_next:
            next_cursor = encode_cursor(_Cursor(sort, True, keys[rows[-1].id]))
        if has_prev:
            prev_cursor = encode_cursor(_Cursor(sort, False, keys[rows[0].id]))
    return rows, next_cursor, prev_cursor


def _walk_primary_key(stmt: sa.Select) -> list[Enterprise]:
    """Registry-order pages on PostgreSQL: walk the primary key and test each row.

    Only used when more than TOTAL_CAP rows are known to match, so a page is found after a short walk. The
    planner cannot know that: it estimates a phrase of bigrams as a product of independent words (a few rows),
    and would fetch and sort every match instead. SET LOCAL lasts to the end of the transaction, so the settings
    are put back right after the query.
    """
    previous = pgcount.set_locals({"enable_bitmapscan": "off", "enable_seqscan": "off", "enable_sort": "off"})
    try:
        return list(db.session.scalars(stmt).unique())
    finally:
        pgcount.set_locals(previous)


def _capped_count(match: sa.ColumnElement[bool] | None, conditions: list, fulltext: bool = False
                  ) -> tuple[int, bool, list[int] | None]:
    """Count at most TOTAL_CAP + 1 matching rows: exact for ordinary searches, bounded work for huge ones. On
    PostgreSQL a name search over a large registry may be judged huge from a page sample instead, and a small
    result comes back with its ids (pgcount.py); otherwise the ids are None."""
    if db.engine.dialect.name == "postgresql":
        if fulltext and pgcount.sample_says_more_than(conditions, TOTAL_CAP):
            return TOTAL_CAP, True, None
        n, ids = pgcount.count_with_ids(sa.select(Enterprise.id).where(*conditions), TOTAL_CAP)
        return min(n, TOTAL_CAP), n > TOTAL_CAP, ids
    if match is not None and not conditions:
        inner = sa.select(_FTS.c.rowid).where(match)  # the index alone answers
    elif match is not None:
        inner = sa.select(Enterprise.id).join(_FTS, _FTS.c.rowid == Enterprise.id).where(match, *conditions)
    else:
        inner = sa.select(Enterprise.id).where(*conditions)
    inner = inner.limit(TOTAL_CAP + 1).subquery()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0
    return min(n, TOTAL_CAP), n > TOTAL_CAP, None
