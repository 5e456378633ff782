"""The 21 weighted indicators of the national 2013 scheme (环发〔2013〕150号 Annex 1, DOMAIN §2.1) as data, and the
pure rules that read them: each indicator is scored 0–100 in one of three tiers (tier 1 = 80–100, tier 2 = 50–79,
tier 3 = 0–49), multiplied by its weight and summed to a 0–100 total.

Only 7 rows (56 %) are verified; the other 14 names follow the annex's categories and their weights are the split
DOMAIN §2.1 derives from Guangzhou's category weights (污染防治 29 %, 生态保护 5 %, 环境管理 54 %, 社会监督 12 %),
each ≤ 10 %. Every row says whether it is verified, so a lead can load the official annex or a provincial variant
into a draft version. A scheme with method "weighted_indicators" grades by these rows: its ledger rules name the
indicator they lower (credit.scoring.indicator_scores / weighted_total); indicator_total checks a full set of
indicator scores given by hand."""
from __future__ import annotations

from dataclasses import dataclass

TIERS = ((1, 80, 100), (2, 50, 79), (3, 0, 49))
CATEGORIES = {"pollution": "污染防治", "ecology": "生态保护", "management": "环境管理", "society": "社会监督"}


def _row(code, category, name, name_en, weight, verified, tier1="", tier2="", tier3="", zero_if=""):
    row = {"code": code, "category": category, "name": name, "name_en": name_en, "weight": weight,
           "verified": verified, "tiers": {"1": tier1, "2": tier2, "3": tier3}}
    if zero_if:
        row["zero_if"] = zero_if
    return row


NATIONAL_INDICATORS = [
    _row("P1", "pollution", "大气及水污染物达标排放", "Air and water discharges compliant", 15, True,
         "各排放口监督性监测达标率均 ≥ 90%", "有排放口达标率 75%–90%", "有排放口达标率 < 75%",
         zero_if="任一排放口达标率 < 50%"),
    _row("P2", "pollution", "一般固体废物处理处置", "General solid waste treated and disposed of", 5, True,
         "处理处置率 ≥ 95%", "80%–95%", "< 80%"),
    _row("P3", "pollution", "危险废物规范化管理", "Hazardous waste managed to standard", 5, True,
         "规范化管理考核达标（环办〔2011〕48号）", "基本达标", "不达标"),
    _row("P4", "pollution", "噪声污染防治", "Noise pollution prevention", 4, True,
         "厂界噪声达标", "超标 ≤ 5 dB(A)", "超标 > 5 dB(A)"),
    _row("E1", "ecology", "选址布局中的生态保护", "Ecological protection in siting", 2, True,
         "符合生态功能区划和生态保护红线", "", "不符合"),
    _row("E2", "ecology", "资源利用中的生态保护", "Ecological protection in resource use", 2, False),
    _row("E3", "ecology", "开发建设中的生态保护", "Ecological protection in development and construction", 1, False),
    _row("M1", "management", "排污许可证", "Pollutant discharge permit", 4, False),
    _row("M2", "management", "排污申报", "Pollutant discharge declaration", 3, False),
    _row("M3", "management", "排污费（环境保护税）缴纳", "Discharge fee (environmental tax) paid", 3, False),
    _row("M4", "management", "污染治理设施运行", "Pollution-control facilities in operation", 4, False),
    _row("M5", "management", "排污口规范化整治", "Outlets built to standard", 3, False),
    _row("M6", "management", "企业自行监测", "Self-monitoring", 3, False),
    _row("M7", "management", "内部环境管理", "Internal environmental management", 3, False),
    _row("M8", "management", "强制性清洁生产审核", "Mandatory cleaner-production audit", 3, False),
    _row("M9", "management", "环境信息公开", "Environmental information disclosure", 3, False),
    _row("M10", "management", "环境风险管理", "Environmental risk management", 10, True,
         "编制应急预案、建立制度、开展演练并投保环境污染责任保险"),
    _row("M11", "management", "行政处罚与行政命令", "Administrative penalties and orders", 15, True,
         "无行政处罚和责令改正", "", "", zero_if="有行政处罚"),
    _row("S1", "society", "群众投诉", "Public complaints", 4, False),
    _row("S2", "society", "媒体监督", "Media supervision", 4, False),
    _row("S3", "society", "自愿性环境行为", "Voluntary environmental action", 4, False),
]


@dataclass(frozen=True)
class Indicator:
    code: str
    category: str
    name: str
    name_en: str
    weight: int  # percent of the total
    verified: bool
    tiers: dict[str, str]
    zero_if: str = ""


def parse_indicators(raw, error) -> tuple[Indicator, ...]:
    """Read a scheme's `indicators` list; `error(message)` builds the exception naming the key at fault. An empty
    list is allowed (the scheme scores by deductions only); otherwise codes are unique, categories known, weights
    whole percentages that sum to 100."""
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise error("indicators: must be a list")
    items, seen = [], set()
    for i, r in enumerate(raw):
        where = f"indicators[{i}]"
        if not isinstance(r, dict) or not r.get("code"):
            raise error(f"{where}: 'code' is required")
        if r["code"] in seen:
            raise error(f"{where}: code '{r['code']}' appears twice")
        seen.add(r["code"])
        if r.get("category") not in CATEGORIES:
            raise error(f"{where}: 'category' must be one of {', '.join(CATEGORIES)}")
        weight = r.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= 100:
            raise error(f"{where}: 'weight' must be a whole percentage from 1 to 100")
        tiers = r.get("tiers") or {}
        if not isinstance(tiers, dict) or any(k not in ("1", "2", "3") for k in tiers):
            raise error(f"{where}: 'tiers' must map '1', '2', '3' to their rules")
        items.append(Indicator(str(r["code"]), r["category"], str(r.get("name", r["code"])),
                               str(r.get("name_en", r["code"])), weight, bool(r.get("verified", False)),
                               {str(k): str(v) for k, v in tiers.items()}, str(r.get("zero_if", ""))))
    total = sum(i.weight for i in items)
    if total != 100:
        raise error(f"indicators: the weights sum to {total}, not 100")
    return tuple(items)


def tier_of(score: int) -> int:
    """The tier (1, 2 or 3) of an indicator score from 0 to 100."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValueError("an indicator score is a whole number from 0 to 100")
    return next(tier for tier, low, high in TIERS if low <= score <= high)


def indicator_total(indicators: tuple[Indicator, ...], scores: dict[str, int]) -> float:
    """Σ weight × score / 100 over all indicators (0–100). Every indicator needs a score; a missing one is an
    error rather than a silent zero."""
    missing = [i.code for i in indicators if i.code not in scores]
    if missing:
        raise ValueError(f"no score for {', '.join(missing)}")
    unknown = set(scores) - {i.code for i in indicators}
    if unknown:
        raise ValueError(f"unknown indicator {', '.join(sorted(unknown))}")
    for code, score in scores.items():
        tier_of(score)
    return round(sum(i.weight * scores[i.code] for i in indicators) / 100, 2)


def category_weights(indicators: tuple[Indicator, ...]) -> dict[str, int]:
    weights = {c: 0 for c in CATEGORIES}
    for i in indicators:
        weights[i.category] += i.weight
    return weights
