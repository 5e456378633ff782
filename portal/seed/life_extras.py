"""Demo rewards, service bodies, open days, the inspector roster and a published 双随机 draw, through the services
of their packages (each with its own checks: four eyes for rewards and body findings, a lead for the roster and the
draw). A seeding edge: it commits once per part."""
from __future__ import annotations

import hashlib
from datetime import date, time, timedelta

import sqlalchemy as sa

from portal.complaints.models import Complaint, Findings
from portal.credit import draws
from portal.credit.draw_inspections import add_inspector
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import org_code_check_char, uscc_check_char
from portal.extensions import db
from portal.opendays import services as opendays
from portal.opendays.rules import OpenDayData
from portal.rewards import services as rewards
from portal.servicebodies import services as bodies

_BODIES = (("淮安市清源环境检测有限公司", "monitoring_lab", "320804", "CMA 161012340567"),
           ("江苏绿测环境科技有限公司", "auto_monitoring_operator", "320812", "苏环运维〔2024〕0112"),
           ("淮安蓝天环评咨询有限公司", "eia_writer", "320803", "环评编制单位 3208-0045"),
           ("淮安净水第三方治理有限公司", "third_party_treatment", "320826", ""))
_INSPECTORS = ("王建国", "李海峰", "张晓梅", "刘志强", "陈静", "杨帆")


def _uscc(region: str, n: int) -> str:
    org8 = f"{73000000 + n:08d}"
    first17 = f"91{region}{org8}{org_code_check_char(org8)}"
    return first17 + uscc_check_char(first17)


def seed_rewards(handler, lead, today: date) -> dict[str, int]:
    """Every substantiated case is assessed; the named first reporters' rewards are approved by the lead and the
    first is paid; anonymous ones stay on record as ineligible with their reasons."""
    counts: dict[str, int] = {}
    cases = db.session.scalars(sa.select(Complaint).where(Complaint.findings == Findings.SUBSTANTIATED)
                               .order_by(Complaint.id)).all()
    paid = False
    for c in cases:
        reward = rewards.propose_reward(handler, c, tier="general", insider=False, already_known=False)
        if reward.status.value == "proposed":
            rewards.decide_reward(lead, reward, approve=True, note="符合奖励条件。")
            if not paid:
                rewards.record_payment(lead, reward, paid_on=today, method="bank_transfer",
                                       reference=f"JS{today:%Y%m%d}0001")
                paid = True
        counts[reward.status.value] = counts.get(reward.status.value, 0) + 1
    db.session.commit()
    return counts


def seed_service_bodies(regulator, lead, enterprises: list[Enterprise], today: date) -> dict[str, int]:
    """Four bodies of every kind, each serving two enterprises; a confirmed untrue-report finding for the lab and a
    confirmed commendation for the operator (recorded by the regulator, confirmed by the lead)."""
    made = []
    for n, (name, kind, region, qualification) in enumerate(_BODIES):
        body = bodies.register_body(regulator, uscc=_uscc(region, n), name=name, kind=kind, region_code=region,
                                    address=f"淮安市{name[:2]}路{10 + n}号", qualification_no=qualification)
        for ent in enterprises[2 * n:2 * n + 2]:
            bodies.add_engagement(regulator, body, enterprise_uscc=ent.uscc, service=body.kind.value,
                                  starts_on=today - timedelta(days=400), ends_on=today + timedelta(days=330))
        made.append(body)
    for body, kind, title in ((made[0], "report_untrue", "出具的监测报告数据与原始记录不符"),
                              (made[1], "commendation", "自动监测运维工作成效突出，予以通报表扬")):
        ev = bodies.record_evidence(regulator, body, kind=kind, title=title,
                                    document_no=f"淮环监〔{today.year}〕{body.id:03d}号",
                                    occurred_on=today - timedelta(days=45), authority="淮安市生态环境局")
        bodies.confirm_evidence(lead, ev)
    db.session.commit()
    return {"bodies": len(made), "engagements": 2 * len(made), "evidence": 2}


def seed_open_days(staff, enterprise: Enterprise, today: date) -> dict[str, int]:
    """Two announced open days of the demo enterprise, the first with visitors registered."""
    days = []
    for weeks, facility in ((2, "废水处理站及在线监测站房"), (6, "危险废物贮存库及焚烧装置")):
        days.append(opendays.publish(staff, enterprise, OpenDayData(
            day=today + timedelta(weeks=weeks), start_time=time(9, 0), end_time=time(11, 30),
            place=enterprise.address, facility=facility, capacity=30,
            how_to_register="在本页登记姓名和手机号，当天凭手机号入场。", notes="请穿平底鞋，厂区内禁止吸烟。")))
    for i, name in enumerate(("周女士", "吴先生", "郑同学")):
        opendays.register(days[0], name=name, phone=f"1380517{i:04d}", party_size=1 + i % 2, submission_key=None)
    db.session.commit()
    return {"open_days": len(days), "registrations": 3}


def seed_draw(lead, prefix: str, today: date, seed: int) -> dict[str, int]:
    """An inspector roster under `prefix` and this quarter's draw, sealed with a seed derived from the demo seed
    and published by the lead."""
    for i, name in enumerate(_INSPECTORS):
        add_inspector(lead, name=name, jurisdiction_code=prefix, certificate_no=f"JS-ZF-{prefix}-{i + 1:04d}",
                      valid_from=today - timedelta(days=700), valid_until=today + timedelta(days=700))
    db.session.flush()
    quarter = (today.month - 1) // 3 + 1
    entry = draws.make_draw(lead, prefix, today.year, quarter,
                            seed=hashlib.sha256(f"demo-draw:{seed}".encode()).hexdigest())
    draws.publish(lead, entry)
    db.session.commit()
    return {"inspectors": len(_INSPECTORS), "draw_targets": len(entry.result)}
