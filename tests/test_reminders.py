"""The reminder job end to end, against a real SMTP server (aiosmtpd) on a free localhost port."""
from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from esd.extensions import db
from esd.models import Notification, Reminder
from esd.certifications.reminders import run
from tests.browser import free_port
from tests.helpers import (PASSWORD, make_agency, make_certification, make_dog, make_handler, make_team,
                           make_user)

EXPIRES = date(2026, 6, 30)
ROOT = Path(__file__).resolve().parent.parent


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str):
        return [m for rcpts, m in self.messages if address in rcpts]

    def recipients(self) -> list[str]:
        return sorted(r for rcpts, _ in self.messages for r in rcpts)


class SMTPServer:
    """A real SMTP server that a test can stop and start again on the same port."""

    def __init__(self):
        self.port = free_port()  # found beforehand: aiosmtpd's start-up check cannot use port 0
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    """A running SMTP server, and the app's mail settings pointed at it for this test only."""
    server = SMTPServer()
    server.start()
    keys = ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_TIMEOUT",
            "BASE_URL")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False, MAIL_TIMEOUT=5, BASE_URL="https://k9.example.org")
    yield server
    server.stop()
    app.config.update(saved)


@pytest.fixture
def team():
    """An agency with two managers, a dog whose handler has an account, and people who must hear nothing."""
    agency = make_agency(name="Metro ICAC")
    managers = [make_user("manager", agency, name="Maria Lopez"), make_user("manager", agency, name="Tom Reed")]
    handler_user = make_user("handler", agency, name="Sam Ortiz")
    handler = make_handler(agency, name="Sam Ortiz", user_id=handler_user.id)
    dog = make_dog(agency, name="Rex", call_sign="K9-7")
    make_team(dog, handler)
    cert = make_certification(dog, handler, issued_on=EXPIRES - timedelta(days=365), expires_on=EXPIRES)
    # Not recipients: an inactive manager, another handler, another agency's manager, admin and funder.
    make_user("manager", agency, active=False)
    make_user("handler", agency)
    make_user("manager", make_agency())
    make_user("admin")
    make_user("funder")
    db.session.commit()
    return {"agency": agency, "managers": managers, "handler_user": handler_user, "handler": handler,
            "dog": dog, "cert": cert}


def expected_recipients(team) -> list[str]:
    return sorted([team["handler_user"].email] + [m.email for m in team["managers"]])


def reminders(**where) -> list[Reminder]:
    stmt = select(Reminder).order_by(Reminder.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Reminder, key) == value)
    db.session.expire_all()
    return list(db.session.scalars(stmt))


def test_the_team_handler_and_the_managers_get_an_email_naming_dog_team_and_date(smtp, team):
    run(today=EXPIRES - timedelta(days=30))
    assert smtp.inbox.recipients() == expected_recipients(team)
    message = smtp.inbox.to(team["handler_user"].email)[0]
    subject, body = message["Subject"], message.get_content()
    for text in (subject, body):
        assert "Rex" in text and "Sam Ortiz" in text and "2026-06-30" in text
    assert "in 30 days" in subject
    assert "Hello Sam Ortiz" in body and "https://k9.example.org/certifications" in body
    assert f"https://k9.example.org/certifications/{team['cert'].id}" in body
    assert all(r.status == "sent" and r.threshold_days == 30 and r.sent_at for r in reminders())


def test_each_recipient_also_gets_an_in_app_notification(smtp, team):
    run(today=EXPIRES - timedelta(days=14))
    users = [team["handler_user"], *team["managers"]]
    for user in users:
        notices = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
        assert len(notices) == 1
        assert "Rex" in notices[0].message and "2026-06-30" in notices[0].message
        assert notices[0].link == f"/certifications/{team['cert'].id}"
    assert db.session.scalar(select(func.count(Notification.id))) == 3


def test_repeated_runs_send_nothing_twice(smtp, team):
    day = EXPIRES - timedelta(days=60)
    first = run(today=day)
    assert len(first) == 6  # 3 people × (e-mail, in-app)
    assert run(today=day) == [] and run(today=day + timedelta(days=1)) == []
    assert len(smtp.inbox.messages) == 3
    assert db.session.scalar(select(func.count(Notification.id))) == 3


def test_each_threshold_is_sent_once_as_it_is_crossed(smtp, team):
    for days_left in range(100, -3, -1):
        run(today=EXPIRES - timedelta(days=days_left))
    handler_mail = smtp.inbox.to(team["handler_user"].email)
    assert [m["Subject"].split(":")[0] for m in handler_mail] == [
        "Certification expires in 90 days", "Certification expires in 60 days",
        "Certification expires in 30 days", "Certification expires in 14 days",
        "Certification expires in 7 days", "Certification expires tomorrow", "Certification expires today"]


def test_a_threshold_crossed_while_the_app_was_down_goes_out_at_the_next_run(smtp, team):
    run(today=EXPIRES - timedelta(days=95))
    assert smtp.inbox.messages == []
    run(today=EXPIRES - timedelta(days=52))  # down on the day of the 60-day mark
    assert {r.threshold_days for r in reminders()} == {60}
    assert len(smtp.inbox.messages) == 3 and "in 52 days" in smtp.inbox.messages[0][1]["Subject"]


def test_entered_past_several_thresholds_gets_only_the_most_urgent(smtp, team):
    day = EXPIRES - timedelta(days=5)
    run(today=day)
    assert {r.threshold_days for r in reminders()} == {7}
    run(today=day + timedelta(days=1))
    run(today=EXPIRES - timedelta(days=1))
    assert {r.threshold_days for r in reminders()} == {7, 1}  # never 90, 60, 30 or 14 afterwards
    assert len(smtp.inbox.to(team["handler_user"].email)) == 2


def test_thresholds_are_per_agency(smtp, team):
    team["agency"].reminder_thresholds = "45,0"
    db.session.commit()
    run(today=EXPIRES - timedelta(days=60))
    assert smtp.inbox.messages == []
    run(today=EXPIRES - timedelta(days=45))
    assert {r.threshold_days for r in reminders()} == {45}


def test_email_opt_out_is_respected_and_in_app_still_arrives(smtp, team):
    tom = team["managers"][1]
    tom.email_reminders = False
    db.session.commit()
    run(today=EXPIRES - timedelta(days=30))
    assert tom.email not in smtp.inbox.recipients()
    assert len(smtp.inbox.messages) == 2
    assert [r.channel for r in reminders(recipient_id=tom.id)] == ["in_app"]


def test_a_team_handler_without_account_means_managers_only(smtp, team):
    team["handler"].user_id = None
    db.session.commit()
    run(today=EXPIRES - timedelta(days=30))
    assert smtp.inbox.recipients() == sorted(m.email for m in team["managers"])


def test_smtp_down_marks_nothing_sent_and_a_later_run_sends(smtp, team, caplog):
    day = EXPIRES - timedelta(days=30)
    smtp.stop()
    with caplog.at_level("WARNING", logger="esd.certifications.reminders"):
        outcomes = run(today=day)
    emails = reminders(channel="email")
    assert len(emails) == 3 and all(r.status == "failed" and r.sent_at is None for r in emails)
    assert all(r.attempts == 1 and r.last_error for r in emails)
    assert "failed" in caplog.text and "refused" in caplog.text.lower()  # logged, with the reason
    assert sorted(o.status for o in outcomes) == ["failed"] * 3 + ["sent"] * 3
    # The in-app notifications did not wait for the mail server.
    assert len(reminders(channel="in_app", status="sent")) == 3
    assert db.session.scalar(select(func.count(Notification.id))) == 3

    run(today=day)  # still down: another attempt, still not sent
    assert all(r.status == "failed" and r.attempts == 2 for r in reminders(channel="email"))

    smtp.start()
    run(today=day + timedelta(days=1))
    assert smtp.inbox.recipients() == expected_recipients(team)
    assert all(r.status == "sent" and r.attempts == 3 for r in reminders(channel="email"))
    run(today=day + timedelta(days=2))
    assert len(smtp.inbox.messages) == 3
    assert db.session.scalar(select(func.count(Notification.id))) == 3


def test_two_runs_at_once_send_each_email_once(app, smtp, team):
    barrier = threading.Barrier(2)
    errors = []

    def job():
        try:
            with app.app_context():
                barrier.wait()
                run(today=EXPIRES - timedelta(days=30))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert smtp.inbox.recipients() == expected_recipients(team)
    assert len(reminders()) == 6
    assert db.session.scalar(select(func.count(Notification.id))) == 3


def test_two_scheduler_processes_on_the_same_database_send_once(smtp, team, database_url):
    env = dict(os.environ, DATABASE_URL=database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port),
               FLASK_APP="app", MPLCONFIGDIR=str(ROOT / "instance" / "mplconfig"))
    command = [sys.executable, "-m", "flask", "esd", "send-reminders", "--today",
               (EXPIRES - timedelta(days=7)).isoformat()]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert smtp.inbox.recipients() == expected_recipients(team)
    printed = "".join(out for out, _ in outputs)
    assert printed.count("e-mail  sent") == 3  # each e-mail reported by the one process that sent it


def test_renewal_cancels_what_was_still_due_for_the_old_certification(app, smtp, team):
    day = EXPIRES - timedelta(days=30)
    smtp.stop()
    run(today=day)  # e-mails failed, waiting for a retry
    smtp.start()
    manager = team["managers"][0]
    client = app.test_client()
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    response = client.post(f"/certifications/{team['cert'].id}/renew", data={
        "dog_id": team["dog"].id, "handler_id": team["handler"].id,
        "certifying_body_id": team["cert"].certifying_body_id, "discipline": "esd",
        "issued_on": (day + timedelta(days=1)).isoformat(), "result": "pass"})
    assert response.status_code == 302
    assert {r.status for r in reminders(channel="email")} == {"cancelled"}
    for offset in range(2, 40):
        run(today=day + timedelta(days=offset))
    assert smtp.inbox.messages == []  # neither the retry nor the 14, 7, 1 and expiry notices


def test_a_renewal_entered_by_hand_also_stops_the_old_reminders(smtp, team):
    make_certification(team["dog"], team["handler"], issued_on=EXPIRES - timedelta(days=20),
                       expires_on=EXPIRES + timedelta(days=345))
    db.session.commit()
    run(today=EXPIRES - timedelta(days=10))
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("change", ["retired", "archived", "failed", "archived certification"])
def test_no_reminders_for_dogs_out_of_service_or_certifications_that_do_not_count(smtp, team, change):
    from esd.models import utcnow
    if change == "retired":
        team["dog"].status = "retired"
    elif change == "archived":
        team["dog"].archived_at = utcnow()
    elif change == "failed":
        team["cert"].result = "fail"
    else:
        team["cert"].archived_at = utcnow()
    db.session.commit()
    assert run(today=EXPIRES - timedelta(days=30)) == []
    assert smtp.inbox.messages == []


def test_send_reminders_command_prints_what_it_sent(app, smtp, team):
    result = app.test_cli_runner().invoke(args=["esd", "send-reminders", "--today", "2026-06-23"])
    assert result.exit_code == 0, result.output
    assert result.output.count("e-mail  sent") == 3 and result.output.count("in-app  sent") == 3
    assert "Rex" in result.output and "2026-06-30" in result.output and "7-day notice" in result.output
    assert "6 sent, 0 failed." in result.output
    again = app.test_cli_runner().invoke(args=["esd", "send-reminders", "--today", "2026-06-23"])
    assert again.output.strip() == "0 sent, 0 failed."


def test_send_reminders_rejects_a_malformed_date(app):
    result = app.test_cli_runner().invoke(args=["esd", "send-reminders", "--today", "30/06/2026"])
    assert result.exit_code != 0 and "%Y-%m-%d" in result.output
