"""双随机 records beyond the sealed draw (DOMAIN §8.2, §8.6): the inspector roster (执法检查人员名录库) and the
inspections themselves, each with its 行政行为码 the enterprise verifies on the portal and rates afterwards."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class Inspector(TimestampMixin, db.Model):
    """A certified law-enforcement inspector of an authority (not a portal account; `user_id` only links one when
    the inspector also handles cases on the portal, so declared and complaint conflicts apply to them)."""

    __tablename__ = "credit_inspectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    jurisdiction_code: Mapped[str] = mapped_column(sa.String(6), index=True)  # GB/T 2260 prefix of the authority
    certificate_no: Mapped[str] = mapped_column(sa.String(40), unique=True)  # 执法证号
    certificate_valid_from: Mapped[date] = mapped_column()
    certificate_valid_until: Mapped[date] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user = relationship("User", foreign_keys=[user_id])

    def valid_during(self, first: date, last: date) -> bool:
        return self.certificate_valid_from <= first and last <= self.certificate_valid_until


class InspectionKind(enum.StrEnum):
    """DOMAIN §8.6 (Zhejiang 浙环发〔2025〕13号): routine checks (双随机) count against the yearly cap; case checks
    (complaints, data anomalies, referrals, the enterprise's own request) do not."""

    ROUTINE = "routine"
    CASE = "case"


class InspectionTrigger(enum.StrEnum):
    DRAW = "draw"
    COMPLAINT = "complaint"
    DATA_ANOMALY = "data_anomaly"
    REFERRAL = "referral"
    ENTERPRISE_REQUEST = "enterprise_request"


inspection_inspectors = sa.Table(
    "credit_inspection_inspectors", db.Model.metadata,
    sa.Column("inspection_id", sa.ForeignKey("credit_inspections.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("inspector_id", sa.ForeignKey("credit_inspectors.id"), primary_key=True),
)


class Inspection(TimestampMixin, db.Model):
    __tablename__ = "credit_inspections"
    __table_args__ = (sa.Index("ix_credit_inspections_enterprise_year", "enterprise_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)  # 行政行为码
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    draw_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_inspection_draws.id"), index=True)
    kind: Mapped[InspectionKind] = mapped_column(str_enum(InspectionKind, 16))
    trigger: Mapped[InspectionTrigger] = mapped_column(str_enum(InspectionTrigger, 24))
    counts_against_cap: Mapped[bool] = mapped_column()
    year: Mapped[int] = mapped_column()
    authority_code: Mapped[str] = mapped_column(sa.String(6))
    basis: Mapped[str] = mapped_column(sa.Text, default="")  # for case checks: the complaint or alert it follows
    inspected_on: Mapped[date | None] = mapped_column()
    result: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rating: Mapped[int | None] = mapped_column()
    rating_comment: Mapped[str] = mapped_column(sa.Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column()
    rated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    enterprise = relationship("Enterprise")
    draw = relationship("InspectionDraw")
    inspectors: Mapped[list[Inspector]] = relationship(secondary=inspection_inspectors, order_by="Inspector.name")
