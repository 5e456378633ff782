"""The two schemes the portal ships (DOMAIN §2.1, §2.3), as data. `credit seed-schemes` loads them; a regulator
lead can copy one into a draft version, change it, and activate it.

National 2013 (环发〔2013〕150号, DOMAIN §2.1): graded by its 21 weighted indicators (Annex 1). Each indicator scores
0–100; a confirmed piece of evidence lowers the indicator its rule names by its points (the annex's own tiers where
verified: 行政处罚与行政命令 is 0 with any penalty or order; a veto act zeroes its indicator); the total
is Σ weight × indicator score, graded with the configurable cut-offs 95/80/60 (DOMAIN §2.1 default, Anqing set); the
一票否决 events force red. A behaviour class can therefore never cost more than its indicator's weight: that is the
source's cap. Per-occurrence points inside an indicator where the annex row is not verified are marked [M].
Jiangsu (2020, DOMAIN §2.3): start 9 on a 12-point scale, five colours, one entry per behaviour at its category's
points; the entry counts once entered, its validity (6 or 12 months) runs from 15 days after the information; points
are restored automatically on expiry; no repair by application ("no early repair of points"); the source names no
per-period cap.
Fine bands: "X万元以上" includes X (a ¥200,000 fine is in "20万元以上"), bands are [lower, upper).
"""
from __future__ import annotations

from portal.credit.indicators import NATIONAL_INDICATORS

# Raised whenever the shipped presets change: seed_schemes adds the new preset as the next version of a scheme whose
# active version is still an unedited shipped preset (credit.schemes.upgrade_presets).
PRESET_REVISION = 2

NATIONAL_CODE = "national-2013"
JIANGSU_CODE = "jiangsu-12"

_INCIDENT_LARGER = ["larger", "major", "especially_major"]

NATIONAL_2013 = {
    "method": "weighted_indicators", "preset_revision": PRESET_REVISION,
    "start_score": 100, "max_score": 100, "min_score": 0, "counts_after_days": 0, "veto_grade": "red",
    "grades": [
        {"code": "green", "label": "环保诚信企业", "label_en": "Environmentally trustworthy", "colour": "#2e7d32",
         "min_score": 95},
        {"code": "blue", "label": "环保良好企业", "label_en": "Environmentally good", "colour": "#1565c0",
         "min_score": 80},
        {"code": "yellow", "label": "环保警示企业", "label_en": "Environmental warning", "colour": "#f9a825",
         "min_score": 60},
        {"code": "red", "label": "环保不良企业", "label_en": "Environmentally bad", "colour": "#c62828",
         "min_score": None},
    ],
    # points: change of the named indicator's 0–100 score (−100: the indicator scores 0 while the entry counts).
    "rules": [
        {"code": "criminal", "kind": "criminal", "indicator": "M11", "points": -100,
         "validity_months": 12, "veto": True,
         "label": "环境违法构成环境犯罪（一票否决）", "label_en": "Environmental crime (veto)"},
        {"code": "permit-revoked", "kind": "permit_revoked", "indicator": "M1", "points": -100,
         "validity_months": 12, "veto": True,
         "label": "吊销排污许可证（一票否决）", "label_en": "Permit revoked (veto)"},
        {"code": "detention", "kind": "detention", "indicator": "M11", "points": -100,
         "validity_months": 12, "veto": True,
         "label": "责任人被行政拘留（一票否决）", "label_en": "Responsible person detained (veto)"},
        {"code": "incident-larger", "kind": "incident", "indicator": "M10", "points": -100,
         "validity_months": 12, "veto": True, "details_in": {"level": _INCIDENT_LARGER},
         "label": "较大及以上突发环境事件（一票否决）", "label_en": "Larger or worse environmental incident (veto)"},
        {"code": "incident-general", "kind": "incident", "indicator": "M10", "points": -100, "validity_months": 12,
         "label": "一般突发环境事件", "label_en": "General environmental incident"},
        {"code": "daily-penalty", "kind": "daily_penalty", "indicator": "M11", "points": -100,
         "validity_months": 12, "label": "按日连续处罚", "label_en": "Daily continuous penalty"},
        {"code": "production-stop", "kind": "production_stop", "indicator": "M11", "points": -100,
         "validity_months": 12, "label": "责令停产整治", "label_en": "Ordered to stop production for rectification"},
        {"code": "production-limit", "kind": "production_limit", "indicator": "M11", "points": -100,
         "validity_months": 12, "label": "责令限制生产", "label_en": "Ordered to limit production"},
        {"code": "supervised-listing", "kind": "supervised_listing", "indicator": "M11", "points": -100,
         "validity_months": 12, "label": "挂牌督办", "label_en": "Listed supervision (挂牌督办)"},
        {"code": "penalty-1m-plus", "kind": "penalty", "indicator": "M11", "points": -100,
         "validity_months": 12, "amount_at_least": 1000000,
         "label": "罚款 100 万元以上", "label_en": "Fine of ¥1,000,000 or more"},
        {"code": "penalty-200k-plus", "kind": "penalty", "indicator": "M11", "points": -100,
         "validity_months": 12, "amount_at_least": 200000, "amount_below": 1000000,
         "label": "罚款 20 万元以上不满 100 万元", "label_en": "Fine of ¥200,000 or more, below ¥1,000,000"},
        {"code": "penalty-50k-plus", "kind": "penalty", "indicator": "M11", "points": -100,
         "validity_months": 12, "amount_at_least": 50000, "amount_below": 200000,
         "label": "罚款 5 万元以上不满 20 万元", "label_en": "Fine of ¥50,000 or more, below ¥200,000"},
        {"code": "penalty", "kind": "penalty", "indicator": "M11", "points": -100, "validity_months": 12,
         "label": "行政处罚（罚款不满 5 万元或其他处罚）", "label_en": "Penalty (fine below ¥50,000 or other)"},
        {"code": "inspection-finding", "kind": "inspection_finding", "indicator": "M7", "points": -25,
         "validity_months": 12, "label": "现场检查发现环境问题", "label_en": "Problem found in an inspection"},
        {"code": "disclosure-missing", "kind": "disclosure_missing", "indicator": "M9", "points": -100,
         "validity_months": 12, "label": "未依法披露环境信息", "label_en": "Mandatory disclosure not made"},
        {"code": "disclosure-defective", "kind": "disclosure_defective", "indicator": "M9", "points": -50,
         "validity_months": 12, "label": "披露信息不真实、不准确或不完整",
         "label_en": "Disclosure untrue, inaccurate or incomplete"},
        {"code": "disclosure-late", "kind": "disclosure_late", "indicator": "M9", "points": -25, "validity_months": 12,
         "label": "未按时披露环境信息", "label_en": "Disclosure made late"},
        {"code": "monitoring-exceedance", "kind": "monitoring_exceedance", "indicator": "P1", "points": -10,
         "validity_months": 12, "label": "自行监测数据超标", "label_en": "Self-monitoring exceedance"},
        {"code": "monitoring-gap", "kind": "monitoring_gap", "indicator": "M6", "points": -25, "validity_months": 12,
         "label": "自行监测数据缺失", "label_en": "Self-monitoring data missing"},
        {"code": "monitoring-late", "kind": "monitoring_late", "indicator": "M6", "points": -10, "validity_months": 12,
         "label": "自行监测数据未按时公开", "label_en": "Self-monitoring data published late"},
        {"code": "complaint", "kind": "complaint_substantiated", "indicator": "S1", "points": -25,
         "validity_months": 12, "label": "群众举报经查属实", "label_en": "Substantiated public complaint"},
    ],
}

NATIONAL_2013["measures"] = {
    "green": [  # Art. 32
        "优先支持危险废物经营许可、进口固体废物许可等行政许可申请",
        "优先安排环保专项资金或其他资金补助",
        "优先安排环保科技项目",
        "新建项目需要新增重点污染物排放总量控制指标时，纳入调剂顺序并予优先安排",
        "建议财政等部门在制定和调整政府采购名录时，将其产品或服务优先纳入",
        "优先授予有关环保荣誉称号",
        "建议银行业金融机构予以积极的信贷支持",
        "建议保险机构予以优惠的环境污染责任保险费率",
        "建议国有资产监督管理部门、工会、行业协会等对企业及其负责人给予表彰",
    ],
    "blue": ["鼓励其保持和改进环境行为，积极履行社会责任，争创环保诚信企业"],  # Art. 33
    "yellow": [  # Art. 34
        "责令其按季度向监管部门书面报告环境问题整改情况",
        "从严审查其危险废物经营许可、进口固体废物许可等行政许可申请",
        "加大执法监察频次",
        "从严审批各类环保专项资金补助申请",
        "暂停各类环保表彰奖励",
        "建议银行业金融机构严格贷款条件",
        "建议保险机构适度提高环境污染责任保险费率",
        "建议国有资产监督管理部门、工会、行业协会等暂停对企业及其负责人的评优评先",
    ],
    "red": [  # Art. 35
        "责令其向社会公开改善环境行为的计划或承诺，按季度书面报告整改情况，并增加自行监测频次",
        "结合其环境问题的类型和具体情节，从严审查各类行政许可申请",
        "加大执法监察频次",
        "暂停各类环保专项资金补助",
        "建议财政等部门在制定和调整政府采购名录时，取消其产品或服务",
        "不予授予环保荣誉称号",
        "建议银行业金融机构对其审慎授信，在其环境信用等级提升之前不予新增贷款，并视情况逐步压缩贷款直至退出",
        "建议保险机构提高环境污染责任保险费率",
        "建议国有资产监督管理部门、工会、行业协会等不得对企业及其负责人评优评先",
    ],
}

JIANGSU_12 = {
    "preset_revision": PRESET_REVISION, "evidence_repair": False,
    "start_score": 9, "max_score": 12, "min_score": None, "counts_after_days": 0, "validity_starts_after_days": 15,
    "veto_grade": "black",
    "grades": [
        {"code": "green", "label": "绿色（诚信）", "label_en": "Green (trustworthy)", "colour": "#2e7d32",
         "min_score": 11},
        {"code": "blue", "label": "蓝色（良好）", "label_en": "Blue (good)", "colour": "#1565c0", "min_score": 6},
        {"code": "yellow", "label": "黄色（警示）", "label_en": "Yellow (warning)", "colour": "#f9a825",
         "min_score": 3},
        {"code": "red", "label": "红色（较重失信）", "label_en": "Red (fairly serious dishonesty)",
         "colour": "#c62828", "min_score": 1},
        {"code": "black", "label": "黑色（严重失信）", "label_en": "Black (serious dishonesty)", "colour": "#212121",
         "min_score": None},
    ],
    "rules": [
        {"code": "criminal", "kind": "criminal", "points": -12, "validity_months": 12,
         "label": "被追究刑事责任", "label_en": "Criminal liability for an environmental crime"},
        {"code": "permit-revoked", "kind": "permit_revoked", "points": -12, "validity_months": 12,
         "label": "吊销排污许可证", "label_en": "Permit revoked"},
        {"code": "detention", "kind": "detention", "points": -6, "validity_months": 12,
         "label": "移送公安机关行政拘留", "label_en": "Referred for administrative detention"},
        {"code": "incident-larger", "kind": "incident", "points": -12, "validity_months": 12,
         "details_in": {"level": _INCIDENT_LARGER},
         "label": "较大及以上突发环境事件", "label_en": "Larger or worse environmental incident"},
        {"code": "incident-general", "kind": "incident", "points": -3, "validity_months": 6,
         "label": "一般突发环境事件", "label_en": "General environmental incident"},
        {"code": "production-stop", "kind": "production_stop", "points": -6, "validity_months": 12,
         "label": "责令停产整治", "label_en": "Ordered to stop production for rectification"},
        {"code": "daily-penalty", "kind": "daily_penalty", "points": -6, "validity_months": 6,
         "label": "按日连续处罚", "label_en": "Daily continuous penalty"},
        {"code": "production-limit", "kind": "production_limit", "points": -3, "validity_months": 6,
         "label": "责令限制生产", "label_en": "Ordered to limit production"},
        {"code": "supervised-listing", "kind": "supervised_listing", "points": -6, "validity_months": 12,
         "label": "挂牌督办", "label_en": "Listed supervision (挂牌督办)"},
        {"code": "fine", "kind": "penalty", "points": -3, "validity_months": 6, "amount_above": 0,
         "label": "罚款并责令改正", "label_en": "Fine and order to correct"},
        {"code": "warning", "kind": "penalty", "points": -1, "validity_months": 6,
         "label": "警告、责令停止或改正违法行为", "label_en": "Warning or order to stop or correct"},
        {"code": "inspection-finding", "kind": "inspection_finding", "points": -1, "validity_months": 6,
         "label": "责令改正（检查发现问题）", "label_en": "Order to correct (inspection finding)"},
        {"code": "disclosure-missing", "kind": "disclosure_missing", "points": -2, "validity_months": 6,
         "label": "未依法披露环境信息", "label_en": "Mandatory disclosure not made"},
        {"code": "disclosure-defective", "kind": "disclosure_defective", "points": -1, "validity_months": 6,
         "label": "披露信息不真实、不准确或不完整", "label_en": "Disclosure untrue, inaccurate or incomplete"},
        {"code": "disclosure-late", "kind": "disclosure_late", "points": -1, "validity_months": 6,
         "label": "未按时披露环境信息", "label_en": "Disclosure made late"},
        {"code": "monitoring-exceedance", "kind": "monitoring_exceedance", "points": -1, "validity_months": 6,
         "label": "自行监测数据超标", "label_en": "Self-monitoring exceedance"},
        {"code": "monitoring-gap", "kind": "monitoring_gap", "points": -1, "validity_months": 6,
         "label": "自行监测数据缺失", "label_en": "Self-monitoring data missing"},
        {"code": "monitoring-late", "kind": "monitoring_late", "points": -1, "validity_months": 6,
         "label": "自行监测数据未按时公开", "label_en": "Self-monitoring data published late"},
        {"code": "complaint", "kind": "complaint_substantiated", "points": -1, "validity_months": 6,
         "label": "群众举报经查属实", "label_en": "Substantiated public complaint"},
        {"code": "commitment", "kind": "commendation", "points": 1, "validity_months": 12,
         "label": "签订环保信用承诺或表彰", "label_en": "Signed credit commitment or commendation"},
    ],
}

# Grade repair (DOMAIN §3.2, Guangdong): yellow or red may apply within 6 months of publication; +1 level after a
# 7-day public notice. Jiangsu has no application-based repair (points lapse on their own).
NATIONAL_2013["repair"] = {"grades": ["yellow", "red"], "apply_within_months": 6, "notice_days": 7}

# The 21 weighted indicators of Annex 1 as data (credit.indicators): the grade comes from their weighted total.
NATIONAL_2013["indicators"] = NATIONAL_INDICATORS

JIANGSU_12["measures"] = {
    "green": ["降低随机抽查频次", "简化审批、优先安排资金补助", "重污染天气管控期间可予豁免"],
    "blue": ["常规监管，鼓励争创绿色等级"],
    "yellow": ["增加随机抽查频次", "从严审批各类环保专项资金补助申请"],
    "red": ["列为重点监管对象，增加随机抽查和监督性监测频次", "执行差别电价（每千瓦时加价 0.05 元）",
            "执行差别污水处理费（每立方米不低于 0.6 元）"],
    "black": ["列为重点监管对象，增加随机抽查和监督性监测频次", "执行差别电价（每千瓦时加价 0.10 元）",
              "执行差别污水处理费（每立方米不低于 1 元）", "评优评先一票否决"],
}

# NDRC Order 36 (2026) publication of dishonesty information, and the portal's default where it conflicts with MEE's
# 环发〔2015〕161号 (DOMAIN §3.1 [M]): public pages follow Order 36 — minor (轻微) items are not published, general (一般)
# ones for at most 1 year and serious (严重) ones for at most 3 years from the decision date; the internal record keeps
# every item for regulators (≥ 5 years, 161号). Classes by evidence kind, a penalty by its penalty type (DOMAIN's
# mapping: warning, simple procedure → minor; fine, confiscation → general; permit revocation, production stop or
# limit, 按日连续处罚, detention or criminal referral → serious; order to correct [M] minor; seal/seizure, other [M]
# general).
PUBLICATION = {
    "basis": "国家发展改革委令第36号《信用修复管理办法》（2026-04-01 施行）优先于环发〔2015〕161号的公开期限；"
             "内部记录保留不少于5年",
    "minor_published": False,
    "max_months": {"general": 12, "serious": 36},
    "internal_retention_years": 5,
    "classes": {
        "penalty": {"penalty_type": {"warning": "minor", "order_to_correct": "minor", "fine": "general",
                                     "confiscation": "general", "seal_seizure": "general", "other": "general",
                                     "*": "general"}},
        "daily_penalty": "serious", "production_stop": "serious", "production_limit": "serious",
        "permit_revoked": "serious", "detention": "serious", "criminal": "serious",
    },
}
NATIONAL_2013["publication"] = PUBLICATION
JIANGSU_12["publication"] = PUBLICATION

PRESETS = {
    NATIONAL_CODE: ("企业环境信用评价（环发〔2013〕150号，四级）",
                    "National 2013 four-grade scheme: 21 weighted indicators, total graded 95/80/60.",
                    NATIONAL_2013),
    JIANGSU_CODE: ("江苏省企事业环保信用评价（12 分动态记分，五色）",
                   "Jiangsu 12-point dynamic five-colour scheme: start 9, deductions restored after 6 or 12 months.",
                   JIANGSU_12),
}

# Jurisdictions that use a scheme other than the national one, seeded with the presets (most specific prefix wins).
DEFAULT_JURISDICTIONS = {"32": JIANGSU_CODE}
