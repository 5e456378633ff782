"""Every integrity rule on hand-built series: raised on the tampered series, not raised on its clean twin."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.integrity import rules
from portal.integrity.rules import FlagState, LabRecord, Reference, Series
from tests.integrity.series import T0, at, clean, copy

P = {rid: rules.params_for(rid) for rid in rules.RULES}


def test_r1_flat_within_two_percent_of_the_range_for_a_day_is_raised_and_the_clean_twin_is_not():
    base = clean()
    tampered = copy(base)
    for i in range(100, 130):
        tampered.values[i] = 35.0 + (i % 3) * 0.5  # span 1.0 ≤ 2 % of a 0–100 range
    assert rules.detect_r1(base, P["R1"], analyser_range=100.0) == []
    [hit] = rules.detect_r1(tampered, P["R1"], analyser_range=100.0)
    assert hit.start <= at(base, 100) and hit.end >= at(base, 130) and hit.threshold == 2.0


def test_r1_six_identical_hours_in_a_row_are_raised_even_without_a_registered_range():
    base = clean()
    tampered = copy(base)
    tampered.values[200:206] = [41.3] * 6
    assert rules.detect_r1(base, P["R1"]) == []
    [hit] = rules.detect_r1(tampered, P["R1"])
    assert hit.details["kind"] == "identical" and hit.details["hours"] == 6


def test_r1_ignores_flat_hours_while_not_producing():
    tampered = clean()
    tampered.values[200:230] = [0.0] * 30
    producing = [not 200 <= i < 230 for i in range(len(tampered))]
    assert rules.detect_r1(tampered, P["R1"], analyser_range=100.0, producing=producing) == []


def test_r2_a_week_hovering_at_the_detection_limit_is_raised_and_the_clean_twin_is_not():
    base = clean(level=2.0)
    tampered = copy(base)
    for i in range(24, 24 * 10):
        tampered.values[i] = 0.05 + (i % 5) * 0.02  # ≤ 2 × MDL 0.1
    assert rules.detect_r2(base, P["R2"], mdl=0.1) == []
    [hit] = rules.detect_r2(tampered, P["R2"], mdl=0.1)
    assert hit.measure >= 0.8 and hit.threshold == pytest.approx(0.2)
    assert rules.detect_r2(tampered, P["R2"], mdl=None) == []


def test_r3_values_bunched_just_below_the_limit_are_raised_and_the_clean_twin_is_not():
    base = clean(level=60.0)
    tampered = copy(base)
    for i, v in enumerate(tampered.values):
        if v >= 85:
            tampered.values[i] = 85 + (i % 14)  # every high value pulled into [85, 100)
    for i in range(0, len(tampered.values), 3):
        tampered.values[i] = 90 + (i % 9)
    assert rules.detect_r3(base, P["R3"], limit=100.0) == []
    [hit] = rules.detect_r3(tampered, P["R3"], limit=100.0)
    assert hit.details["share_below"] >= 0.25 and hit.threshold == pytest.approx(85.0)


def test_r4_gaps_starting_after_high_rising_values_are_raised_and_gaps_after_ordinary_values_are_not():
    base = clean(level=50.0, noise=0.05)
    tampered, twin = copy(base), copy(base)
    for k, i in enumerate(range(50, 650, 100)):
        tampered.values[i - 1], tampered.values[i] = 80.0, 92.0  # rising towards the limit 100
        for j in range(i + 1, i + 4):
            tampered.values[j], tampered.flags[j] = None, ""
        for j in range(i + 1, i + 4):
            twin.values[j], twin.flags[j] = None, ""  # same gaps after ordinary values
    assert rules.detect_r4(twin, P["R4"], limit=100.0) == []
    [hit] = rules.detect_r4(tampered, P["R4"], limit=100.0)
    assert hit.details["events"] == 6


def test_r4_gaps_concentrated_in_high_load_hours_are_raised():
    base = clean(level=50.0, noise=0.05)
    load = [100.0 + (50.0 if (i % 24) in range(9, 15) else 0.0) for i in range(len(base))]
    tampered = copy(base)
    for d in range(0, 20, 2):
        for h in (10, 11):
            tampered.values[d * 24 + h], tampered.flags[d * 24 + h] = None, ""
    assert rules.detect_r4(base, P["R4"], limit=None, load=load) == []
    [hit] = rules.detect_r4(tampered, P["R4"], limit=None, load=load)
    assert hit.details["kind"] == "high_load"


def test_r5_regular_sharp_drops_followed_by_flat_readings_are_raised_and_the_clean_twin_is_not():
    base = clean(level=60.0)
    tampered = copy(base)
    for k in range(9):  # Xiamen: 9 regular drops in two weeks
        i = 30 + k * 36
        for j in range(i, i + 8):
            tampered.values[j] = 20.0 + (j % 2) * 0.1
    assert rules.detect_r5(base, P["R5"]) == []
    [hit] = rules.detect_r5(tampered, P["R5"])
    assert hit.details["drops"] >= 5


def _step(values, at_i, factor):
    return [v * factor if i >= at_i else v for i, v in enumerate(values)]


def test_r6_a_step_in_concentration_and_flow_at_one_hour_is_raised_unless_production_steps_too():
    conc = clean(level=60.0, noise=0.02)
    flow = clean(level=1000.0, noise=0.02, seed=2).values
    tampered = Series(conc.start, _step(conc.values, 300, 0.5))
    flow_t = _step(flow, 300, 1.6)  # dilution air: flow up, concentration down
    production = [500.0] * len(flow)
    assert rules.detect_r6(conc, P["R6"], companions={"flow": flow}, state=production) == []
    [hit] = rules.detect_r6(tampered, P["R6"], companions={"flow": flow_t}, state=production)
    assert hit.details["parameter"] == "flow"
    load_step = _step(production, 300, 0.5)  # the plant really halved its output: not a clue
    assert rules.detect_r6(tampered, P["R6"], companions={"flow": flow_t}, state=load_step) == []


def test_r6_oxygen_above_19_percent_at_a_combustion_stack_and_wrong_conversion_are_raised():
    conc = clean(level=30.0)
    o2 = [9.0] * len(conc)
    converted = [v * (21 - 6) / (21 - 9) for v in conc.values]
    assert rules.detect_r6(conc, P["R6"], o2=o2, combustion=True, converted=converted, reference_o2=6.0) == []
    o2_t = list(o2)
    o2_t[50:55] = [19.8] * 5
    conv_t = list(converted)
    conv_t[100:110] = [v * 0.7 for v in conv_t[100:110]]
    kinds = {h.details["kind"] for h in rules.detect_r6(conc, P["R6"], o2=o2_t, combustion=True, converted=conv_t,
                                                        reference_o2=6.0)}
    assert kinds == {"o2_high", "conversion"}


def test_r7_identical_days_across_two_devices_and_a_repeated_day_are_raised_and_distinct_series_are_not():
    a, b = clean(seed=1), clean(seed=2)
    assert rules.detect_r7({"A": a, "B": b}, P["R7"]) == []
    b_t = copy(b)
    b_t.values[48:72] = a.values[48:72]
    [(key, hit)] = rules.detect_r7({"A": a, "B": b_t}, P["R7"])
    assert key == "B" and hit.details["kind"] == "identical_other"
    a_t = copy(a)
    a_t.values[240:264] = a.values[24:48]
    [(key, hit)] = rules.detect_r7({"A": a_t}, P["R7"])
    assert hit.details["kind"] == "repeat" and hit.start == at(a, 240)


def test_r7_near_identical_days_of_one_om_companys_clients_are_raised():
    a = clean(seed=1)
    b = Series(a.start, [round(v * 1.003, 2) for v in a.values])
    c = clean(seed=3)
    assert rules.detect_r7({"A": a, "C": c}, P["R7"], groups={"A": "OM1", "C": "OM1"}) == []
    pairs = rules.detect_r7({"A": a, "B": b}, P["R7"], groups={"A": "OM1", "B": "OM1"})
    assert pairs and all(k == "B" and h.details["kind"] == "near_identical_group" for k, h in pairs)
    assert rules.detect_r7({"A": a, "B": b}, P["R7"], groups={"A": "OM1", "B": "OM2"}) == []


def test_r8_a_supervisory_result_far_from_the_same_hour_cems_value_is_raised_and_a_close_one_is_not():
    s = clean(level=40.0)
    close = Reference(at(s, 100), s.values[100] * 1.1, "supervisory")
    far = Reference(at(s, 200), s.values[200] * 3.3, "supervisory")  # 0.43 in the lab, 0.13 reported
    assert rules.detect_r8(s, P["R8"], [close]) == []
    [hit] = rules.detect_r8(s, P["R8"], [close, far])
    assert hit.details["source"] == "supervisory" and hit.threshold == far.value


def test_r9_flag_hours_far_above_peers_stopped_while_producing_and_odd_calibrations_are_raised():
    s = clean(level=50.0)
    assert rules.detect_r9(s, P["R9"], peer_median_flag_hours=10, production=[100.0] * len(s), limit=100) == []
    t = copy(s)
    for i in range(100, 160):
        t.flags[i] = "M"
    [hit] = rules.detect_r9(t, P["R9"], peer_median_flag_hours=10)
    assert hit.details["kind"] == "flag_share"
    t2 = copy(s)
    for i in range(300, 304):
        t2.flags[i] = "F"
    [hit] = rules.detect_r9(t2, P["R9"], production=[100.0] * len(s))
    assert hit.details["kind"] == "stopped_while_producing"
    t3 = copy(s)
    for d in range(10):  # routine calibration at 03:00 local every day
        t3.flags[d * 24 + 3] = "C"
    assert rules.detect_r9(t3, P["R9"], limit=100) == []
    for i in (250, 330, 410, 500):  # calibrations right after readings near the limit
        t3.values[i - 1], t3.flags[i] = 95.0, "C"
    [hit] = rules.detect_r9(t3, P["R9"], limit=100)
    assert hit.details["kind"] == "odd_calibration" and hit.details["events"] == 4


def test_r10_treatment_off_while_production_runs_is_raised_and_normal_operation_is_not():
    production = [500.0 + (i % 7) for i in range(240)]
    treatment = [80.0 + (i % 5) for i in range(240)]
    assert rules.detect_r10(T0, P["R10"], production=production, treatment=treatment) == []
    t = list(treatment)
    t[100:103] = [2.0, 1.5, 2.2]
    [hit] = rules.detect_r10(T0, P["R10"], production=production, treatment=t)
    assert hit.details["hours"] == 3
    idle = list(production)
    idle[100:103] = [0.0] * 3  # production stopped too: treatment may stop
    assert rules.detect_r10(T0, P["R10"], production=idle, treatment=t) == []


def _lab(key, site, client, start_h, samplers=("张三",), issued_h=48, method="HJ 828-2017", value=12.3,
         in_scope=True):
    start = T0 + timedelta(hours=start_h)
    return LabRecord(key, site, client, "CMA1", tuple(samplers), start, start + timedelta(hours=1),
                     start + timedelta(hours=5), T0 + timedelta(hours=issued_h), method, "w01018", value, in_scope)


def test_r11_lab_report_impossibilities_are_raised_and_a_plain_report_is_not():
    assert rules.detect_r11([_lab(1, "s1", "e1", 0), _lab(2, "s2", "e2", 3, samplers=("李四",), value=8.1)],
                            P["R11"]) == []
    kinds = {h.details["kind"] for _, h in rules.detect_r11([_lab(1, "s1", "e1", 0, issued_h=0)], P["R11"])}
    assert kinds == {"issued_before_sampling"}
    clash = rules.detect_r11([_lab(1, "s1", "e1", 0), _lab(2, "s2", "e2", 0, value=9.9)], P["R11"])
    assert [(k, h.details["kind"]) for k, h in clash] == [(2, "sampler_two_places")]
    [(_, h)] = rules.detect_r11([_lab(1, "s1", "e1", 0, in_scope=False)], P["R11"])
    assert h.details["kind"] == "outside_cma_scope"
    same = [_lab(i, f"s{i}", f"e{i}", i * 2, samplers=(f"p{i}",)) for i in range(3)]
    assert {h.details["kind"] for _, h in rules.detect_r11(same, P["R11"])} == {"same_value_many_clients"}


def test_r12_a_silence_longer_than_four_hours_without_a_report_is_raised():
    s = clean(hours=48)
    assert rules.detect_r12(s, P["R12"]) == []
    t = copy(s)
    t.values[10:16] = [None] * 6
    [hit] = rules.detect_r12(t, P["R12"])
    assert hit.measure == 6
    reported = [(at(s, 11), at(s, 20), at(s, 12))]  # noticed, repaired, reported within 12 h
    assert rules.detect_r12(t, P["R12"], reported=reported) == []
    late = [(at(s, 11), at(s, 20), at(s, 11) + timedelta(hours=13))]  # reported 13 h after noticing: not timely
    assert len(rules.detect_r12(t, P["R12"], reported=late)) == 1
    unrepaired = [(at(s, 11), None, at(s, 12))]  # still open: covers the silence
    assert rules.detect_r12(t, P["R12"], reported=unrepaired) == []
    earlier = [(at(s, 0) - timedelta(days=3), at(s, 0) - timedelta(days=2), at(s, 0) - timedelta(days=3))]
    assert len(rules.detect_r12(t, P["R12"], reported=earlier)) == 1  # an older, repaired anomaly covers nothing
    short = copy(s)
    short.values[10:14] = [None] * 4
    assert rules.detect_r12(short, P["R12"]) == []


def test_r13_made_up_manual_values_fail_the_digit_tests_and_measured_ones_do_not():
    import random

    rnd = random.Random(5)
    measured = [f"{rnd.lognormvariate(2, 1.2):.2f}" for _ in range(200)]
    assert rules.detect_r13(measured, P["R13"]) is None
    made_up = [f"{rnd.choice([45, 46, 47, 48])}.{rnd.choice([0, 5])}" for _ in range(200)]
    stats = rules.detect_r13(made_up, P["R13"])
    assert stats is not None and stats["n"] == 200
    assert rules.detect_r13(made_up[:20], P["R13"]) is None  # too few values to judge


def test_parameters_are_data_with_defaults_and_overrides_and_an_unknown_key_is_refused():
    assert set(rules.RULES) == {f"R{i}" for i in range(1, 14)}
    assert rules.params_for("R1")["min_hours"] == 24
    assert rules.params_for("R1", {"R1": {"min_hours": 48}})["min_hours"] == 48
    with pytest.raises(KeyError):
        rules.params_for("R1", {"R1": {"min_hour": 48}})


@pytest.mark.parametrize("current,new,allowed", [
    (FlagState.OPEN, FlagState.DISMISSED, True), (FlagState.OPEN, FlagState.WARNED, True),
    (FlagState.OPEN, FlagState.ANSWERED, False), (FlagState.WARNED, FlagState.ANSWERED, True),
    (FlagState.ANSWERED, FlagState.RESOLVED, True), (FlagState.INSPECTED, FlagState.CONFIRMED, True),
    (FlagState.DISMISSED, FlagState.WARNED, False), (FlagState.OPEN, FlagState.CONFIRMED, False),
])
def test_flag_transitions(current, new, allowed):
    assert rules.can_transition(current, new) is allowed


def test_r5_a_plant_shutting_down_is_not_a_dilution():
    s = clean(level=60.0)
    producing = [True] * len(s)
    for k in range(9):  # nine nightly stops: the reading falls to a steady zero-point while nothing is produced
        i = 30 + k * 36
        for j in range(i, i + 8):
            s.values[j], producing[j] = 0.5, False
    assert rules.detect_r5(s, P["R5"], producing=producing) == []
    assert rules.detect_r5(s, P["R5"]) != []  # without knowing production the same drops would be a clue


def test_r4_gaps_during_planned_stops_and_routine_calibrations_are_not_strategic():
    s = clean(level=50.0, noise=0.05)
    producing = [True] * len(s)
    for k, i in enumerate(range(50, 650, 100)):
        s.values[i - 1], s.values[i] = 80.0, 92.0
        for j in range(i + 1, i + 4):
            s.values[j], s.flags[j], producing[j] = None, "", False  # the plant stopped
    assert rules.detect_r4(s, P["R4"], limit=100.0, producing=producing) == []
    cal = clean(level=50.0, noise=0.05)
    for d in range(29):  # the daily automatic calibration, whatever the reading before it
        cal.values[d * 24 + 10], cal.flags[d * 24 + 10] = None, "C"
        cal.values[d * 24 + 8], cal.values[d * 24 + 9] = 82.0, 90.0
    assert rules.detect_r4(cal, P["R4"], limit=100.0) == []


def test_production_counts_as_on_relative_to_its_running_level_not_standby_power():
    production = [1000.0] * 100 + [20.0] * 20  # standby draw while stopped
    on = rules.production_on(production, 0.3)
    assert all(on[:100]) and not any(on[100:])
