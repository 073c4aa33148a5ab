"""The half-signed-in state between a right password and the second factor (or its enrolment).

The person is not logged in yet (every page treats them as anonymous); the session only remembers
which account passed the password step, for a few minutes, and which step comes next.
"""
from __future__ import annotations

from flask import redirect, session, url_for

from ..extensions import db
from ..models import User, utcnow
from .twofactor import is_enrolled, is_required

KEY = "two_factor_pending"
LIFETIME_SECONDS = 600
CODE, ENROL = "code", "enrol"


def second_step(user: User, next_url: str | None):
    """A redirect to the code or enrolment page when `user` needs one, else None."""
    step = CODE if is_enrolled(user) else ENROL if is_required(user) else None
    if step is None:
        return None
    db.session.commit()  # the password step's audit entries
    session.clear()
    session[KEY] = {"user": user.id, "version": user.session_version, "step": step,
                    "since": utcnow().timestamp(), "next": next_url}
    return redirect(url_for("auth.two_factor_code" if step == CODE else "auth.two_factor_setup"))


def pending(step: str | None = None) -> tuple[User, dict] | None:
    """The account waiting for `step` (any step when None) and its state, or None when expired or absent."""
    state = session.get(KEY)
    if not isinstance(state, dict) or (step and state.get("step") != step):
        return None
    if utcnow().timestamp() - float(state.get("since", 0)) > LIFETIME_SECONDS:
        session.pop(KEY, None)
        return None
    user = db.session.get(User, state.get("user"))
    if user is None or user.session_version != state.get("version"):
        return None
    return user, state


def pending_step() -> str | None:
    """The step the session waits for, without loading anything."""
    state = session.get(KEY)
    return state.get("step") if isinstance(state, dict) else None


def forget() -> None:
    session.pop(KEY, None)
