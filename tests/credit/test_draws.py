"""双随机 draws: classes, weights, counts per class, two inspectors each, reproducibility and the seal."""
from collections import Counter

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


@pytest.fixture
def setup(db):
    services.seed_schemes()
    ents = [make_enterprise() for _ in range(8)]
    db.session.add(KeyUnitYear(enterprise_id=ents[0].id, year=china_today().year, unit_type=KeyUnitType.WATER))
    add_evidence(enterprise_id=ents[1].id, kind=EvidenceKind.CRIMINAL, source=EvidenceSource.REGULATOR,
                 source_ref="c:1", occurred_on=china_today(), title="刑事判决", verified=True)
    users = {"lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
             "regulator": make_user(Role.REGULATOR, jurisdiction_code="3208")}
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
