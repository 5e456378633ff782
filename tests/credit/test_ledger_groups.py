"""The points ledger on the public page (issue 21): alike lines grouped with count and date range, rows paged."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.core.clock import china_today
from portal.credit import ledger_groups as G
from portal.credit import services
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource, LedgerEntry
from tests.factories import make_enterprise

AS_OF = date(2026, 12, 1)


def _line(i, rule="finding", points=-1, start=date(2025, 1, 1), days=180, kind="inspection_finding", repaired=None,
          shift=None):
    shift = i if shift is None else shift
    return SimpleNamespace(id=i, rule_code=rule, rule_label=rule, points=points, is_veto=False,
                           counts_from=start + timedelta(days=shift), expires_on=start + timedelta(days=shift + days),
                           evidence=SimpleNamespace(kind=kind, repaired_on=repaired))


def test_291_alike_expired_lines_are_one_group_with_count_and_date_ranges():
    penalty = _line(900, rule="penalty", points=-3, start=date(2026, 6, 1), days=365, shift=0)
    lines = [_line(i) for i in range(291)] + [penalty]
    rows = G.group_lines(lines, AS_OF)
    assert len(rows) == 2
    group = rows[0]
    assert group.is_group and group.count == 291 and group.status == G.EXPIRED and group.total_points == -291
    assert group.counts_from_range == (date(2025, 1, 1), date(2025, 1, 1) + timedelta(days=290))
    assert group.expires_range == (date(2025, 1, 1) + timedelta(days=180), date(2025, 1, 1) + timedelta(days=470))
    assert not rows[1].is_group and rows[1].status == G.COUNTING


def test_lines_differing_in_status_points_rule_or_evidence_kind_are_not_grouped_together():
    lines = [_line(1), _line(2, days=10_000), _line(3, points=-2), _line(4, rule="other"), _line(5, kind="penalty"),
             _line(6, repaired=date(2025, 3, 1))]
    rows = G.group_lines(lines, AS_OF)
    assert [r.count for r in rows] == [1, 1, 1, 1, 1, 1]
    assert {r.status for r in rows} == {G.EXPIRED, G.COUNTING, G.REPAIRED}


def test_a_group_stands_where_its_first_line_stood_and_keeps_ledger_order():
    lines = [_line(1, rule="a"), _line(2, rule="b"), _line(3, rule="a"), _line(4, rule="c")]
    rows = G.group_lines(lines, AS_OF)
    assert [(r.first.rule_code, r.count) for r in rows] == [("a", 2), ("b", 1), ("c", 1)]
    assert rows[0].ids == [1, 3]


@pytest.mark.parametrize("raw, number", [(None, 1), ("2", 2), ("3", 3), ("99", 3), ("0", 1), ("-4", 1), ("x", 1)])
def test_paging_takes_the_nearest_page_for_any_input(raw, number):
    page = G.page_of(list(range(45)), raw, per_page=20)
    assert (page.number, page.pages, page.total) == (number, 3, 45)
    assert page.items == list(range(45))[(number - 1) * 20:number * 20]
    assert page.has_prev == (number > 1) and page.has_next == (number < 3)


def test_the_page_holding_a_line_counts_groups_as_one_row():
    rows = G.group_lines([_line(i, rule=f"r{i % 30}") for i in range(60)], AS_OF)
    assert len(rows) == 30 and all(r.count == 2 for r in rows)
    assert G.page_holding(rows, 5, per_page=20) == 1 and G.page_holding(rows, 59, per_page=20) == 2
    assert G.page_holding(rows, 1000) is None


@pytest.fixture
def busy(db):
    """An enterprise with 25 alike lapsed inspection findings, a penalty and a production stop: three rows."""
    services.seed_schemes()
    ent = make_enterprise(name="台账很长化工有限公司")
    today = china_today()
    for n in range(25):
        add_evidence(enterprise_id=ent.id, kind=EvidenceKind.INSPECTION_FINDING, source=EvidenceSource.REGULATOR,
                     source_ref=f"finding:{n}", occurred_on=today - timedelta(days=800 + n), title=f"检查发现问题{n}",
                     verified=True, document_no=f"淮环检〔2024〕{n}号", authority="淮安市生态环境局")
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="fine:1", occurred_on=today - timedelta(days=30), title="罚款", verified=True,
                 amount_yuan=20000, document_no="淮环罚〔2026〕1号", authority="淮安市生态环境局")
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PRODUCTION_STOP, source=EvidenceSource.REGULATOR,
                 source_ref="stop:1", occurred_on=today - timedelta(days=60), title="责令停产整治", verified=True,
                 document_no="淮环罚〔2026〕2号", authority="淮安市生态环境局")
    db.session.commit()
    return ent


def _ledger_rows(html: str) -> int:
    table = html[html.index('class="credit-ledger"'):]
    return table[:table.index("</table>")].count("<tr")


def test_the_public_ledger_groups_alike_lines_and_pages_without_javascript(client, db, busy, monkeypatch):
    monkeypatch.setattr(G, "PER_PAGE", 2)
    lines = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.enterprise_id == busy.id)).all()
    assert len(lines) == 27
    first = client.get(f"/enterprises/{busy.uscc}?lang=zh").get_data(as_text=True)
    second = client.get(f"/enterprises/{busy.uscc}?lang=zh&ledger_page=2").get_data(as_text=True)
    both = first + second
    assert both.count('<tr class="ledger-group ') == 1 and "25 条相同记录" in both and "合计 -25 分" in both
    assert "展开全部 25 条记录" in both and all(f'id="ledger-{line.id}"' in both for line in lines)
    assert "第 1 页，共 2 页" in first and "第 2 页，共 2 页" in second
    assert "ledger_page=2" in first and "ledger_page=1" in second
    assert '<details class="page-section" id="credit">' in first
    assert '<details class="page-section" id="credit" open>' in second  # a paged ledger opens its section
    assert (_ledger_rows(first), _ledger_rows(second)) == (1 + 2, 1 + 1)  # header + rows; the group is one row
    assert client.get(f"/enterprises/{busy.uscc}?ledger_page=abc").status_code == 200
