from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class EvidenceKind(enum.StrEnum):
    """What a piece of credit evidence records (DOMAIN §2.1 information sources, §2.3 deduction items)."""

    PENALTY = "penalty"  # 行政处罚
    DAILY_PENALTY = "daily_penalty"  # 按日连续处罚
    PRODUCTION_LIMIT = "production_limit"  # 限制生产
    PRODUCTION_STOP = "production_stop"  # 停产整治
    PERMIT_REVOKED = "permit_revoked"  # 吊销许可证
    DETENTION = "detention"  # 行政拘留
    CRIMINAL = "criminal"  # 追究刑事责任
    SUPERVISED_LISTING = "supervised_listing"  # 挂牌督办
    INSPECTION_FINDING = "inspection_finding"  # 检查发现问题
    INCIDENT = "incident"  # 突发环境事件
    DISCLOSURE_LATE = "disclosure_late"
    DISCLOSURE_MISSING = "disclosure_missing"
    DISCLOSURE_DEFECTIVE = "disclosure_defective"  # 不符合准则 / 不真实 / 不准确 (regulator finding)
    MONITORING_EXCEEDANCE = "monitoring_exceedance"
    MONITORING_GAP = "monitoring_gap"
    MONITORING_LATE = "monitoring_late"
    COMPLAINT_SUBSTANTIATED = "complaint_substantiated"
    COMMENDATION = "commendation"  # 表彰 / positive evidence


class EvidenceSource(enum.StrEnum):
    REGULATOR = "regulator"  # recorded by hand by a regulator
    DISCLOSURE = "disclosure"
    MONITORING = "monitoring"
    COMPLAINT = "complaint"


class Evidence(TimestampMixin, db.Model):
    """One fact the credit engine may read. Every capability adds its facts through credit.evidence.add_evidence;
    only verified evidence ever scores (DOMAIN §2.1)."""

    __tablename__ = "evidence"
    __table_args__ = (sa.UniqueConstraint("source_ref", "kind"),
                      sa.Index("ix_evidence_enterprise_date", "enterprise_id", "occurred_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind))
    source: Mapped[EvidenceSource] = mapped_column(str_enum(EvidenceSource, 16))
    # A stable reference to the record that produced it ("disclosure:12", "exceedance:907", "penalty-doc:淮环罚〔2026〕3号"),
    # unique with kind so that re-running a producer never duplicates evidence.
    source_ref: Mapped[str] = mapped_column(sa.String(120))
    occurred_on: Mapped[date] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(300))
    document_no: Mapped[str] = mapped_column(sa.String(100), default="")
    authority: Mapped[str] = mapped_column(sa.String(100), default="")
    amount_yuan: Mapped[int | None] = mapped_column(sa.BigInteger)
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    is_verified: Mapped[bool] = mapped_column(default=False)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column()
    is_public: Mapped[bool] = mapped_column(default=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column()  # revoked decision, repaired, or entered in error
    withdrawn_reason: Mapped[str] = mapped_column(sa.Text, default="")

    enterprise = relationship("Enterprise")
