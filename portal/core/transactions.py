"""Run a unit of work in one transaction and run it again when PostgreSQL aborted it as a deadlock victim.

Two writers that lock the same rows in different orders (a CSV import that stores its rows in several chunks of one
transaction, and an HJ 212 request on the same outlet's roll-ups) can deadlock; PostgreSQL then aborts one of them
with SQLSTATE 40P01. Nothing of the aborted transaction is kept, so running the same work again after a rollback is
safe, and it normally passes because the other writer has gone on. A serialization failure (40001) is the same kind of
"try again" answer. Anything else is raised at once.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from portal.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_SQLSTATES = {"40P01": "deadlock", "40001": "serialization failure"}


def retry_reason(exc: BaseException) -> str | None:
    """The reason a failed transaction may simply be run again, or None."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    return RETRY_SQLSTATES.get(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


def commit_retrying(work: Callable[[], T], *, attempts: int = 3, what: str = "transaction") -> T:
    """Run work() and commit; on a deadlock or serialization failure roll back and run it again, at most `attempts`
    times in all. work() must start from a clean session and may be run more than once (it reads its input again).
    The last failure is raised after a rollback, so the caller's error handling sees a clean session."""
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except DBAPIError as exc:
            db.session.rollback()
            reason = retry_reason(exc)
            if reason is None or attempt == attempts:
                raise
            log.warning("%s aborted by the database (%s), attempt %d of %d; running it again", what, reason,
                        attempt, attempts)
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # the other writer finishes first, usually
    raise AssertionError("unreachable")
