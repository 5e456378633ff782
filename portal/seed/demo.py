"""Demo data: a realistic, deterministic registry plus one account per role.

The registry is written with Core executemany in batches, each batch its own transaction, because the benchmark
loads a million enterprises and the ORM would take hours; search_tokens are computed here (the ORM event does not
run for Core inserts; on PostgreSQL the rows go through COPY) and the database's own triggers / generated column index them. This bulk loader is an edge
like a CLI command, so it commits per batch; the accounts and the audit record go through the session and are
committed by the caller.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import sqlalchemy as sa
from argon2 import PasswordHasher

from portal.audit.services import record
from portal.auth.models import BindingStatus, EnterpriseBinding, Role, User
from portal.db import utcnow
from portal.enterprises.models import Enterprise, KeyUnitYear, Outlet, OutletLimit, Permit
from portal.extensions import db
from portal.reference.services import pollutant_rows, region_rows
from portal.seed.generator import Bundle, DemoGenerator
from portal.search import cache as search_cache

BATCH_SIZE = 5000
TABLES = (Enterprise.__table__, Permit.__table__, Outlet.__table__, OutletLimit.__table__, KeyUnitYear.__table__)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    display_name: str
    jurisdiction_code: str | None = None
    enterprise_bound: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("admin", Role.ADMIN, "系统管理员"),
    DemoAccount("huaian_regulator", Role.REGULATOR, "淮安市生态环境局 监管员", "3208"),
    DemoAccount("huaian_lead", Role.REGULATOR_LEAD, "淮安市生态环境局 科长", "3208"),
    DemoAccount("lianshui_regulator", Role.REGULATOR, "淮安市涟水生态环境局 监管员", "320826"),
    DemoAccount("liaoning_regulator", Role.REGULATOR, "辽宁省生态环境厅 监管员", "21"),
    DemoAccount("ent_staff", Role.ENTERPRISE_STAFF, "企业环保专员", enterprise_bound=True),
    DemoAccount("ent_signatory", Role.ENTERPRISE_SIGNATORY, "企业法定代表人", enterprise_bound=True),
)


@dataclass
class SeedSummary:
    enterprises: int = 0
    permits: int = 0
    outlets: int = 0
    limits: int = 0
    key_units: int = 0
    seconds: float = 0.0
    demo_enterprise: Enterprise | None = None
    accounts: list[tuple[str, str, str, str]] = field(default_factory=list)  # username, role, scope, password


def schema_ready() -> bool:
    return sa.inspect(db.engine).has_table(Enterprise.__tablename__)


def enterprise_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) or 0


def _next_ids(conn: sa.Connection) -> dict[str, int]:
    return {t.name: (conn.scalar(sa.select(sa.func.max(t.c.id))) or 0) + 1 for t in TABLES}


def _flush_batch(conn: sa.Connection, batch: list[Bundle]) -> None:
    rows = {
        "enterprises": [b.enterprise for b in batch],
        "permits": [p for b in batch for p in b.permits],
        "outlets": [o for b in batch for o in b.outlets],
        "outlet_limits": [lim for b in batch for lim in b.limits],
        "key_unit_years": [k for b in batch for k in b.key_units],
    }
    for table in TABLES:
        if not rows[table.name]:
            continue
        if conn.dialect.name == "postgresql":
            _copy_rows(conn, table, rows[table.name])
        else:
            conn.execute(table.insert(), rows[table.name])


def _copy_rows(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """PostgreSQL COPY: an order of magnitude faster than executemany for the million-row benchmark."""
    columns = [c.name for c in table.columns]
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    # columns the generator leaves out get their scalar Python default (or NULL), as table.insert() gives them
    defaults = {c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
                for c in table.columns}
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            values = [row.get(c, defaults[c]) for c in columns]
            copy.write_row([json.dumps(v, ensure_ascii=False) if c in json_columns else v
                            for c, v in zip(columns, values)])


def _reset_sequences(conn: sa.Connection) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the loaded rows."""
    if conn.dialect.name != "postgresql":
        return
    for t in TABLES:
        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                             f"COALESCE((SELECT max(id) FROM {t.name}), 0) + 1, false)")


def bulk_insert_registry(n: int, seed: int, today: date,
                         progress: Callable[[int, int], None] | None = None) -> SeedSummary:
    """Generate and insert n enterprises with permits, outlets, limits and key-unit years (commits per batch)."""
    summary = SeedSummary()
    started = utcnow()
    units = {p["code"]: p["unit"] for p in pollutant_rows()}
    with db.engine.connect() as conn:
        first_ids = _next_ids(conn)
    gen = DemoGenerator(seed, region_rows(), units, today, started, first_ids)
    batch: list[Bundle] = []
    for i, bundle in enumerate(gen.bundles(n), start=1):
        batch.append(bundle)
        summary.permits += len(bundle.permits)
        summary.outlets += len(bundle.outlets)
        summary.limits += len(bundle.limits)
        summary.key_units += len(bundle.key_units)
        if len(batch) >= BATCH_SIZE or i == n:
            with db.engine.begin() as conn:
                _flush_batch(conn, batch)
            batch = []
            if progress:
                progress(i, n)
    with db.engine.begin() as conn:
        _reset_sequences(conn)
        search_cache.bump(conn)  # Core writes: tell the search cache the registry changed
    summary.enterprises = n
    summary.seconds = (utcnow() - started).total_seconds()
    return summary


def _demo_enterprise(first_id: int) -> Enterprise | None:
    return db.session.scalar(sa.select(Enterprise).where(Enterprise.id >= first_id).order_by(Enterprise.id).limit(1))


def create_demo_accounts(enterprise: Enterprise | None, password: str | None) -> list[tuple[str, str, str, str]]:
    """One account per role; existing usernames are left alone. Returns (username, role, scope, password) rows."""
    hasher = PasswordHasher()
    created = []
    for spec in DEMO_ACCOUNTS:
        if db.session.scalar(sa.select(User.id).where(User.username == spec.username)) is not None:
            continue
        if spec.enterprise_bound and enterprise is None:
            continue
        secret = password or secrets.token_urlsafe(12)
        user = User(username=spec.username, display_name=spec.display_name, password_hash=hasher.hash(secret),
                    role=spec.role, jurisdiction_code=spec.jurisdiction_code, email=f"{spec.username}@portal.example.cn",
                    enterprise_id=enterprise.id if spec.enterprise_bound else None)
        db.session.add(user)
        db.session.flush()
        scope = spec.jurisdiction_code or ""
        if spec.enterprise_bound:
            db.session.add(EnterpriseBinding(user_id=user.id, enterprise_id=enterprise.id, requested_role=spec.role,
                                             status=BindingStatus.APPROVED, note="demo data",
                                             decided_at=utcnow(), decision_note="demo data"))
            scope = f"{enterprise.uscc} {enterprise.name}"
        created.append((spec.username, spec.role.value, scope, secret))
    db.session.flush()
    return created


def seed_demo(n: int, seed: int, today: date, password: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> SeedSummary:
    """Load the registry (committed per batch) and the accounts (flushed), then one audit record for the load."""
    with db.engine.connect() as conn:
        first_enterprise_id = _next_ids(conn)["enterprises"]
    summary = bulk_insert_registry(n, seed, today, progress)
    summary.demo_enterprise = _demo_enterprise(first_enterprise_id)
    summary.accounts = create_demo_accounts(summary.demo_enterprise, password)
    record(None, "seed.demo", object_type="seed", object_id=str(seed), after={
        "enterprises": summary.enterprises, "permits": summary.permits, "outlets": summary.outlets,
        "outlet_limits": summary.limits, "key_unit_years": summary.key_units,
        "accounts": [a[0] for a in summary.accounts], "seed": seed, "seconds": round(summary.seconds, 1)})
    return summary
