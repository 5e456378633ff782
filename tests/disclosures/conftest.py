from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.disclosures import services
from tests.disclosures.helpers import valid_sections
from tests.factories import make_enterprise, make_limit, make_outlet, make_permit, make_user


@pytest.fixture
def ent(db):
    ent = make_enterprise(name="涟水绿源化工有限公司", contact_phone="0517-82345678")
    permit = make_permit(ent)
    make_limit(make_outlet(ent, "DW001", permit))
    db.session.flush()
    return ent


@pytest.fixture
def staff(db, ent):
    return make_user(Role.ENTERPRISE_STAFF, enterprise=ent)


@pytest.fixture
def signatory(db, ent):
    return make_user(Role.ENTERPRISE_SIGNATORY, enterprise=ent, display_name="张签署", email="sign@example.cn")


@pytest.fixture
def draft(db, ent, staff):
    """A complete 2025 draft that passes every check."""
    report = services.create_annual_draft(staff, ent, 2025)
    report.sections = valid_sections(ent.uscc)
    db.session.flush()
    return report
