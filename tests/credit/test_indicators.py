"""The 21 weighted national indicators as scheme data: shape, weights, tiers, the weighted total, validation, and
the deduction model left unchanged."""
from datetime import date

import pytest

from portal.credit import indicators as I
from portal.credit import presets, scoring

NAT = scoring.parse_rules(presets.NATIONAL_2013)


def test_the_national_preset_has_21_indicators_in_4_categories_weighing_100():
    assert len(NAT.indicators) == 21 and len({i.code for i in NAT.indicators}) == 21
    assert I.category_weights(NAT.indicators) == {"pollution": 29, "ecology": 5, "management": 54, "society": 12}
    assert all(i.weight <= 15 for i in NAT.indicators)
    assert sorted(i.weight for i in NAT.indicators if i.weight > 10) == [15, 15]  # the two largest (DOMAIN §2.1)


def test_the_verified_rows_carry_their_annex_weights_and_the_rest_is_marked_unverified():
    verified = {i.code: i.weight for i in NAT.indicators if i.verified}
    assert verified == {"P1": 15, "P2": 5, "P3": 5, "P4": 4, "E1": 2, "M10": 10, "M11": 15}
    assert sum(verified.values()) == 56
    assert all(i.weight <= 10 for i in NAT.indicators if not i.verified)  # 环境风险管理 ranks third
    p1 = next(i for i in NAT.indicators if i.code == "P1")
    assert "90%" in p1.tiers["1"] and "50%" in p1.zero_if


@pytest.mark.parametrize("score, tier", [(100, 1), (80, 1), (79, 2), (50, 2), (49, 3), (0, 3)])
def test_tier_edges(score, tier):
    assert I.tier_of(score) == tier


@pytest.mark.parametrize("bad", [-1, 101, 79.5, True])
def test_a_score_outside_0_to_100_is_refused(bad):
    with pytest.raises(ValueError):
        I.tier_of(bad)


def test_the_total_is_the_weighted_sum():
    full = {i.code: 100 for i in NAT.indicators}
    assert I.indicator_total(NAT.indicators, full) == 100
    penalised = {**full, "M11": 0}  # any penalty: the 15 % indicator scores 0 (Guangdong guide)
    assert I.indicator_total(NAT.indicators, penalised) == 85
    mixed = {**full, "P1": 79, "P4": 49}
    assert I.indicator_total(NAT.indicators, mixed) == pytest.approx(100 - 15 * 0.21 - 4 * 0.51)
    with pytest.raises(ValueError):
        I.indicator_total(NAT.indicators, {**full, "P1": 120})
    with pytest.raises(ValueError):
        I.indicator_total(NAT.indicators, {k: v for k, v in full.items() if k != "S3"})
    with pytest.raises(ValueError):
        I.indicator_total(NAT.indicators, {**full, "X9": 100})


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows[:-1], "sum to 96"), (lambda rows: [*rows[:-1], {**rows[-1], "code": "S2"}], "twice"),
    (lambda rows: [{**rows[0], "category": "finance"}, *rows[1:]], "category"),
    (lambda rows: [{**rows[0], "weight": 0}, *rows[1:]], "weight"),
    (lambda rows: [{**rows[0], "tiers": {"4": "x"}}, *rows[1:]], "tiers"),
])
def test_malformed_indicator_data_is_refused_naming_the_key(change, message):
    data = {**presets.NATIONAL_2013, "indicators": change(list(presets.NATIONAL_2013["indicators"]))}
    with pytest.raises(scoring.SchemeError, match=message):
        scoring.parse_rules(data)


def test_the_national_grade_is_the_weighted_indicator_total_and_needs_the_indicators():
    assert scoring.parse_rules(presets.JIANGSU_12).indicators == ()  # Jiangsu keeps its points
    with pytest.raises(scoring.SchemeError, match="indicators"):
        scoring.parse_rules({k: v for k, v in presets.NATIONAL_2013.items() if k != "indicators"})
    # Hand-worked (DOMAIN §2.1): a ¥300,000 fine zeroes 行政处罚与行政命令 (15 %), a general incident zeroes 环境风险管理
    # (10 %): 100 − 15 − 10 = 75 → 环保警示 (yellow, 60–<80).
    facts = [scoring.Fact(1, "penalty", date(2026, 1, 10), 300000), scoring.Fact(2, "incident", date(2026, 2, 1),
                                                                                None, {"level": "general"})]
    result = scoring.evaluate(NAT, facts, date(2026, 3, 1))
    assert (result.standing.score, result.standing.grade) == (75, "yellow")
    assert scoring.indicator_scores(NAT, result.entries)["M11"] == 0


def test_the_schemes_page_lists_the_indicators(db, client):
    from portal.credit import services

    services.seed_schemes()
    page = client.get("/credit/schemes").get_data(as_text=True)
    assert "大气及水污染物达标排放" in page and "行政处罚与行政命令" in page and "15%" in page
