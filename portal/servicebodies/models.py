"""Environmental service bodies (环境服务机构: EIA writers, monitoring labs, automatic-monitoring operators,
third-party treatment operators), the enterprises they serve, evidence against them and their own credit scheme
as data (DOMAIN §2, §4.1: the Yangtze Delta 2020 memorandum covers these bodies alongside enterprises)."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.credit.models import SchemeStatus
from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class BodyKind(enum.StrEnum):
    EIA_WRITER = "eia_writer"  # 环评文件编制单位
    MONITORING_LAB = "monitoring_lab"  # 检验检测机构
    AUTO_MONITORING_OPERATOR = "auto_monitoring_operator"  # 自动监测设施运维单位
    THIRD_PARTY_TREATMENT = "third_party_treatment"  # 第三方治理单位


class BodyEvidenceKind(enum.StrEnum):
    """What a regulator found about a body's work; the scheme's rules score these kinds."""

    DATA_FALSIFIED = "data_falsified"  # 篡改、伪造监测数据
    REPORT_UNTRUE = "report_untrue"  # 出具虚假报告 / 报告不实
    NEGLIGENT_WORK = "negligent_work"  # 失职、严重质量问题
    QUALIFICATION_BREACH = "qualification_breach"  # 超资质范围、无资质
    OPERATION_FAILURE = "operation_failure"  # 运维不到位致数据缺失
    COMMENDATION = "commendation"  # 表彰


class ServiceBody(TimestampMixin, db.Model):
    __tablename__ = "service_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[BodyKind] = mapped_column(str_enum(BodyKind, 32))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    qualification_no: Mapped[str] = mapped_column(sa.String(100), default="")  # 资质证书编号
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    region = relationship("Region", lazy="joined")
    engagements: Mapped[list[ServiceEngagement]] = relationship(
        back_populates="body", order_by="(ServiceEngagement.starts_on.desc(), ServiceEngagement.id)")
    evidence: Mapped[list[ServiceBodyEvidence]] = relationship(
        back_populates="body", order_by="(ServiceBodyEvidence.occurred_on.desc(), ServiceBodyEvidence.id)")


class ServiceEngagement(TimestampMixin, db.Model):
    """The body served an enterprise over a period (ends_on None: still serving)."""

    __tablename__ = "service_engagements"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(sa.ForeignKey("service_bodies.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    service: Mapped[str] = mapped_column(sa.String(200), default="")
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date | None] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    body: Mapped[ServiceBody] = relationship(back_populates="engagements")
    enterprise = relationship("Enterprise", lazy="joined")


class ServiceBodyEvidence(TimestampMixin, db.Model):
    """A regulator's finding about a body's work, with its document; it scores only once a second regulator
    confirmed it (four eyes) and while not withdrawn."""

    __tablename__ = "service_body_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(sa.ForeignKey("service_bodies.id"), index=True)
    kind: Mapped[BodyEvidenceKind] = mapped_column(str_enum(BodyEvidenceKind, 32))
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"))  # the client concerned
    title: Mapped[str] = mapped_column(sa.String(300))
    document_no: Mapped[str] = mapped_column(sa.String(100))
    occurred_on: Mapped[date] = mapped_column()  # the document's date
    authority: Mapped[str] = mapped_column(sa.String(100), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    is_confirmed: Mapped[bool] = mapped_column(default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_reason: Mapped[str] = mapped_column(sa.Text, default="")

    body: Mapped[ServiceBody] = relationship(back_populates="evidence")
    enterprise = relationship("Enterprise")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])


class ServiceBodySchemeVersion(TimestampMixin, db.Model):
    """The service-body scheme's rules as data, in the shape of credit.scoring.SchemeRules; one active version."""

    __tablename__ = "service_body_scheme_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    status: Mapped[SchemeStatus] = mapped_column(str_enum(SchemeStatus, 16), default=SchemeStatus.ACTIVE)
    rules: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    activated_at: Mapped[datetime | None] = mapped_column()
    activated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
