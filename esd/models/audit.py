"""The append-only audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .core import User


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

    user: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_audit_entity", "entity", "entity_id"),
        Index("ix_audit_agency_at", "agency_id", "at"),
        Index("ix_audit_action_ip_at", "action", "ip", "at"),  # per-address login rate limit
    )


def refuse_change(mapper, connection, target):
    """Refuse an update or delete of an entry (registered by esd/db_events.py): the log is append-only."""
    raise ValueError("audit entries are append-only")
