"""Chart drawings and report numbers cached for every worker, keyed on a data version.

The cache is Flask-Caching's (`esd.extensions.cache`): files in instance/cache/ by default, so
all gunicorn workers of one host share what any of them computed; Redis when configured. An
entry is never invalidated: its key carries `data_version()`, which moves with every change a
report can show, so a changed record simply makes the next request look up another key.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Callable, TypeVar

from sqlalchemy import func, select

from ..extensions import cache, db
from ..models import (AuditEntry, Certification, Deployment, Dog, FalseAlert, Find, Hide,
                      TrainingSession, VocabularyTerm)
from .metrics import Filters

log = logging.getLogger(__name__)
T = TypeVar("T")

# The tables whose rows a report reads (audit `entity` names are table names). Vocabulary
# changes are logged with no agency; dogs count for "dogs certified".
_SOURCES = (TrainingSession, Hide, FalseAlert, Deployment, Find, Certification, Dog)
_ENTITIES = [m.__tablename__ for m in _SOURCES] + [VocabularyTerm.__tablename__]


def data_version(filters: Filters) -> tuple:
    """A fingerprint that changes whenever a record these filters' reports depend on changes.

    Every ORM create, update, archive or delete of a session, hide, false alert, deployment, find,
    certification or dog writes an audit entry in the same transaction (esd/audit.py), and so does
    every vocabulary change (esd/admin/services.py); the highest id of each source table is added
    for rows written outside the ORM (bulk loads). Each part is an index lookup, whatever the size:
    - one agency: its newest audit entry of any kind (the covering index on agency_id; logins
      then also make a new version, which costs a drawing, never a stale one);
    - several or all agencies: the newest relevant entry anywhere, found by walking the log
      backwards by primary key (changes elsewhere then also make a new version).
    """
    ids = filters.agency_ids
    if ids is not None and len(ids) == 1:
        changed = select(func.max(AuditEntry.id)).where(AuditEntry.agency_id == ids[0])
    else:
        # lower() on purpose: an index on `entity` would make the database collect every
        # matching entry and sort them, instead of stopping at the first from the end.
        changed = (select(AuditEntry.id).where(func.lower(AuditEntry.entity).in_(_ENTITIES))
                   .order_by(AuditEntry.id.desc()).limit(1))
    vocabulary = select(func.max(AuditEntry.id)).where(AuditEntry.entity == VocabularyTerm.__tablename__)
    columns = [changed.scalar_subquery(), vocabulary.scalar_subquery()]
    columns += [select(func.max(m.id)).scalar_subquery() for m in _SOURCES + (VocabularyTerm,)]
    return tuple(db.session.execute(select(*columns)).one())


def _key(parts: tuple) -> str:
    # repr of ints, strings, dates and tuples is stable across processes (unlike hash()).
    return "report:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def remember(parts: tuple, make: Callable[[], T]) -> T:
    """The value cached under `parts`, or `make()` stored there.

    A cache that fails (Redis down, a full disk) costs speed, never the page: the value is
    computed and served anyway.
    """
    key = _key(parts)
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - any backend error
        log.warning("report cache read failed", exc_info=True)
        value = None
    if value is not None:
        return value
    value = make()
    try:
        cache.set(key, value)
    except Exception:  # noqa: BLE001
        log.warning("report cache write failed", exc_info=True)
    return value


def clear() -> None:
    """Forget every cached drawing and number (of this app's key prefix only)."""
    cache.clear()
