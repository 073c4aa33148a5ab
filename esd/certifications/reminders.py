"""The reminder job: certification expiry notices by e-mail and in the app, each sent at most once.

The rule is "crossed and not yet sent": on every run a certification's due threshold is the most
urgent one its expiry has crossed, so a threshold crossed while the app was down goes out at the
next run, and a certification entered already past several thresholds gets only the most urgent
one (the less urgent ones it has passed are never sent). Each (certification, threshold,
recipient, channel) is claimed by INSERTing its Reminder row: the unique constraint lets exactly
one run win, however many schedulers run at once. An e-mail that fails stays `failed` and is
taken again at the next run; the in-app notification does not wait for the mail server.

`run(today=None)` is module-level so that APScheduler can name it as "esd.certifications.reminders:run".
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_mailman import EmailMessage
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..batch import isolated
from ..extensions import db, mail
from ..models import Agency, Certification, Dog, Notification, Reminder, User, utcnow
from ..models.certifications import expiry_phrase
from .services import superseded_clause

log = logging.getLogger(__name__)

# A `pending` e-mail row older than this was left by a run that died mid-send: take it again.
STALE_CLAIM = timedelta(minutes=15)
CHANNELS = ("in_app", "email")


# --- Rules, as plain functions ------------------------------------------------------------------

def due_threshold(expires_on: date, thresholds: list[int], today: date) -> int | None:
    """The most urgent threshold (days before expiry) that `today` has crossed, or None."""
    crossed = [t for t in thresholds if today >= expires_on - timedelta(days=t)]
    return min(crossed) if crossed else None


@dataclass(frozen=True)
class Recipient:
    user_id: int
    wants_email: bool


@dataclass(frozen=True)
class Notice:
    certification_id: int
    threshold_days: int
    recipient_id: int
    channel: str


def notices_due(certification_id: int, expires_on: date, thresholds: list[int], today: date,
                recipients: list[Recipient], settled: set[tuple[int, str]]) -> list[Notice]:
    """The notices to send now: the due threshold, to each recipient, on each channel they take.

    `settled` holds the (recipient, channel) pairs of the due threshold already sent, cancelled or
    being sent by another run; those are left alone.
    """
    threshold = due_threshold(expires_on, thresholds, today)
    if threshold is None:
        return []
    notices = []
    for recipient in recipients:
        for channel in CHANNELS:
            if channel == "email" and not recipient.wants_email:
                continue
            if (recipient.user_id, channel) in settled:
                continue
            notices.append(Notice(certification_id, threshold, recipient.user_id, channel))
    return notices


def when_phrase(expires_on: date, today: date) -> str:
    """How the expiry reads in a notice on `today`: "expires in 30 days", "expires tomorrow", "expired 3 days ago"."""
    return expiry_phrase((expires_on - today).days, sentence=True)


# --- The job ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    channel: str
    recipient: str
    dog: str
    threshold_days: int
    expires_on: date
    status: str  # sent | failed
    error: str | None = None

    def line(self) -> str:
        what = "e-mail" if self.channel == "email" else "in-app"
        text = (f"{what:7} {self.status:6} {self.recipient}: {self.dog}, expires {self.expires_on} "
                f"({self.threshold_days}-day notice)")
        return text + (f" — {self.error}" if self.error else "")


def run(today: date | None = None, app=None) -> list[Outcome]:
    """Send every reminder that is due; safe to run at any time, from any number of processes."""
    if app is not None and not (has_app_context() and current_app._get_current_object() is app):
        with app.app_context():
            return run(today)
    outcomes: list[Outcome] = []
    agencies = list(db.session.scalars(select(Agency).where(Agency.archived_at.is_(None))
                                       .order_by(Agency.id)))
    with Mailer() as mailer:
        for agency in agencies:
            outcomes += isolated(lambda: _run_agency(agency, today, mailer), f"agency {agency.id}", [])
    db.session.commit()
    sent = sum(1 for o in outcomes if o.status == "sent")
    failed = len(outcomes) - sent
    log.info("reminder run: %d sent, %d failed", sent, failed)
    return outcomes


def candidate_certifications(agency: Agency, today: date) -> list[Certification]:
    """Passing, current certifications of serving dogs close enough to expiry to have a notice due."""
    thresholds = agency.thresholds()
    if not thresholds:
        return []
    horizon = today + timedelta(days=max(thresholds))
    stmt = (select(Certification).join(Dog, Dog.id == Certification.dog_id)
            .where(Certification.agency_id == agency.id, Certification.result == "pass",
                   Certification.archived_at.is_(None), Certification.replaced_by_id.is_(None),
                   ~superseded_clause(), Certification.expires_on <= horizon,
                   Dog.archived_at.is_(None), Dog.status != "retired")
            .options(selectinload(Certification.dog), selectinload(Certification.handler),
                     selectinload(Certification.certifying_body))
            .order_by(Certification.expires_on, Certification.id))
    return list(db.session.scalars(stmt))


def recipients_for(certification: Certification, today: date) -> list[User]:
    """The team's handler when linked to an account, and the agency's active managers."""
    users: list[User] = []
    handler = certification.handler
    if handler is None:
        team = certification.dog.team_on(today)
        handler = team.handler if team else None
    if handler is not None and handler.archived_at is None and handler.user is not None \
            and handler.user.active:
        users.append(handler.user)
    managers = db.session.scalars(
        select(User).where(User.agency_id == certification.agency_id, User.role == "manager",
                           User.active.is_(True)).order_by(User.id))
    for manager in managers:
        if all(manager.id != u.id for u in users):
            users.append(manager)
    return users


def _run_agency(agency: Agency, today: date | None, mailer: Mailer) -> list[Outcome]:
    day = today or agency.today()
    thresholds = agency.thresholds()
    outcomes = []
    for cert in candidate_certifications(agency, day):
        outcomes += isolated(lambda: _remind(cert, thresholds, day, mailer), f"certification {cert.id}", [])
    return outcomes


def _remind(cert: Certification, thresholds: list[int], day: date, mailer: _Mailer) -> list[Outcome]:
    """The notices due for one certification, claimed and delivered."""
    outcomes = []
    threshold = due_threshold(cert.expires_on, thresholds, day)
    if threshold is None:
        return []
    users = {u.id: u for u in recipients_for(cert, day)}
    recipients = [Recipient(u.id, bool(u.email_reminders and u.email)) for u in users.values()]
    now = utcnow()
    existing = db.session.scalars(select(Reminder).where(
        Reminder.certification_id == cert.id, Reminder.threshold_days == threshold)).all()
    settled = {(r.recipient_id, r.channel) for r in existing
               if r.status in ("sent", "cancelled")
               or (r.status == "pending" and r.claimed_at and r.claimed_at > now - STALE_CLAIM)}
    retry = {(r.recipient_id, r.channel) for r in existing} - settled
    message = _Message(cert, day)
    for notice in notices_due(cert.id, cert.expires_on, thresholds, day, recipients, settled):
        user = users[notice.recipient_id]
        if notice.channel == "in_app":
            if _claim_in_app(notice, message):
                outcomes.append(Outcome("in_app", user.email, cert.dog.name, threshold, cert.expires_on,
                                        "sent"))
        else:
            row = _claim_email(notice, (notice.recipient_id, "email") in retry)
            if row is not None:
                outcomes.append(_deliver(row, user, message, mailer))
    return outcomes


def _key(notice: Notice):
    return and_(Reminder.certification_id == notice.certification_id,
                Reminder.threshold_days == notice.threshold_days,
                Reminder.recipient_id == notice.recipient_id, Reminder.channel == notice.channel)


def _claim_in_app(notice: Notice, message: _Message) -> bool:
    """Insert the reminder and its notification together; a duplicate means another run did it."""
    now = utcnow()
    row = Reminder(certification_id=notice.certification_id, threshold_days=notice.threshold_days,
                   recipient_id=notice.recipient_id, channel="in_app", status="sent", attempts=1,
                   claimed_at=now, sent_at=now)
    try:
        db.session.add(row)
        db.session.flush()
        db.session.add(Notification(user_id=notice.recipient_id, message=message.notification,
                                    link=message.cert_path, reminder_id=row.id))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def _claim_email(notice: Notice, known: bool) -> Reminder | None:
    """Take an e-mail to send: by INSERT when new, by a guarded UPDATE when it failed or was abandoned."""
    now = utcnow()
    if not known:
        row = Reminder(certification_id=notice.certification_id, threshold_days=notice.threshold_days,
                       recipient_id=notice.recipient_id, channel="email", status="pending", attempts=0,
                       claimed_at=now)
        try:
            db.session.add(row)
            db.session.commit()
            return row
        except IntegrityError:
            db.session.rollback()
    taken = db.session.execute(
        update(Reminder).where(_key(notice), or_(
            Reminder.status == "failed",
            and_(Reminder.status == "pending", Reminder.claimed_at < now - STALE_CLAIM)))
        .values(status="pending", claimed_at=now))
    db.session.commit()
    if taken.rowcount != 1:
        return None
    return db.session.scalar(select(Reminder).where(_key(notice)))


def _deliver(row: Reminder, user: User, message: _Message, mailer: Mailer) -> Outcome:
    """Send one claimed e-mail and record the result; a failure is logged and left for the next run."""
    error = mailer.send(message.subject, message.body(user), user.email)
    row.attempts = (row.attempts or 0) + 1
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", utcnow(), None
    else:
        row.status, row.last_error = "failed", error[:1000]
        log.warning("reminder e-mail to %s about certification %s (%s-day notice) failed, attempt %d: %s",
                    user.email, row.certification_id, row.threshold_days, row.attempts, error)
    db.session.commit()
    return Outcome("email", user.email, message.cert.dog.name, row.threshold_days, message.cert.expires_on,
                   row.status, error)


# --- Text and transport -------------------------------------------------------------------------

def external_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail: a job has no request, so BASE_URL says where the app lives."""
    base = urlsplit(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def internal_path(endpoint: str, **values) -> str:
    base = urlsplit(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values)


class _Message:
    """The words of one certification's notice, shared by its e-mails and notifications."""

    def __init__(self, cert: Certification, today: date):
        self.cert = cert
        dog = cert.dog
        self.dog = f"{dog.name} ({dog.call_sign})" if dog.call_sign else dog.name
        team = None if cert.handler else cert.dog.team_on(today)
        handler = cert.handler or (team.handler if team else None)
        self.team = f"{dog.name} with {handler.name}" if handler else f"{dog.name} (no handler recorded)"
        self.when = when_phrase(cert.expires_on, today)
        self.date = cert.expires_on.isoformat()
        self.what = f"{cert.certifying_body.name} {cert.discipline.upper()} certification"
        self.subject = f"Certification {self.when}: {self.dog}, team {self.team}, {self.date}"
        self.notification = (f"The {self.what} of {self.team} {self.when} ({self.date}).")[:500]
        self.cert_path = internal_path("certifications.certification_detail", certification_id=cert.id)
        self.board_url = external_url("certifications.board")
        self.cert_url = external_url("certifications.certification_detail", certification_id=cert.id)
        self.account_url = external_url("certifications.account")

    def body(self, user: User) -> str:
        return "\n".join([
            f"Hello {user.name},",
            "",
            f"The {self.what} of the team {self.team} {self.when}.",
            "",
            f"Dog:        {self.dog}",
            f"Team:       {self.team}",
            f"Expires on: {self.cert.expires_on.strftime('%A')} {self.date}",
            "",
            f"Status board: {self.board_url}",
            f"This certification: {self.cert_url}",
            "",
            "Plan the recertification with the certifying body; once it is recorded as a renewal,"
            " reminders about this certification stop.",
            "",
            f"You can turn reminder e-mails off on your account page: {self.account_url}",
            "-- ESD K9 Tracker",
        ])


class Mailer:
    """One SMTP connection per run, set up from the app's current MAIL_* settings."""

    def __enter__(self):
        self.connection = None
        return self

    def _connect(self):
        cfg = current_app.config
        self.connection = mail.get_connection(
            backend=cfg.get("MAIL_BACKEND") or "smtp",
            host=cfg.get("MAIL_SERVER"), port=cfg.get("MAIL_PORT"), username=cfg.get("MAIL_USERNAME"),
            password=cfg.get("MAIL_PASSWORD"), use_tls=bool(cfg.get("MAIL_USE_TLS")),
            use_ssl=bool(cfg.get("MAIL_USE_SSL")), timeout=cfg.get("MAIL_TIMEOUT") or 20)

    def send(self, subject: str, body: str, to: str) -> str | None:
        """Send one message; return None, or the reason it could not be sent."""
        try:
            if self.connection is None:
                self._connect()
                self.connection.open()  # one connection for the run's messages
            message = EmailMessage(subject=subject, body=body, to=[to], connection=self.connection,
                                   from_email=current_app.config.get("MAIL_DEFAULT_SENDER"))
            sent = message.send()
        except Exception as exc:  # the server down, refusing, timing out: all mean "try again later"
            self._close()
            return f"{type(exc).__name__}: {exc}"
        return None if sent else "the mail server accepted no recipient"

    def _close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                pass
        self.connection = None

    def __exit__(self, *exc):
        self._close()
        return False
