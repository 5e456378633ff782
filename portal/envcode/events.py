"""Keep every enterprise's code current in the same transaction as the change that moves it (installed on import).

after_flush notes the enterprises whose causes were touched (a row of credit_standings, credit_list_entries,
exceedance_incidents or disclosure_obligations added, changed or deleted, or an exceedance finding's evidence row; Core bulk inserts and updates issued
through the session are read from their parameters); before_commit flushes once more, then recomputes the codes
of those enterprises, so the commit that changes a cause also changes the colour and writes its history.

A failure here must never block the regulated write that triggered it: the recomputation runs in a savepoint and
an error is logged; the envcode-refresh job (every few minutes) repairs what was missed.
"""
from __future__ import annotations

import contextlib
import itertools
import logging

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

WATCHED = frozenset({"credit_standings", "credit_list_entries", "exceedance_incidents", "disclosure_obligations"})
_TOUCHED = "envcode_touched"
_PAUSED = "envcode_paused"


def touched(session: Session) -> set[int]:
    return session.info.setdefault(_TOUCHED, set())


@contextlib.contextmanager
def paused(session: Session):
    """Bulk recomputation (the job) does its own work: no hook inside it."""
    session.info[_PAUSED] = True
    try:
        yield
    finally:
        session.info.pop(_PAUSED, None)
        session.info.pop(_TOUCHED, None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    if session.info.get(_PAUSED):
        return
    ids = touched(session)
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        table = getattr(type(obj), "__tablename__", None)
        # An exceedance finding confirmed or withdrawn moves the code too (only confirmed incidents count).
        if table in WATCHED or (table == "evidence" and getattr(obj, "source_ref", "").startswith("exceedance:")):
            ent_id = getattr(obj, "enterprise_id", None)
            if ent_id is not None:
                ids.add(ent_id)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    if not (state.is_insert or state.is_update) or state.session.info.get(_PAUSED):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in WATCHED:
        return
    params = state.parameters
    rows = params if isinstance(params, (list, tuple)) else [params or {}]
    ids = {row.get("enterprise_id") for row in rows if isinstance(row, dict)} - {None}
    touched(state.session).update(ids)  # statements naming no enterprise are left to the job


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_PAUSED) or not has_app_context():
        return
    session.flush()
    ids = session.info.pop(_TOUCHED, None)
    if not ids:
        return
    from portal.envcode.services import recompute

    session.info[_PAUSED] = True
    try:
        with session.begin_nested():
            recompute(ids)
    except sa.exc.SQLAlchemyError:
        log.exception("environmental codes of %d enterprises not updated; the envcode-refresh job will", len(ids))
    finally:
        session.info.pop(_PAUSED, None)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_TOUCHED, None)
