"""The daily checkpoint: the audit chain's head e-mailed to each agency's managers.

A whole-chain rewrite by someone with database access verifies on its own; the head published
where they cannot reach it (a manager's mailbox, every printed packet) is what catches it. Each
agency gets one checkpoint a day, claimed by INSERT under a unique constraint like the reminders,
so two schedulers send it once; one that failed is sent again at the next run.

`run(app=None)` is module-level so that APScheduler can name it as "esd.verification.checkpoint:run".
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit_chain import read_head
from ..certifications.reminders import Mailer, external_url
from ..extensions import db
from ..models import Agency, AuditEntry, User, utcnow
from ..models.audit import AuditCheckpoint

log = logging.getLogger("esd.checkpoint")


def _claim(agency: Agency, day, head: str, entries: int) -> AuditCheckpoint | None:
    """Today's checkpoint of the agency to send: new, or one that failed before; None when sent."""
    try:
        with db.session.begin_nested():
            checkpoint = AuditCheckpoint(agency_id=agency.id, day=day, head=head, entries=entries)
            db.session.add(checkpoint)
        return checkpoint
    except IntegrityError:
        existing = db.session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.agency_id == agency.id,
                                                                   AuditCheckpoint.day == day))
        return existing if existing is not None and existing.status == "failed" else None


def _body(agency: Agency, checkpoint: AuditCheckpoint, user: User) -> str:
    return "\n".join([
        f"Hello {user.name},",
        "",
        f"The audit log of ESD K9 Tracker on {checkpoint.day.isoformat()} ({agency.name}'s day):",
        "",
        f"Entries:   {checkpoint.entries}",
        f"Head hash: {checkpoint.head}",
        "",
        "Keep this e-mail. Each audit entry carries the hash of the one before it, so this head hash",
        "fixes the whole log as it stood today. If the log is ever rewritten, `flask esd audit verify`",
        "will show a different head for these entries than the one above.",
        "",
        f"Anyone can check a packet at {external_url('verification.verify')}",
        "-- ESD K9 Tracker",
    ])


def send_checkpoints(now: datetime | None = None) -> list[str]:
    """E-mail today's audit head to the active managers of each agency, once per agency and day."""
    now = now or utcnow()
    head = read_head(db.session.connection())
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    agencies = list(db.session.scalars(select(Agency).where(Agency.archived_at.is_(None)).order_by(Agency.id)))
    lines = []
    with Mailer() as mailer:
        for agency in agencies:
            managers = list(db.session.scalars(select(User).where(
                User.agency_id == agency.id, User.role == "manager", User.active.is_(True),
                User.email.is_not(None)).order_by(User.id)))
            if not managers:
                continue
            checkpoint = _claim(agency, agency.today(now), head, entries)
            db.session.commit()
            if checkpoint is None:
                continue
            errors = [error for user in managers
                      if (error := mailer.send(f"Audit log checkpoint {checkpoint.day.isoformat()}: "
                                               f"{checkpoint.head[:16]}…", _body(agency, checkpoint, user),
                                               user.email))]
            checkpoint.status = "failed" if errors else "sent"
            checkpoint.sent_at = None if errors else utcnow()
            db.session.commit()
            lines.append(f"{agency.name}: {checkpoint.status} to {len(managers)} managers"
                         + (f" ({errors[0]})" if errors else ""))
            if errors:
                log.warning("audit checkpoint for %s failed: %s", agency.name, errors[0])
    return lines


def run(app=None) -> list[str]:
    """The scheduler's entry point: send today's checkpoints."""
    if app is not None and not (has_app_context() and current_app._get_current_object() is app):
        with app.app_context():
            return run()
    return send_checkpoints()
