"""System-written texts are stored as a message code + parameters and rendered in the reader's language (issue 21)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import force_locale

from portal.core import messages
from portal.credit.evidence import add_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.extensions import db
from portal.reference.services import load_reference
from tests.factories import make_enterprise


def _render(app, evidence, lang):
    with app.test_request_context(f"/?lang={lang}"), force_locale(lang):
        return messages.evidence_title(evidence)


def _exceedance(ent, ref="exceedance:1"):
    return add_evidence(enterprise_id=ent.id, kind=EvidenceKind.MONITORING_EXCEEDANCE,
                        source=EvidenceSource.MONITORING, source_ref=ref, occurred_on=date(2026, 3, 1),
                        verified=False, finding=True,
                        message=("monitoring.exceedance", {"pollutant": "w01018", "basis": "manual", "value": 85.0}))


def test_the_same_stored_row_reads_in_chinese_and_in_english(app):
    load_reference()
    ev = _exceedance(make_enterprise())
    db.session.commit()
    stored = db.session.get(Evidence, ev.id)
    assert stored.message_code == "monitoring.exceedance"
    assert stored.message_params == {"pollutant": "w01018", "basis": "manual", "value": 85.0}
    zh, en = _render(app, stored, "zh_CN"), _render(app, stored, "en")
    assert "化学需氧量" in zh and "手工采样结果" in zh and "85" in zh
    assert en == "Chemical oxygen demand (COD): manual sample 85 above the limit"
    for text in (zh, en):
        assert "w01018" not in text and "manual 85" not in text
    assert stored.title == zh  # the free-text column keeps the Chinese rendering for exports and search


def test_a_known_old_free_text_row_is_migrated_and_an_unknown_one_kept(app):
    load_reference()
    ent = make_enterprise()
    old = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.MONITORING_EXCEEDANCE, source=EvidenceSource.MONITORING,
                       source_ref="exceedance:9", occurred_on=date(2026, 3, 1), title="a21026 hourly_mean 120.5",
                       verified=False, finding=True)
    gap = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.MONITORING_GAP, source=EvidenceSource.MONITORING,
                       source_ref="gap:1", occurred_on=date(2026, 3, 1), verified=False, finding=True,
                       title="DA001 a21026: no valid hourly data for 30 h")
    typed = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                         source_ref="penalty-doc:1", occurred_on=date(2026, 3, 1), verified=False,
                         title="淮环罚〔2026〕3号 超标排放")
    db.session.commit()
    with db.engine.begin() as conn:
        assert messages.migrate_evidence_titles(conn) == 2
        assert messages.migrate_evidence_titles(conn) == 0  # running again changes nothing
    db.session.expire_all()
    assert (old.message_code, old.message_params) == (
        "monitoring.exceedance", {"pollutant": "a21026", "basis": "hourly_mean", "value": 120.5})
    assert _render(app, old, "en") == "Sulphur dioxide (SO2): hourly mean 120.5 above the limit"
    assert "二氧化硫" in _render(app, old, "zh_CN") and "hourly_mean" not in _render(app, old, "zh_CN")
    assert gap.message_code == "monitoring.gap" and gap.message_params["hours"] == 30
    assert "DA001" in _render(app, gap, "en") and "Sulphur dioxide" in _render(app, gap, "en")
    assert typed.message_code == "" and _render(app, typed, "en") == "淮环罚〔2026〕3号 超标排放"


def test_the_chinese_translation_of_an_old_late_publication_title_is_recognised():
    parsed = messages.legacy_message("2026-01-05至2026-01-09完成的手工监测结果于2026-01-20公开（最早应于2026-01-14前公开）")
    assert parsed == ("monitoring.manual_late", {"a": "2026-01-05", "b": "2026-01-09", "p": "2026-01-20",
                                                 "d": "2026-01-14"})


def test_an_unknown_code_or_a_missing_parameter_falls_back_to_the_stored_text(app):
    with app.test_request_context("/?lang=en"):
        assert messages.render_message("no.such.code", {}, "kept") == "kept"
        assert messages.render_message("monitoring.gap", {"outlet": "DW001"}, "kept") == "kept"


def test_pollutant_names_follow_the_reader_and_unknown_codes_stay_codes(app):
    load_reference()
    with app.test_request_context("/?lang=en"), force_locale("en"):
        assert messages.pollutant_label("a05024") == "Ozone (O3)"
        assert messages.pollutant_label("zz999") == "zz999"
    with app.test_request_context("/"), force_locale("zh_CN"):
        assert messages.pollutant_label("a05024") == "臭氧"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0
