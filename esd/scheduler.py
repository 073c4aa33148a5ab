"""The scheduler: APScheduler runs the daily jobs at REMINDER_TIME (reminders, the audit checkpoint,
the planner's statistics) and the reminders once at start.

It runs in one process per host: an exclusive, non-blocking `flock` on instance/scheduler.lock
lets the first scheduler run and keeps any other on the same host idle. Correctness never
depends on it — each notice is claimed through a unique constraint (see esd/certifications/reminders.py) —
the lock only saves the duplicate work. Several gunicorn workers must not each start one:
run `flask esd scheduler` as its own process instead (see the README).
"""
from __future__ import annotations

import atexit
import fcntl
import logging
import os
import time

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from .dates import utcnow

log = logging.getLogger("esd.scheduler")

JOB = "esd.certifications.reminders:run"
DAILY_ID = "reminders-daily"
STARTUP_ID = "reminders-at-start"
# The audit chain's head e-mailed to each agency's managers, daily beside the reminders.
CHECKPOINT_JOB = "esd.verification.checkpoint:run"
CHECKPOINT_ID = "audit-checkpoint-daily"
# The query planner's statistics (ANALYZE), which SQLite never gathers by itself.
STATISTICS_JOB = "esd.planner_statistics:run"
STATISTICS_ID = "planner-statistics-daily"
MISFIRE_GRACE = 6 * 3600  # a daily run missed by a sleeping or busy host still runs within six hours
LOCK_NAME = "scheduler.lock"

_held_locks: dict[str, int] = {}


def reminder_time(value: str | None) -> tuple[int, int]:
    """Hour and minute from REMINDER_TIME ("06:00"); a malformed value falls back to 06:00, logged."""
    try:
        hour, minute = (int(part) for part in (value or "06:00").strip().split(":"))
        if 0 <= hour < 24 and 0 <= minute < 60:
            return hour, minute
    except ValueError:
        pass
    log.warning("REMINDER_TIME %r is not HH:MM; using 06:00", value)
    return 6, 0


def lock_path(app) -> str:
    return os.path.join(app.instance_path, LOCK_NAME)


def acquire_lock(app) -> int | None:
    """Take the host's scheduler lock without waiting; None when another process holds it."""
    path = lock_path(app)
    if path in _held_locks:
        return _held_locks[path]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held_locks[path] = fd
    return fd


def release_lock(app) -> None:
    fd = _held_locks.pop(lock_path(app), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def add_jobs(scheduler, app) -> None:
    """The daily run and the run at start, configured so runs never pile up."""
    hour, minute = reminder_time(app.config.get("REMINDER_TIME"))
    common = dict(kwargs={"app": app}, replace_existing=True, coalesce=True, max_instances=1,
                  misfire_grace_time=MISFIRE_GRACE)
    scheduler.add_job(JOB, CronTrigger(hour=hour, minute=minute), id=DAILY_ID,
                      name=f"Certification reminders daily at {hour:02d}:{minute:02d}", **common)
    scheduler.add_job(JOB, DateTrigger(run_date=utcnow()), id=STARTUP_ID,
                      name="Certification reminders at start", **common)
    scheduler.add_job(CHECKPOINT_JOB, CronTrigger(hour=hour, minute=minute), id=CHECKPOINT_ID,
                      name=f"Audit log checkpoint e-mail daily at {hour:02d}:{minute:02d}", **common)
    scheduler.add_job(STATISTICS_JOB, CronTrigger(hour=hour, minute=minute), id=STATISTICS_ID,
                      name=f"Query planner statistics daily at {hour:02d}:{minute:02d}", **common)


def start_background(app) -> BackgroundScheduler | None:
    """Start the scheduler in a thread beside the dev server; stay idle when another one holds the lock."""
    _configure_logging()
    if acquire_lock(app) is None:
        log.info("Another scheduler holds %s: this process stays idle (no reminder job here).",
                 lock_path(app))
        return None
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, app)
    scheduler.start()
    log.info("Reminder scheduler started (daily at %s, and now).", app.config.get("REMINDER_TIME"))

    def stop():
        if scheduler.running:
            scheduler.shutdown(wait=False)
        release_lock(app)
    atexit.register(stop)
    return scheduler


def run_blocking(app, poll_seconds: int = 60) -> None:
    """Run the scheduler in the foreground (production); a second one on the host stands by idle."""
    _configure_logging()
    announced = False
    while acquire_lock(app) is None:
        if not announced:
            log.info("Another scheduler holds %s: this one stays idle and takes over if that one stops.",
                     lock_path(app))
            announced = True
        time.sleep(poll_seconds)
    scheduler = BlockingScheduler()
    add_jobs(scheduler, app)
    log.info("Reminder scheduler running (daily at %s, and now). Ctrl+C to stop.",
             app.config.get("REMINDER_TIME"))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        release_lock(app)


def _configure_logging() -> None:
    """Job results and mail failures reach the console when nothing else configured logging."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("esd").setLevel(logging.INFO)
