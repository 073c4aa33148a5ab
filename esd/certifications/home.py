"""The certifications area's sections of the home page: what expires, and notices that failed to go out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from ..dogs.services import handler_dogs
from ..extensions import db
from ..models import Agency, Certification, Dog, Reminder, User
from ..models.certifications import expiry_phrase
from .services import (STATUS_LABELS, _current_ranked, current_certification, current_handlers, days_left,
                       status_of)

FAILED_SHOWN = 10  # failed notices listed by name; the count says how many more there are


@dataclass
class Attention:
    """One dog whose current certification has expired or is within the agency's warning window."""

    dog: Dog
    certification: Certification
    handler_name: str | None
    status: str
    days_left: int

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def phrase(self) -> str:
        return expiry_phrase(self.days_left, sentence=True)


def needing_renewal(agency: Agency, today: date) -> list[Attention]:
    """Serving dogs whose current certification has expired or expires within the warning window, most urgent first."""
    ranked = _current_ranked()
    horizon = today + timedelta(days=agency.warning_window_days)
    stmt = (select(Dog, Certification)
            .join(ranked, and_(ranked.c.dog_id == Dog.id, ranked.c.rank == 1))
            .join(Certification, Certification.id == ranked.c.cid)
            .where(Dog.agency_id == agency.id, Dog.archived_at.is_(None), Dog.status != "retired",
                   Certification.expires_on <= horizon)
            .options(selectinload(Certification.handler))
            .order_by(Certification.expires_on, Dog.name, Dog.id))
    pairs = db.session.execute(stmt).all()
    teams = current_handlers([dog.id for dog, _ in pairs], {agency.id: today})
    rows = []
    for dog, cert in pairs:
        handler = cert.handler or teams.get(dog.id)
        rows.append(Attention(dog=dog, certification=cert, handler_name=handler.name if handler else None,
                              status=status_of(cert, today, agency.warning_window_days),
                              days_left=days_left(cert, today)))
    return rows


def failed_reminders(agency: Agency, limit: int = FAILED_SHOWN) -> tuple[int, list[Reminder]]:
    """How many e-mail notices of the agency failed to send (and are waiting for the next run), and the oldest few."""
    where = (Reminder.status == "failed", Certification.agency_id == agency.id)
    count = db.session.scalar(select(func.count(Reminder.id))
                              .join(Certification, Certification.id == Reminder.certification_id).where(*where))
    shown = list(db.session.scalars(
        select(Reminder).join(Certification, Certification.id == Reminder.certification_id).where(*where)
        .options(selectinload(Reminder.certification).selectinload(Certification.dog),
                 selectinload(Reminder.recipient))
        .order_by(Reminder.created_at, Reminder.id).limit(limit)))
    return count or 0, shown


def home_section(user: User, agency: Agency, today: date) -> dict | None:
    """A manager's dogs to recertify (expired first); a handler's own dogs' certification status."""
    if user.role == "handler":
        dogs = handler_dogs(user, today)
        rows = []
        for dog in dogs:
            cert = current_certification(dog)
            status = status_of(cert, today, agency.warning_window_days)
            left = days_left(cert, today)
            rows.append({"dog": dog, "certification": cert, "status": status, "label": STATUS_LABELS[status],
                         "phrase": expiry_phrase(left, sentence=True) if cert else None})
        return {"template": "certifications/_home_handler.html", "title": "Certification", "count": None,
                "rows": rows} if rows else None
    if user.role not in ("manager", "admin"):
        return None
    rows = needing_renewal(agency, today)
    return {"template": "certifications/_home_manager.html", "title": "Certifications to renew",
            "count": len(rows), "rows": rows, "window": agency.warning_window_days}


def failed_reminders_section(user: User, agency: Agency, today: date) -> dict | None:
    """Certification notices that failed to send, for a manager: who did not hear, about which dog."""
    if user.role not in ("manager", "admin"):
        return None
    count, shown = failed_reminders(agency)
    return {"template": "certifications/_home_failed.html", "title": "Reminders not sent", "count": count,
            "rows": shown, "more": count - len(shown)}
