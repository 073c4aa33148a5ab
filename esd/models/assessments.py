"""Planned, sealed sessions (a trainer's hides and negative areas), and the standards assessments are judged by.

A plan is not a training session: until it is closed nothing of it is in `training_session`, `hide`
or `false_alert`, so no page, export, chart or API that reads those can show what was placed where.
Closing writes the session through esd/training/services.py and links it here.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, enum_check, utcnow
from .core import Dog, Handler, User
from .training import CONCEALMENTS, HEIGHTS, PURPOSES, TrainingSession
from .vocab import VocabularyTerm

BLINDNESS = ("known", "single_blind", "double_blind")
BLINDNESS_LABELS = {"known": "Known (the handler knows)",
                    "single_blind": "Single-blind (the handler does not know; someone present does)",
                    "double_blind": "Double-blind (nobody present knows; an observer records)"}
KINDS = ("training", "proficiency", "certification")
KIND_LABELS = {"training": "Training", "proficiency": "Proficiency assessment",
               "certification": "Certification evaluation"}
AREA_OUTCOMES = ("alert", "no_alert")
RESULTS = ("pass", "fail")


class AssessmentStandard(db.Model):
    """What an agency requires of an assessment by one certifying body."""

    __tablename__ = "assessment_standard"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    certifying_body_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"))
    name: Mapped[str] = mapped_column(String(120))
    min_find_rate_percent: Mapped[int] = mapped_column(Integer, default=90)
    # Per environment searched; None means no limit.
    max_misses: Mapped[int | None] = mapped_column(Integer)
    max_false_responses: Mapped[int | None] = mapped_column(Integer)
    negative_search_required: Mapped[bool] = mapped_column(Boolean, default=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    certifying_body: Mapped[VocabularyTerm] = relationship()

    __table_args__ = (
        UniqueConstraint("agency_id", "name"),
        CheckConstraint("min_find_rate_percent BETWEEN 0 AND 100", name="min_find_rate"),
        CheckConstraint("max_misses IS NULL OR max_misses >= 0", name="max_misses"),
        CheckConstraint("max_false_responses IS NULL OR max_false_responses >= 0", name="max_false_responses"),
    )


class PlannedSession(db.Model):
    """A session planned by a trainer: its areas and what is placed in them stay sealed until it is closed."""

    __tablename__ = "planned_session"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"), index=True)
    handler_id: Mapped[int] = mapped_column(ForeignKey("handler.id"))
    trainer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    planned_on: Mapped[date] = mapped_column(Date)
    location: Mapped[str | None] = mapped_column(String(200))
    environment_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    purpose: Mapped[str] = mapped_column(String(24), default="maintenance")
    blindness: Mapped[str] = mapped_column(String(16))
    # Who placed the aids, who observes and records, who else knew where they are (names as people say them).
    placed_by: Mapped[str | None] = mapped_column(String(120))
    observer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    knew: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="training")
    evaluator: Mapped[str | None] = mapped_column(String(120))
    certifying_body_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_standard.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    training_session_id: Mapped[int | None] = mapped_column(ForeignKey("training_session.id"), unique=True)
    # An assessment's result, computed on closing and kept: pass/fail and each criterion met or not.
    result: Mapped[str | None] = mapped_column(String(8))
    criteria: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)

    dog: Mapped[Dog] = relationship()
    handler: Mapped[Handler] = relationship()
    trainer: Mapped[User] = relationship(foreign_keys=[trainer_id])
    observer: Mapped[User | None] = relationship(foreign_keys=[observer_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    environment: Mapped[VocabularyTerm | None] = relationship(foreign_keys=[environment_id])
    certifying_body: Mapped[VocabularyTerm | None] = relationship(foreign_keys=[certifying_body_id])
    standard: Mapped[AssessmentStandard | None] = relationship()
    training_session: Mapped[TrainingSession | None] = relationship()
    areas: Mapped[list[PlannedArea]] = relationship(back_populates="session", cascade="all, delete-orphan",
                                                    order_by="PlannedArea.position")

    __table_args__ = (
        CheckConstraint(enum_check("blindness", BLINDNESS), name="blindness"),
        CheckConstraint(enum_check("kind", KINDS), name="kind"),
        CheckConstraint(enum_check("purpose", PURPOSES), name="purpose"),
        CheckConstraint(f"result IS NULL OR {enum_check('result', RESULTS)}", name="result"),
        # An assessment names the standard it is judged against; a training session names none.
        CheckConstraint("(kind = 'training') = (standard_id IS NULL)", name="assessment_standard"),
        CheckConstraint("closed_at IS NULL OR training_session_id IS NOT NULL", name="closed_session"),
        Index("ix_planned_session_agency_day", "agency_id", "planned_on"),
    )

    @property
    def is_assessment(self) -> bool:
        return self.kind != "training"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_started(self) -> bool:
        return self.started_at is not None

    @property
    def status(self) -> str:
        return "closed" if self.is_closed else "started" if self.is_started else "planned"


class PlannedArea(db.Model):
    """One area to search: a hide (device type set) or a negative area (nothing placed), and its outcome."""

    __tablename__ = "planned_area"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("planned_session.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(120))
    environment_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    # The hide (all None in a negative area): sealed until the session is closed.
    device_type_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    hiding_spot_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    height: Mapped[str | None] = mapped_column(String(16))
    concealment: Mapped[str | None] = mapped_column(String(16))
    aid: Mapped[str | None] = mapped_column(String(120))
    placed_by: Mapped[str | None] = mapped_column(String(120))
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The outcome recorded at the site: did the dog alert in this area, and where.
    outcome: Mapped[str | None] = mapped_column(String(8))
    alert_spot_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    alert_note: Mapped[str | None] = mapped_column(String(200))
    seconds_to_find: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[PlannedSession] = relationship(back_populates="areas")
    environment: Mapped[VocabularyTerm | None] = relationship(foreign_keys=[environment_id])
    device_type: Mapped[VocabularyTerm | None] = relationship(foreign_keys=[device_type_id])
    hiding_spot: Mapped[VocabularyTerm | None] = relationship(foreign_keys=[hiding_spot_id])
    alert_spot: Mapped[VocabularyTerm | None] = relationship(foreign_keys=[alert_spot_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    __table_args__ = (
        UniqueConstraint("session_id", "position"),
        CheckConstraint("(device_type_id IS NULL) = (hiding_spot_id IS NULL)", name="hide_whole"),
        CheckConstraint(f"height IS NULL OR {enum_check('height', HEIGHTS)}", name="height"),
        CheckConstraint(f"concealment IS NULL OR {enum_check('concealment', CONCEALMENTS)}", name="concealment"),
        CheckConstraint(f"outcome IS NULL OR {enum_check('outcome', AREA_OUTCOMES)}", name="outcome"),
        CheckConstraint("(outcome = 'alert') = (alert_spot_id IS NOT NULL)", name="alert_spot"),
        CheckConstraint("seconds_to_find IS NULL OR seconds_to_find BETWEEN 0 AND 7200", name="seconds_to_find"),
    )

    @property
    def is_negative(self) -> bool:
        return self.device_type_id is None
