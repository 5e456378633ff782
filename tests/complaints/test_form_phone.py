"""The public complaint form as a phone user meets it (issue 21): every error at once beside its field, the photo
kept across a validation error (and stored once on success), the kept files refused to another session or after
they expire, and possible duplicates shown before the report is sent."""
from __future__ import annotations

import io
import re
import time

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.complaints import pending
from portal.complaints.common import upload_root
from portal.complaints.models import Complaint, ComplaintAttachment
from tests.factories import ensure_reference, make_complaint, make_enterprise


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), "blue").save(buf, format="JPEG")
    return buf.getvalue()


def _form(**extra) -> dict:
    data = {"category": "water", "reported_name": "河边小作坊", "reported_address": "涟水县某村河边",
            "region_code": "320826", "description": "夜间有黑色污水从暗管排入河道，气味刺鼻。",
            "identity": "anonymous", "submission_key": "phone-" + str(extra.pop("key", 1))}
    data.update(extra)
    return data


@pytest.fixture
def en(client):
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    return client


@pytest.fixture(autouse=True)
def no_kept_sets(app):
    """Kept sets of earlier tests would count toward the cap and the listings here."""
    with app.test_request_context():
        store = upload_root()
        for entry in list(store.list(pending.PREFIX)):
            store.delete(entry.key)


@pytest.fixture
def regions(db):
    ensure_reference()
    db.session.commit()


def _token(page: str) -> str:
    return re.search(r'name="kept_token" type="hidden" value="([^"]*)"', page).group(1)


def _pending_sets() -> list[str]:
    """The kept sets in the store (portal/core/storage.py), one per token."""
    return sorted({e.key.split("/")[1] for e in upload_root().list(pending.PREFIX)})


def test_every_error_comes_at_once_beside_its_field(en, db, regions):
    data = _form(category="", description="短", reported_address="", region_code="", latitude="33.7",
                 identity="named", phone="", email="")
    page = en.post("/complaints/new", data=data).get_data(as_text=True)
    # the shape check (category) and the intake rules (address, district, description, coordinates, contact)
    for field in ("category", "reported_address", "region_code", "description", "latitude", "phone"):
        assert f'id="{field}-error"' in page, field
    assert "Give both latitude" in page and "Give a phone number or an e-mail address" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0


def test_a_photo_survives_a_validation_error_and_is_stored_once(en, db, regions):
    first = en.post("/complaints/new", data=_form(description="", photos=(io.BytesIO(_jpeg()), "river.jpg")),
                    content_type="multipart/form-data")
    page = first.get_data(as_text=True)
    assert first.status_code == 400 and "Files kept from your last attempt" in page and "river.jpg" in page
    token = _token(page)
    assert token and len(_pending_sets()) == 1
    second = en.post("/complaints/new", data=_form(kept_token=token, keep_file="0"),
                     content_type="multipart/form-data")
    assert second.status_code == 302 and second.headers["Location"].endswith("/complaints/receipt")
    c = db.session.scalar(sa.select(Complaint))
    files = db.session.scalars(sa.select(ComplaintAttachment).where(ComplaintAttachment.complaint_id == c.id)).all()
    assert len(files) == 1 and upload_root().get(files[0].original_path) == _jpeg()
    assert _pending_sets() == []  # the kept copy is gone once stored


def test_unticking_a_kept_file_leaves_it_out(en, db, regions):
    page = en.post("/complaints/new", data=_form(description="", photos=(io.BytesIO(_jpeg()), "river.jpg")),
                   content_type="multipart/form-data").get_data(as_text=True)
    en.post("/complaints/new", data=_form(kept_token=_token(page)), content_type="multipart/form-data")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintAttachment)) == 0


def test_kept_files_are_refused_to_another_session(app, en, db, regions):
    page = en.post("/complaints/new", data=_form(description="", photos=(io.BytesIO(_jpeg()), "river.jpg")),
                   content_type="multipart/form-data").get_data(as_text=True)
    token = _token(page)
    other = app.test_client()
    with other.session_transaction() as sess:
        sess["lang"] = "en"
    refused = other.post("/complaints/new", data=_form(kept_token=token, keep_file="0", key=2))
    assert refused.status_code == 400 and "are no longer kept" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0
    with app.test_request_context():
        assert pending.load(token, "someone-else's-token-of-32-chars") is None
    # the other browser's attempt neither used nor deleted the first browser's files
    assert len(_pending_sets()) == 1
    kept = en.post("/complaints/new", data=_form(kept_token=token, keep_file="0"))
    assert kept.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintAttachment)) == 1


def test_kept_files_expire_and_the_sweep_deletes_them(en, db, regions, app):
    page = en.post("/complaints/new", data=_form(description="", photos=(io.BytesIO(_jpeg()), "river.jpg")),
                   content_type="multipart/form-data").get_data(as_text=True)
    token = _token(page)
    later = time.time() + app.config["COMPLAINT_PENDING_TTL_SECONDS"] + 1
    assert pending.load(token, token) is not None
    assert pending.sweep(time.time()) == 0
    assert pending.sweep(later) == 1 and _pending_sets() == []
    refused = en.post("/complaints/new", data=_form(kept_token=token, keep_file="0"))
    assert refused.status_code == 400 and "are no longer kept" in refused.get_data(as_text=True)


def test_a_bad_token_opens_nothing_and_cannot_walk_the_file_system(app):
    with app.test_request_context():
        for token in ("../../etc", "", "a" * 31, "../" + "a" * 29):
            assert pending.load(token, token) is None


def test_a_rejected_file_is_named_while_the_good_one_is_kept(en, db, regions):
    page = en.post("/complaints/new", data=_form(photos=[(io.BytesIO(_jpeg()), "good.jpg"),
                                                         (io.BytesIO(b"not an image"), "bad.jpg")]),
                   content_type="multipart/form-data").get_data(as_text=True)
    assert "bad.jpg" in page and 'id="photos-error"' in page
    assert "good.jpg" in page.split("Files kept from your last attempt")[1]


def test_nothing_is_kept_when_too_many_sets_wait(app, en, db, regions):
    app.config["COMPLAINT_PENDING_MAX_SETS"] = 0
    try:
        page = en.post("/complaints/new", data=_form(description="", photos=(io.BytesIO(_jpeg()), "river.jpg")),
                       content_type="multipart/form-data").get_data(as_text=True)
    finally:
        app.config["COMPLAINT_PENDING_MAX_SETS"] = 500
    assert "could not be kept this time; choose them again" in page and _pending_sets() == []


def test_possible_duplicates_are_shown_before_sending_and_sending_anyway_works(en, db, regions):
    ent = make_enterprise("淮安重复样本化工有限公司")
    earlier, _code = make_complaint(ent)
    db.session.commit()
    data = _form(reported_name="", region_code="", enterprise_uscc=ent.uscc,
                 photos=(io.BytesIO(_jpeg()), "again.jpg"))
    first = en.post("/complaints/new", data=data, content_type="multipart/form-data")
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "Possibly reported already" in page and ent.name in page
    assert earlier.case_no not in page and "Send my report anyway" in page  # no case numbers of others
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 1
    again = en.post("/complaints/new", data=_form(reported_name="", region_code="", enterprise_uscc=ent.uscc,
                                                  duplicates_seen="1", kept_token=_token(page), keep_file="0"),
                    content_type="multipart/form-data")
    assert again.status_code == 302
    newest = db.session.scalars(sa.select(Complaint).order_by(Complaint.id.desc())).first()
    assert newest.id != earlier.id and len(newest.attachments) == 1


def test_no_duplicate_step_without_a_similar_case(en, db, regions):
    response = en.post("/complaints/new", data=_form())
    assert response.status_code == 302
