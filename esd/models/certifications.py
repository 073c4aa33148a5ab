"""Certifications of dog-handler teams, the reminders sent about them, in-app notifications."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, func, select,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, enum_check, utcnow
from .core import Dog, Handler, User
from .vocab import VocabularyTerm

DISCIPLINES = ("esd", "tppo")
RESULTS = ("pass", "fail")
CHANNELS = ("email", "in_app")
REMINDER_STATUSES = ("pending", "sent", "failed", "cancelled")


def expiry_phrase(days: int | None, sentence: bool = False) -> str:
    """Say how far a certification is from expiry: "30 days" on the board, "expires in 30 days" in a notice."""
    if days is None:
        return "—"
    if days > 1:
        return f"expires in {days} days" if sentence else f"{days} days"
    if days == 1:
        return "expires tomorrow" if sentence else "1 day"
    if days == 0:
        return "expires today"
    return f"expired {-days} day{'s' if days != -1 else ''} ago"


class Certification(db.Model):
    """A team's certification by a certifying body; renewals are new rows."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("handler.id"), index=True)
    certifying_body_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"))
    discipline: Mapped[str] = mapped_column(String(8), default="esd")
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    evaluator: Mapped[str | None] = mapped_column(String(120))
    result: Mapped[str] = mapped_column(String(8), default="pass")
    score_finds: Mapped[int | None] = mapped_column(Integer)
    score_hides: Mapped[int | None] = mapped_column(Integer)
    score_false_alerts: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    # The certificate lives outside static/ under a random name; the original name is for display.
    certificate_file: Mapped[str | None] = mapped_column(String(80))
    certificate_name: Mapped[str | None] = mapped_column(String(200))
    certificate_mime: Mapped[str | None] = mapped_column(String(40))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certification.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dog: Mapped[Dog] = relationship()
    handler: Mapped[Handler | None] = relationship()
    certifying_body: Mapped[VocabularyTerm] = relationship()
    replaced_by: Mapped[Certification | None] = relationship(remote_side=[id])

    __table_args__ = (
        CheckConstraint("expires_on > issued_on", name="expires_after_issued"),
        CheckConstraint(enum_check("discipline", DISCIPLINES), name="discipline"),
        CheckConstraint(enum_check("result", RESULTS), name="result"),
        CheckConstraint("score_finds IS NULL OR score_finds >= 0", name="score_finds"),
        CheckConstraint("score_hides IS NULL OR score_hides >= 0", name="score_hides"),
        CheckConstraint("score_false_alerts IS NULL OR score_false_alerts >= 0",
                        name="score_false_alerts"),
        Index("ix_certification_dog_expires", "dog_id", "expires_on"),
        Index("ix_certification_agency_expires", "agency_id", "expires_on"),
    )

    def status_on(self, day: date, warning_days: int) -> str:
        """`valid`, `expiring` (within `warning_days` of expiry) or `expired` on `day`."""
        if self.result != "pass" or day > self.expires_on:
            return "expired"
        if (self.expires_on - day).days <= warning_days:
            return "expiring"
        return "valid"


class Reminder(db.Model):
    """One notice, for one certification, threshold, recipient and channel: sent at most once."""

    __audited__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id", ondelete="CASCADE"))
    threshold_days: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a job run took this row to send it; a row left `pending` long after (a crashed run) is taken again.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    certification: Mapped[Certification] = relationship()
    recipient: Mapped[User] = relationship()

    __table_args__ = (
        # The guarantee that two schedulers never send the same notice twice.
        UniqueConstraint("certification_id", "threshold_days", "recipient_id", "channel"),
        CheckConstraint(enum_check("channel", CHANNELS), name="channel"),
        CheckConstraint(enum_check("status", REMINDER_STATUSES), name="status"),
    )


class Notification(db.Model):
    """An in-app message for one user (the bell)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(300))
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminder.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    @classmethod
    def unread_count(cls, user_id):
        """SQL: the number of unread notifications of `user_id` (a column or a bound parameter): the bell."""
        return (select(func.count(cls.id)).where(cls.user_id == user_id, cls.read_at.is_(None))
                .scalar_subquery())
