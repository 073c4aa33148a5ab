"""Agencies, users, handlers, dogs and teams."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String,
                        Table, Text, UniqueConstraint, and_, or_, select)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import dates
from ..extensions import db
from ..roles import ROLES
from .base import UTCDateTime, enum_check, utcnow

DOG_STATUSES = ("in_training", "active", "retired")
SEXES = ("male", "female")
DEFAULT_THRESHOLDS = "90,60,30,14,7,1,0"
# The find rate a dog should reach (SWGDOG's certification figure), and how long a device type,
# hiding spot, concealment or height may go untrained (esd/proficiency/).
DEFAULT_PROFICIENCY_STANDARD = 90
DEFAULT_READINESS_WINDOW_DAYS = 60
TEMPERATURE_UNITS = ("F", "C")

funder_grants = Table(
    "funder_grant",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
)


class Agency(db.Model):
    """A task force or department: the tenant boundary."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    warning_window_days: Mapped[int] = mapped_column(Integer, default=60)
    reminder_thresholds: Mapped[str] = mapped_column(String(120), default=DEFAULT_THRESHOLDS)
    monthly_training_target_hours: Mapped[int] = mapped_column(Integer, default=16)
    # Temperatures are stored in °C; this is the unit they are shown and entered in (esd/units.py).
    temperature_unit: Mapped[str] = mapped_column(String(1), default="F")
    proficiency_standard: Mapped[int] = mapped_column(Integer, default=DEFAULT_PROFICIENCY_STANDARD)  # percent
    readiness_window_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_READINESS_WINDOW_DAYS)
    # The state or region funders' national view groups agencies by ("Pacific Northwest", "Texas").
    region: Mapped[str | None] = mapped_column(String(80))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("warning_window_days BETWEEN 1 AND 365", name="warning_window"),
        CheckConstraint("monthly_training_target_hours BETWEEN 0 AND 400", name="training_target"),
        CheckConstraint(enum_check("temperature_unit", TEMPERATURE_UNITS), name="temperature_unit"),
        CheckConstraint("proficiency_standard BETWEEN 1 AND 100", name="proficiency_standard"),
        CheckConstraint("readiness_window_days BETWEEN 1 AND 365", name="readiness_window"),
    )

    def today(self, now: datetime | None = None) -> date:
        """The agency's calendar day at `now` (the present when None): what "today" means for its records."""
        return dates.local_day(self.timezone, now)

    def local(self, moment: datetime) -> datetime:
        """`moment` in the agency's time zone (a naive one is taken as UTC)."""
        return dates.local_time(self.timezone, moment)

    def format_time(self, moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """A time for a person to read: local, with the zone's abbreviation ("2026-11-30 19:30 PST")."""
        return dates.format_local(moment, self.timezone, fmt)

    @property
    def zone_label(self) -> str:
        """The zone as people say it: "Pacific Time (Los Angeles)"."""
        return dates.zone_label(self.timezone)

    def thresholds(self) -> list[int]:
        """Reminder thresholds in days before expiry, most distant first."""
        values = {int(v) for v in self.reminder_thresholds.split(",") if v.strip()}
        return sorted(values, reverse=True)

    def __repr__(self) -> str:
        return f"<Agency {self.name}>"


class User(UserMixin, db.Model):
    """A login with one role."""

    __audited__ = True
    __audit_exclude__ = {"password_hash", "last_login_at", "last_seen_at"}
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped at logout and password change: every cookie naming an older version is refused.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    email_reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    # A funder's fiscal year starts on the first of this month (1: the calendar year).
    fiscal_year_start: Mapped[int] = mapped_column(Integer, default=1)
    # The trainer right: a handler who plans, sees and closes the agency's sealed sessions (roles.is_trainer).
    trainer: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency | None] = relationship()
    granted_agencies: Mapped[list[Agency]] = relationship(secondary=funder_grants, order_by=Agency.name)
    handler: Mapped[Handler | None] = relationship(back_populates="user")

    __table_args__ = (
        CheckConstraint(enum_check("role", ROLES), name="role"),
        # Managers and handlers belong to exactly one agency; admins and funders to none.
        CheckConstraint("(role IN ('manager', 'handler')) = (agency_id IS NOT NULL)", name="role_agency"),
        CheckConstraint("fiscal_year_start BETWEEN 1 AND 12", name="fiscal_year_start"),
        # Only a handler is given the trainer right: managers are trainers already, admins and funders train no team.
        CheckConstraint("NOT trainer OR role = 'handler'", name="trainer_handler"),
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Handler(db.Model):
    """A person who works a dog; may be linked to a user account."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    badge_number: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship()
    user: Mapped[User | None] = relationship(back_populates="handler")
    teams: Mapped[list[TeamAssignment]] = relationship(back_populates="handler",
                                                       order_by="TeamAssignment.starts_on.desc()")

    __table_args__ = (UniqueConstraint("agency_id", "badge_number"),)

    def __repr__(self) -> str:
        return f"<Handler {self.name}>"


class Dog(db.Model):
    """An ESD detection dog."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    call_sign: Mapped[str | None] = mapped_column(String(40))
    breed: Mapped[str | None] = mapped_column(String(80))
    sex: Mapped[str | None] = mapped_column(String(8))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    microchip_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="in_training")
    acquired_on: Mapped[date | None] = mapped_column(Date)
    retired_on: Mapped[date | None] = mapped_column(Date)
    photo_filename: Mapped[str | None] = mapped_column(String(80))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship()
    teams: Mapped[list[TeamAssignment]] = relationship(back_populates="dog",
                                                       order_by="TeamAssignment.starts_on.desc()")

    __table_args__ = (
        CheckConstraint(enum_check("status", DOG_STATUSES), name="status"),
        CheckConstraint(f"sex IS NULL OR {enum_check('sex', SEXES)}", name="sex"),
        CheckConstraint("retired_on IS NULL OR acquired_on IS NULL OR retired_on >= acquired_on",
                        name="retired_after_acquired"),
        Index("ix_dog_agency_status", "agency_id", "status"),
    )

    def team_on(self, day: date) -> TeamAssignment | None:
        """The team assignment in force on `day`, if any."""
        stmt = (select(TeamAssignment).where(TeamAssignment.dog_id == self.id, TeamAssignment.active_on(day))
                .order_by(TeamAssignment.starts_on.desc()).limit(1))
        return db.session.scalar(stmt)

    def current_team(self, today: date | None = None) -> TeamAssignment | None:
        """The team in force on `today`, the agency's day when None."""
        return self.team_on(today or self.agency.today())

    def __repr__(self) -> str:
        return f"<Dog {self.name}>"


class TeamAssignment(db.Model):
    """Which handler works which dog, from when to when."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"))
    handler_id: Mapped[int] = mapped_column(ForeignKey("handler.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    dog: Mapped[Dog] = relationship(back_populates="teams")
    handler: Mapped[Handler] = relationship(back_populates="teams")

    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_starts"),
        Index("ix_team_dog_starts", "dog_id", "starts_on"),
    )

    @hybrid_method
    def active_on(self, day: date) -> bool:
        """In force on `day`: its first and last days included, open-ended while it has no end."""
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)

    @active_on.inplace.expression
    @classmethod
    def _active_on_clause(cls, day: date):
        """`active_on` as a WHERE clause."""
        return and_(cls.starts_on <= day, or_(cls.ends_on.is_(None), cls.ends_on >= day))
