"""`flask devices add|list`: audited device registration from the command line."""
from __future__ import annotations

import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.monitoring.models import Device
from tests.factories import make_enterprise, make_outlet


def test_devices_add_registers_a_hashed_password_and_audits(runner, db):
    ent = make_enterprise()
    make_outlet(ent, "DA001")
    db.session.commit()
    result = runner.invoke(args=["devices", "add", "--mn", "MN0001", "--password", "secret", "--uscc", ent.uscc,
                                 "--outlet", "da001"])
    assert result.exit_code == 0, result.output
    device = db.session.scalar(sa.select(Device))
    assert device.mn == "MN0001" and "secret" not in device.password_hash
    assert db.session.scalar(sa.select(AuditRecord.actor_label).where(
        AuditRecord.action == "monitoring.device.add")) is not None
    listing = runner.invoke(args=["devices", "list"])
    assert "MN0001" in listing.output and "DA001" in listing.output


def test_devices_add_fails_cleanly_on_an_unknown_outlet_or_a_taken_mn(runner, db):
    ent = make_enterprise()
    make_outlet(ent, "DA001")
    db.session.commit()
    result = runner.invoke(args=["devices", "add", "--mn", "MN1", "--password", "p", "--uscc", ent.uscc,
                                 "--outlet", "DW009"])
    assert result.exit_code != 0 and "outlet" in result.output
    runner.invoke(args=["devices", "add", "--mn", "MN1", "--password", "p", "--uscc", ent.uscc, "--outlet", "DA001"])
    again = runner.invoke(args=["devices", "add", "--mn", "MN1", "--password", "p", "--uscc", ent.uscc,
                                "--outlet", "DA001"])
    assert again.exit_code != 0 and "MN1" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 1
