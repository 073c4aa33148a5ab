"""What an agency's imports remembered: a foreign column header or value and what it means here."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class ImportMapping(db.Model):
    """One remembered match: in `scope` ("column:hides", "value:device_type"), `source` means `target`.

    A column's target is one of our field names; a value's target is a vocabulary term's name or one
    of a field's allowed values. The mapping step proposes these the next time the agency imports.
    """

    __tablename__ = "import_mapping"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    scope: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("agency_id", "scope", "source"),)
