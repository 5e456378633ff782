"""Background import of a large results file in Debian's Chromium: the upload lands on the progress page, the page
follows the check by itself (in place with JavaScript, by its <noscript> refresh without), shows the preview or the
errors by line and column, and the confirmation publishes every row.

The worker is the real one (the thread the upload starts, MONITORING_IMPORT_THREADS); a gate holds it after chosen
progress reports until the test has seen them on the page, so the intermediate states are observed, never raced.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.monitoring import imports
from portal.monitoring.models import ImportJob, ImportStatus, ManualSubmission, MonitoringValue
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.monitoring.helpers import water_setup

pytestmark = pytest.mark.browser
HEADER = "排放口编码,污染物编码,采样时间,监测结果,监测完成日期,检测机构,监测方法,数据标记\n"
ROWS = 3000
EVERY = 500
WAIT = 30_000  # ms a page may take to show a state (the no-JS refresh is every 3 s)


def _rows(n: int, start=datetime(2026, 1, 1)) -> list[str]:
    completed = (datetime.now() - timedelta(days=1)).date()
    return [f"DW001,w01018,{(start + timedelta(minutes=i)):%Y-%m-%d %H:%M},{20 + i % 7},{completed},"
            f"淮安检测,HJ 828-2017,N\n" for i in range(n)]


class Gate:
    """Holds the import worker right after it has stored the given progress counts, until the test opens them."""

    def __init__(self, monkeypatch, stops):
        self.stops = {n: threading.Event() for n in stops}
        real = imports._update

        def update(job_id, where_status=None, **values):
            stored = real(job_id, where_status, **values)
            if set(values) == {"rows_done"} and values["rows_done"] in self.stops:
                self.stops[values["rows_done"]].wait(timeout=120)  # only a failed test waits this long
            return stored

        monkeypatch.setattr(imports, "_update", update)

    def open_all_but(self, kept) -> None:
        for stop, event in self.stops.items():
            if stop not in kept:
                event.set()

    def open(self, n=None) -> None:
        for stop, event in self.stops.items():
            if n is None or stop == n:
                event.set()


@pytest.fixture
def importing(app, db, monkeypatch):
    """A clerk of an enterprise with an outlet; files above 10 kB go to the background worker thread."""
    monkeypatch.setitem(app.config, "MONITORING_IMPORT_INLINE_BYTES", 10_000)
    monkeypatch.setitem(app.config, "MONITORING_IMPORT_THREADS", True)
    monkeypatch.setattr(imports, "CHECK_EVERY", EVERY)
    gate = Gate(monkeypatch, [EVERY, 2 * EVERY])
    ent, _, _ = water_setup(db)
    make_user(Role.ENTERPRISE_STAFF, username="lab_clerk", enterprise=ent)
    db.session.commit()
    yield gate
    gate.open()
    for thread in threading.enumerate():  # no worker may outlive the test and write into the next one
        if thread.name == "monitoring-import":
            thread.join(timeout=60)


@pytest.fixture
def nojs_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768},
                                  java_script_enabled=False)
    page = context.new_page()
    page.console_errors = []  # as the page fixture collects them
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def zh(app, message: str, **values) -> str:
    with app.test_request_context(), force_locale("zh_CN"):
        return gettext(message, **values)


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _login_and_upload(page, live_server, path) -> None:
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=username]", "lab_clerk")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    page.goto(f"{live_server}/monitoring/my/results")
    page.set_input_files("input[name=file]", str(path))
    with page.expect_navigation():
        page.locator("form[enctype] [type=submit]").click()
    assert "/monitoring/my/imports/" in page.url


def _see_check_progress(page, app, gate, expect, counts=(EVERY, 2 * EVERY)) -> None:
    """The page shows each held count with the checking label; the bar has no value while the total is unknown."""
    gate.open_all_but(counts)
    for n in counts:
        expect(page.locator("#import-count")).to_have_text(zh(app, "%(n)d rows checked", n=n), timeout=WAIT)
        expect(page.locator("#import-state")).to_have_text(zh(app, "Checking the rows"))
        assert page.locator("#import-bar").get_attribute("value") is None
        gate.open(n)


def _publish_and_see_it_saved(page, app, db, expect) -> None:
    button = page.locator("main form [type=submit]")
    expect(button).to_have_text(zh(app, "Publish all %(n)d results", n=ROWS), timeout=WAIT)
    assert "DW001" in page.inner_text("main table") and "w01018" in page.inner_text("main table")
    assert _count(db, MonitoringValue) == 0  # checked, not yet saved
    with page.expect_navigation():
        button.click()
    done = zh(app, "%(n)d results published, %(d)d already on record.", n=ROWS, d=0)
    expect(page.locator("main [role=status]")).to_have_text(done, timeout=WAIT)
    expect(page.locator("#import-state")).to_have_text(zh(app, "Saved"))
    assert page.locator("#import-bar").get_attribute("value") == str(ROWS)
    assert page.locator("#import-bar").get_attribute("max") == str(ROWS)
    job = db.session.scalar(sa.select(ImportJob))
    assert job.status == ImportStatus.DONE and job.rows_total == ROWS and job.result["inserted"] == ROWS
    assert _count(db, MonitoringValue) == ROWS and _count(db, ManualSubmission) == 1
    values = db.session.scalars(sa.select(MonitoringValue.value)).all()
    assert sorted(set(values)) == [20 + i for i in range(7)]
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "monitoring.import.commit")) is not None


def test_a_large_upload_shows_its_progress_in_place_then_the_preview_and_publishes(app, db, live_server, page,
                                                                                  importing, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    path = tmp_path / "results.csv"
    path.write_text(HEADER + "".join(_rows(ROWS)), encoding="utf-8")
    _login_and_upload(page, live_server, path)
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    _see_check_progress(page, app, importing, expect)
    assert page.evaluate("window.sameDocument") is True  # the script updated the page, no reload
    _publish_and_see_it_saved(page, app, db, expect)  # the script reloaded the page once checked
    assert page.console_errors == []


def test_a_file_with_a_bad_cell_is_rejected_with_its_line_and_column(app, db, live_server, page, importing,
                                                                    tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    importing.open()
    rows = _rows(1500)
    outlet, pollutant, sampled_at, _value, *rest = rows[1199].split(",")
    rows[1199] = ",".join([outlet, pollutant, sampled_at, "abc", *rest])
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    _login_and_upload(page, live_server, path)
    expect(page.locator("#import-state")).to_have_text(zh(app, "Problems found; nothing was saved"), timeout=WAIT)
    expect(page.locator(".error-summary h2")).to_have_text(zh(app, "%(n)d problems found; nothing was saved", n=1))
    cells = page.locator("main table tbody tr").first.locator("td").all_inner_texts()
    assert cells[:2] == ["1201", "监测结果"]  # line 1 is the header
    assert page.locator("main form [type=submit]").count() == 0
    assert _count(db, MonitoringValue) == 0
    assert db.session.scalar(sa.select(ImportJob.status)) == ImportStatus.REJECTED
    assert page.console_errors == []


def test_without_javascript_the_page_refreshes_itself_through_the_import(app, db, live_server, nojs_page,
                                                                        importing, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = nojs_page
    path = tmp_path / "results.csv"
    path.write_text(HEADER + "".join(_rows(ROWS)), encoding="utf-8")
    _login_and_upload(page, live_server, path)
    assert page.locator("head noscript").count() == 1
    _see_check_progress(page, app, importing, expect, counts=(EVERY,))  # each state costs a 3 s refresh
    _publish_and_see_it_saved(page, app, db, expect)
    assert page.console_errors == []
