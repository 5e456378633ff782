"""Account use cases."""
from __future__ import annotations

from portal.auth.models import User
from portal.extensions import db


def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
