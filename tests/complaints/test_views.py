"""Complaint pages: intake with uploads, receipt, tracking, the regulator console and who may see what."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from portal.auth.models import Role
from portal.complaints import services, statistics
from portal.complaints.models import Complaint, Findings, Status
from portal.core.clock import china_tz
from tests.conftest import login_as
from tests.factories import ensure_reference, make_complaint, make_enterprise, make_user

REPORTER = {"name": "李四", "phone": "13800000000", "email": "lisi@example.cn", "id_no": ""}


def _jpeg(size=(60, 40), exif: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "blue").save(buf, format="JPEG", **({"exif": exif} if exif else {}))
    return buf.getvalue()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (30, 30), "red").save(buf, format="PNG")
    return buf.getvalue()


def _form(**extra) -> dict:
    data = {"category": "water", "reported_name": "河边小作坊", "reported_address": "涟水县某村河边",
            "region_code": "320826", "description": "夜间有黑色污水从暗管排入河道，气味刺鼻。",
            "identity": "anonymous", "submission_key": "key-" + str(extra.pop("key", 1))}
    data.update(extra)
    return data


def _count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))


@pytest.fixture
def regions(db):
    ensure_reference()
    db.session.commit()


def test_the_intake_form_says_what_is_accepted_and_works_without_javascript(client, regions):
    page = client.get("/complaints/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="reported_name"' in page
    assert "arbitration" in page or "仲裁" in page
    assert 'name="website"' in page  # honeypot


def test_a_submission_shows_the_case_number_and_query_code_once(client, db, regions):
    response = client.post("/complaints/new", data=_form(), follow_redirects=True)
    page = response.get_data(as_text=True)
    c = db.session.scalar(sa.select(Complaint))
    assert response.status_code == 200 and c.case_no in page
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", page).group(0)
    assert services.find_for_reporter(c.case_no, code) is c
    pdf = client.get("/complaints/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_named_report_with_an_e_mail_is_accepted_and_a_bad_address_is_named(client, db, regions):
    bad = client.post("/complaints/new", data=_form(identity="named", phone="", email="not-an-address"))
    assert bad.status_code == 400 and _count(db) == 0 and 'id="email-error"' in bad.get_data(as_text=True)
    response = client.post("/complaints/new", data=_form(identity="named", name="王五", email="wang@example.cn",
                                                        submission_key="named-1"))
    assert response.status_code == 302 and _count(db) == 1
    c = db.session.scalar(sa.select(Complaint))
    assert not c.anonymous and services.reporter_identity(make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
                                                          c)["email"] == "wang@example.cn"


def test_the_same_form_sent_twice_makes_one_case(client, db, regions):
    client.post("/complaints/new", data=_form())
    response = client.post("/complaints/new", data=_form())
    assert response.status_code == 302 and _count(db) == 1


def test_the_honeypot_drops_bot_submissions(client, db, regions):
    response = client.post("/complaints/new", data=_form(website="http://spam.example"))
    assert response.status_code == 400 and _count(db) == 0


def test_missing_fields_are_named_and_nothing_is_saved(client, db, regions):
    response = client.post("/complaints/new", data=_form(description="", reported_name=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and _count(db) == 0
    assert 'id="description-error"' in page


def test_a_png_named_pdf_is_refused_and_the_text_is_kept(client, db, regions):
    data = _form(photos=(io.BytesIO(_png()), "scan.pdf"))
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and _count(db) == 0
    assert "scan.pdf" in page and "夜间有黑色污水从暗管排入河道" in page


def test_a_50_mb_file_is_refused_with_a_message(client, db, regions):
    big = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024))
    # encoded in memory: the test client's own temporary file for large bodies is never closed
    stream, length, boundary = stream_encode_multipart(_form(photos=FileStorage(big, "big.jpg")),
                                                      use_tempfile=False)
    response = client.post("/complaints/new", input_stream=stream, content_length=length,
                           content_type=f"multipart/form-data; boundary={boundary}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and _count(db) == 0
    assert "big.jpg" in page and "涟水县某村河边" in page


def test_gps_exif_is_removed_from_the_public_copy_and_kept_in_the_original(client, db, regions):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (33.0, 46.0, 48.0), 3: "E", 4: (119.0, 15.0, 36.0)})
    photo = _jpeg(exif=exif.tobytes())
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)
    response = client.post("/complaints/new", data=_form(photos=(io.BytesIO(photo), "river.jpg")),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    att = db.session.scalar(sa.select(Complaint)).attachments[0]
    root = services.upload_root()
    with Image.open(io.BytesIO(root.get(att.public_path))) as public:
        assert not public.getexif() and not public.getexif().get_ifd(0x8825)
    assert root.get(att.original_path) == photo
    c = att.complaint
    served = client.get(f"/complaints/track/{c.case_no}/files/{att.id}")
    assert served.status_code == 200 and not Image.open(io.BytesIO(served.data)).getexif()


def test_a_decompression_bomb_is_refused(client, db, regions):
    buf = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buf, format="PNG")  # 144 megapixels in a few kilobytes
    response = client.post("/complaints/new", data=_form(photos=(io.BytesIO(buf.getvalue()), "bomb.png")),
                           content_type="multipart/form-data")
    assert response.status_code == 400 and _count(db) == 0
    assert "bomb.png" in response.get_data(as_text=True)


def test_more_than_five_files_are_refused(client, db, regions):
    files = [(io.BytesIO(_jpeg()), f"p{i}.jpg") for i in range(6)]
    response = client.post("/complaints/new", data=_form(photos=files), content_type="multipart/form-data")
    assert response.status_code == 400 and _count(db) == 0


def test_a_post_without_a_csrf_token_is_refused(app, client, db, regions):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/complaints/new", data=_form())
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and _count(db) == 0


def test_tracking_needs_the_right_code(client, db):
    c, code = make_complaint()
    db.session.commit()
    assert client.get(f"/complaints/track/{c.case_no}").status_code == 302
    wrong = client.post("/complaints/track", data={"case_no": c.case_no, "code": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 404
    right = client.post("/complaints/track", data={"case_no": c.case_no, "code": code})
    assert right.status_code == 302 and right.headers["Location"].endswith(f"/complaints/track/{c.case_no}")
    page = client.get(f"/complaints/track/{c.case_no}").get_data(as_text=True)
    assert c.accept_due.isoformat() in page


def _track(client, c, code):
    client.post("/complaints/track", data={"case_no": c.case_no, "code": code})


def test_intake_then_track_then_reply_then_rating_and_review(client, db):
    officer = make_user(Role.REGULATOR, jurisdiction_code="3208")
    c, code = make_complaint(identity=REPORTER)
    db.session.commit()
    _track(client, c, code)
    added = client.post(f"/complaints/track/{c.case_no}/information", data={"text": "今天早上又闻到了。"})
    assert added.status_code == 302
    services.accept_complaint(c, officer)
    services.start_investigation(c, officer)
    services.report_result(c, officer, Findings.NOT_SUBSTANTIATED, "现场检查未发现违法排放行为。")
    services.reply_complaint(c, officer, "经现场核查，未发现违法行为，将持续关注。")
    db.session.commit()
    page = client.get(f"/complaints/track/{c.case_no}").get_data(as_text=True)
    assert "将持续关注" in page and "今天早上又闻到了" in page
    assert client.post(f"/complaints/track/{c.case_no}/rating", data={"score": "2"}).status_code == 302
    assert client.post(f"/complaints/track/{c.case_no}/rating", data={"score": "5"}).status_code == 409 or \
        c.satisfaction == 2
    review = client.post(f"/complaints/track/{c.case_no}/review", data={"reason": "答复与事实不符，夜里仍然排放。"})
    assert review.status_code == 302
    db.session.refresh(c)
    assert c.status == Status.REOPENED and c.satisfaction == 2


def test_another_browser_cannot_act_on_a_case_it_has_not_unlocked(client, db):
    c, _ = make_complaint(photo=True)
    db.session.commit()
    assert client.post(f"/complaints/track/{c.case_no}/information", data={"text": "x" * 20}).status_code == 404
    assert client.get(f"/complaints/track/{c.case_no}/files/{c.attachments[0].id}").status_code == 404


# --- console ------------------------------------------------------------------------------------------------------

@pytest.fixture
def case(db):
    ent = make_enterprise()
    c, _ = make_complaint(ent, identity=REPORTER, photo=True)
    users = {"handler": make_user(Role.REGULATOR, jurisdiction_code="3208"),
             "other": make_user(Role.REGULATOR, jurisdiction_code="3208"),
             "lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
             "foreign": make_user(Role.REGULATOR, jurisdiction_code="2101"),
             "enterprise": make_user(Role.ENTERPRISE_STAFF, enterprise=ent)}
    services.accept_complaint(c, users["handler"])
    db.session.commit()
    return c, users


def test_console_routes_need_a_login_and_the_handle_permission(client, case):
    c, users = case
    assert "/auth/login" in client.get("/console/complaints").headers["Location"]
    login_as(client, users["enterprise"])
    assert client.get("/console/complaints").status_code == 403
    assert client.get(f"/console/complaints/{c.id}").status_code == 403


def test_another_jurisdiction_never_sees_the_case(client, case):
    c, users = case
    login_as(client, users["foreign"])
    assert c.case_no not in client.get("/console/complaints").get_data(as_text=True)
    assert client.get(f"/console/complaints/{c.id}").status_code == 404
    assert client.post(f"/console/complaints/{c.id}/act", data={"action": "investigate"}).status_code == 404
    assert client.get(f"/console/complaints/{c.id}/files/{c.attachments[0].id}").status_code == 404


def test_only_the_handler_and_the_lead_see_the_reporter_on_the_case_page(client, case):
    c, users = case
    for who, visible in (("handler", True), ("lead", True), ("other", False)):
        login_as(client, users[who])
        page = client.get(f"/console/complaints/{c.id}").get_data(as_text=True)
        assert ("13800000000" in page) is visible, who


def test_the_enterprise_and_the_public_never_see_the_reporter(client, case):
    c, users = case
    login_as(client, users["enterprise"])
    page = client.get(f"/enterprises/{c.enterprise.uscc}").get_data(as_text=True)
    assert "李四" not in page and "13800000000" not in page
    assert "Environmental complaints" in page or "环境举报" in page or "举报" in page


def test_the_queue_shows_sla_clocks(client, case):
    c, users = case
    login_as(client, users["handler"])
    page = client.get("/console/complaints").get_data(as_text=True)
    assert c.case_no in page and c.close_due.isoformat() in page


def test_console_decisions_move_the_case(client, db, case):
    c, users = case
    login_as(client, users["handler"])
    assert client.post(f"/console/complaints/{c.id}/act", data={"action": "investigate"}).status_code == 302
    client.post(f"/console/complaints/{c.id}/act", data={"action": "request_extension", "days": "15",
                                                           "text": "需要第三方监测"})
    refused = client.post(f"/console/complaints/{c.id}/act", data={"action": "approve_extension"})
    assert refused.status_code == 403
    login_as(client, users["lead"])
    assert client.post(f"/console/complaints/{c.id}/act", data={"action": "approve_extension"}).status_code == 302
    db.session.refresh(c)
    assert c.status == Status.EXTENDED and c.extended_until is not None


def test_a_decision_the_state_does_not_allow_is_a_message_not_a_500(client, db, case):
    c, users = case
    login_as(client, users["handler"])
    response = client.post(f"/console/complaints/{c.id}/act", data={"action": "reply", "text": "x" * 20})
    assert response.status_code == 409
    response = client.post(f"/console/complaints/{c.id}/act", data={"action": "result", "findings": "",
                                                                    "text": "x" * 20})
    assert response.status_code == 400


def test_the_handler_downloads_the_original_file(client, case):
    c, users = case
    login_as(client, users["handler"])
    response = client.get(f"/console/complaints/{c.id}/files/{c.attachments[0].id}")
    assert response.status_code == 200 and response.data[:2] == b"\xff\xd8"


def test_monthly_statistics_count_by_category_channel_and_district_without_reporters(client, db):
    officer = make_user(Role.REGULATOR, jurisdiction_code="3208")
    a, _ = make_complaint(identity=REPORTER)
    b, _ = make_complaint(region_code="320803")
    services.accept_complaint(a, officer)
    db.session.commit()
    received = a.received_at.astimezone(china_tz())
    stats = statistics.monthly_statistics(received.year, received.month)
    assert stats["received"] == 2 and stats["by_category"] == [("water", 2)]
    assert stats["by_channel"] == [("web", 2)] and {d[0] for d in stats["by_district"]} == {"320826", "320803"}
    assert stats["decided"] == 1 and stats["decided_on_time"] == 100.0 and stats["replied_on_time"] is None
    page = client.get(f"/complaints/statistics?year={received.year}&month={received.month}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "涟水县" in text and "李四" not in text
    assert client.get("/complaints/statistics?year=abc&month=13").status_code == 200


def test_intake_and_anonymous_open311_posts_are_rate_limited_but_partners_are_not(app, db, regions):
    from portal import create_app
    from portal.extensions import limiter

    was_enabled = limiter.enabled
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config.update(RATELIMIT_ENABLED=True, COMPLAINT_RATE_LIMIT="2 per minute", RATELIMIT_STORAGE_URI="memory://",
                  OPEN311_API_KEYS={"k1": "partner"})
    try:
        limited = create_app(config)
        client = limited.test_client()
        with limited.app_context():
            intake = [client.post("/complaints/new", data={}).status_code for _ in range(3)]
            assert client.get("/complaints/new").status_code == 200  # GET is not limited
            partner = [client.post("/open311/v2/requests.json", data={"api_key": "k1"}).status_code
                       for _ in range(3)]
            anonymous = [client.post("/open311/v2/requests.json", data={}) for _ in range(3)]
            db.session.remove()
            db.engine.dispose()
    finally:
        limiter.enabled = was_enabled
    assert intake == [400, 400, 429]
    assert partner == [400, 400, 400]
    assert anonymous[-1].status_code == 429  # in the GeoReport error format, with when to retry
    assert anonymous[-1].get_json()[0]["code"] == 429 and anonymous[-1].headers.get("Retry-After")


def test_the_receipt_mentions_similar_recent_reports(client, db):
    ent = make_enterprise()
    make_complaint(ent)
    db.session.commit()
    # Issue 21: the possible duplicates are shown before sending; sending anyway leads to the receipt's note.
    response = client.post("/complaints/new", data=_form(reported_name="", region_code="",
                                                         enterprise_uscc=ent.uscc, duplicates_seen="1"),
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="notice"' in page
