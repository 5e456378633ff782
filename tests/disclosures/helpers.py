"""A complete, valid annual report body (every section filled or declared not applicable) for tests."""
from __future__ import annotations

from portal.disclosures import rules


def filled(data: dict, prefill: dict | None = None, overrides: dict | None = None) -> dict:
    return {"state": "filled", "reason": "", "data": data, "prefill": prefill or {}, "overrides": overrides or {}}


def not_applicable(reason: str = "本年度未产生") -> dict:
    return {"state": "not_applicable", "reason": reason, "data": {}, "prefill": {}, "overrides": {}}


def valid_sections(uscc: str) -> dict:
    sections = {s.code: not_applicable() for s in rules.SECTIONS}
    sections["summary"] = filled({"summary": "全年达标排放，无环境违法行为。", "idle_periods": ""})
    sections["basic"] = filled({"name": "涟水测试化工有限公司", "uscc": uscc, "legal_rep": "张三",
                                "production_address": "涟水县工业园区1号", "contact_person": "李四",
                                "contact_phone": "0517-82345678", "industry": "2614 有机化学原料制造",
                                "main_products": "有机化学原料 5万吨/年", "env_department": "安环部",
                                "env_manager": "王五", "key_unit_types": "water"})
    sections["pollution"] = filled({
        "hazardous_waste_total_t": "12.5", "monitoring_plan": "", "monitoring_compliance_pct": "100",
        "facilities": [{"code": "TW001", "name": "污水处理站", "process": "A/O", "status": "正常"}],
        "emissions": [{"outlet_code": "DW001", "pollutant": "化学需氧量 (w01018)", "unit": "mg/L",
                       "standard": "GB 8978-1996", "limit": "100", "avg_conc": "35", "max_conc": "80",
                       "annual_t": "10.2", "permitted_t": "20", "exceedances": "0"}],
        "waste": [{"name": "废活性炭", "hw_code": "HW49", "generated_t": "12.5", "stored_t": "0.5",
                   "utilised_t": "0", "disposed_t": "12", "receiver": "淮安危废处置中心"}],
    })
    sections["statement"] = filled({"manager_name": "王五", "manager_position": "安环部部长",
                                    "statement": "本人保证本报告所载环境信息真实、准确、完整。"})
    sections["other"] = filled({"other_info": "无"})
    return sections
