"""Reward objects for the route-authorisation matrix and the reward tests: a substantiated, real-name complaint
handled by `handler`, with a proposed reward (reward_id, reward_complaint_id)."""
from __future__ import annotations

from portal.auth.models import Role
from portal.complaints.models import Findings, Status
from portal.db import utcnow
from portal.rewards.models import RewardCase, RewardStatus
from tests.factories import make_complaint, make_user

REAL_NAME = {"name": "李四", "phone": "13800000000", "email": "", "id_no": "320826199001011234"}


def substantiated_complaint(ent, handler, identity: dict | None = REAL_NAME):
    """identity=None: an anonymous report."""
    c, _code = make_complaint(ent, identity=identity)
    c.status, c.findings, c.findings_text = Status.RESULT_REPORTED, Findings.SUBSTANTIATED, "查实偷排"
    c.handler_id, c.assigned_region_code = handler.id, handler.jurisdiction_code
    return c


def reward_objects(db, ent, handler=None) -> dict:
    handler = handler or make_user(Role.REGULATOR, jurisdiction_code=ent.region_code[:4])
    c = substantiated_complaint(ent, handler)
    reward = RewardCase(complaint_id=c.id, region_code=c.region_code, tier="general", is_real_name=True,
                        is_first_reporter=True, is_substantiated=True, ineligibility=[], proposed_amount_yuan=500,
                        status=RewardStatus.PROPOSED, proposed_by_id=handler.id, proposed_at=utcnow())
    db.session.add(reward)
    db.session.flush()
    return {"reward_id": reward.id, "reward_complaint_id": c.id}
