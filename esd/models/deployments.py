"""Real searches, the devices the dog found in them and every alert it gave, with its outcome."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, enum_check, utcnow
from .core import Dog, Handler, User
from .vocab import VocabularyTerm

LEGAL_AUTHORITIES = ("search_warrant", "probation_parole", "consent")
EVIDENCE = ("yes", "no", "pending")
# What came of a field alert: a device recovered there (linked to its find), nothing recovered, or
# nothing recovered for a reason written down (a device removed before the search, residual odour).
ALERT_OUTCOMES = ("confirmed", "unverified", "explained")


class Deployment(db.Model):
    """A real search the dog worked."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"))
    handler_id: Mapped[int] = mapped_column(ForeignKey("handler.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requesting_agency: Mapped[str | None] = mapped_column(String(160))
    case_number: Mapped[str | None] = mapped_column(String(80))  # sensitive: never to funders
    legal_authority: Mapped[str] = mapped_column(String(24))
    location_type_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)  # sensitive: never to funders
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dog: Mapped[Dog] = relationship()
    handler: Mapped[Handler] = relationship()
    location_type: Mapped[VocabularyTerm | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    finds: Mapped[list[Find]] = relationship(back_populates="deployment", cascade="all, delete-orphan",
                                             order_by="Find.id")
    alerts: Mapped[list[FieldAlert]] = relationship(back_populates="deployment", cascade="all, delete-orphan",
                                                    order_by="FieldAlert.id")

    __table_args__ = (
        CheckConstraint(enum_check("legal_authority", LEGAL_AUTHORITIES), name="legal_authority"),
        CheckConstraint("duration_minutes IS NULL OR duration_minutes BETWEEN 1 AND 1440",
                        name="duration"),
        Index("ix_deployment_agency_started", "agency_id", "started_at"),
        Index("ix_deployment_dog_started", "dog_id", "started_at"),
    )


class Find(db.Model):
    """A device the dog found during a deployment."""

    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"),
                                               index=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"))
    hiding_spot_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    missed_by_human_search: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str] = mapped_column(String(8), default="pending")
    notes: Mapped[str | None] = mapped_column(Text)

    deployment: Mapped[Deployment] = relationship(back_populates="finds")
    device_type: Mapped[VocabularyTerm] = relationship(foreign_keys=[device_type_id])
    hiding_spot: Mapped[VocabularyTerm | None] = relationship(foreign_keys=[hiding_spot_id])

    __table_args__ = (CheckConstraint(enum_check("evidence", EVIDENCE), name="evidence"),)


class FieldAlert(db.Model):
    """An alert the dog gave in a real search, where, and what came of it.

    A confirmed alert names the find recovered there, a find of the same deployment (the form and
    `esd/deployments/services.py` check that; one find confirms one alert at most); an explained
    one says why nothing was recovered.
    """

    __tablename__ = "field_alert"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    hiding_spot_id: Mapped[int | None] = mapped_column(ForeignKey("vocabulary_term.id"))
    location_note: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(12))
    find_id: Mapped[int | None] = mapped_column(ForeignKey("find.id"))
    explanation: Mapped[str | None] = mapped_column(Text)

    deployment: Mapped[Deployment] = relationship(back_populates="alerts")
    hiding_spot: Mapped[VocabularyTerm | None] = relationship()
    find: Mapped[Find | None] = relationship()

    __table_args__ = (
        CheckConstraint(enum_check("outcome", ALERT_OUTCOMES), name="outcome"),
        CheckConstraint("(outcome = 'confirmed') = (find_id IS NOT NULL)", name="confirmed_has_find"),
        CheckConstraint("outcome <> 'explained' OR (explanation IS NOT NULL AND explanation <> '')",
                        name="explained_has_explanation"),
        UniqueConstraint("find_id"),  # one find confirms one alert
    )
