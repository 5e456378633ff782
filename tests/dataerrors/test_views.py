"""Data-error pages: the no-JS form (honeypot, double submit, CSRF, rate limit), status page, regulator queue."""
import re

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.dataerrors.models import DataErrorReport, Status
from tests.conftest import login_as
from tests.factories import make_enterprise, make_user

TEXT = "排污许可证有效期写错了，应为2030年。"


@pytest.fixture
def ent(db):
    e = make_enterprise(name="涟水数据纠错测试有限公司", region_code="320826")
    db.session.commit()
    return e


def _count():
    from portal.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(DataErrorReport))


def _form(**kw):
    data = {"section": "permits", "description": TEXT, "contact": "13812345678", "contact_name": "李四",
            "submission_key": "key-1", "website": ""}
    data.update(kw)
    return data


def test_the_enterprise_page_links_to_the_form_which_preselects_a_section(client, ent):
    page = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert f"/enterprises/{ent.uscc}/data-errors/new" in page
    form = client.get(f"/enterprises/{ent.uscc}/data-errors/new?section=credit").get_data(as_text=True)
    assert re.search(r'<option selected value="credit">|<option value="credit" selected', form)
    assert 'name="submission_key"' in form and 'name="website"' in form
    assert client.get("/enterprises/91320826MA1ABCDE2X/data-errors/new").status_code == 404


def test_submitting_gives_a_tracking_code_and_a_status_page_without_the_contact(client, ent):
    response = client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form())
    assert response.status_code == 302
    from portal.extensions import db

    report = db.session.scalar(sa.select(DataErrorReport))
    assert response.headers["Location"].endswith(f"/data-errors/{report.tracking_code}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert report.tracking_code[:4] in page and TEXT in page and ent.name in page
    assert "13812345678" not in page and "李四" not in page
    assert report.due_on.isoformat() in page


def test_a_double_submit_returns_the_first_report(client, ent):
    first = client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form())
    second = client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form())
    assert first.headers["Location"] == second.headers["Location"]
    assert _count() == 1


def test_the_honeypot_and_bad_input_store_nothing(client, ent):
    trap = client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form(website="http://spam"))
    bad = client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form(description="太短", contact="x"))
    assert trap.status_code == 400 and bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "at least 10 characters" in html or "至少" in html
    assert _count() == 0


def test_tracking_by_code_forgives_case_and_dashes_and_404s_unknown_codes(client, ent):
    client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form())
    from portal.dataerrors.rules import format_code
    from portal.extensions import db

    code = db.session.scalar(sa.select(DataErrorReport.tracking_code))
    found = client.get(f"/data-errors?code={format_code(code).lower()}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/data-errors/{code}")
    assert client.get("/data-errors?code=ABCD-EFGH-JKLM").status_code == 404
    assert client.get("/data-errors/ABCDEFGHJKLM").status_code == 404
    assert client.get("/data-errors").status_code == 200


def test_regulators_of_the_jurisdiction_see_the_contact_and_decide_with_a_reason(client, db, ent):
    client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form())
    report = db.session.scalar(sa.select(DataErrorReport))
    reg = make_user(Role.REGULATOR, jurisdiction_code="3208")
    far = make_user(Role.REGULATOR, jurisdiction_code="2101")
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.commit()
    login_as(client, far)
    assert client.get(f"/console/data-errors/{report.id}").status_code == 404
    assert ent.name not in client.get("/console/data-errors").get_data(as_text=True)
    login_as(client, staff)
    assert client.get("/console/data-errors").status_code == 403
    login_as(client, reg)
    assert ent.name in client.get("/console/data-errors").get_data(as_text=True)
    detail = client.get(f"/console/data-errors/{report.id}").get_data(as_text=True)
    assert "13812345678" in detail and "李四" in detail
    assert client.post(f"/console/data-errors/{report.id}/reject", data={"note": ""}).status_code == 400
    assert client.post(f"/console/data-errors/{report.id}/acknowledge", data={}).status_code == 302
    done = client.post(f"/console/data-errors/{report.id}/correct", data={"note": "已按许可证正本更正有效期。"})
    assert done.status_code == 302
    db.session.expire_all()
    assert report.status is Status.CORRECTED
    status_page = client.get(f"/data-errors/{report.tracking_code}").get_data(as_text=True)
    assert "已按许可证正本更正有效期。" in status_page
    actions = db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.action.like("dataerror.%"))
                                 .order_by(AuditRecord.seq)).all()
    assert actions == ["dataerror.submit", "dataerror.acknowledged", "dataerror.corrected"]


def test_the_form_needs_its_csrf_token_and_posts_are_rate_limited(app, db, ent):
    from portal import create_app
    from portal.extensions import limiter

    was_enabled = limiter.enabled
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config.update(RATELIMIT_ENABLED=True, COMPLAINT_RATE_LIMIT="2 per minute", RATELIMIT_STORAGE_URI="memory://",
                  WTF_CSRF_ENABLED=True)
    try:
        limited = create_app(config)
        client = limited.test_client()
        with limited.app_context():
            page = client.get(f"/enterprises/{ent.uscc}/data-errors/new").get_data(as_text=True)
            no_token = client.post(f"/enterprises/{ent.uscc}/data-errors/new", data=_form()).status_code
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            statuses = [client.post(f"/enterprises/{ent.uscc}/data-errors/new",
                                    data=_form(csrf_token=token, description="短")).status_code for _ in range(3)]
            assert client.get(f"/enterprises/{ent.uscc}/data-errors/new").status_code == 200  # GET not limited
            stored = _count()
            db.session.remove()
            db.engine.dispose()
    finally:
        limiter.enabled = was_enabled
    assert 'name="csrf_token"' in page
    assert no_token == 400
    assert statuses == [400, 400, 429]  # the third within a minute is limited
    assert stored == 0
