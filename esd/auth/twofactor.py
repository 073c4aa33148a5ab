"""Two-factor sign-in rules: who must enrol, enrolment, checking a code once, recovery codes, reset.

A TOTP code is accepted in its own 30-second step or the one before or after (clocks drift), but only
once: the step of the last accepted code is stored and a code of that step or an earlier one is refused,
so a code read over a shoulder cannot be replayed. Recovery codes carry 80 random bits, so a plain
SHA-256 of them cannot be reversed by trying candidates; each is spent by one conditional UPDATE.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, exists, func, or_, select, update

from ..audit import record_event
from ..extensions import db
from ..models import RecoveryCode, TwoFactor, TwoFactorRule, User, funder_grants, utcnow
from .services import end_all_sessions

ISSUER = "ESD K9 Tracker"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on paper
DRIFT_STEPS = 1  # a code of the previous or next 30-second step is still taken


def two_factor_of(user: User) -> TwoFactor | None:
    """The user's second factor, confirmed or not."""
    return db.session.get(TwoFactor, user.id)


def is_enrolled(user: User) -> bool:
    """Whether `user` signs in with a code after the password."""
    factor = two_factor_of(user)
    return factor is not None and factor.confirmed_at is not None


def is_required(user: User) -> bool:
    """Whether a rule (the user's role, agency, or for a funder a granted agency) demands a second factor."""
    granted = select(funder_grants.c.agency_id).where(funder_grants.c.user_id == user.id)
    clauses = [TwoFactorRule.role == user.role, TwoFactorRule.agency_id.in_(granted)]
    if user.agency_id is not None:
        clauses.append(TwoFactorRule.agency_id == user.agency_id)
    return bool(db.session.scalar(select(exists().where(or_(*clauses)))))


def begin_enrolment(user: User) -> TwoFactor:
    """The unconfirmed secret to show `user` (kept across reloads, so the QR code stays the same)."""
    factor = two_factor_of(user)
    if factor is None:
        factor = TwoFactor(user_id=user.id, secret=pyotp.random_base32())
        db.session.add(factor)
        db.session.flush()
    return factor


def provisioning_uri(user: User, factor: TwoFactor) -> str:
    return pyotp.TOTP(factor.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an inline SVG element (no script, no external image)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator app")


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code is `code`, within the allowed drift, or None."""
    totp = pyotp.TOTP(secret)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return totp.timecode(now) + offset
    return None


def _take_step(user_id: int, step: int) -> bool:
    """Record `step` as used; False when it (or a later one) was used already, even by a concurrent login."""
    result = db.session.execute(
        update(TwoFactor)
        .where(TwoFactor.user_id == user_id,
               or_(TwoFactor.last_time_step.is_(None), TwoFactor.last_time_step < step))
        .values(last_time_step=step)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace `user`'s recovery codes with ten new ones; return them (shown once, stored hashed)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(c)) for c in codes)
    return codes


def confirm_enrolment(user: User, code: str, now: datetime | None = None) -> list[str] | None:
    """Switch the second factor on when `code` matches the secret shown; return the recovery codes, or None."""
    now = now or utcnow()
    factor = two_factor_of(user)
    code = normalise_code(code)
    if factor is None or factor.confirmed_at is not None or not (code.isascii() and code.isdigit()):
        return None
    step = _matching_step(factor.secret, code, now)
    if step is None or not _take_step(user.id, step):
        return None
    factor.confirmed_at = now
    codes = new_recovery_codes(user)
    record_event("two_factor_enrolled", "user", user.id, user_id=user.id, agency_id=user.agency_id)
    return codes


def check_second_factor(user: User, code: str, now: datetime | None = None) -> bool:
    """Accept a current authenticator code not used before, or an unused recovery code (then spent)."""
    now = now or utcnow()
    factor = two_factor_of(user)
    if factor is None or factor.confirmed_at is None:
        return False
    code = normalise_code(code)
    if code.isascii() and code.isdigit() and len(code) == 6:  # "١٢٣٤٥٦" is digits to Python, not to pyotp
        step = _matching_step(factor.secret, code, now)
        return step is not None and _take_step(user.id, step)
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    record_event("recovery_code_used", "user", user.id, user_id=user.id, agency_id=user.agency_id,
                 reason=f"{recovery_codes_left(user)} recovery codes left")
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id,
                                                                        RecoveryCode.used_at.is_(None)))


def reset_second_factor(user: User, by: User) -> None:
    """Remove `user`'s authenticator and recovery codes and end their sessions (admin action, audited)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    end_all_sessions(user)
    record_event("two_factor_reset", "user", user.id, user_id=by.id, agency_id=user.agency_id,
                 reason=f"Second factor of {user.email} reset by {by.email}; their sessions ended")


def set_rules(roles: list[str], agency_ids: list[int]) -> None:
    """Make the rules exactly these roles and agencies (each added or removed rule is audited)."""
    current = list(db.session.scalars(select(TwoFactorRule)))
    for rule in current:
        if (rule.role is not None and rule.role not in roles) or \
                (rule.agency_id is not None and rule.agency_id not in agency_ids):
            db.session.delete(rule)
    have_roles = {r.role for r in current if r.role}
    have_agencies = {r.agency_id for r in current if r.agency_id}
    db.session.add_all(TwoFactorRule(role=r) for r in roles if r not in have_roles)
    db.session.add_all(TwoFactorRule(agency_id=a) for a in agency_ids if a not in have_agencies)


def rules() -> tuple[list[str], list[int]]:
    """The roles and the agency ids that must sign in with a second factor."""
    rows = list(db.session.scalars(select(TwoFactorRule)))
    return [r.role for r in rows if r.role], [r.agency_id for r in rows if r.agency_id]


def enrolled_user_ids() -> set[int]:
    """Ids of the users who sign in with a second factor."""
    return set(db.session.scalars(select(TwoFactor.user_id).where(TwoFactor.confirmed_at.is_not(None))))
