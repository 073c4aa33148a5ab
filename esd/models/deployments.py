"""Real searches and the devices the dog found in them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, enum_check, utcnow
from .core import Dog, Handler, User
from .vocab import VocabularyTerm

LEGAL_AUTHORITIES = ("search_warrant", "probation_parole", "consent")
EVIDENCE = ("yes", "no", "pending")


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
    # The dog alerted in the field but nothing was recovered there.
    unverified_alert: Mapped[bool] = mapped_column(Boolean, default=False)
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
