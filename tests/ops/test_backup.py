"""A backup taken from the live database restores what was there, on SQLite and on PostgreSQL."""
from __future__ import annotations

import sqlalchemy as sa

from portal.enterprises.models import Enterprise
from tests.factories import make_enterprise


def _names(db):
    return sorted(db.session.scalars(sa.select(Enterprise.name)))


def test_backup_then_restore_brings_back_the_data_as_it_was(db, runner, tmp_path):
    make_enterprise(name="备份前的企业甲")
    db.session.commit()
    target = tmp_path / "portal.backup"
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    make_enterprise(name="备份后才登记的企业乙")
    db.session.commit()
    assert _names(db) == ["备份前的企业甲", "备份后才登记的企业乙"]

    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert _names(db) == ["备份前的企业甲"]


def test_restore_asks_for_confirmation_and_refuses_a_missing_file(db, runner, tmp_path):
    assert runner.invoke(args=["restore", str(tmp_path / "x.backup")]).exit_code == 2
    result = runner.invoke(args=["restore", str(tmp_path / "x.backup"), "--yes"])
    assert result.exit_code == 1 and "no backup file" in result.output


def test_a_truncated_backup_restores_nothing_and_says_why(db, runner, tmp_path):
    make_enterprise(name="备份前的企业甲")
    db.session.commit()
    target = tmp_path / "portal.backup"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    make_enterprise(name="备份后才登记的企业乙")
    db.session.commit()
    broken = tmp_path / "broken.backup"
    broken.write_bytes(target.read_bytes()[: target.stat().st_size * 2 // 3])

    result = runner.invoke(args=["restore", str(broken), "--yes"])
    assert result.exit_code == 1 and "restore failed" in result.output
    assert _names(db) == ["备份前的企业甲", "备份后才登记的企业乙"]  # the failed restore changed nothing
