"""The service-body scheme the portal ships, as data in the credit engine's shape (credit.scoring.parse_rules).

No national scheme for service bodies was verified (DOMAIN §11); like the enterprise default it deducts from 100 with
configurable cut-offs, and falsified data or untrue reports are one-vote vetoes that put the body on the serious
dishonesty list while they count (the Yangtze Delta 2020 memorandum lists service bodies beside enterprises)."""
from __future__ import annotations

SERVICE_BODY_DEFAULT = {
    "start_score": 100, "max_score": 100, "min_score": 0, "counts_after_days": 0, "veto_grade": "D",
    "grades": [
        {"code": "A", "label": "诚信机构", "label_en": "Trustworthy", "colour": "#2e7d32", "min_score": 90},
        {"code": "B", "label": "良好机构", "label_en": "Good", "colour": "#1565c0", "min_score": 75},
        {"code": "C", "label": "警示机构", "label_en": "Warning", "colour": "#f9a825", "min_score": 60},
        {"code": "D", "label": "不良机构", "label_en": "Bad", "colour": "#c62828", "min_score": None},
    ],
    "rules": [
        {"code": "data-falsified", "kind": "data_falsified", "points": -40, "validity_months": 36, "veto": True,
         "label": "篡改、伪造监测数据（一票否决）", "label_en": "Monitoring data tampered with or forged (veto)"},
        {"code": "report-untrue", "kind": "report_untrue", "points": -30, "validity_months": 24, "veto": True,
         "label": "出具虚假或严重失实报告（一票否决）", "label_en": "Untrue or seriously inaccurate report (veto)"},
        {"code": "negligent-work", "kind": "negligent_work", "points": -15, "validity_months": 12,
         "label": "工作失职或存在严重质量问题", "label_en": "Negligent work or serious quality problems"},
        {"code": "qualification-breach", "kind": "qualification_breach", "points": -10, "validity_months": 12,
         "label": "超出资质范围或无资质从业", "label_en": "Work outside or without qualification"},
        {"code": "operation-failure", "kind": "operation_failure", "points": -8, "validity_months": 12,
         "label": "运维不到位致数据缺失或失真", "label_en": "Poor operation causing missing or distorted data"},
        {"code": "commendation", "kind": "commendation", "points": 5, "validity_months": 12,
         "label": "受到生态环境部门表彰", "label_en": "Commended by an environment bureau"},
    ],
}
