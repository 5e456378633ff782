from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db
from portal.search.tokens import bigram_doc


class KeyUnitType(enum.StrEnum):
    """环境监管重点单位 categories (DOMAIN §1.2)."""

    WATER = "water"
    AIR = "air"
    GROUNDWATER = "groundwater"
    NOISE = "noise"
    SOIL = "soil"
    RISK = "risk"


class PermitClass(enum.StrEnum):
    KEY = "key"  # 重点管理
    SIMPLIFIED = "simplified"  # 简化管理
    REGISTRATION = "registration"  # 登记管理


class PermitStatus(enum.StrEnum):
    """A permit's legal state (排污许可管理条例, 排污许可管理办法). "Expired" is not stored: it follows from valid_to."""

    IN_FORCE = "in_force"  # 有效
    SHUTDOWN = "shutdown"  # 停产: the unit stopped production (a PermitShutdown row gives the dates and statement)
    REVOKED = "revoked"  # 撤销 / 吊销
    CANCELLED = "cancelled"  # 注销


class OutletType(enum.StrEnum):
    MAIN = "main"  # 主要排放口
    GENERAL = "general"  # 一般排放口
    FUGITIVE = "fugitive"  # 无组织
    BOUNDARY = "boundary"  # 厂界


class Averaging(enum.StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    INSTANT = "instant"


class ProposalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Enterprise(TimestampMixin, db.Model):
    __tablename__ = "enterprises"
    # Browsing a county's registry by name is an ordered scan of this index (without it PostgreSQL walks the name
    # index of the whole country: 2 s at 1M rows); it also serves every region_code lookup.
    # Search by area (portal/maps/area.py): a longitude range scan filtered on latitude inside the same index, id
    # included so a page's keys come from the index alone.
    __table_args__ = (sa.Index("ix_enterprises_region_name", "region_code", "name", "id"),
                      sa.Index("ix_enterprises_lon_lat", "longitude", "latitude", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    former_names: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    legal_rep: Mapped[str] = mapped_column(sa.String(64), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    production_address: Mapped[str] = mapped_column(sa.String(300), default="")
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    industry_code: Mapped[str] = mapped_column(sa.ForeignKey("industries.code"), index=True)
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    contact_phone: Mapped[str] = mapped_column(sa.String(32), default="")
    is_listed: Mapped[bool] = mapped_column(default=False)
    stock_code: Mapped[str] = mapped_column(sa.String(16), default="")
    is_bond_issuer: Mapped[bool] = mapped_column(default=False)
    # CJK bigrams + lower-case ASCII words of name and former names; indexed by FTS5 / tsvector (search/ddl.py).
    search_tokens: Mapped[str] = mapped_column(sa.Text, default="")

    region = relationship("Region", lazy="joined")
    industry = relationship("Industry", lazy="joined")
    permits: Mapped[list[Permit]] = relationship(back_populates="enterprise", order_by="Permit.permit_no")
    outlets: Mapped[list[Outlet]] = relationship(back_populates="enterprise", order_by="Outlet.code")
    key_units: Mapped[list[KeyUnitYear]] = relationship(back_populates="enterprise",
                                                       order_by="(KeyUnitYear.year.desc(), KeyUnitYear.unit_type)")

    def refresh_search_tokens(self) -> None:
        self.search_tokens = bigram_doc(" ".join([self.name, *(self.former_names or [])]), self.region_code or "",
                                        self.industry_code or "")

    def key_unit_types(self, year: int) -> list[KeyUnitType]:
        return [k.unit_type for k in self.key_units if k.year == year]


@sa.event.listens_for(Enterprise, "before_insert")
@sa.event.listens_for(Enterprise, "before_update")
def _keep_search_tokens(mapper, connection, target: Enterprise) -> None:
    target.refresh_search_tokens()


class KeyUnitYear(db.Model):
    """An enterprise's key-unit types for one year (重点排污单位名录 is fixed per year)."""

    __tablename__ = "key_unit_years"
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "year", "unit_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    unit_type: Mapped[KeyUnitType] = mapped_column(str_enum(KeyUnitType, 16))

    enterprise = relationship("Enterprise", back_populates="key_units")


class Permit(TimestampMixin, db.Model):
    __tablename__ = "permits"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    permit_no: Mapped[str] = mapped_column(sa.String(22), unique=True)
    management_class: Mapped[PermitClass] = mapped_column(str_enum(PermitClass, 16))
    valid_from: Mapped[date] = mapped_column()
    valid_to: Mapped[date] = mapped_column(index=True)
    issued_by: Mapped[str] = mapped_column(sa.String(100), default="")
    status: Mapped[PermitStatus] = mapped_column(str_enum(PermitStatus, 16), default=PermitStatus.IN_FORCE)
    status_since: Mapped[date | None] = mapped_column()  # the day a revocation or cancellation took effect

    enterprise = relationship("Enterprise", back_populates="permits")

    def state_on(self, day: date) -> str:
        """The shown state: a stored status, or "expired" for a permit in force past its validity."""
        if self.status == PermitStatus.IN_FORCE and self.valid_to < day:
            return "expired"
        return self.status.value


class Outlet(TimestampMixin, db.Model):
    __tablename__ = "outlets"
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    permit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("permits.id"))
    code: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str] = mapped_column(sa.String(100))
    outlet_type: Mapped[OutletType] = mapped_column(str_enum(OutletType, 16))
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    destination: Mapped[str] = mapped_column(sa.String(200), default="")

    enterprise = relationship("Enterprise", back_populates="outlets")
    permit = relationship("Permit")
    limits: Mapped[list[OutletLimit]] = relationship(back_populates="outlet", order_by="OutletLimit.pollutant_code",
                                                     cascade="all, delete-orphan")

    @property
    def medium(self) -> str:
        return "gas" if self.code.startswith("DA") else "water"


class OutletLimit(TimestampMixin, db.Model):
    """A pollutant an outlet must monitor, with its permitted limit (from the permit, never hard-coded)."""

    __tablename__ = "outlet_limits"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "pollutant_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    pollutant_code: Mapped[str] = mapped_column(sa.ForeignKey("pollutants.code"))
    limit_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    limit_min: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    limit_max: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    unit: Mapped[str] = mapped_column(sa.String(16))
    averaging: Mapped[Averaging] = mapped_column(str_enum(Averaging, 16))
    reference_o2: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    standard_code: Mapped[str] = mapped_column(sa.String(64), default="")

    outlet = relationship("Outlet", back_populates="limits")
    pollutant = relationship("Pollutant", lazy="joined")


class ChangeProposal(TimestampMixin, db.Model):
    """An enterprise user's proposed change to its own registry data; a regulator confirms or rejects it."""

    __tablename__ = "change_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    proposer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    target_type: Mapped[str] = mapped_column(sa.String(32))  # enterprise / permit / outlet / outlet_limit
    target_id: Mapped[int | None] = mapped_column()  # None = create a new object
    payload: Mapped[dict] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus, 16), default=ProposalStatus.PENDING,
                                                   index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")

    enterprise = relationship("Enterprise")
    proposer = relationship("User", foreign_keys=[proposer_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
