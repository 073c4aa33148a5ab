"""Per agency and month totals of the training log, kept in step with it (see esd/rollups.py).

A month is the first day of a calendar month in the agency's own time zone. Only sessions that
are not archived count, as in esd/reports/metrics.py. Dog and day are left out on purpose: per dog
and day there is about one session, so those would not compress; dog filters read the raw rows.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class HideRollup(db.Model):
    """Hides and finds of one agency, month, device type and hiding spot (blind ones apart too)."""

    __tablename__ = "hide_rollup"
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)
    hiding_spot_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)
    hides: Mapped[int] = mapped_column(Integer, default=0)
    found: Mapped[int] = mapped_column(Integer, default=0)
    blind_hides: Mapped[int] = mapped_column(Integer, default=0)
    blind_found: Mapped[int] = mapped_column(Integer, default=0)


class SessionRollup(db.Model):
    """Sessions, minutes and false alerts of one agency and month; the blind_* columns count only
    the sessions with at least one blind hide (what "blind hides only" reports)."""

    __tablename__ = "session_rollup"
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    false_alerts: Mapped[int] = mapped_column(Integer, default=0)
    blind_sessions: Mapped[int] = mapped_column(Integer, default=0)
    blind_minutes: Mapped[int] = mapped_column(Integer, default=0)
    blind_false_alerts: Mapped[int] = mapped_column(Integer, default=0)


HIDE_COUNTS = ("hides", "found", "blind_hides", "blind_found")
SESSION_COUNTS = ("sessions", "minutes", "false_alerts", "blind_sessions", "blind_minutes",
                  "blind_false_alerts")
