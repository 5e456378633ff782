from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class Region(db.Model):
    """GB/T 2260 administrative division. level: 1 province, 2 prefecture, 3 county."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(128), default="")
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)

    @property
    def prefix(self) -> str:
        """The jurisdiction prefix this region stands for ("32", "3208", "320826")."""
        return self.code[: {1: 2, 2: 4}.get(self.level, 6)]


class Industry(db.Model):
    """GB/T 4754-2017 entry. level: 1 section (A–T), 2 division (2 digits), 3 group (3), 4 class (4 digits).
    Enterprises are registered under a class; the other levels group classes in pickers and search filters."""

    __tablename__ = "industries"

    code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(160), default="")
    level: Mapped[int] = mapped_column(sa.SmallInteger, default=4, server_default="4")
    parent_code: Mapped[str | None] = mapped_column(sa.String(5))


class Pollutant(db.Model):
    """HJ 212-2017 / HJ 524 pollutant code with its unit (DOMAIN §5.6)."""

    __tablename__ = "pollutants"

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    unit: Mapped[str] = mapped_column(sa.String(16))
    medium: Mapped[str] = mapped_column(sa.String(8))  # water / gas / noise / ambient
