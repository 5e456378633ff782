"""The enterprise environmental code (企业环保码): the current colour per enterprise and its public history."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class EnvCode(db.Model):
    """An enterprise's current code: colour, the reasons (rules.Reason dicts, worst first), since when it has had
    this colour, and when it was last computed. Kept current by envcode.events before every commit that touches
    its causes; the envcode-refresh job is the backstop."""

    __tablename__ = "env_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), unique=True)
    colour: Mapped[str] = mapped_column(sa.String(8))
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    since: Mapped[datetime] = mapped_column()  # the colour has been this since
    computed_at: Mapped[datetime] = mapped_column()


class EnvCodeChange(db.Model):
    """One row each time an enterprise's colour or one of its causes changes (the public history)."""

    __tablename__ = "env_code_changes"
    __table_args__ = (sa.Index("ix_env_code_changes_enterprise", "enterprise_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    colour: Mapped[str] = mapped_column(sa.String(8))
    previous_colour: Mapped[str | None] = mapped_column(sa.String(8))
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    changed_at: Mapped[datetime] = mapped_column()
