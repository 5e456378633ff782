"""Measure the public enterprise page's height on a seeded database (issue 21), in Debian's Chromium.

Not a test: a tool to compare checkouts on the demo data. Seed a database first, then run from the checkout to
measure (its portal package is the one served):

    PORTAL_DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python -m flask --app wsgi db upgrade
    PORTAL_DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python -m flask --app wsgi seed-demo --life small
    PORTAL_DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python tests/browser/measure_page_height.py

It picks the enterprises with the most self-monitoring values, ledger lines and disclosures and prints the page
height (document scrollHeight, px) at 1366×900 and 390×844, in Chinese and English, with every section as served.
"""
from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

PICKS = {
    "most monitoring values": "select e.uscc from monitoring_values v join enterprises e on e.id = v.enterprise_id "
                              "group by e.uscc order by count(*) desc limit 1",
    "most ledger lines": "select e.uscc from credit_ledger_entries l join enterprises e on e.id = l.enterprise_id "
                         "group by e.uscc order by count(*) desc limit 1",
    "most disclosures": "select e.uscc from annual_reports r join enterprises e on e.id = r.enterprise_id "
                        "group by e.uscc order by count(*) desc limit 1",
}
VIEWPORTS = {"desktop 1366x900": {"width": 1366, "height": 900}, "phone 390x844": {"width": 390, "height": 844}}


def main() -> None:
    import logging

    import sqlalchemy as sa
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from wsgi import app
    from portal.extensions import db

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with app.app_context():
        picks = {label: db.session.scalar(sa.text(sql)) for label, sql in PICKS.items()}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"], headless=True)
        for label, uscc in picks.items():
            if not uscc:
                continue
            for lang in ("zh", "en"):
                for name, viewport in VIEWPORTS.items():
                    context = browser.new_context(viewport=viewport, locale="zh-CN" if lang == "zh" else "en-US")
                    page = context.new_page()
                    page.goto(f"{base}/enterprises/{uscc}?lang={lang}")
                    page.wait_for_load_state("networkidle")
                    height = page.evaluate("document.documentElement.scrollHeight")
                    print(f"{label:24} {uscc} {lang} {name:18} {height:>7} px "
                          f"({height / viewport['height']:.1f} screens)")
                    context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
