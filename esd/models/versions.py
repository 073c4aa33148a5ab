"""Per-agency report versions: a counter that moves in the same transaction as any change a report shows."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

GLOBAL = 0  # the row of changes every agency's reports show (vocabulary terms)


class ReportVersion(db.Model):
    """How many committed transactions have changed an agency's report data.

    No foreign key: agency 0 stands for installation-wide changes.
    """

    __tablename__ = "report_version"
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
