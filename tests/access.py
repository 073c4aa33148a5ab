"""The access matrix: every route × every role × a record of the user's own agency and of another.

Each area lists its routes in `tests/access_cases/<area>.py` as `CASES = [Route(...), ...]`.
`tests/test_access_matrix.py` runs them all and fails for any endpoint of the app that no
case names, so a route added without thinking about scoping cannot slip in.

A fifth user, "trainer", is a handler of the user's agency given the trainer right: unless a case names
"trainer", it is expected to answer as a handler does (so every manager-only page stays closed to it).

Expectations per role are "ok" (any answer but 401/403/404/500 and not the login page) or
"deny" (exactly 404). Anonymous users always get the login page (HTML) or 401 (API).
For a record of the *other* agency every role but admin is denied, whatever "own" says,
unless the case says otherwise with `other=`; a route that names no record (no `params`)
answers the same on both sides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

from esd.extensions import db
from tests import helpers as h

ROLES = ("admin", "manager", "handler", "trainer", "funder")


@dataclass
class Route:
    endpoint: str
    own: dict[str, str]  # role -> "ok" | "deny", for a record of the user's agency
    params: Callable[[SimpleNamespace], dict] | None = None  # None: the route names no record
    method: str = "GET"
    data: dict | Callable[[SimpleNamespace], dict] | None = None
    other: dict[str, str] | None = None  # role -> "ok" | "deny" for another agency's record
    query: str = ""
    lands_on_login: bool = False  # e.g. logout: the login page is the right answer

    def expectation(self, role: str, side: str) -> str:
        if side == "own":
            return _of(self.own, role)
        if self.other is not None:
            return _of(self.other, role)
        if self.params is None:
            return _of(self.own, role)
        return self.own[role] if role == "admin" else "deny"


def _of(table: dict[str, str], role: str) -> str:
    return table.get(role, table["handler"]) if role == "trainer" else table[role]


def ok_for(*roles: str) -> dict[str, str]:
    """Expectation dict: these roles are allowed, the others denied (a trainer as a handler, unless named)."""
    allowed = set(roles) | ({"trainer"} if "handler" in roles else set())
    return {role: ("ok" if role in allowed else "deny") for role in ROLES}


RECORD_READERS = ok_for("admin", "manager", "handler")
MANAGERS = ok_for("admin", "manager")
TRAINERS = ok_for("admin", "manager", "trainer")  # plan, edit and close sealed sessions
# A record the own handler created (the world's session): they may change it; another handler (the trainer) not.
CREATOR = {**RECORD_READERS, "trainer": "deny"}
ADMINS = ok_for("admin")
EVERYONE = ok_for(*ROLES)


def build_side(name: str) -> SimpleNamespace:
    """One agency with a manager, a handler (with an account) and a dog with records of every kind."""
    agency = h.make_agency(name=f"{name} Task Force")
    manager = h.make_user("manager", agency)
    handler_user = h.make_user("handler", agency)
    handler = h.make_handler(agency, user_id=handler_user.id)
    dog = h.make_dog(agency)
    team = h.make_team(dog, handler)
    session = h.make_session(dog, handler, hides=[{"outcome": "found"}, {"outcome": "missed"}],
                             false_alerts=1, created_by_id=handler_user.id)
    deployment = h.make_deployment(dog, handler, finds=[{"missed_by_human_search": True}], alerts=[
        {"outcome": "confirmed", "find": 0}, {"outcome": "explained", "explanation": "Residual odour"}])
    certification = h.make_certification(dog, handler)
    return SimpleNamespace(name=name, agency=agency, manager=manager, handler_user=handler_user,
                           handler=handler, dog=dog, team=team, session=session,
                           deployment=deployment, certification=certification,
                           hide=session.hides[0], find=deployment.finds[0])


def build_world() -> SimpleNamespace:
    """Two agencies, an admin, and a funder granted the first agency only."""
    own, other = build_side("Own"), build_side("Other")
    admin = h.make_user("admin")
    funder = h.make_user("funder")
    funder.granted_agencies.append(own.agency)
    db.session.commit()
    return SimpleNamespace(own=own, other=other, admin=admin, funder=funder)


def trainer_of(side: SimpleNamespace) -> SimpleNamespace:
    """A handler of the side's agency given the trainer right, with a dog of their own (made once per side)."""
    if not hasattr(side, "trainer_user"):
        side.trainer_user = h.make_user("handler", side.agency, trainer=True, name=f"Trainer {side.name}")
        side.trainer_handler = h.make_handler(side.agency, user_id=side.trainer_user.id)
        side.trainer_dog = h.make_dog(side.agency)
        h.make_team(side.trainer_dog, side.trainer_handler)
        db.session.commit()
    return side


def user_for(world: SimpleNamespace, role: str):
    if role == "trainer":
        return trainer_of(world.own).trainer_user
    return {"admin": world.admin, "manager": world.own.manager,
            "handler": world.own.handler_user, "funder": world.funder}[role]


# Endpoints that need no login, and those served by extensions.
# /verify answers anyone (a court, a defence attorney) by design: tests/test_verify.py covers what it shows.
PUBLIC = {"static", "bootstrap.static", "auth.login", "main.healthz", "verification.verify"}
