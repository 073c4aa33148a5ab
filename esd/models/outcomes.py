"""What a search led to, as it becomes known: counts only, never names."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .core import User
from .deployments import Deployment

# The counts a manager records, in the order forms, reports and CSV show them.
OUTCOME_COUNTS = ("devices_examined", "devices_with_evidence", "arrests", "charges", "children_safeguarded")
# A count larger than this is a typing error, not a search (and stays far inside every INTEGER).
MAX_OUTCOME_COUNT = 100_000


def _bounded(column: str) -> str:
    return f"{column} IS NULL OR {column} BETWEEN 0 AND {MAX_OUTCOME_COUNT}"


class CaseOutcome(db.Model):
    """The case outcome of one deployment: devices examined and with evidence, arrests, charges, children.

    A blank count is not known yet (not zero). Funders see these only as suppressed totals
    (esd/suppression.py).
    """

    __tablename__ = "case_outcome"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    devices_examined: Mapped[int | None] = mapped_column(Integer)
    devices_with_evidence: Mapped[int | None] = mapped_column(Integer)
    arrests: Mapped[int | None] = mapped_column(Integer)
    charges: Mapped[int | None] = mapped_column(Integer)
    children_safeguarded: Mapped[int | None] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    deployment: Mapped[Deployment] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __table_args__ = (
        *(CheckConstraint(_bounded(c), name=c) for c in OUTCOME_COUNTS),
        CheckConstraint("devices_with_evidence IS NULL OR devices_examined IS NULL "
                        "OR devices_with_evidence <= devices_examined", name="evidence_of_examined"),
    )

    def is_blank(self) -> bool:
        return all(getattr(self, c) is None for c in OUTCOME_COUNTS)
