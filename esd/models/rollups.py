"""Per agency and month totals of the training log and the deployments, kept in step with them
(see esd/rollups.py).

A month is the first day of a calendar month in the agency's own time zone. Only sessions and
deployments that are not archived count, as in esd/reports/metrics.py. Day is left out on purpose
(about one session per dog and day would not compress), and so is dog × month × device × spot (at 1M
hides 774k rows, no fewer than the hides). A dog has its own two tables, which do compress: per
device type × hiding spot (all time: ~170 rows for a dog's 4,000 hides) and per month (sessions and
hides; ~60 rows): what its page shows without a period. Each chart reads the coarsest table that answers it: device × spot per agency has
~200 rows per agency and month, so the bar charts have their own tables and the all-agency heatmap
one without the agency. On SQLite the tables are WITHOUT ROWID: the primary key is the table, so a
read of (agency, month) ranges is one range scan with the counts in hand.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

_CLUSTERED = {"sqlite_with_rowid": False}


class _HideCounts:
    hides: Mapped[int] = mapped_column(Integer, default=0)
    found: Mapped[int] = mapped_column(Integer, default=0)
    blind_hides: Mapped[int] = mapped_column(Integer, default=0)
    blind_found: Mapped[int] = mapped_column(Integer, default=0)


class HideRollup(_HideCounts, db.Model):
    """Hides and finds of one agency, month, device type and hiding spot (blind ones apart too)."""

    __tablename__ = "hide_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)
    hiding_spot_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)


class YearRollup(_HideCounts, db.Model):
    """hide_rollup summed over the months of one year (its first day; the agency's own year): a
    heatmap of a few agencies over years reads ~200 rows per agency and year, not per month."""

    __tablename__ = "year_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    year: Mapped[date] = mapped_column(Date, primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)
    hiding_spot_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)


class DeviceRollup(_HideCounts, db.Model):
    """Hides and finds of one agency, month and device type (the device type chart)."""

    __tablename__ = "device_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)


class SpotRollup(_HideCounts, db.Model):
    """Hides and finds of one agency, month and hiding spot (the hiding spot chart)."""

    __tablename__ = "spot_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    hiding_spot_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)


class PairRollup(_HideCounts, db.Model):
    """Hides and finds of every agency together per month (each agency's own), device type and
    hiding spot: answers the charts of a filter naming every agency."""

    __tablename__ = "pair_rollup"
    __table_args__ = (_CLUSTERED,)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)
    hiding_spot_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)


class _SessionCounts(_HideCounts):
    """Sessions, minutes, false alerts, hides and finds; blind_sessions, blind_minutes and
    blind_false_alerts count only the sessions with at least one blind hide (what "blind hides only"
    reports)."""

    sessions: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    false_alerts: Mapped[int] = mapped_column(Integer, default=0)
    blind_sessions: Mapped[int] = mapped_column(Integer, default=0)
    blind_minutes: Mapped[int] = mapped_column(Integer, default=0)
    blind_false_alerts: Mapped[int] = mapped_column(Integer, default=0)


class SessionRollup(_SessionCounts, db.Model):
    """The training of one agency and month (see _SessionCounts)."""

    __tablename__ = "session_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)


class DogMonthRollup(_SessionCounts, db.Model):
    """The training of one dog and month (its agency's month; see _SessionCounts): the dog's trend
    and totals."""

    __tablename__ = "dog_month_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)


class DogPairRollup(_HideCounts, db.Model):
    """Hides and finds of one dog per device type and hiding spot, over all its training: the dog's
    find rates and heatmap."""

    __tablename__ = "dog_pair_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    dog_id: Mapped[int] = mapped_column(ForeignKey("dog.id"), primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)
    hiding_spot_id: Mapped[int] = mapped_column(ForeignKey("vocabulary_term.id"), primary_key=True)


class DeploymentRollup(db.Model):
    """Deployments of one agency and month, their finds and the searches with a find (each
    deployment is in one month, so its "had a find" flags add up), and their field alerts by outcome
    (`unverified_alerts` counts the alerts whose outcome is unverified, `alerts` all of them)."""

    __tablename__ = "deployment_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    deployments: Mapped[int] = mapped_column(Integer, default=0)
    unverified_alerts: Mapped[int] = mapped_column(Integer, default=0)
    finds: Mapped[int] = mapped_column(Integer, default=0)
    finds_missed: Mapped[int] = mapped_column(Integer, default=0)
    evidence_yes: Mapped[int] = mapped_column(Integer, default=0)
    evidence_no: Mapped[int] = mapped_column(Integer, default=0)
    evidence_pending: Mapped[int] = mapped_column(Integer, default=0)
    searches_with_find: Mapped[int] = mapped_column(Integer, default=0)
    searches_with_missed_find: Mapped[int] = mapped_column(Integer, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    alerts_confirmed: Mapped[int] = mapped_column(Integer, default=0)
    alerts_explained: Mapped[int] = mapped_column(Integer, default=0)


class ServedRollup(db.Model):
    """Deployments of one agency and month per requesting agency, its name as "agencies served"
    counts it (lower(trim(name))): distinct names are not additive, so they are kept to count."""

    __tablename__ = "served_rollup"
    __table_args__ = (_CLUSTERED,)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    requesting_agency: Mapped[str] = mapped_column(String(160), primary_key=True)
    deployments: Mapped[int] = mapped_column(Integer, default=0)


HIDE_COUNTS = ("hides", "found", "blind_hides", "blind_found")
SESSION_COUNTS = ("sessions", "minutes", "false_alerts", "blind_sessions", "blind_minutes",
                  "blind_false_alerts")
DEPLOYMENT_COUNTS = ("deployments", "unverified_alerts", "finds", "finds_missed", "evidence_yes", "evidence_no",
                     "evidence_pending", "searches_with_find", "searches_with_missed_find", "alerts",
                     "alerts_confirmed", "alerts_explained")
