"""badge.svg escapes quotes: a name cannot close an attribute and add its own (issue 20)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.factories import make_enterprise

EVIL = 'A"B\' onload="alert(1)" x=\'<script>'


def test_a_name_with_quotes_stays_text_in_the_badge(client, db):
    ent = make_enterprise(name=EVIL)
    db.session.commit()
    response = client.get(f"/code/{ent.uscc}/badge.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)  # well-formed XML
    for element in root.iter():
        assert not any(name.endswith("onload") or name == "x'" for name in element.attrib), element.attrib
    assert root.attrib["aria-label"].endswith(EVIL)
    assert root.find("{http://www.w3.org/2000/svg}title").text.endswith(EVIL)
    assert b"<script>" not in response.data
