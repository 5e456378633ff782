"""Path traversal on every file-download route (issue 8, input attacks).

Each route that answers with a stored file (complaint photos and originals, credit evidence documents, lab reports,
open-data bulk files, static assets) is requested with every URL parameter replaced by traversal payloads — `../`,
percent-encoded and double-encoded dots and slashes, backslashes, absolute paths, NUL bytes — by an anonymous
visitor and by a regulator lead who may download the real files. Every answer must be 404 or 400 (a 308 slash
redirect is followed), and no answer may contain a file from outside the stores: /etc/passwd, the application's own
source, or a marker file written next to the upload directory.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from portal.auth.models import Role
from tests.conftest import login_as
from tests.test_route_authorisation import _url, world  # noqa: F401  (world: fixture)

DOWNLOADS = {"complaints.public_file", "complaints_console.original_file", "credit_files.download",
             "monitoring.lab_report", "opendata.download", "static"}
PAYLOADS = [
    "../../../../../../etc/passwd", "..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/wsgi.py", "..%5c..%5c..%5cwsgi.py", "%252e%252e%252f%252e%252e%252fwsgi.py",
    "....//....//....//etc/passwd", "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd", "..", "%2e%2e",
    "../secret.txt", "..%2fsecret.txt", "secret.txt%00.jpg", "%00", "1%00../../wsgi.py", "..%c0%af..%c0%afwsgi.py",
    "..%00/..%00/wsgi.py", "~root/.bashrc",
]
LEAKS = ("root:x:0:0", "create_app", "TRAVERSAL-MARKER", "import ")


@pytest.fixture
def secret(app):
    """A marker file beside the upload stores (one directory up from them)."""
    path = Path(app.config["COMPLAINT_UPLOAD_DIR"]).parent / "secret.txt"
    path.write_text("TRAVERSAL-MARKER")
    yield path
    path.unlink()


def attack_urls(app, rule, values: dict) -> list[str]:
    """The real URL with each parameter's segment, then the whole tail, replaced by every payload."""
    legit = _url(app, rule, values)
    urls = []
    for name in rule.arguments:
        real = str(values[name]) if name != "filename" else values[name]
        for payload in PAYLOADS:
            urls.append(legit.replace(real, payload, 1) if real in legit else legit + payload)
    for payload in PAYLOADS:
        urls.append(legit.rsplit("/", 1)[0] + "/" + payload)
    return urls


def test_every_download_route_refuses_traversal(app, client, world, secret):  # noqa: F811
    objects, users = world
    values = {**objects["own"], "filename": "css/portal.css", "name": "enterprises"}
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint in DOWNLOADS]
    assert {rule.endpoint for rule in rules} == DOWNLOADS, "a download route was renamed: update DOWNLOADS"
    tried, wrong = 0, []
    for who in (None, users[Role.REGULATOR_LEAD]):
        for rule in rules:
            for url in attack_urls(app, rule, values):
                if who is not None:
                    login_as(client, who)
                response = client.get(url, follow_redirects=True)
                body = response.get_data(as_text=True) if response.mimetype.startswith("text") or \
                    response.mimetype.endswith(("json", "javascript")) else response.get_data().decode("latin-1")
                response.close()
                tried += 1
                if response.status_code not in (400, 404) or any(leak in body for leak in LEAKS):
                    wrong.append((who and who.role.value, url, response.status_code))
    assert wrong == []
    assert tried >= 2 * len(rules) * len(PAYLOADS), tried


def test_the_real_files_are_served_so_the_refusals_mean_something(app, client, world):  # noqa: F811
    objects, users = world
    own = objects["own"]
    login_as(client, users[Role.REGULATOR_LEAD])
    css = client.get("/static/css/portal.css")
    css.close()
    assert css.status_code == 200
    original = client.get(f"/console/complaints/{own['complaint_id']}/files/{own['attachment_id']}")
    assert original.status_code == 200 and len(original.data) > 100


def test_a_nul_byte_in_the_path_or_query_is_a_400_not_a_database_error(client):
    """On PostgreSQL a NUL reaching a query raised DataError (a 500); it is refused before any view runs."""
    for url in ("/complaints/track/A%00B", "/enterprises/%00", "/search?q=%E5%8C%96%00", "/api/v1/enterprises?q=a%00",
                "/api/v1/enterprises?region%00=1"):
        assert client.get(url).status_code == 400, url


def test_a_nul_byte_in_a_form_field_is_a_400(client, db):
    """Form fields too: a NUL in a complaint description or a login name never reaches the database."""
    assert client.post("/auth/login", data={"username": "a\x00b", "password": "x"}).status_code == 400
    response = client.post("/complaints/new", data={"category": "water", "description": "黑水\x00直排",
                                                     "reported_name": "某厂"})
    assert response.status_code == 400
    assert client.post("/auth/login", data={"username": "nobody", "password": "x"}).status_code != 400
