"""Chart drawings and report numbers cached for every worker, keyed on a data version.

The cache is Flask-Caching's (`esd.extensions.cache`): files in instance/cache/ by default, so
all gunicorn workers of one host share what any of them computed; Redis when configured. An
entry is never invalidated: its key carries `data_version()`, which moves with every change a
report can show, so a changed record simply makes the next request look up another key.
"""
from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from typing import Callable, TypeVar

from sqlalchemy import func, select

from ..extensions import cache, db
from ..models import (Certification, Deployment, Dog, FalseAlert, Find, Hide, TrainingSession,
                      VocabularyTerm)
from ..report_version import version_columns
from .metrics import Filters

log = logging.getLogger(__name__)
T = TypeVar("T")

# The tables whose rows a report reads (dogs count for "dogs certified").
_SOURCES = (TrainingSession, Hide, FalseAlert, Deployment, Find, Certification, Dog)


def data_version(filters: Filters) -> tuple:
    """A fingerprint that changes whenever a record these filters' reports depend on changes.

    Its parts, each an index lookup whatever the size, read in one statement:
    - the filter's agencies' report version and the installation-wide one (esd/report_version.py:
      bumped in the same transaction as every change a report shows, so it cannot lag behind
      the data it describes, on PostgreSQL either);
    - the highest id of each source table, for rows written outside the ORM (bulk loads).
    """
    return tuple(db.session.execute(_version_statement(filters.agency_ids)).one())


@lru_cache(maxsize=1024)
def _version_statement(agency_ids: tuple[int, ...] | None):
    """The statement of `data_version`, built once per scope: building it cost more than running it."""
    columns = version_columns(agency_ids)
    columns += [select(func.max(m.id)).scalar_subquery() for m in _SOURCES + (VocabularyTerm,)]
    return select(*columns)


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
