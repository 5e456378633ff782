"""Background import of large manual-result files: the web request only stores the file and queues an ImportJob;
a worker (a thread of the web process when MONITORING_IMPORT_THREADS is on, and the `monitoring-imports` job of
the scheduler process every minute, which also picks up work a restarted web process left behind) checks the file
as a stream, waits for the user's confirmation, then writes every row or none in one transaction. The job's state
and progress live in the database, so any web worker can report them.

Progress is written on a separate connection so the poller sees it while the import transaction is still open.
SQLite allows one writer only: there the progress of the writing phase is not reported (the status says
"writing"), the check phase is.
"""
from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.audit.services import record
from portal.core.transactions import commit_retrying
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import DomainError
from portal.extensions import db
from portal.monitoring import importers, manual
from portal.monitoring.models import ImportJob, ImportStatus

log = logging.getLogger(__name__)
RUNNING = (ImportStatus.CHECKING, ImportStatus.WRITING)
WAITING = (ImportStatus.QUEUED, ImportStatus.COMMIT_QUEUED)
FINISHED = (ImportStatus.REJECTED, ImportStatus.DONE, ImportStatus.FAILED)
CHECK_EVERY = 5000


def inline_limit() -> int:
    """Files up to this size are checked in the request as before; larger ones go to the background."""
    return int(current_app.config.get("MONITORING_IMPORT_INLINE_BYTES", 1024 * 1024))


def queue(actor: Any, enterprise: Enterprise, token: str, filename: str) -> ImportJob:
    """Queue the check of an upload already saved in manual.upload_store() under token (shared storage: the
    worker that claims the job may run on another host); flushes, the view commits."""
    job = ImportJob(enterprise_id=enterprise.id, user_id=getattr(actor, "id", None), token=token,
                    filename=(filename or "")[:200], size=manual.upload_store().size(token) or 0)
    db.session.add(job)
    db.session.flush()
    return job


def request_commit(job: ImportJob) -> None:
    if job.status != ImportStatus.CHECKED:
        raise DomainError(_("This upload is no longer waiting; upload the file again."))
    job.status = ImportStatus.COMMIT_QUEUED
    db.session.flush()


# --- state changes on their own connection ------------------------------------------------------------------------

def _update(job_id: int, where_status: tuple[ImportStatus, ...] | None = None, **values: Any) -> bool:
    """UPDATE the job on a separate connection and commit at once; with where_status it is an atomic claim."""
    table = ImportJob.__table__
    stmt = table.update().where(table.c.id == job_id).values(**values)
    if where_status is not None:
        stmt = stmt.where(table.c.status.in_([s.value for s in where_status]))
    with db.engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def _can_report_while_writing() -> bool:
    return db.engine.dialect.name != "sqlite"


# --- the worker ---------------------------------------------------------------------------------------------------

def _check(job: ImportJob) -> None:
    enterprise = db.session.get(Enterprise, job.enterprise_id)
    store = manual.upload_store()
    try:
        with store.as_local_file(job.token) as path:
            if path is None:
                raise importers.ImportFailed(_("The uploaded file is no longer stored; upload the file again."))
            check = manual.check_upload(enterprise, path, lambda n: _update(job.id, rows_done=n), CHECK_EVERY)
    except importers.ImportFailed as exc:
        store.delete(job.token)
        _update(job.id, status=ImportStatus.FAILED.value, message=str(exc), finished_at=utcnow())
        return
    values: dict[str, Any] = {
        "rows_total": check.rows, "rows_done": check.rows, "error_count": check.error_count,
        "errors": [[e.line, e.column, e.message] for e in check.errors],
        "preview": [[r.line, r.outlet, r.pollutant, r.sampled_at.isoformat(sep=" ", timespec="minutes"), r.value,
                     r.completed_on.isoformat(), r.flag] for r in check.preview],
        "groups": [[d.isoformat(), lab, method, n] for (d, lab, method), n in sorted(check.groups.items())],
        "impact": check.impact.to_json()}
    if check.error_count:
        store.delete(job.token)
        values.update(status=ImportStatus.REJECTED.value, finished_at=utcnow())
    else:
        values.update(status=ImportStatus.CHECKED.value)
    _update(job.id, **values)


def _write(job: ImportJob) -> None:
    """All or nothing: one transaction for every row; a deadlock with another writer runs it again, any other
    failure rolls it back and the job says why."""
    from portal.auth.models import User

    enterprise = db.session.get(Enterprise, job.enterprise_id)
    actor = db.session.get(User, job.user_id) if job.user_id else None
    groups = {(date.fromisoformat(d), lab, method): n for d, lab, method, n in job.groups}
    report = (lambda n: _update(job.id, rows_done=n)) if _can_report_while_writing() else None
    store = manual.upload_store()

    def write_all(path: Path) -> manual.CommitResult:  # run again from the file's first row if the database aborts it
        result = manual.commit_rows(actor, enterprise, importers.read_rows(path), groups, job.filename,
                                    progress=report)
        record(actor, "monitoring.import.commit", job, enterprise_id=job.enterprise_id,
               after={"import_id": job.id, "filename": job.filename, "rows": job.rows_total,
                      "inserted": result.inserted})
        return result

    try:
        with store.as_local_file(job.token) as path:  # a local copy when the file is in an object store
            if path is None:
                raise importers.ImportFailed(_("The uploaded file is no longer stored; upload the file again."))
            result = commit_retrying(lambda: write_all(path), what=f"monitoring import {job.id}")
    except Exception as exc:  # every failure leaves nothing written and is reported on the job
        db.session.rollback()
        message = str(exc) if isinstance(exc, (DomainError, importers.ImportFailed)) else \
            _("The import failed; nothing was saved. Try again or contact the administrator.")
        if not isinstance(exc, (DomainError, importers.ImportFailed)):
            log.exception("monitoring import %s failed", job.id)
        _update(job.id, status=ImportStatus.FAILED.value, message=message, finished_at=utcnow())
    else:
        _update(job.id, status=ImportStatus.DONE.value, rows_done=job.rows_total, finished_at=utcnow(),
                result={"inserted": result.inserted, "duplicates": result.duplicates,
                        "incidents": result.incidents, "late": any(s.is_late for s in result.submissions)})
    finally:
        store.delete(job.token)


def process(job_id: int) -> str | None:
    """Run the next phase of one job if it is waiting; returns the status it reached (None if someone else
    claimed it). Commits."""
    db.session.commit()  # nothing of the caller's stays open while the job works
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return None
    if job.status == ImportStatus.QUEUED:
        if not _update(job_id, (ImportStatus.QUEUED,), status=ImportStatus.CHECKING.value, started_at=utcnow()):
            return None
        with _locale(job):
            _check(job)
    elif job.status == ImportStatus.COMMIT_QUEUED:
        if not _update(job_id, (ImportStatus.COMMIT_QUEUED,), status=ImportStatus.WRITING.value, rows_done=0,
                       started_at=utcnow()):
            return None
        db.session.refresh(job)
        with _locale(job):
            _write(job)
    else:
        return None
    db.session.expire_all()
    return str(db.session.get(ImportJob, job_id).status)


def _locale(job: ImportJob):
    """Messages stored on the job are in the uploader's language (Chinese unless they chose English)."""
    from portal.auth.models import User

    user = db.session.get(User, job.user_id) if job.user_id else None
    return force_locale(getattr(user, "locale", None) or "zh_CN")


def fail_stale(now=None, minutes: int | None = None) -> int:
    """A job left running by a worker that died: its transaction was rolled back, so it is marked failed."""
    now = now or utcnow()
    minutes = minutes or int(current_app.config.get("MONITORING_IMPORT_STALE_MINUTES", 60))
    table = ImportJob.__table__
    stmt = table.update().where(table.c.status.in_([s.value for s in RUNNING]),
                                table.c.started_at < now - timedelta(minutes=minutes)) \
        .values(status=ImportStatus.FAILED.value, finished_at=now,
                message="The import was interrupted; nothing was saved. Upload the file again.")
    with db.engine.begin() as conn:
        return conn.execute(stmt).rowcount


def run_pending() -> str:
    """The scheduler's entry point (and the worker thread's): every waiting job, oldest first."""
    stale = fail_stale()
    done = 0
    for _attempt in range(1000):
        job_id = db.session.scalar(sa.select(ImportJob.id).where(ImportJob.status.in_(WAITING))
                                   .order_by(ImportJob.id).limit(1))
        if job_id is None or process(job_id) is None:  # nothing left, or another worker took it
            break
        done += 1
    return f"{done} import steps, {stale} interrupted imports failed"


def start_worker(app: Flask) -> None:
    """Process waiting jobs in a daemon thread of this process (MONITORING_IMPORT_THREADS, on unless testing)."""
    if not app.config.get("MONITORING_IMPORT_THREADS", not app.testing):
        return

    def work() -> None:
        with app.app_context():
            try:
                run_pending()
            except Exception:  # the scheduler's job retries within a minute
                log.exception("monitoring import worker failed")
            finally:
                db.session.remove()

    threading.Thread(target=work, name="monitoring-import", daemon=True).start()


def status_json(job: ImportJob) -> dict[str, Any]:
    total = job.rows_total or 0
    percent = None
    if job.status in (ImportStatus.WRITING, ImportStatus.DONE) and total:
        percent = min(100, round(100 * job.rows_done / total))
    return {"id": job.id, "status": str(job.status), "rows_done": job.rows_done, "rows_total": total,
            "percent": percent, "error_count": job.error_count, "message": job.message,
            "finished": job.status in FINISHED, "waiting_for_confirmation": job.status == ImportStatus.CHECKED,
            "result": job.result or {}}
