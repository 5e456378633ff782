"""Mandated disclosure (DOMAIN §1): annual and temporary reports, their obligations and regulator reviews.

Published reports are frozen: `content_json` (canonical JSON) and `sha256` never change once set, and nothing is
ever deleted (order 24 Art. 6). A correction is a new CHANGE temporary report (Art. 18).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # submitted = published at once (DOMAIN §1.11)
    CORRECTED = "corrected"  # a published CHANGE report refers to it; stays public


class Trigger(enum.StrEnum):
    """Temporary-report triggers (DOMAIN §1.7)."""

    PERMIT_CHANGE = "permit_change"
    ADMIN_PENALTY = "admin_penalty"
    DETENTION = "detention"
    CRIMINAL = "criminal"
    DAMAGE_COMPENSATION = "damage_compensation"
    EMERGENCY = "emergency"
    CHANGE = "change"


class ObligationKind(enum.StrEnum):
    ANNUAL = "annual"
    TEMPORARY = "temporary"


class ObligationStatus(enum.StrEnum):
    PENDING = "pending"
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"


class ReviewFlag(enum.StrEnum):
    NONE = "none"
    NON_COMPLIANT = "non_compliant"  # 不符合准则
    UNTRUE = "untrue"  # 不真实
    INACCURATE = "inaccurate"  # 不准确


class PublishedMixin:
    """Columns a report gets when it is signed: the frozen content, its digest and the copy-of-record PDF."""

    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus, 16), default=ReportStatus.DRAFT, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column()
    content_json: Mapped[str | None] = mapped_column(sa.Text)
    sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # The PDF is rendered once, on first download, and kept: its bytes' SHA-256 lets anyone check an uploaded copy.
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    pdf_bytes: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)

    @declared_attr
    def signer_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("users.id"))

    @declared_attr
    def signer(cls):
        return relationship("User", foreign_keys=[cls.signer_id])

    @property
    def is_draft(self) -> bool:
        return self.status == ReportStatus.DRAFT


class AnnualReport(PublishedMixin, TimestampMixin, db.Model):
    """年度环境信息依法披露报告 for one enterprise and one report year."""

    __tablename__ = "annual_reports"
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "year"),)

    kind = "annual"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    # {section_code: {"state", "reason", "data", "prefill", "overrides"}} (rules.SECTIONS)
    sections: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    acknowledged_warnings: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    enterprise = relationship("Enterprise")


class TemporaryReport(PublishedMixin, TimestampMixin, db.Model):
    """临时环境信息依法披露报告: one Art. 17 event, or a CHANGE correcting a published report (Art. 18)."""

    __tablename__ = "temporary_reports"

    kind = "temporary"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    trigger: Mapped[Trigger] = mapped_column(str_enum(Trigger, 24))
    legal_doc_no: Mapped[str] = mapped_column(sa.String(100), default="")
    legal_doc_received_on: Mapped[date | None] = mapped_column()
    due_on: Mapped[date | None] = mapped_column()
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # CHANGE reports: the corrected report ("annual"/"temporary" + id) and [{section, field, old, new, reason}].
    corrects_kind: Mapped[str | None] = mapped_column(sa.String(16))
    corrects_id: Mapped[int | None] = mapped_column()
    changes: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    enterprise = relationship("Enterprise")


class Obligation(TimestampMixin, db.Model):
    """One duty to disclose with its deadline; the timeliness flag PENDING → ON_TIME | LATE | MISSING (§1.11)."""

    __tablename__ = "disclosure_obligations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "annual:<enterprise_id>:<year>" or "temporary:<report_id>": one row per duty, however often it is ensured.
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    kind: Mapped[ObligationKind] = mapped_column(str_enum(ObligationKind, 16))
    year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    temporary_report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("temporary_reports.id"))
    due_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[ObligationStatus] = mapped_column(str_enum(ObligationStatus, 16), default=ObligationStatus.PENDING,
                                                     index=True)
    submitted_at: Mapped[datetime | None] = mapped_column()

    enterprise = relationship("Enterprise")


class Review(TimestampMixin, db.Model):
    """A regulator's format review of a published report (DOMAIN §1.10 checklist) with an optional flag."""

    __tablename__ = "disclosure_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    checklist: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    flag: Mapped[ReviewFlag] = mapped_column(str_enum(ReviewFlag, 16), default=ReviewFlag.NONE)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    reviewer = relationship("User")


class ListStatus(enum.StrEnum):
    """Annual enterprise list (企业名单, Art. 9): draft → public notice (≥ 10 working days) → published."""

    DRAFT = "draft"
    PUBLIC_NOTICE = "public_notice"
    PUBLISHED = "published"


class DisclosureList(TimestampMixin, db.Model):
    """A prefecture's list of enterprises that must disclose for one year (DOMAIN §1.3)."""

    __tablename__ = "disclosure_lists"
    __table_args__ = (sa.UniqueConstraint("region_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)  # prefecture prefix, e.g. "3208"
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    status: Mapped[ListStatus] = mapped_column(str_enum(ListStatus, 16), default=ListStatus.DRAFT)
    notice_started_on: Mapped[date | None] = mapped_column()
    notice_ends_on: Mapped[date | None] = mapped_column()
    published_on: Mapped[date | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    entries: Mapped[list[DisclosureListEntry]] = relationship(back_populates="enterprise_list",
                                                              order_by="DisclosureListEntry.id")


class DisclosureListEntry(TimestampMixin, db.Model):
    """One enterprise on a list, with its bases (Art. 7) and, for listed companies and bond issuers, the Art. 8
    events of the previous year."""

    __tablename__ = "disclosure_list_entries"
    __table_args__ = (sa.UniqueConstraint("list_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("disclosure_lists.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    bases: Mapped[list] = mapped_column(sa.JSON, default=list)
    triggers: Mapped[list] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    enterprise_list = relationship("DisclosureList", back_populates="entries")
    enterprise = relationship("Enterprise")


class Art8Event(TimestampMixin, db.Model):
    """One Art. 8 event of a listed company or bond issuer (which trigger, in which year, on which legal document):
    the source of its 3-year list periods (Art. 10, periods.py). Never deleted; recording it again is a no-op."""

    __tablename__ = "disclosure_art8_events"
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "trigger", "year", "document_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    basis: Mapped[str] = mapped_column(sa.String(16))  # "listed" or "bond" (rules.BASES)
    trigger: Mapped[str] = mapped_column(sa.String(24))  # rules.ART8_TRIGGERS
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    document_no: Mapped[str] = mapped_column(sa.String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    enterprise = relationship("Enterprise")


class ListReport(TimestampMixin, db.Model):
    """A published enterprise list reported by the prefecture to the province (Art. 9: within 10 working days after
    publication). The reported entries are frozen as canonical JSON with their SHA-256."""

    __tablename__ = "disclosure_list_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("disclosure_lists.id"), unique=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    due_on: Mapped[date] = mapped_column()
    reported_on: Mapped[date] = mapped_column()
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    content_json: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))

    enterprise_list = relationship("DisclosureList")
    reported_by = relationship("User")


class WorkReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class WorkReport(TimestampMixin, db.Model):
    """The prefecture's report to the province on the previous year's disclosure work (Art. 23, due by the end of
    March): figures generated from the portal's obligations, reviews and list, plus the bureau's own text. Frozen
    (content_json + sha256) when submitted."""

    __tablename__ = "disclosure_work_reports"
    __table_args__ = (sa.UniqueConstraint("region_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)  # prefecture prefix, e.g. "3208"
    year: Mapped[int] = mapped_column(sa.SmallInteger)  # the year reported on
    due_on: Mapped[date] = mapped_column()
    status: Mapped[WorkReportStatus] = mapped_column(str_enum(WorkReportStatus, 16), default=WorkReportStatus.DRAFT)
    supervision_text: Mapped[str] = mapped_column(sa.Text, default="")
    other_text: Mapped[str] = mapped_column(sa.Text, default="")
    content_json: Mapped[str | None] = mapped_column(sa.Text)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    submitted_at: Mapped[datetime | None] = mapped_column()
    submitted_on: Mapped[date | None] = mapped_column()
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    submitted_by = relationship("User", foreign_keys=[submitted_by_id])


class AnnualDeadline(TimestampMixin, db.Model):
    """A jurisdiction's deadline for the annual reports of one report year (DOMAIN §1.4: 15 March of the next year
    by default, inclusive; a local bureau may set an earlier day). The longest matching region prefix applies."""

    __tablename__ = "disclosure_annual_deadlines"
    __table_args__ = (sa.UniqueConstraint("region_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)  # jurisdiction prefix, "32" or "3208"
    year: Mapped[int] = mapped_column(sa.SmallInteger)  # the report year; the deadline falls in year + 1
    due_on: Mapped[date] = mapped_column()
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    set_by = relationship("User")
