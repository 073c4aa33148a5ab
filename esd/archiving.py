"""Archiving: the one way a record leaves lists, pickers and figures while its history stays.

Dogs, handlers, deployments, certifications and agencies are archived, never deleted; the audit log
says who did it and why (the reason typed on the page, cut to `REASON_MAX` characters, or the
page's default words).
"""
from __future__ import annotations

from datetime import datetime

from .audit import audit_reason
from .dates import utcnow

REASON_MAX = 300


def archive(record, reason: str | None = None, default: str = "Archived", now: datetime | None = None) -> bool:
    """Archive `record` with the reason given (or `default`) for the audit log; False when it already was."""
    if record.archived_at is not None:
        return False
    audit_reason((reason or "").strip()[:REASON_MAX] or default)
    record.archived_at = now or utcnow()
    return True
