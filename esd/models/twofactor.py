"""Two-factor sign-in: each user's authenticator secret, their recovery codes, and who must enrol."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..roles import ROLES
from .base import UTCDateTime, enum_check, utcnow


class TwoFactor(db.Model):
    """A user's TOTP secret; in force once `confirmed_at` is set by a first correct code."""

    __tablename__ = "user_two_factor"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The 30-second step of the last accepted code: a code is taken once, never again in its window.
    last_time_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(db.Model):
    """One single-use recovery code, stored as its SHA-256 (80 random bits need no slow hash)."""

    __tablename__ = "recovery_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TwoFactorRule(db.Model):
    """Everyone of one role, or everyone of one agency, must sign in with a second factor."""

    __tablename__ = "two_factor_rule"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str | None] = mapped_column(String(16), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("(role IS NULL) != (agency_id IS NULL)", name="role_or_agency"),
        CheckConstraint(f"role IS NULL OR {enum_check('role', ROLES)}", name="role"),
    )
