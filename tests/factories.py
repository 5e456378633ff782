"""Plain factory functions (Notify's create_* / Indico's create_user): add + flush, return the object."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from argon2 import PasswordHasher

from portal.auth.models import Role, User
from portal.enterprises.models import Averaging, Enterprise, Outlet, OutletLimit, OutletType, Permit, PermitClass
from portal.enterprises.rules import USCC_ALPHABET, uscc_check_char
from portal.extensions import db
from portal.reference.models import Industry, Pollutant, Region

_seq = itertools.count(1)
_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # fast hashes in tests only
DEFAULT_PASSWORD = "correct horse battery staple"

REGIONS = {
    "320000": ("江苏省", 1, None), "320800": ("淮安市", 2, "320000"), "320803": ("淮安区", 3, "320800"),
    "320826": ("涟水县", 3, "320800"), "210000": ("辽宁省", 1, None), "210100": ("沈阳市", 2, "210000"),
    "210200": ("大连市", 2, "210000"),
}
POLLUTANTS = {
    "w01018": ("化学需氧量", "mg/L", "water"), "w21003": ("氨氮", "mg/L", "water"), "w01001": ("pH值", "无量纲", "water"),
    "a21026": ("二氧化硫", "mg/m³", "gas"), "a21002": ("氮氧化物", "mg/m³", "gas"), "a34013": ("颗粒物", "mg/m³", "gas"),
}


def make_uscc(n: int | None = None, region: str = "320826") -> str:
    n = next(_seq) if n is None else n
    body = f"91{region}" + "".join(USCC_ALPHABET[(n // 31**i) % 31] for i in range(8, -1, -1))
    # keep the organisation-code part digits/letters valid: 9 chars from the alphabet
    return body + uscc_check_char(body)


def ensure_reference() -> None:
    for code, (name, level, parent) in REGIONS.items():
        if db.session.get(Region, code) is None:
            db.session.add(Region(code=code, name=name, level=level, parent_code=parent))
    if db.session.get(Industry, "2614") is None:
        db.session.add(Industry(code="2614", name="有机化学原料制造", name_en="Organic chemical raw materials"))
        db.session.add(Industry(code="4411", name="火力发电", name_en="Thermal power generation"))
    for code, (name, unit, medium) in POLLUTANTS.items():
        if db.session.get(Pollutant, code) is None:
            db.session.add(Pollutant(code=code, name=name, unit=unit, medium=medium))
    db.session.flush()


def make_enterprise(name: str | None = None, region_code: str = "320826", industry_code: str = "2614",
                    **kw) -> Enterprise:
    ensure_reference()
    n = next(_seq)
    ent = Enterprise(uscc=kw.pop("uscc", None) or make_uscc(n, region_code), name=name or f"涟水测试化工有限公司{n}",
                     region_code=region_code, industry_code=industry_code, legal_rep=kw.pop("legal_rep", "张三"),
                     address=kw.pop("address", "江苏省淮安市涟水县工业园区1号"), **kw)
    db.session.add(ent)
    db.session.flush()
    return ent


def make_user(role: Role = Role.REGULATOR, username: str | None = None, *, enterprise: Enterprise | None = None,
              jurisdiction_code: str | None = None, password: str = DEFAULT_PASSWORD,
              second_factor: bool | None = None, **kw) -> User:
    n = next(_seq)
    if jurisdiction_code is None and role.is_regulator:
        jurisdiction_code = "3208"
    user = User(username=username or f"{role.value}{n}", display_name=kw.pop("display_name", f"用户{n}"),
                password_hash=_hasher.hash(password), role=role, jurisdiction_code=jurisdiction_code,
                enterprise_id=enterprise.id if enterprise else None, email=kw.pop("email", f"u{n}@example.cn"), **kw)
    db.session.add(user)
    db.session.flush()
    from portal.auth import factors

    if second_factor if second_factor is not None else role in factors.REQUIRED_ROLES:
        enrol_factor(user)
    return user


def enrol_factor(user: User) -> str:
    """A confirmed TOTP factor for the account (written directly: no audit record, no recovery codes, so suites that
    count audit records are not disturbed); returns the secret. tests/auth covers enrolment through the service."""
    import pyotp

    from portal.auth import factors
    from portal.auth.models import TotpFactor
    from portal.db import utcnow

    secret = pyotp.random_base32()
    db.session.add(TotpFactor(user_id=user.id, secret_sealed=factors._seal(secret), confirmed_at=utcnow()))
    db.session.flush()
    return secret


def totp_code(user: User) -> str:
    """A code the account's authenticator shows now. Each call may be used once: the factor's spent-step mark is
    cleared first, so a test can sign twice within one 30-second step (replay is tested on its own)."""
    import pyotp

    from portal.auth import factors

    factor = factors.totp_of(user)
    if factor is None:
        return "000000"  # an account without a factor: any code is wrong
    factor.last_step = None
    db.session.flush()
    return pyotp.TOTP(factors._open(factor.secret_sealed)).now()


def make_permit(enterprise: Enterprise, seq: int = 1, management_class: PermitClass = PermitClass.KEY,
                valid_from: date = date(2023, 1, 1), valid_to: date = date(2028, 1, 1)) -> Permit:
    permit = Permit(enterprise_id=enterprise.id, permit_no=f"{enterprise.uscc}{seq:03d}P",
                    management_class=management_class, valid_from=valid_from, valid_to=valid_to,
                    issued_by="淮安市生态环境局")
    db.session.add(permit)
    db.session.flush()
    return permit


def make_outlet(enterprise: Enterprise, code: str = "DW001", permit: Permit | None = None,
                outlet_type: OutletType = OutletType.MAIN) -> Outlet:
    outlet = Outlet(enterprise_id=enterprise.id, code=code, name=f"{code}排放口", outlet_type=outlet_type,
                    permit_id=permit.id if permit else None)
    db.session.add(outlet)
    db.session.flush()
    return outlet


def make_limit(outlet: Outlet, pollutant_code: str = "w01018", limit_value: str | None = "100",
               averaging: Averaging = Averaging.DAILY, **kw) -> OutletLimit:
    ensure_reference()
    limit = OutletLimit(outlet_id=outlet.id, pollutant_code=pollutant_code,
                        limit_value=Decimal(limit_value) if limit_value is not None else None,
                        unit=kw.pop("unit", POLLUTANTS.get(pollutant_code, ("", "mg/L"))[1]), averaging=averaging,
                        standard_code=kw.pop("standard_code", "GB 8978-1996"), **kw)
    db.session.add(limit)
    db.session.flush()
    return limit


def make_complaint(enterprise: Enterprise | None = None, region_code: str = "320826", *, photo: bool = False,
                   identity: dict | None = None, **kw):
    """A web complaint through the intake service; returns (complaint, query code)."""
    import io

    from PIL import Image

    from portal.complaints.models import Category
    from portal.complaints.services import Intake, submit_complaint
    from portal.complaints.uploads import prepare_upload

    ensure_reference()
    files = []
    if photo:
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), "green").save(buf, format="JPEG")
        buf.seek(0)
        files.append(prepare_upload("photo.jpg", buf, 10 * 1024 * 1024, 10_000_000))
    data = Intake(category=kw.pop("category", Category.WATER),
                  description=kw.pop("description", "黑色污水从排污口直排河道，气味刺鼻。"),
                  region_code="" if enterprise else region_code,
                  enterprise_uscc=kw.pop("enterprise_uscc", enterprise.uscc if enterprise else ""),
                  reported_name=kw.pop("reported_name", "" if enterprise else "无名小作坊"),
                  reported_address=kw.pop("reported_address", "" if enterprise else "涟水县某村河边"),
                  anonymous=identity is None, identity=identity or {}, **kw)
    return submit_complaint(data, files)


def make_incident(enterprise: Enterprise, outlet: Outlet | None = None, *, hour: int = 0, confirmed: bool = True,
                  pollutant_code: str = "w01018", value: float = 150.0, limit_value: float = 100.0):
    """A daily-mean exceedance incident with its exceedance finding, confirmed by regulators (the evidence is
    verified) unless `confirmed` is False: only confirmed incidents move the 环保码."""
    from datetime import datetime, timezone

    from portal.credit.evidence import add_evidence
    from portal.credit.models import EvidenceKind, EvidenceSource
    from portal.monitoring.models import Basis, ExceedanceIncident

    outlet = outlet or (enterprise.outlets[0] if enterprise.outlets else make_outlet(enterprise, "DW001",
                                                                                     make_permit(enterprise)))
    incident = ExceedanceIncident(enterprise_id=enterprise.id, outlet_id=outlet.id, pollutant_code=pollutant_code,
                                  basis=Basis.DAILY_MEAN, value=value, limit_value=limit_value,
                                  multiple=round(value / limit_value - 1, 3),
                                  period_start=datetime(2026, 11, 1, hour, tzinfo=timezone.utc))
    db.session.add(incident)
    db.session.flush()
    add_evidence(enterprise_id=enterprise.id, kind=EvidenceKind.MONITORING_EXCEEDANCE,
                 source=EvidenceSource.MONITORING, source_ref=f"exceedance:{incident.id}",
                 occurred_on=date(2026, 11, 1), title=f"{pollutant_code} daily_mean {value:g}", verified=confirmed,
                 finding=not confirmed)
    return incident
