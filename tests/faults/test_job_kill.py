"""The job runner SIGKILLed in the middle of the send-outbox job (issue 8, faults): re-running does nothing twice.

Real processes: `flask --app wsgi jobs run send-outbox` (the same run_job the scheduler process calls) delivers 30
queued e-mails to a real SMTP server (tests/faults/smtpsink.py). The server holds the 10th message before accepting
it; the job process is killed right then. The first nine were accepted by the server, so they must be recorded as
sent; the tenth was not delivered. The killed sender's claims (issue 23: the tenth and the rest of its batch) are
taken again once their visibility timeout has passed: a second run after it must deliver the tenth to the
thirtieth, and no message twice. The killed run stays visible as a JobRun row left `running`.
"""
from __future__ import annotations

import sqlite3
import subprocess
from collections import Counter
from datetime import datetime, timezone

import pytest

from tests.faults.procs import PYTHON, ROOT, base_env, create_database, run_in_app, sigkill, wait_for
from tests.faults.smtpsink import SmtpSink

pytestmark = pytest.mark.slow
MESSAGES, HOLD_AT = 30, 10
CLAIM_SECONDS = 3  # the outbox visibility timeout for this test (the default is 300)


def run_job(url: str, port: int) -> subprocess.Popen:
    env = base_env(PORTAL_DATABASE_URL=url, PORTAL_MAIL_SERVER="127.0.0.1", PORTAL_MAIL_PORT=str(port),
                   PORTAL_OUTBOX_CLAIM_SECONDS=str(CLAIM_SECONDS))
    return subprocess.Popen([PYTHON, "-m", "flask", "--app", "wsgi", "jobs", "run", "send-outbox"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_killing_send_outbox_mid_batch_then_rerunning_sends_every_message_exactly_once(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    url = create_database(path)
    run_in_app(url, "from portal.mail.services import queue_mail\n"
                    f"for i in range({MESSAGES}):\n"
                    "    queue_mail(f'person{i}@example.cn', f'message {i:02d}', 'body', dedupe_key=f'fault-{i}')\n"
                    "db.session.commit()")
    sink = SmtpSink(hold_at=HOLD_AT)
    try:
        first = run_job(url, sink.port)
        assert sink.holding.wait(60), "the job reached the tenth message"
        sigkill(first.pid)
        first.communicate(timeout=30)
        assert first.returncode == -9
        sink.release()

        db = sqlite3.connect(path)
        sent = [s for (s,) in db.execute("SELECT subject FROM outbox_messages WHERE sent_at IS NOT NULL ORDER BY id")]
        runs = db.execute("SELECT name, status FROM job_runs ORDER BY id").fetchall()
        db.close()
        assert sink.delivered == [f"message {i:02d}" for i in range(HOLD_AT - 1)]
        assert sent == sink.delivered, "every message the server accepted is recorded as sent"
        assert runs == [("send-outbox", "running")], "the killed run left its trace"
        wait_for(lambda: _claims_expired(path), timeout=60, interval=0.2, what="the dead sender's claims to expire")

        second = run_job(url, sink.port)
        out, _ = second.communicate(timeout=120)
        assert second.returncode == 0, out
        assert f"sent {MESSAGES - HOLD_AT + 1}, failed 0" in out
    finally:
        sink.close()

    assert Counter(sink.delivered) == Counter(f"message {i:02d}" for i in range(MESSAGES)), \
        "every message delivered exactly once over the two runs"
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL").fetchone()[0] == 0
    attempts = dict(db.execute("SELECT subject, attempts FROM outbox_messages"))
    assert attempts.pop(f"message {HOLD_AT - 1:02d}") == 2, "the attempt in flight when the sender died counts"
    assert set(attempts.values()) == {1}
    assert [s for (s,) in db.execute("SELECT status FROM job_runs ORDER BY id")] == ["running", "ok"]
    db.close()


def _claims_expired(path) -> bool:
    db = sqlite3.connect(path)
    try:
        latest = db.execute("SELECT max(claimed_until) FROM outbox_messages WHERE sent_at IS NULL").fetchone()[0]
    finally:
        db.close()
    return latest is None or datetime.fromisoformat(latest).replace(tzinfo=timezone.utc) < datetime.now(timezone.utc)
