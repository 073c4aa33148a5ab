"""Rules about dogs, handlers and teams shared by the views and tests."""
from __future__ import annotations

import os
import secrets
from datetime import date

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Dog, Handler, TeamAssignment, User

DOG_FIELDS = ("name", "call_sign", "breed", "sex", "date_of_birth", "microchip_id", "status",
              "acquired_on", "retired_on")
HANDLER_FIELDS = ("name", "badge_number", "phone", "email")
PHOTO_KINDS = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}


def microchip_owner(microchip_id: str | None, exclude_id: int | None = None) -> Dog | None:
    """The dog already registered with this microchip id, if any (ids are unique across the installation)."""
    if not microchip_id:
        return None
    stmt = select(Dog).where(Dog.microchip_id == microchip_id)
    if exclude_id is not None:
        stmt = stmt.where(Dog.id != exclude_id)
    return db.session.scalar(stmt)


def badge_owner(agency_id: int, badge_number: str | None, exclude_id: int | None = None) -> Handler | None:
    """The agency's handler already carrying this badge number, if any."""
    if not badge_number:
        return None
    stmt = select(Handler).where(Handler.agency_id == agency_id, Handler.badge_number == badge_number)
    if exclude_id is not None:
        stmt = stmt.where(Handler.id != exclude_id)
    return db.session.scalar(stmt)


def linkable_users(agency_ids: list[int] | None, handler: Handler | None = None) -> list[User]:
    """Handler accounts that may be linked to a handler record: same agency, not linked elsewhere."""
    stmt = (select(User).outerjoin(Handler, Handler.user_id == User.id)
            .where(User.role == "handler", User.active.is_(True))
            .where(or_(Handler.id.is_(None), Handler.id == (handler.id if handler else -1))))
    if agency_ids is not None:
        stmt = stmt.where(User.agency_id.in_(agency_ids))
    return list(db.session.scalars(stmt.order_by(User.name)))


def _save(model, record, fields: tuple, data: dict, agency_id: int):
    """Create a record of `model` in the agency (when `record` is None) or update it, from validated form data."""
    if record is None:
        record = model(agency_id=agency_id)
        db.session.add(record)
    for field in fields:
        setattr(record, field, data[field])
    return record


def save_dog(dog: Dog | None, data: dict, agency_id: int) -> Dog:
    """Create or update a dog from validated form data."""
    return _save(Dog, dog, DOG_FIELDS, data, agency_id)


def save_handler(handler: Handler | None, data: dict, agency_id: int) -> Handler:
    """Create or update a handler from validated form data, with the account it is linked to."""
    handler = _save(Handler, handler, HANDLER_FIELDS, data, agency_id)
    handler.user_id = data["user"]
    return handler


def overlapping_team(dog_id: int, starts_on: date, ends_on: date | None,
                     exclude_id: int | None = None) -> TeamAssignment | None:
    """A team of the dog whose dates overlap [starts_on, ends_on] (open-ended when None)."""
    stmt = select(TeamAssignment).where(
        TeamAssignment.dog_id == dog_id,
        or_(TeamAssignment.ends_on.is_(None), TeamAssignment.ends_on >= starts_on))
    if ends_on is not None:
        stmt = stmt.where(TeamAssignment.starts_on <= ends_on)
    if exclude_id is not None:
        stmt = stmt.where(TeamAssignment.id != exclude_id)
    return db.session.scalars(stmt.order_by(TeamAssignment.starts_on)).first()


def start_team(dog: Dog, handler: Handler, starts_on: date, ends_on: date | None = None,
               notes: str | None = None) -> TeamAssignment:
    """Pair a handler with a dog; the caller has checked `overlapping_team` first."""
    team = TeamAssignment(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id,
                          starts_on=starts_on, ends_on=ends_on, notes=notes)
    db.session.add(team)
    return team


def end_team_problem(team: TeamAssignment, ends_on: date) -> str | None:
    """Why a team cannot end on `ends_on`, or None."""
    if ends_on < team.starts_on:
        return f"The team started on {team.starts_on.isoformat()}; it cannot end before that."
    return None


def sniff_photo(head: bytes) -> str | None:
    """The file extension of a JPEG or PNG, judged from its first bytes (not its name)."""
    for magic, ext in PHOTO_KINDS.items():
        if head.startswith(magic):
            return ext
    return None


def store_photo(stream, folder: str) -> str | None:
    """Save an uploaded photo under a random name in `folder`; None when it is not a JPEG or PNG."""
    content = stream.read()
    ext = sniff_photo(content[:16])
    if ext is None:
        return None
    os.makedirs(folder, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(content)
    return name


def handler_dogs(user: User, today: date) -> list[Dog]:
    """The dogs a handler's account works on `today` (their teams in force), by name."""
    handler = user.handler
    if handler is None:
        return []
    return list(db.session.scalars(
        select(Dog).join(TeamAssignment, TeamAssignment.dog_id == Dog.id)
        .where(TeamAssignment.handler_id == handler.id, TeamAssignment.active_on(today), Dog.archived_at.is_(None))
        .distinct().order_by(Dog.name)))
