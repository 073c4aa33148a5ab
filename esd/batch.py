"""Batch jobs go on past a bad record: its failure is logged and rolled back, the others are done."""
from __future__ import annotations

import logging
from typing import Callable, TypeVar

from .extensions import db

log = logging.getLogger("esd.batch")
T = TypeVar("T")


def isolated(work: Callable[[], T], what: str, default: T) -> T:
    """Run one record's share of a batch job; on any failure log it, roll back what is uncommitted, return `default`.

    A certification issued on 0001-01-01 once stopped every agency's reminders after it: one bad
    record must cost its own work only, and say so in the log.
    """
    try:
        return work()
    except Exception:  # anything: the job must reach the other records
        db.session.rollback()
        log.exception("%s skipped after an error; the others go on", what)
        return default
