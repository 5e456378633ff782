"""Rewards for verified reports (有奖举报, DOMAIN §6.6): one reward case per complaint, and each jurisdiction's
reward table as data. Reporter identities are never copied here: they stay encrypted on the complaint."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class RewardStatus(enum.StrEnum):
    """PROPOSED → APPROVED → PAID | REJECTED; INELIGIBLE when the rule refuses (may be reassessed)."""

    INELIGIBLE = "ineligible"
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


class PaymentMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    E_PAYMENT = "e_payment"  # 电子支付 (Hunan 2025)
    CASH = "cash"
    HONORARY = "honorary"  # 精神奖励: certificate, no money


class RewardCase(TimestampMixin, db.Model):
    """The reward assessment of one complaint, recorded by its handler (or the lead) and decided by a lead."""

    __tablename__ = "reward_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), unique=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)  # the complaint's place, for statistics
    # Facts the handler records (the complaint does not know them):
    is_insider: Mapped[bool] = mapped_column(default=False)  # 企业内部知情人员
    already_known: Mapped[bool] = mapped_column(default=False)  # bureau knew / was investigating / media exposed
    already_known_note: Mapped[str] = mapped_column(sa.Text, default="")
    tier: Mapped[str] = mapped_column(sa.String(40), default="")
    # Facts taken from the complaint when assessed (kept so the decision can be read later):
    is_real_name: Mapped[bool] = mapped_column(default=False)
    is_first_reporter: Mapped[bool] = mapped_column(default=False)
    is_substantiated: Mapped[bool] = mapped_column(default=False)
    ineligibility: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # reason codes, empty when eligible
    proposed_amount_yuan: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[RewardStatus] = mapped_column(str_enum(RewardStatus, 16), default=RewardStatus.PROPOSED,
                                                 index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    proposed_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    paid_on: Mapped[date | None] = mapped_column()
    payment_method: Mapped[PaymentMethod | None] = mapped_column(str_enum(PaymentMethod, 16))
    payment_reference: Mapped[str] = mapped_column(sa.String(100), default="")
    paid_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    complaint = relationship("Complaint")
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class RewardTable(TimestampMixin, db.Model):
    """A jurisdiction's reward table (tiers with amounts, insider bonus, cap); the longest prefix applies and the
    config default (REWARD_TABLE_DEFAULT) stands where none is set."""

    __tablename__ = "reward_tables"

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_prefix: Mapped[str] = mapped_column(sa.String(6), unique=True)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
