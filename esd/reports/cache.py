"""The report cache: one layer, keyed on (what, filters and scope, data version), with single flight.

The store is Flask-Caching's (`esd.extensions.cache`): files in instance/cache/ by default, so
all gunicorn workers of one host share what any of them computed; Redis when configured. An
entry is never invalidated: its key carries the data version of the agencies it reads
(esd/report_version.py), which moves in the same transaction as any change a report shows, so a
change in one agency makes only that agency's (and its funders') next requests look up new keys;
every other agency's entries stay warm.

Concurrent misses of one key compute it once: threads of one process queue on a lock per key, the
processes of one host on an `flock` of one of STRIPES lock files (cachelib's `add` on the file
cache checks and then writes, so two workers could both take it and both compute: measured, the
twenty-at-once dashboard was computed twice), and hosts sharing Redis on a lock entry (`cache.add`,
atomic there). The others wait for the value it stores, and compute it themselves only if it does not
come in time. Nobody is served an older version's value: a waiter reads the very key it missed.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable, TypeVar

import cachelib
from flask import current_app
from sqlalchemy import select

from ..extensions import cache, db
from ..report_version import version_columns
from .metrics import Filters

log = logging.getLogger(__name__)
T = TypeVar("T")

# A computation holding a key's lock longer than this is taken to have died (its worker killed).
LOCK_SECONDS = 60
# How long a request waits for another's computation of the same key before doing it itself.
WAIT_SECONDS = 10.0
# The longest pause between two looks for another worker's value.
POLL_SECONDS = 0.01
# Lock files the keys share among the processes of a host (a fixed set: a file per key would pile up,
# and deleting one that another process holds open would let two processes lock "the same" key).
STRIPES = 256


def data_version(filters: Filters) -> tuple:
    """The report versions of the filters' agencies (and the installation-wide vocabulary's), in one statement."""
    return tuple(db.session.execute(_version_statement(filters.agency_ids)).one())


@lru_cache(maxsize=1024)
def _version_statement(agency_ids: tuple[int, ...] | None):
    """The statement of `data_version`, built once per scope: building it cost more than running it."""
    return select(*version_columns(agency_ids))


def report(what: tuple, filters: Filters, make: Callable[[], T], version: tuple | None = None) -> T:
    """`make()`'s value for these filters, cached until a change in one of their agencies."""
    version = data_version(filters) if version is None else version
    return remember((what, filters.key(), version), make)


def _key(parts: tuple) -> str:
    # repr of ints, strings, dates and tuples is stable across processes (unlike hash()).
    return "report:" + hashlib.sha256(repr((code_version(), parts)).encode()).hexdigest()


# What a cached value is made by: the application's code and its templates.
CODE = ((Path(__file__).resolve().parents[1], "*.py"), (Path(__file__).resolve().parents[2] / "templates", "*.html"))


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the code and templates that make the cached values (read once per process).

    Part of every key, so a new release never reads what an older one cached (an entry outlives a
    deployment by up to CACHE_DEFAULT_TIMEOUT): a report object of another shape, a dashboard's
    HTML from an older template. The workers of one release, on any host, share the same keys.
    """
    digest = hashlib.sha256()
    for folder, pattern in CODE:
        for path in sorted(folder.rglob(pattern)):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


_local_locks: dict[str, threading.Lock] = {}
# How many entries this thread is computing, one inside another (see remember).
_computing = threading.local()
_local_guard = threading.Lock()


def _local_lock(key: str) -> threading.Lock:
    with _local_guard:
        return _local_locks.setdefault(key, threading.Lock())


def _release_local(key: str, lock: threading.Lock) -> None:
    lock.release()
    with _local_guard:
        if not lock.locked() and _local_locks.get(key) is lock:
            del _local_locks[key]


def remember(parts: tuple, make: Callable[[], T]) -> T:
    """The value cached under `parts`, or `make()` computed once (however many ask at once) and stored.

    A cache that fails (Redis down, a full disk) costs speed, never the page: the value is
    computed and served anyway.
    """
    key = _key(parts)
    value = _get(key)
    if value is not None:
        return value
    if getattr(_computing, "depth", 0):
        # Asked while computing another entry (a dashboard's tables): whoever else wants this
        # entry now is queued on the outer entry, so its single flight would only cost file writes.
        return _store(key, make)
    # Threads of this process queue here, so one computes; the others then find its value.
    lock = _local_lock(key)
    acquired = lock.acquire(timeout=WAIT_SECONDS)
    try:
        value = _get(key) if acquired else None
        if value is not None:
            return value
        return _compute_once(key, make)
    finally:
        if acquired:
            _release_local(key, lock)


def _compute_once(key: str, make: Callable[[], T]) -> T:
    """Compute once on this host (the flock), and once across hosts sharing Redis (the lock entry)."""
    with _host_lock(key) as first:
        value = None if first else _get(key)  # the first finds nothing; a later one, what it stored
        if value is not None:
            return value
        if not _shared_between_hosts():
            return _store(key, make)
        return _compute_across_hosts(key, make)


def _shared_between_hosts() -> bool:
    """Whether other hosts use this store (Redis): only then is a lock entry needed beside the flock."""
    return not isinstance(cache.cache, (cachelib.FileSystemCache, cachelib.SimpleCache, cachelib.NullCache))


def _pauses():
    """Yield after each pause of a wait: 2 ms doubling to POLL_SECONDS, for WAIT_SECONDS at most.

    Capped low: a dashboard computes in 50-150 ms, and a 50 ms pause let a waiter see its value up to
    50 ms late. Only one thread of one process polls (the others queue on the locks), so it costs little.
    """
    deadline, pause = time.monotonic() + WAIT_SECONDS, 0.002
    while time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, POLL_SECONDS)
        yield


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextmanager
def _host_lock(key: str):
    """Hold the key's stripe among this host's processes; True when nobody held it before us.

    Waits (polling, so a computation that hangs cannot hold the others forever) up to WAIT_SECONDS,
    then goes on without it. The kernel releases the lock of a process that dies.
    """
    folder = os.path.join(current_app.instance_path, "report-locks")
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, f"{int(key[-6:], 16) % STRIPES}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # no writable instance folder: speed, never the page
        log.warning("report lock unavailable", exc_info=True)
        yield True
        return
    try:
        first = _try_flock(fd)
        if not first:
            for _ in _pauses():  # until we hold it, or give up after WAIT_SECONDS
                if _try_flock(fd):
                    break
        yield first
    finally:
        os.close(fd)  # releases the lock


def _compute_across_hosts(key: str, make: Callable[[], T]) -> T:
    """Compute under the shared lock entry, or wait for the host that holds it."""
    lock_key = key + ":computing"
    owner = _try(lambda: cache.add(lock_key, uuid.uuid4().hex, timeout=LOCK_SECONDS), default=True)
    if not owner:
        value = _wait_for(key, lock_key)
        if value is not None:
            return value
    try:
        return _store(key, make)
    finally:
        if owner:
            _try(lambda: cache.delete(lock_key))


def _store(key: str, make: Callable[[], T]) -> T:
    """`make()`, computed with this thread marked as computing, and stored under `key`."""
    _computing.depth = getattr(_computing, "depth", 0) + 1
    try:
        value = make()
    finally:
        _computing.depth -= 1
    _try(lambda: cache.set(key, value))
    return value


def _wait_for(key: str, lock_key: str):
    """The value another host's computation stores under `key`; None when it gives up or takes too long."""
    for _ in _pauses():
        value = _get(key)
        if value is not None:
            return value
        if _try(lambda: cache.get(lock_key)) is None:  # it failed, or its lock expired
            return _get(key)
    return None


def _get(key: str):
    return _try(lambda: cache.get(key))


def _try(operation, default=None):
    try:
        return operation()
    except Exception:  # noqa: BLE001 - any backend error costs speed, never the page
        log.warning("report cache unavailable", exc_info=True)
        return default


def clear() -> None:
    """Forget every cached drawing and number (of this app's key prefix only)."""
    cache.clear()
