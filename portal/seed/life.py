"""A province's worth of life on top of the demo registry, made only through the portal's own services (no result
is written by hand): monitoring data and its exceedance episodes, complaints and 12345 cases, findings confirmed by
two demo regulators, regulator evidence confirmed by a second person, standings, last year's evaluation run
finalised and this year's on public notice, black/white list procedures, signed disclosures with a correction,
rewards, service bodies, open days, an inspector roster with a published 双随机 draw, and the open-data files.

Deterministic for a seed and a day (random streams are seeded; dates count back from `today`). Runs only right after
the registry was loaded into an empty database (seed-demo checks that). Each step commits (a seeding edge)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from portal.audit.services import record
from portal.auth.models import User
from portal.credit import services as credit
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.seed import life_credit, life_disclosures, life_extras, life_monitoring, life_public

PREFIX = "3208"  # 淮安市: the demo accounts' city


@dataclass(frozen=True)
class LifeSize:
    outlets: int  # outlets with a device and a year of hourly data
    days: int  # days of hourly data per outlet
    per_profile: int  # enterprises per credit profile (green/blue/yellow/red/black), for the run and for today
    complaints_per_state: int


SIZES = {"full": LifeSize(outlets=24, days=365, per_profile=4, complaints_per_state=3),
         "small": LifeSize(outlets=3, days=20, per_profile=3, complaints_per_state=1)}


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise RuntimeError(f"demo account {username} is missing")
    return user


def seed_life(today: date, seed: int, size: LifeSize, progress=print) -> dict[str, object]:
    admin, regulator, lead = _user("admin"), _user("huaian_regulator"), _user("huaian_lead")
    county, staff = _user("lianshui_regulator"), _user("ent_staff")
    summary: dict[str, object] = {}

    outlets = life_monitoring.demo_outlets(PREFIX, size.outlets)
    progress(f"  monitoring: {len(outlets)} devices, {size.days} days of hourly data each")
    mns = life_monitoring.register_devices(admin, outlets)
    summary["monitoring_values"] = life_monitoring.send_year(outlets, mns, today, size.days, seed)
    summary["incidents_explained"], summary["incidents_closed"] = life_monitoring.explain_and_close(
        staff, regulator, today)

    county_ents = list(db.session.scalars(sa.select(Enterprise).where(Enterprise.region_code == county.jurisdiction_code)
                                          .order_by(Enterprise.id).limit(8)))
    progress("  complaints and 12345 cases")
    summary["complaints"] = life_public.seed_complaints(random.Random(seed), county_ents, regulator, lead, county,
                                                        today, size.complaints_per_state)

    progress("  findings: recorded by one regulator, confirmed by a second")
    summary["findings"] = life_credit.confirm_findings(
        regulator, lambda ent: county if ent.region_code.startswith(county.jurisdiction_code) else lead)

    busy = {o.enterprise_id for o, _ in outlets} | {e.id for e in county_ents}
    free = [e for e in db.session.scalars(sa.select(Enterprise).where(
        Enterprise.region_code.startswith(PREFIX, autoescape=True)).order_by(Enterprise.id)) if e.id not in busy]
    n = size.per_profile * len(life_credit.PROFILES)
    last_year, current = (life_credit.pick_targets(free[k * n:(k + 1) * n], size.per_profile) for k in range(2))
    earlier = life_credit.pick_targets(free[2 * n:], 1)  # one per colour for the run held last year
    progress("  regulator evidence: recorded and confirmed by two people")
    summary["evidence"] = (life_credit.record_profiles(regulator, lead, last_year, date(today.year - 1, 11, 1), "罚")
                           + life_credit.record_profiles(regulator, lead, current, today - timedelta(days=30), "决")
                           + life_credit.record_profiles(regulator, lead, earlier, date(today.year - 2, 11, 1), "处"))
    credit.recompute_all()
    db.session.commit()

    progress("  evaluation runs: last year's finalised, this year's on public notice")
    final_run, run = life_credit.evaluate_runs(lead, PREFIX, today)
    from portal.credit.evaluation import grade_counts

    summary["final_run_grades"], summary["run_grades"] = grade_counts(final_run), grade_counts(run)
    summary["lists"] = life_credit.list_procedures(regulator, lead, current)

    progress("  signed annual and temporary disclosures, with a correction")
    summary["disclosures"] = life_disclosures.seed_disclosures(
        [e for p in ("blue", "yellow") for e in current[p]][:3], today)

    progress("  rewards, service bodies, open days, inspector roster and a published draw")
    summary["rewards"] = life_extras.seed_rewards(county, lead, today)
    spare = free[2 * n + len(life_credit.PROFILES):]
    summary["service_bodies"] = life_extras.seed_service_bodies(regulator, lead, (spare + free)[:8], today)
    demo_ent = db.session.get(Enterprise, staff.enterprise_id)
    summary["open_days"] = life_extras.seed_open_days(staff, demo_ent, today)
    summary["draw"] = life_extras.seed_draw(lead, PREFIX, today, seed)

    record(None, "seed.demo.life", object_type="seed", object_id=str(seed),
           after={k: v for k, v in summary.items()})
    db.session.commit()

    progress("  open-data files")
    from portal.opendata.bulk import build_all

    summary["opendata"] = build_all()
    return summary
