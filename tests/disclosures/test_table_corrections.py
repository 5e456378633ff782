"""CHANGE reports that correct the tables of a published annual report: changed cells, added and removed rows, each
named by section, table, row (number and key columns) and column, with a reason; the original is never edited; the
changes are frozen and hashed with the change report; the public diff reads them."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal.disclosures import corrections, rules, services
from portal.disclosures.corrections import RowEdit, TableEdit
from portal.disclosures.models import ReportStatus, TemporaryReport, Trigger
from portal.errors import ValidationFailed
from tests.factories import DEFAULT_PASSWORD, totp_code

NOW = datetime(2026, 3, 1, 2, tzinfo=timezone.utc)
EMISSION = {"outlet_code": "DW001", "pollutant": "化学需氧量 (w01018)", "unit": "mg/L", "standard": "GB 8978-1996",
            "limit": "100", "avg_conc": "35", "max_conc": "80", "annual_t": "10.2", "permitted_t": "20",
            "exceedances": "0"}
PENALTY = {"decision_no": "淮环罚〔2025〕7号", "decided_on": "2025-06-01", "authority": "淮安市生态环境局",
           "facts": "未按规定设置排污口", "amount_yuan": "50000", "rectified": "已整改"}


@pytest.fixture
def published(db, draft, signatory):
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=NOW, code=totp_code(signatory))
    db.session.commit()
    return report


def _edit(rows: list[dict], **changed) -> TableEdit:
    """Every original row unchanged, except the ones given as row_number=RowEdit."""
    edit = TableEdit(rows=[RowEdit(values=dict(r)) for r in rows])
    for name, row in changed.items():
        edit.rows[int(name[1:]) - 1] = row
    return edit


# --- rules ----------------------------------------------------------------------------------------------------------

def test_a_changed_cell_names_section_table_row_key_and_column():
    original = {"pollution.emissions": [EMISSION]}
    edit = _edit([EMISSION], r1=RowEdit(values=dict(EMISSION, annual_t="12"), reason="核算有误"))
    changes, errors = corrections.table_changes(original, {"pollution.emissions": edit})
    assert errors == {}
    assert changes == [{"key": "pollution.emissions.1.annual_t", "kind": "cell", "section": "pollution",
                        "table": "emissions", "row": 1,
                        "row_key": {"outlet_code": "DW001", "pollutant": "化学需氧量 (w01018)"},
                        "column": "annual_t", "old": "10.2", "new": "12", "reason": "核算有误"}]


def test_unchanged_tables_and_blank_added_rows_are_no_change():
    original = {"pollution.emissions": [EMISSION], "violations.penalties": []}
    proposed = {"pollution.emissions": _edit([EMISSION]),
                "violations.penalties": TableEdit(added=[RowEdit(values={"decision_no": " "})])}
    assert corrections.table_changes(original, proposed) == ([], {})


def test_added_and_removed_rows_keep_the_whole_row_and_need_a_reason():
    original = {"violations.penalties": [PENALTY]}
    new_penalty = dict(PENALTY, decision_no="淮环罚〔2025〕9号", amount_yuan="80000")
    proposed = {"violations.penalties": TableEdit(rows=[RowEdit(values=dict(PENALTY), remove=True)],
                                                  added=[RowEdit(values=new_penalty)])}
    changes, errors = corrections.table_changes(original, proposed)
    assert [c["kind"] for c in changes] == ["remove_row", "add_row"]
    assert changes[0]["old"] == PENALTY and changes[0]["row_key"] == {"decision_no": "淮环罚〔2025〕7号"}
    assert changes[1]["new"] == new_penalty and changes[1]["row"] is None
    assert set(errors) == {"violations.penalties.1.reason", "violations.penalties.+1.reason"}
    assert "淮环罚〔2025〕7号" in errors["violations.penalties.1.reason"]


def test_bad_cells_are_named_by_table_row_and_column():
    original = {"pollution.emissions": [EMISSION]}
    edit = _edit([EMISSION], r1=RowEdit(values=dict(EMISSION, annual_t="十二", outlet_code=""), reason="x"))
    added = RowEdit(values={"outlet_code": "DW002", "pollutant": "氨氮 (w21003)", "unit": "mg/L", "limit": "-1"},
                    reason="漏报")
    edit.added.append(added)
    _, errors = corrections.table_changes(original, {"pollution.emissions": edit})
    assert set(errors) == {"pollution.emissions.1.annual_t", "pollution.emissions.1.outlet_code",
                           "pollution.emissions.+1.limit"}
    message = errors["pollution.emissions.1.annual_t"]
    assert "DW001" in message and "十二" in message
    assert "DW002" in errors["pollution.emissions.+1.limit"]


def test_a_saved_draft_gives_back_the_same_proposal():
    original = {"pollution.emissions": [EMISSION], "violations.penalties": [PENALTY]}
    proposed = {"pollution.emissions": _edit([EMISSION], r1=RowEdit(values=dict(EMISSION, max_conc="90"),
                                                                     reason="复核")),
                "violations.penalties": TableEdit(rows=[RowEdit(values=dict(PENALTY), remove=True, reason="撤销")],
                                                  added=[RowEdit(values=dict(PENALTY, decision_no="新"),
                                                                 reason="补报")])}
    changes, _ = corrections.table_changes(original, proposed)
    again, _ = corrections.table_changes(original, corrections.edits_from_changes(original, changes))
    assert again == changes


# --- services ------------------------------------------------------------------------------------------------------

def test_table_corrections_are_frozen_and_hashed_and_the_original_is_untouched(db, published, staff, signatory):
    frozen = (published.content_json, published.sha256)
    tables = services.original_tables(published)
    assert tables["pollution.emissions"][0]["annual_t"] == "10.2" and tables["violations.penalties"] == []
    proposed = {
        "pollution.emissions": _edit(tables["pollution.emissions"], r1=RowEdit(
            values=dict(tables["pollution.emissions"][0], annual_t="12.4"), reason="在线监测数据补正")),
        "violations.penalties": TableEdit(added=[RowEdit(values=PENALTY, reason="漏报处罚")]),
        "pollution.facilities": TableEdit(rows=[RowEdit(values=dict(tables["pollution.facilities"][0]),
                                                        remove=True, reason="设施已于2024年拆除")]),
    }
    change = services.save_change(staff, published.enterprise, published, {}, {}, "监测数据复核报告",
                                  tables=proposed)
    assert [c["kind"] for c in change.changes] == ["remove_row", "cell", "add_row"]
    services.submit_temporary(signatory, change, DEFAULT_PASSWORD, now=NOW, code=totp_code(signatory))
    assert (published.content_json, published.sha256) == frozen and published.status == ReportStatus.CORRECTED
    content = json.loads(change.content_json)
    assert content["changes"] == change.changes and content["corrects"]["sha256"] == published.sha256
    assert change.sha256 == rules.sha256_hex(change.content_json)
    assert {"kind": "cell", "column": "annual_t", "old": "10.2", "new": "12.4"}.items() <= content["changes"][1].items()


def test_a_table_change_with_an_error_saves_nothing(db, published, staff):
    tables = services.original_tables(published)
    bad = {"pollution.emissions": _edit(tables["pollution.emissions"], r1=RowEdit(
        values=dict(tables["pollution.emissions"][0], annual_t="-3"), reason="x"))}
    with pytest.raises(ValidationFailed) as exc:
        services.save_change(staff, published.enterprise, published, {}, {}, "依据", tables=bad)
    assert "pollution.emissions.1.annual_t" in exc.value.errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TemporaryReport)) == 0


# --- pages ---------------------------------------------------------------------------------------------------------

def test_the_enterprise_corrects_cells_adds_and_removes_rows_and_the_public_reads_the_diff(
        login, db, published, staff, signatory):
    client = login(staff)
    page = client.get(f"/my/disclosures/change/{published.sha256}").get_data(as_text=True)
    assert 'name="c-pollution.emissions-1-annual_t" value="10.2"' in page
    assert 'name="rm-pollution.facilities-1"' in page and 'name="a-violations.penalties-1-decision_no"' in page

    form = {"basis": "监测数据复核报告", "c-pollution.emissions-1-annual_t": "12.4",
            "r-pollution.emissions-1": "在线监测数据补正", "rm-pollution.facilities-1": "1",
            "r-pollution.facilities-1": "设施已拆除", "add-violations.penalties": "1",
            **{f"a-violations.penalties-1-{k}": v for k, v in PENALTY.items()},
            "ar-violations.penalties-1": "漏报处罚"}
    bad = client.post(f"/my/disclosures/change/{published.sha256}", data=dict(form, **{
        "c-pollution.emissions-1-annual_t": "abc"}), follow_redirects=False)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "abc" in text and "第 1 行（DW001 · 化学需氧量 (w01018)）" in text
    assert 'aria-invalid="true"' in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TemporaryReport)) == 0

    assert client.post(f"/my/disclosures/change/{published.sha256}", data=form).status_code == 302
    change = db.session.scalar(sa.select(TemporaryReport).where(TemporaryReport.trigger == Trigger.CHANGE))
    assert len(change.changes) == 3
    again = client.get(f"/my/disclosures/temporary/{change.id}").get_data(as_text=True)
    assert 'name="c-pollution.emissions-1-annual_t" value="12.4"' in again
    assert 'name="rm-pollution.facilities-1" value="1" checked' in again
    assert 'value="淮环罚〔2025〕7号"' in again

    signer = login(signatory)
    sign_page = signer.get(f"/my/disclosures/temporary/{change.id}/sign").get_data(as_text=True)
    assert "<del>10.2 t</del>" in sign_page and "<ins>12.4 t</ins>" in sign_page
    signer.post(f"/my/disclosures/temporary/{change.id}/sign",
                data={"password": DEFAULT_PASSWORD, "code": totp_code(signatory)})
    db.session.refresh(change)
    assert change.status == ReportStatus.PUBLISHED
    pdf = client.get(f"/disclosures/{change.sha256}/copy.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    public = client.get(f"/disclosures/{change.sha256}").get_data(as_text=True)
    assert "第 1 行（DW001 · 化学需氧量 (w01018)）" in public
    assert "<del>10.2 t</del>" in public and "<ins>12.4 t</ins>" in public
    assert "新增行（淮环罚〔2025〕7号）" in public and "（该行已删除）" in public
    original_page = client.get(f"/disclosures/{published.sha256}").get_data(as_text=True)
    assert "<ins>12.4 t</ins>" in original_page and "10.2" in original_page
