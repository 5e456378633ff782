"""Complaint records (DOMAIN §6, §10): the case, its timeline and its attachments."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum, utcnow
from portal.extensions import db


class Channel(enum.StrEnum):
    PHONE_12369 = "phone_12369"
    DISPATCH_12345 = "dispatch_12345"
    WECHAT = "wechat"
    WEB = "web"
    LETTER = "letter"
    VISIT = "visit"


class Category(enum.StrEnum):
    """Pollution type (DOMAIN §6.7)."""

    AIR = "air"
    WATER = "water"
    NOISE = "noise"
    SOLID_WASTE = "solid_waste"
    RADIATION = "radiation"
    ECOLOGY = "ecology"
    SOIL = "soil"
    MARINE = "marine"
    OTHER = "other"


class Status(enum.StrEnum):
    """DOMAIN §6.9."""

    RECEIVED = "received"
    REJECTED = "rejected"
    MERGED = "merged"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    INVESTIGATING = "investigating"
    EXTENDED = "extended"
    RESULT_REPORTED = "result_reported"
    REPLIED = "replied"
    CLOSED = "closed"
    REOPENED = "reopened"


class RejectionCode(enum.StrEnum):
    """Acceptance refusals (DOMAIN §6.3)."""

    NOT_COMPETENT = "REJECTED_NOT_COMPETENT"
    OTHER_LEGAL_ROUTE = "REJECTED_OTHER_LEGAL_ROUTE"
    DUPLICATE_IN_PROGRESS = "DUPLICATE_IN_PROGRESS"
    REVIEW_ROUTE = "REJECTED_REVIEW_ROUTE"


class Findings(enum.StrEnum):
    SUBSTANTIATED = "substantiated"  # violation found
    NOT_SUBSTANTIATED = "not_substantiated"  # violation not found


class Complaint(TimestampMixin, db.Model):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    query_code_hash: Mapped[str] = mapped_column(sa.String(128))
    # One per intake form render (or partner request id): a resubmitted form returns the first case.
    submission_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel), default=Channel.WEB)
    external_ticket: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    external_due_on: Mapped[date | None] = mapped_column()
    partner: Mapped[str] = mapped_column(sa.String(64), default="")
    # Open311 token of a posted request (random, secrets.token_urlsafe); GET tokens/<token> returns the case.
    open311_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True, index=True)
    category: Mapped[Category] = mapped_column(str_enum(Category))
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    reported_name: Mapped[str] = mapped_column(sa.String(200), default="")
    reported_address: Mapped[str] = mapped_column(sa.String(300), default="")
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    observed_at: Mapped[datetime | None] = mapped_column()
    description: Mapped[str] = mapped_column(sa.Text)
    # Fernet token of {"name", "phone", "email", "id_no"}; decrypted only for the assigned handler and the lead.
    reporter_token: Mapped[str] = mapped_column(sa.Text, default="")
    anonymous: Mapped[bool] = mapped_column(default=True)
    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.RECEIVED, index=True)
    is_urgent: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    accept_due: Mapped[date] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    close_due: Mapped[date | None] = mapped_column()
    extension_requested_days: Mapped[int | None] = mapped_column()
    extension_reason: Mapped[str] = mapped_column(sa.Text, default="")
    extension_requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    extension_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    extended_until: Mapped[date | None] = mapped_column()
    assigned_region_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)  # a jurisdiction prefix
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    rejection_code: Mapped[RejectionCode | None] = mapped_column(str_enum(RejectionCode, 40))
    rejection_note: Mapped[str] = mapped_column(sa.Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    findings: Mapped[Findings | None] = mapped_column(str_enum(Findings))
    findings_text: Mapped[str] = mapped_column(sa.Text, default="")
    reply_text: Mapped[str] = mapped_column(sa.Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    satisfaction: Mapped[int | None] = mapped_column()
    satisfaction_at: Mapped[datetime | None] = mapped_column()
    reopened_count: Mapped[int] = mapped_column(default=0)
    escalated_on: Mapped[date | None] = mapped_column()

    enterprise = relationship("Enterprise", lazy="joined")
    region = relationship("Region", foreign_keys=[region_code], lazy="joined")
    events: Mapped[list[ComplaintEvent]] = relationship(back_populates="complaint",
                                                        order_by="(ComplaintEvent.at, ComplaintEvent.id)")
    attachments: Mapped[list[ComplaintAttachment]] = relationship(back_populates="complaint",
                                                                  order_by="ComplaintAttachment.id")
    notes: Mapped[list[ComplaintNote]] = relationship(back_populates="complaint", order_by="ComplaintNote.id")

    @property
    def reported_label(self) -> str:
        return self.enterprise.name if self.enterprise else self.reported_name

    def __repr__(self) -> str:  # never includes the reporter
        return f"<Complaint {self.case_no} {self.status}>"


class ComplaintEvent(db.Model):
    """One line of the case timeline; public lines are shown to the reporter, internal ones only to handlers."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(40))
    is_public: Mapped[bool] = mapped_column(default=True)
    by_reporter: Mapped[bool] = mapped_column(default=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.Text, default="")

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class ComplaintAttachment(db.Model):
    """A photo or video. The original is kept for the handler; images also get a re-encoded public copy without
    EXIF/GPS."""

    __tablename__ = "complaint_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # image | video
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_path: Mapped[str] = mapped_column(sa.String(200))
    public_path: Mapped[str | None] = mapped_column(sa.String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class ComplaintNote(db.Model):
    """An investigation note (调查记录) of the handler: what was checked, optionally the on-site inspection (record
    number and date) and the penalty decision (document number and date) it led to, each optionally linked to the
    enterprise's credit evidence that records it. Seen only by the assigned handler and the lead."""

    __tablename__ = "complaint_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(sa.Text)
    inspection_ref: Mapped[str] = mapped_column(sa.String(100), default="")  # 现场检查笔录编号
    inspection_on: Mapped[date | None] = mapped_column()
    inspection_evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence.id"))
    penalty_doc_no: Mapped[str] = mapped_column(sa.String(100), default="")  # 行政处罚决定书文号
    penalty_on: Mapped[date | None] = mapped_column()
    penalty_evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence.id"))

    complaint: Mapped[Complaint] = relationship(back_populates="notes")
    author = relationship("User", foreign_keys=[author_id])
    inspection_evidence = relationship("Evidence", foreign_keys=[inspection_evidence_id])
    penalty_evidence = relationship("Evidence", foreign_keys=[penalty_evidence_id])

    @property
    def has_links(self) -> bool:
        return bool(self.inspection_ref or self.penalty_doc_no)

    def reference(self) -> dict:
        """What a substantiated result cites (no note text: only document numbers, dates and evidence ids)."""
        return {"note_id": self.id, "inspection_ref": self.inspection_ref or None,
                "inspection_on": self.inspection_on.isoformat() if self.inspection_on else None,
                "inspection_evidence_id": self.inspection_evidence_id, "penalty_doc_no": self.penalty_doc_no or None,
                "penalty_on": self.penalty_on.isoformat() if self.penalty_on else None,
                "penalty_evidence_id": self.penalty_evidence_id}


class ComplaintTransfer(db.Model):
    """A case moved to the territorially competent jurisdiction (转送, DOMAIN §6.1, §6.9): the place's district
    changes from `from_region_code` to `to_region_code`; the sending bureau loses access to the case."""

    __tablename__ = "complaint_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_region_code: Mapped[str] = mapped_column(sa.String(6))
    to_region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    reason: Mapped[str] = mapped_column(sa.Text)
    status_before: Mapped[str] = mapped_column(sa.String(20))
    accept_due_before: Mapped[date] = mapped_column()
    accept_due_after: Mapped[date] = mapped_column()

    complaint: Mapped[Complaint] = relationship()
    to_region = relationship("Region", foreign_keys=[to_region_code], lazy="joined")
