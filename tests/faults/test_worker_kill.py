"""A gunicorn worker SIGKILLed while complaint intake POSTs (each with a photo) are in flight (issue 8, faults).

Real processes: gunicorn -w 2 on a fresh SQLite file, four client threads posting the public complaint form as a phone
does (GET for the CSRF token and submission key, then the multipart POST). One worker is killed mid-traffic. The
master must start a replacement, later requests must succeed, and the database must hold only complete complaints:
every accepted submission is one row with its attachment and both files on disk; a request cut by the kill left either
nothing or (if it had committed before the kill) a complete row.
"""
from __future__ import annotations

import http.client
import socket
import sqlite3
import threading

import pytest

from bench.complaints import make_photo, multipart, unique
from tests.faults.procs import (Gunicorn, base_env, create_database, form_value, owner_of_connection, sigkill,
                               wait_for)

pytestmark = pytest.mark.slow


def submit(port: int, photo: bytes, n: int) -> tuple[str | None, object]:
    """One complaint; (submission key, 302 | other status | 'error: ...'). No retry: a cut request stays cut."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    key = None
    try:
        conn.request("GET", "/complaints/new")
        response = conn.getresponse()
        html = response.read().decode("utf-8", "replace")
        cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
        conn.close()
        token, key = form_value(html, "csrf_token"), form_value(html, "submission_key")
        if response.status != 200 or not token or not key:
            return key, response.status
        fields = [("csrf_token", token), ("submission_key", key), ("category", "water"),
                  ("reported_name", f"无名小作坊{n}"), ("reported_address", f"涟水县某村河边{n}号"),
                  ("region_code", "320826"), ("description", "夜间有黑色污水从暗管排入河道，气味刺鼻，已拍照。"),
                  ("website", ""), ("identity", "anonymous")]
        body, content_type = multipart(fields, unique(photo, n))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/complaints/new", body=body, headers={"Content-Type": content_type, "Cookie": cookie})
        response = conn.getresponse()
        response.read()
        ok = response.status == 302 and "/complaints/receipt" in (response.getheader("Location") or "")
        return key, 302 if ok else response.status
    except (OSError, http.client.HTTPException) as exc:
        return key, f"error: {type(exc).__name__}"
    finally:
        conn.close()


def start_half_post(port: int, photo: bytes) -> tuple[socket.socket, str]:
    """A complaint POST whose headers and first half of the body are sent, the rest held back: the worker serving
    it is certainly in the middle of this request when it is killed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/complaints/new")
    response = conn.getresponse()
    html, cookie = response.read().decode(), (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    conn.close()
    key = form_value(html, "submission_key")
    fields = [("csrf_token", form_value(html, "csrf_token")), ("submission_key", key), ("category", "air"),
              ("reported_name", "半途而废化工厂"), ("reported_address", "涟水县某村"), ("region_code", "320826"),
              ("description", "这一份投诉在上传途中工作进程被杀死。"), ("website", ""), ("identity", "anonymous")]
    body, content_type = multipart(fields, unique(photo, -1))
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(f"POST /complaints/new HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
                 f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n".encode() + body[:len(body) // 2])
    return sock, key


def test_sigkill_of_a_worker_mid_intake_leaves_only_complete_complaints(tmp_path):
    url = create_database(tmp_path / "portal.sqlite3")
    uploads = tmp_path / "uploads"
    env = base_env(PORTAL_DATABASE_URL=url, PORTAL_COMPLAINT_RATE_LIMIT="100000 per minute",
                   PORTAL_COMPLAINT_UPLOAD_DIR=str(uploads), PORTAL_MAIL_DIR=str(tmp_path / "mail"))
    photo = make_photo(target=400_000)
    server = Gunicorn(env, workers=2, log=tmp_path / "gunicorn.log")
    results: list[tuple[str | None, object, int]] = []  # (key, outcome, generation: 0 before the kill, 1 after)
    lock, stop = threading.Lock(), threading.Event()
    generation = [0]
    counter = iter(range(10**6))

    def client():
        while not stop.is_set():
            with lock:
                n, gen = next(counter), generation[0]
            key, outcome = submit(server.port, photo, n)
            with lock:
                results.append((key, outcome, gen))

    def accepted(gen: int) -> int:
        with lock:
            return sum(1 for _, outcome, g in results if outcome == 302 and g == gen)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        wait_for(lambda: accepted(0) >= 6, timeout=120, what="six complaints before the kill")
        before = server.workers()
        assert len(before) == 2
        half, half_key = start_half_post(server.port, photo)
        victim = wait_for(lambda: owner_of_connection(before, server.port, half.getsockname()[1]),
                          what="a worker to accept the half-sent POST")
        sigkill(victim)
        half.settimeout(30)
        try:
            answer = half.recv(100)
        except OSError:
            answer = b""
        half.close()
        assert answer == b"", "the killed worker answered nothing"
        with lock:
            generation[0] = 1
        respawned = wait_for(lambda: (w := server.workers()) and len(w) == 2 and victim not in w and w,
                             timeout=30, what="the master to start a replacement worker")
        wait_for(lambda: accepted(1) >= 6, timeout=120, what="six complaints after the kill")
        stop.set()
        for t in threads:
            t.join(timeout=90)
        after = [submit(server.port, photo, 10**7 + i) for i in range(4)]  # quiet again: all must succeed
        assert [outcome for _, outcome in after] == [302] * 4
        assert server.proc.poll() is None, "the master survived the worker's death"
    finally:
        stop.set()
        server.stop()

    cut = [(key, outcome) for key, outcome, _ in results if outcome != 302]
    assert all(str(outcome).startswith("error") for _, outcome in cut), cut  # no 4xx/5xx, only cut connections
    assert set(respawned) - set(before), "a new worker process"

    db = sqlite3.connect(tmp_path / "portal.sqlite3")
    rows = db.execute("SELECT c.submission_key, a.original_path, a.public_path FROM complaints c "
                      "LEFT JOIN complaint_attachments a ON a.complaint_id = c.id").fetchall()
    by_key: dict[str, list] = {}
    for key, original, public in rows:
        by_key.setdefault(key, []).append((original, public))
    accepted_keys = [key for key, outcome, _ in results if outcome == 302] + [key for key, _ in after]
    assert len(by_key) == len(rows), "one attachment per complaint, no complaint without its attachment row"
    for key in accepted_keys:
        assert key in by_key, f"accepted submission {key} is missing"
    for key, files in by_key.items():  # every stored complaint, including one committed just before the kill
        (original, public), = files
        assert original and public, f"complaint {key} has an attachment row without files"
        assert (uploads / original).is_file() and (uploads / public).is_file(), f"complaint {key} lost its files"
    assert half_key not in by_key, "the request killed mid-upload left no complaint"
    cut_keys = {key for key, _ in cut if key}
    stored_cut = cut_keys & set(by_key)
    assert len(by_key) == len(accepted_keys) + len(stored_cut)
    orphans = db.execute("SELECT count(*) FROM complaint_attachments WHERE complaint_id NOT IN "
                         "(SELECT id FROM complaints)").fetchone()[0]
    assert orphans == 0
    db.close()
