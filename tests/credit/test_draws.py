"""双随机 draws: classes, weights, counts per class, two inspectors each, reproducibility and the seal."""
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.credit import draw as D
from portal.credit import draws, services
from portal.credit.evidence import add_evidence
from portal.core.clock import china_today
from portal.credit.models import EvidenceKind, EvidenceSource, InspectionDraw
from portal.enterprises.models import KeyUnitType, KeyUnitYear
from portal.errors import Conflict, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user

SEED = "ab" * 32


@pytest.mark.parametrize("grade, vetoed, black, key, klass", [
    ("green", False, False, False, "general"), ("blue", False, False, True, "key"),
    ("yellow", False, False, False, "special"),
    ("red", False, False, True, "special"), ("green", True, False, False, "special"),
    ("green", False, True, False, "special"), (None, False, False, False, "general"),
])
def test_classes(grade, vetoed, black, key, klass):
    assert D.classify(grade, vetoed, black, key) == klass


def test_weights_follow_the_credit_multipliers():
    cfg = D.DEFAULT_CONFIG
    assert D.weight("green", False, cfg) == 0.5 and D.weight("red", False, cfg) == 2.0
    assert D.weight("green", True, cfg) == 0.25 and D.weight(None, False, cfg) == 1.0


def _snapshot(n_general=100, n_key=20, n_special=3):
    pool = ([D.PoolItem(f"G{i:03d}", "general", 1.0) for i in range(n_general)]
            + [D.PoolItem(f"K{i:03d}", "key", 1.0) for i in range(n_key)]
            + [D.PoolItem(f"S{i:03d}", "special", 2.0) for i in range(n_special)])
    return D.pool_snapshot(pool, ["insp_a", "insp_b", "insp_c", "insp_d"])


def test_the_draw_takes_every_special_object_a_quarter_of_key_units_and_five_percent_of_the_rest():
    result = D.draw(SEED, _snapshot(), D.DEFAULT_CONFIG)
    assert Counter(t["class"] for t in result) == {"special": 3, "key": 5, "general": 5}


def test_each_target_gets_two_distinct_inspectors_with_balanced_workload():
    result = D.draw(SEED, _snapshot(), D.DEFAULT_CONFIG)
    assert all(len(set(t["inspectors"])) == 2 for t in result)
    load = Counter(name for t in result for name in t["inspectors"])
    assert max(load.values()) - min(load.values()) <= 1


def test_the_same_seed_and_pool_give_the_same_result_and_another_seed_another():
    snap = _snapshot()
    first, again = D.draw(SEED, snap, D.DEFAULT_CONFIG), D.draw(SEED, snap, D.DEFAULT_CONFIG)
    assert first == again
    assert D.draw("cd" * 32, snap, D.DEFAULT_CONFIG) != first
    pool_hash = D.sha256(D.canonical(snap))
    assert D.seal(SEED, pool_hash, first) == D.seal(SEED, pool_hash, again)


def test_heavier_weights_are_drawn_more_often():
    pool = [D.PoolItem(f"R{i:03d}", "general", 2.0) for i in range(100)] + \
        [D.PoolItem(f"G{i:03d}", "general", 0.5) for i in range(100)]
    snap = D.pool_snapshot(pool, ["a", "b"])
    counts = Counter()
    for n in range(20):
        for t in D.draw(f"{n:064x}", snap, D.DEFAULT_CONFIG):
            counts[t["uscc"][0]] += 1
    assert counts["R"] > 2 * counts["G"]


def _roster(db, certificate: str, user=None, jurisdiction: str = "3208"):
    """A roster inspector valid for years around today, optionally linked to a portal account."""
    from portal.credit.draw_models import Inspector

    inspector = Inspector(name=f"检查员{certificate[-3:]}", jurisdiction_code=jurisdiction,
                          certificate_no=certificate, certificate_valid_from=date(2020, 1, 1),
                          certificate_valid_until=date(2099, 12, 31), user_id=user.id if user else None)
    db.session.add(inspector)
    db.session.flush()
    return inspector


@pytest.fixture
def setup(db):
    services.seed_schemes()
    ents = [make_enterprise() for _ in range(8)]
    db.session.add(KeyUnitYear(enterprise_id=ents[0].id, year=china_today().year, unit_type=KeyUnitType.WATER))
    add_evidence(enterprise_id=ents[1].id, kind=EvidenceKind.CRIMINAL, source=EvidenceSource.REGULATOR,
                 source_ref="c:1", occurred_on=china_today(), title="刑事判决", verified=True)
    users = {"lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
             "regulator": make_user(Role.REGULATOR, jurisdiction_code="3208")}
    for n, user in enumerate(users.values()):
        _roster(db, f"JS3208-{n:03d}", user)
    db.session.commit()
    return {"ents": ents, **users}


def test_a_draw_is_made_once_per_quarter_sealed_verifiable_and_published_by_a_lead(db, setup):
    entry = draws.make_draw(setup["regulator"], "3208", china_today().year, 4)
    classes = {t["uscc"]: t["class"] for t in entry.result}
    assert classes[setup["ents"][1].uscc] == "special"
    assert dict(Counter(p[1] for p in entry.pool["pool"])) == {"special": 1, "key": 1, "general": 6}
    assert draws.verify(entry)
    entry.result = entry.result[:-1]
    assert not draws.verify(entry)
    db.session.rollback()
    entry = db.session.scalar(sa.select(InspectionDraw))
    assert entry is None
    entry = draws.make_draw(setup["regulator"], "3208", china_today().year, 4)
    with pytest.raises(Conflict):
        draws.make_draw(setup["regulator"], "3208", china_today().year, 4)
    with pytest.raises(NotAllowed):
        draws.publish(setup["regulator"], entry)
    draws.publish(setup["lead"], entry)
    assert entry.published_at is not None


def test_a_draw_needs_two_inspectors_and_the_own_jurisdiction(db, setup):
    with pytest.raises(NotAllowed):
        draws.make_draw(setup["regulator"], "2101", 2026, 1)
    with pytest.raises(ValidationFailed):
        draws.make_draw(make_user(Role.REGULATOR_LEAD, jurisdiction_code="320803"), "320803", 2026, 1)


def test_the_draw_pages_and_cli(db, login, client, runner, setup):
    page = login(setup["lead"])
    response = page.post("/credit/regulator/draws", data={"year": str(china_today().year), "quarter": "2"})
    assert response.status_code == 302
    entry = db.session.scalar(sa.select(InspectionDraw))
    assert client.get(f"/credit/draws/{entry.id}").status_code == 404  # not yet published
    assert entry.seed in page.get(f"/credit/regulator/draws/{entry.id}").get_data(as_text=True)
    page.post(f"/credit/regulator/draws/{entry.id}/publish")
    public = client.get(f"/credit/draws/{entry.id}").get_data(as_text=True)
    assert entry.seal in public and entry.seed in public
    assert login(make_user(Role.REGULATOR, jurisdiction_code="2101")).get(
        f"/credit/regulator/draws/{entry.id}").status_code == 404
    result = runner.invoke(args=["credit", "draw-verify", str(entry.id)])
    assert result.exit_code == 0 and entry.seal in result.output
    made = runner.invoke(args=["credit", "draw", "--jurisdiction", "3208", "--year", "2025", "--quarter", "1"])
    assert made.exit_code == 0, made.output


# --- conflicts of interest and yearly key-unit coverage -------------------------------------------------------------

def test_an_inspector_is_never_drawn_for_an_enterprise_they_have_a_conflict_with():
    pool = [D.PoolItem(f"S{i:03d}", "special", 1.0) for i in range(30)]
    conflicts = [("insp_a", f"S{i:03d}") for i in range(0, 30, 2)] + [("insp_b", "S001"), ("insp_c", "S001")]
    snap = D.pool_snapshot(pool, ["insp_a", "insp_b", "insp_c"], conflicts, [], 1)
    for n in range(10):
        result = D.draw(f"{n:064x}", snap, D.DEFAULT_CONFIG)
        assert len(result) == 30
        for row in result:
            assert not {(name, row["uscc"]) for name in row["inspectors"]} & set(conflicts)
    s001 = next(r for r in D.draw(SEED, snap, D.DEFAULT_CONFIG) if r["uscc"] == "S001")
    assert s001["inspectors"] == ["insp_a"] and s001["short"] == 1  # only one inspector without a conflict


def test_snapshots_sealed_before_conflicts_and_coverage_re_run_unchanged():
    old = _snapshot()
    assert "conflicts" not in old and "quarter" not in old
    new = D.pool_snapshot([D.PoolItem(u, k, w) for u, k, w in old["pool"]], old["inspectors"], [], [], 2)
    assert D.draw(SEED, old, D.DEFAULT_CONFIG) == D.draw(SEED, new, D.DEFAULT_CONFIG)
    legacy_config = {k: v for k, v in D.DEFAULT_CONFIG.items() if k in ("ratios", "multipliers",
                                                                          "inspectors_per_target")}
    assert D.draw(SEED, old, legacy_config) == D.draw(SEED, old, D.DEFAULT_CONFIG)


def test_the_last_quarter_draws_every_key_unit_not_yet_inspected_this_year():
    pool = [D.PoolItem(f"K{i:03d}", "key", 1.0) for i in range(40)]
    uncovered = [f"K{i:03d}" for i in range(0, 40, 3)]  # 14 units
    for quarter, forced in ((3, False), (4, True)):
        snap = D.pool_snapshot(pool, ["a", "b"], [], uncovered, quarter)
        result = D.draw(SEED, snap, D.DEFAULT_CONFIG)
        drawn = {r["uscc"] for r in result}
        if forced:  # all 14 uncovered units, more than the 25 % ratio (10)
            assert set(uncovered) == drawn and all(r.get("forced") is True for r in result)
        else:
            assert len(result) == 10 and not any("forced" in r for r in result)
    config = {**D.DEFAULT_CONFIG, "key_coverage": {"force_from_quarter": 3, "uncovered_multiplier": 1.0}}
    assert set(uncovered) <= {r["uscc"] for r in D.draw(SEED, D.pool_snapshot(pool, ["a", "b"], [], uncovered, 3),
                                                          config)}


def test_key_units_not_yet_covered_are_prioritised_before_the_last_quarter():
    pool = [D.PoolItem(f"K{i:03d}", "key", 1.0) for i in range(200)]
    uncovered = [f"K{i:03d}" for i in range(100)]
    snap = D.pool_snapshot(pool, ["a", "b"], [], uncovered, 1)
    counts = Counter()
    for n in range(20):
        counts.update(r["uscc"] in uncovered for r in D.draw(f"{n:064x}", snap, D.DEFAULT_CONFIG))
    assert counts[True] > 1.5 * counts[False]
    plain = D.pool_snapshot(pool, ["a", "b"], [], [], 1)
    assert D.draw(SEED, plain, D.DEFAULT_CONFIG) != D.draw(SEED, snap, D.DEFAULT_CONFIG)


def test_declared_and_complaint_conflicts_enter_the_sealed_snapshot_and_exclude_the_inspector(db, setup):
    from portal.credit import conflicts
    from portal.complaints.models import Complaint
    from tests.factories import make_complaint

    ents, regulator, lead = setup["ents"], setup["regulator"], setup["lead"]
    special = ents[1]  # the criminal conviction makes it a special object: always drawn
    with pytest.raises(NotAllowed):
        conflicts.declare(regulator, lead, special, "x")  # only a lead records for someone else
    with pytest.raises(ValidationFailed):
        conflicts.declare(regulator, regulator, special, " ")
    declared = conflicts.declare(regulator, regulator, special, "配偶在该企业任职")
    with pytest.raises(Conflict):
        conflicts.declare(lead, regulator, special, "again")
    complaint, _code = make_complaint(ents[1])
    complaint = db.session.get(Complaint, complaint.id)
    complaint.handler_id = lead.id
    third = _roster(db, "JS3208-900", make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    entry = draws.make_draw(lead, "3208", china_today().year, 1)
    assert sorted(map(tuple, entry.pool["conflicts"])) == sorted([("JS3208-001", special.uscc),
                                                                  ("JS3208-000", special.uscc)])
    row = next(r for r in entry.result if r["uscc"] == special.uscc)
    assert row["inspectors"] == [third.certificate_no] and row["short"] == 1
    assert draws.verify(entry)
    entry.pool["conflicts"] = []  # tampering with the snapshot breaks the seal
    assert not draws.verify(entry)
    db.session.rollback()
    conflicts.end(lead, db.session.get(type(declared), declared.id), "配偶已离职")
    with pytest.raises(NotAllowed):
        conflicts.end(regulator, declared, "x")


def test_coverage_counts_earlier_draws_and_inspections_and_the_fourth_quarter_forces_the_rest(db, setup):
    year = china_today().year
    key_units = setup["ents"][2:6]
    for ent in key_units:
        db.session.add(KeyUnitYear(enterprise_id=ent.id, year=year, unit_type=KeyUnitType.WATER))
    add_evidence(enterprise_id=key_units[0].id, kind=EvidenceKind.INSPECTION_FINDING,
                 source=EvidenceSource.REGULATOR, source_ref="insp:1", occurred_on=date(year, 1, 15),
                 title="现场检查", verified=True)
    db.session.commit()
    cov = draws.coverage("3208", year, 1)
    assert len(cov.units) == 5 and cov.covered == {key_units[0].uscc}
    first = draws.make_draw(setup["lead"], "3208", year, 1)
    drawn = {r["uscc"] for r in first.result}
    assert set(first.pool["uncovered_key"]) == {u for u, _ in cov.uncovered}
    cov4 = draws.coverage("3208", year, 4)
    assert cov4.covered == ({u for u, _ in cov.units} & (drawn | {key_units[0].uscc}))
    last = draws.make_draw(setup["lead"], "3208", year, 4)
    assert {u for u, _ in cov4.uncovered} <= {r["uscc"] for r in last.result}
    assert all(r.get("forced") for r in last.result if r["uscc"] in {u for u, _ in cov4.uncovered})
    assert draws.verify(last)


def test_the_conflict_and_coverage_pages(db, login, setup):
    from portal.credit.models import InspectorConflict

    key_unit = setup["ents"][0]
    lead = login(setup["lead"])
    page = lead.get("/credit/regulator/draws").get_data(as_text=True)
    assert "0 / 1" in page and key_unit.uscc in page
    assert lead.post("/credit/regulator/draws/conflicts", data={"inspector": setup["regulator"].username,
                                                                "uscc": "not a code", "reason": "x"}).status_code == 400
    assert lead.post("/credit/regulator/draws/conflicts", data={"inspector": "nobody", "uscc": key_unit.uscc,
                                                                "reason": "x"}).status_code == 400
    response = lead.post("/credit/regulator/draws/conflicts", data={
        "inspector": setup["regulator"].username, "uscc": key_unit.uscc, "reason": "曾在该企业任环保主管"})
    assert response.status_code == 302
    conflict = db.session.scalar(sa.select(InspectorConflict))
    assert conflict.inspector_id == setup["regulator"].id and conflict.recorded_by_id == setup["lead"].id
    assert "曾在该企业任环保主管" in lead.get("/credit/regulator/draws/conflicts").get_data(as_text=True)
    outsider = login(make_user(Role.REGULATOR_LEAD, jurisdiction_code="2101"))
    assert outsider.post(f"/credit/regulator/draws/conflicts/{conflict.id}/end",
                         data={"reason": "x"}).status_code == 404
    lead = login(setup["lead"])
    lead.post(f"/credit/regulator/draws/conflicts/{conflict.id}/end", data={"reason": "已离职三年"})
    db.session.refresh(conflict)
    assert conflict.ended_on == china_today() and conflict.end_reason == "已离职三年"
