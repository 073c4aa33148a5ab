"""The append-only audit log."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .core import Agency, Dog, User


class AuditEntry(db.Model):
    """Who changed what, when, from what to what, and why."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    action: Mapped[str] = mapped_column(String(24))  # create, update, archive, login, login_failed …
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict | None] = mapped_column(JSON)  # {field: [before, after]}
    reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    # The hash chain (esd/audit_chain.py): the previous entry's hash and this one's.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_audit_entity", "entity", "entity_id"),
        Index("ix_audit_agency_at", "agency_id", "at"),
        Index("ix_audit_action_ip_at", "action", "ip", "at"),  # per-address login rate limit
    )


def refuse_change(mapper, connection, target):
    """Refuse an update or delete of an entry (registered by esd/db_events.py): the log is append-only."""
    raise ValueError("audit entries are append-only")


class IssuedPacket(db.Model):
    """A reliability record or deployment packet as issued: what anyone can check at /verify."""

    __tablename__ = "issued_packet"
    __audited__ = False  # its issue is audited as an event (`reliability_record`)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # the short verification code
    digest: Mapped[str] = mapped_column(String(64), index=True)  # over the records' content
    kind: Mapped[str] = mapped_column(String(24))  # reliability_record, deployment_packet
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"))
    as_of: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_head: Mapped[str] = mapped_column(String(64))

    agency: Mapped[Agency] = relationship()
    dog: Mapped[Dog] = relationship()
    issued_by: Mapped[User | None] = relationship()


class AuditCheckpoint(db.Model):
    """The audit chain's head as e-mailed to an agency's managers on one day (once per day)."""

    __tablename__ = "audit_checkpoint"
    __audited__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    day: Mapped[date] = mapped_column(Date)
    head: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, sent, failed
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("agency_id", "day"),)  # two schedulers send it once
