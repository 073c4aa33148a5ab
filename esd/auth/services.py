"""Login rules: lockout after consecutive failures, per-address rate limit, session versions."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import current_app
from sqlalchemy import func, select

from ..audit import record_event
from ..extensions import db
from ..models import AuditEntry, User, utcnow
from .passwords import hash_password, verify_password

INVALID = "Invalid e-mail or password."


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("no account has this password")


def address_blocked(ip: str | None, now: datetime | None = None) -> bool:
    """Whether `ip` has failed too many logins in the window (counted from the audit log)."""
    now = now or utcnow()
    since = now - current_app.config["LOGIN_IP_WINDOW"]
    failures = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "login_failed",
                                                AuditEntry.ip == ip, AuditEntry.at >= since))
    return failures >= current_app.config["LOGIN_IP_LIMIT"]


def authenticate(email: str, password: str, ip: str | None) -> tuple[User | None, str | None]:
    """Check the password step of a login. Return (user, None) on success, (None, message) on failure.

    Success does not yet sign in: the caller asks for a second factor when the user has one,
    then calls `complete_login`.

    A wrong password gets the generic message, so the form never tells an attacker which
    e-mail addresses exist. A locked account, a disabled one and one of an archived agency
    answer the same whatever the password: the answer never tells a guesser that the password
    was right. Failures from an address that is over its limit are not counted against the
    account: nobody can lock everyone out.
    """
    if address_blocked(ip):
        record_event("login_throttled", "user", reason=email[:254])
        return None, "Too many failed logins from this address. Wait 15 minutes and try again."
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(_dummy_hash(), password)  # same work as for a real account: timing tells nothing
        record_event("login_failed", "user", reason=f"unknown e-mail {email[:200]}")
        return None, INVALID
    right = verify_password(user.password_hash, password)  # always checked: the time taken tells nothing
    problem = cannot_sign_in(user)
    if problem:
        record_event("login_refused", "user", user.id, user_id=user.id, agency_id=user.agency_id, reason=problem)
        return None, problem
    if not right:
        count_failed_login(user)
        return None, INVALID
    return user, None


def cannot_sign_in(user: User) -> str | None:
    """Why `user` may not sign in now, whatever the password, or None."""
    if user.is_locked:
        return "This account is locked after repeated failed logins. Ask an administrator to unlock it."
    if not user.active:
        return "This account is disabled. Ask an administrator."
    if user.agency is not None and user.agency.archived_at is not None:
        return "This account's agency is archived. Ask an administrator."
    return None


def count_failed_login(user: User, reason: str | None = None) -> None:
    """Audit a failed login of `user` (a wrong password or second-factor code); lock after too many in a row."""
    record_event("login_failed", "user", user.id, user_id=user.id, agency_id=user.agency_id, reason=reason)
    if not user.is_locked:
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_LOCKOUT_THRESHOLD"]:
            user.locked_at = utcnow()
            record_event("lockout", "user", user.id, user_id=user.id, agency_id=user.agency_id,
                         reason=f"{user.failed_logins} consecutive failed logins")


def complete_login(user: User) -> None:
    """Record a login whose every step passed: the failure count starts again from zero."""
    user.failed_logins = 0
    user.last_login_at = utcnow()
    record_event("login", "user", user.id, user_id=user.id, agency_id=user.agency_id)


def unlock(user: User) -> None:
    """Let a locked-out user log in again (admin action, audited)."""
    user.locked_at = None
    user.failed_logins = 0


def end_all_sessions(user: User) -> None:
    """Invalidate every cookie issued to `user` (logout, password change)."""
    user.session_version += 1
