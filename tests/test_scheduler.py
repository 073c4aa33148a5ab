"""The reminder scheduler: its jobs, the host lock that keeps a second one idle, and `flask esd scheduler`."""
from __future__ import annotations

import fcntl
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from esd import scheduler as esd_scheduler
from esd.extensions import db
from esd.models import Notification, Reminder
from tests.helpers import make_agency, make_certification, make_dog, make_handler, make_team, make_user
from tests.test_reminders import smtp  # noqa: F401  (the real SMTP server fixture)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value, expected", [("06:00", (6, 0)), ("23:45", (23, 45)), ("7:5", (7, 5)),
                                             ("25:00", (6, 0)), ("noon", (6, 0)), ("", (6, 0))])
def test_reminder_time_is_read_from_config(value, expected):
    assert esd_scheduler.reminder_time(value) == expected


def test_jobs_run_daily_at_reminder_time_and_once_at_start(app):
    saved = app.config["REMINDER_TIME"]
    app.config["REMINDER_TIME"] = "07:30"
    scheduler = BackgroundScheduler()
    try:
        esd_scheduler.add_jobs(scheduler, app)
        esd_scheduler.add_jobs(scheduler, app)  # added twice (a restart): replaced, not doubled
        scheduler.start(paused=True)
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        app.config["REMINDER_TIME"] = saved
    assert set(jobs) == {"reminders-daily", "reminders-at-start", "audit-checkpoint-daily", "planner-statistics-daily"}
    for daily in (jobs["reminders-daily"], jobs["audit-checkpoint-daily"], jobs["planner-statistics-daily"]):
        assert "hour='7'" in str(daily.trigger) and "minute='30'" in str(daily.trigger)
    assert str(jobs["reminders-at-start"].trigger).startswith("date[")
    assert jobs["audit-checkpoint-daily"].func_ref == "esd.verification.checkpoint:run"
    for job in jobs.values():
        assert job.func_ref in ("esd.certifications.reminders:run", "esd.verification.checkpoint:run",
                                "esd.planner_statistics:run")
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time >= 3600


@pytest.fixture
def instance_dir(app, tmp_path):
    """The app's instance folder pointed at a temporary one, so the lock file is the test's own."""
    saved = app.instance_path
    app.instance_path = str(tmp_path)
    yield tmp_path
    esd_scheduler.release_lock(app)
    app.instance_path = saved


@pytest.fixture
def due_certification():
    """A certification 10 days from expiry today, with a manager to be told."""
    agency = make_agency()
    manager = make_user("manager", agency)
    dog = make_dog(agency, name="Rex")
    handler = make_handler(agency)
    make_team(dog, handler)
    today = agency.today()
    make_certification(dog, handler, issued_on=today - timedelta(days=355), expires_on=today + timedelta(days=10))
    db.session.commit()
    return manager


def wait_for(condition, seconds: float = 60.0) -> bool:
    """Poll until `condition()` holds (a background job has no callback to wait on)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_second_scheduler_on_the_host_stays_idle_and_the_first_runs_the_job_at_start(
        app, instance_dir, due_certification, caplog):
    held = os.open(instance_dir / "scheduler.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process's scheduler, as far as flock knows
    try:
        with caplog.at_level("INFO", logger="esd.scheduler"):
            assert esd_scheduler.start_background(app) is None
        assert "stays idle" in caplog.text
    finally:
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)

    scheduler = esd_scheduler.start_background(app)
    try:
        assert scheduler is not None and scheduler.running

        def notified():
            db.session.expire_all()
            return db.session.scalar(select(func.count(Notification.id)).where(
                Notification.user_id == due_certification.id)) == 1
        assert wait_for(notified), "the run at start sent no in-app reminder"
        assert db.session.scalar(select(Reminder.threshold_days)) == 14
        # While this one holds the lock, a second start on the host stays idle.
        other = os.open(instance_dir / "scheduler.lock", os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(other)
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)


def _start_scheduler_command(database_url, smtp_port):
    env = dict(os.environ, DATABASE_URL=database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port),
               FLASK_APP="app", MPLCONFIGDIR=str(ROOT / "instance" / "mplconfig"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "flask", "esd", "scheduler"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    return process, lines


def _read_until(lines: queue.Queue, text: str, seconds: float = 90.0) -> str:
    seen = ""
    deadline = time.monotonic() + seconds
    while text not in seen and time.monotonic() < deadline:
        try:
            seen += lines.get(timeout=1)
        except queue.Empty:
            pass
    return seen


def _stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_flask_esd_scheduler_runs_the_job_at_start_and_a_second_one_stays_idle(
        due_certification, database_url, smtp):  # noqa: F811
    first, first_lines = _start_scheduler_command(database_url, smtp.port)
    try:
        output = _read_until(first_lines, "reminder run:")
        assert "Reminder scheduler running" in output, output
        assert "reminder run: 2 sent, 0 failed" in output, output  # the manager: e-mail and in-app
        assert smtp.inbox.recipients() == [due_certification.email]

        second, second_lines = _start_scheduler_command(database_url, smtp.port)
        try:
            idle = _read_until(second_lines, "stays idle")
            assert "stays idle" in idle, idle
        finally:
            _stop(second)
    finally:
        _stop(first)
    assert len(smtp.inbox.messages) == 1
