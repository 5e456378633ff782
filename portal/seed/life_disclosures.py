"""Demo disclosures through the real drafting and signing services: last year's annual report of a few enterprises
(pre-filled, completed, checked, its warnings acknowledged, signed with password and second factor), a temporary
report on an administrative penalty, and a CHANGE report that corrects one annual report (the original is marked
corrected, never edited).

The signer of each enterprise is its own signatory account whose password and authenticator secret exist only while
seeding (enrolled through portal.auth.factors; each signature uses one of its recovery codes), so nobody can log in
as it; the demo accounts printed at the end are the ones to log in with. A seeding edge: it commits at the end."""
from __future__ import annotations

import json
import secrets
from datetime import date, timedelta

import pyotp

from portal.auth import factors
from portal.auth.services import hash_password
from portal.disclosures import changes, rules, services
from portal.disclosures.models import Trigger
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.seed.life_credit import enterprise_user


def _filled(data: dict) -> dict:
    return {"state": "filled", "reason": "", "data": data}


def _signer(ent: Enterprise) -> tuple[object, str, list[str]]:
    """The enterprise's signatory with a password and a confirmed second factor known only here."""
    user = enterprise_user(ent)
    password = secrets.token_urlsafe(16)
    user.password_hash = hash_password(password)
    secret = factors.begin_enrolment(user)
    codes = factors.confirm_enrolment(user, pyotp.TOTP(secret).now())
    db.session.flush()
    return user, password, codes


def _complete(report, ent: Enterprise) -> None:
    """Fill what the pre-fill leaves open; sections that do not apply are declared so with the reason."""
    sections = json.loads(json.dumps(report.sections or {}))
    for s in rules.SECTIONS:
        entry = sections.get(s.code) or rules.empty_section()
        if entry.get("state") != "filled":
            entry.update({"state": "not_applicable", "reason": "本年度未发生", "data": {}})
        sections[s.code] = entry
    summary = sections.get("summary") or rules.empty_section()
    summary.update(_filled({"summary": "全年污染防治设施运行正常，按排污许可证要求开展自行监测。", "idle_periods": ""}))
    sections["summary"] = summary
    statement = sections.get("statement") or rules.empty_section()  # never "not applicable" (Order 24 format)
    statement.update(_filled({"manager_name": ent.legal_rep or "环境管理负责人", "manager_position": "安全环保部部长",
                              "statement": "本人保证本报告所载环境信息真实、准确、完整，并对其真实性负责。"}))
    sections["statement"] = statement
    basic = sections.get("basic") or rules.empty_section()
    data = dict(basic.get("data") or {})
    for name, prefilled in (basic.get("prefill") or {}).items():  # keep pre-filled values as they are
        if not str(data.get(name) or "").strip():
            data[name] = prefilled["value"]
    data.update({k: v for k, v in {"name": ent.name, "uscc": ent.uscc, "legal_rep": ent.legal_rep,
                                   "production_address": ent.production_address or ent.address,
                                   "contact_person": ent.legal_rep, "contact_phone": ent.contact_phone or "0517-80000000",
                                   "industry": ent.industry_code, "main_products": "见排污许可证",
                                   "env_department": "安全环保部", "env_manager": ent.legal_rep,
                                   "key_unit_types": ""}.items() if not str(data.get(k) or "").strip()})
    basic.update({"state": "filled", "reason": "", "data": data})
    sections["basic"] = basic
    report.sections = sections


def seed_disclosures(enterprises: list[Enterprise], today: date) -> dict[str, int]:
    counts = {"annual": 0, "temporary": 0, "change": 0}
    year = today.year - 1
    published = []
    for ent in enterprises:
        signer, password, codes = _signer(ent)
        report = services.create_annual_draft(signer, ent, year)
        _complete(report, ent)
        check = services.check_annual(report)
        if not check.ok:  # a demo enterprise whose pre-filled data the rules refuse is left as a draft
            continue
        services.submit_annual(signer, report, password, [w.code for w in check.warnings], code=codes.pop())
        counts["annual"] += 1
        published.append((ent, signer, password, codes, report))
    if published:
        ent, signer, password, codes, annual = published[0]
        temp = services.save_temporary(signer, ent, Trigger.ADMIN_PENALTY, f"淮环罚〔{today.year}〕{ent.id:04d}号",
                                       today - timedelta(days=3),
                                       {"decided_on": (today - timedelta(days=4)).isoformat(),
                                        "authority": "淮安市生态环境局", "facts": "危险废物贮存场所未按规定设置识别标志。",
                                        "legal_basis": "《中华人民共和国固体废物污染环境防治法》第一百一十二条",
                                        "penalty_type": "罚款", "amount_yuan": "20000",
                                        "rectification": "已设置识别标志并完善管理台账。"})
        services.submit_temporary(signer, temp, password, code=codes.pop())
        counts["temporary"] += 1
        fields = changes.original_fields(annual)
        key = "basic.contact_phone" if "basic.contact_phone" in fields else next(iter(fields))
        change = changes.save_change(signer, ent, annual, {key: "0517-86668888"}, {key: "联系电话变更"},
                                     "原披露的联系电话已停用，更正为现用号码。")
        services.submit_temporary(signer, change, password, code=codes.pop())
        counts["change"] += 1
    db.session.commit()
    return counts
