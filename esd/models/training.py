"""Training sessions, their hides and false alerts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, func, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..rates import Rate
from .base import UTCDateTime, enum_check, utcnow
from .core import Dog, Handler, User
from .vocab import VocabularyTerm

PURPOSES = ("imprint", "maintenance", "proficiency", "certification_prep")
HEIGHTS = ("floor", "low", "mid", "high", "overhead")
CONCEALMENTS = ("open", "concealed", "buried", "layered")
OUTCOMES = ("found", "missed")
WINDS = ("calm", "light", "moderate", "strong")
PRECIPITATIONS = ("none", "rain", "snow", "fog")
MAX_SECONDS_TO_FIND = 7200
MAX_DURATION_MINUTES = 600


class TrainingSession(db.Model):
    """One dog and handler training on one occasion."""

    __tablename__ = "training_session"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"))
    handler_id: Mapped[int] = mapped_column(ForeignKey("handler.id"), index=True)
    # Made by the tablet before upload, so a retried upload never creates a duplicate.
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    environment_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    purpose: Mapped[str] = mapped_column(String(24))
    temperature_c: Mapped[float | None] = mapped_column(Float)
    wind: Mapped[str | None] = mapped_column(String(16))
    precipitation: Mapped[str | None] = mapped_column(String(16))
    blank_areas: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dog: Mapped[Dog] = relationship()
    handler: Mapped[Handler] = relationship()
    environment: Mapped[VocabularyTerm | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    hides: Mapped[list[Hide]] = relationship(back_populates="session", cascade="all, delete-orphan",
                                             order_by="Hide.position")
    false_alerts: Mapped[list[FalseAlert]] = relationship(back_populates="session",
                                                          cascade="all, delete-orphan",
                                                          order_by="FalseAlert.id")

    __table_args__ = (
        CheckConstraint(f"duration_minutes BETWEEN 1 AND {MAX_DURATION_MINUTES}", name="duration"),
        CheckConstraint(enum_check("purpose", PURPOSES), name="purpose"),
        CheckConstraint(f"wind IS NULL OR {enum_check('wind', WINDS)}", name="wind"),
        CheckConstraint(f"precipitation IS NULL OR {enum_check('precipitation', PRECIPITATIONS)}",
                        name="precipitation"),
        CheckConstraint("blank_areas >= 0", name="blank_areas"),
        Index("ix_session_dog_started", "dog_id", "started_at"),
        Index("ix_session_agency_started", "agency_id", "started_at"),
    )

    @property
    def hide_count(self) -> int:
        return len(self.hides)

    @property
    def found(self) -> int:
        return sum(1 for h in self.hides if h.outcome == "found")

    @property
    def find_rate(self) -> Rate:
        """Return the hides found of the session's hides, with their interval."""
        return Rate(self.found, self.hide_count)

    @property
    def is_signed_off(self) -> bool:
        return self.signed_off_at is not None


class Hide(db.Model):
    """One placed training aid and whether the dog found it."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"))
    hiding_spot_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"))
    height: Mapped[str | None] = mapped_column(String(16))
    concealment: Mapped[str | None] = mapped_column(String(16))
    aid_set_minutes: Mapped[int | None] = mapped_column(Integer)
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(8))
    seconds_to_find: Mapped[int | None] = mapped_column(Integer)

    session: Mapped[TrainingSession] = relationship(back_populates="hides")
    device_type: Mapped[VocabularyTerm] = relationship(foreign_keys=[device_type_id])
    hiding_spot: Mapped[VocabularyTerm] = relationship(foreign_keys=[hiding_spot_id])

    __table_args__ = (
        CheckConstraint(enum_check("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(f"height IS NULL OR {enum_check('height', HEIGHTS)}", name="height"),
        CheckConstraint(f"concealment IS NULL OR {enum_check('concealment', CONCEALMENTS)}",
                        name="concealment"),
        CheckConstraint("aid_set_minutes IS NULL OR aid_set_minutes >= 0", name="aid_set"),
        CheckConstraint(f"seconds_to_find IS NULL OR seconds_to_find BETWEEN 0 AND {MAX_SECONDS_TO_FIND}",
                        name="seconds_to_find"),
        Index("ix_hide_session", "session_id"),
        Index("ix_hide_device_spot", "device_type_id", "hiding_spot_id"),
    )


class FalseAlert(db.Model):
    """The dog indicated where nothing was hidden."""

    __tablename__ = "false_alert"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"),
                                            index=True)
    hiding_spot_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    location_note: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    session: Mapped[TrainingSession] = relationship(back_populates="false_alerts")
    hiding_spot: Mapped[VocabularyTerm | None] = relationship()


def hides_of_session(*where):
    """A correlated scalar subquery of a TrainingSession row: how many of its hides match `where`
    (an index look-up by session; the session lists' and the raw metrics' per-session counts)."""
    return select(func.count(Hide.id)).where(Hide.session_id == TrainingSession.id, *where).scalar_subquery()


def false_alerts_of_session():
    """A correlated scalar subquery of a TrainingSession row: how many false alerts it recorded."""
    return select(func.count(FalseAlert.id)).where(FalseAlert.session_id == TrainingSession.id).scalar_subquery()
