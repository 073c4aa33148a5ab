"""Plain builders for test records: `make_dog(agency, name="Rex")`. Each adds and flushes."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from esd.extensions import db
from esd.models import (Agency, Certification, Deployment, Dog, FalseAlert, FieldAlert, Find, Handler, Hide,
                        TeamAssignment, TrainingSession, User, VocabularyTerm)

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"
_hash_cache: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    """The hash of `password`, computed once per run (600,000 PBKDF2 rounds are slow on purpose)."""
    if password not in _hash_cache:
        from esd.auth.passwords import hash_password
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def term(kind: str, name: str | None = None) -> VocabularyTerm:
    """A seeded vocabulary term: the named one, or the first of its kind."""
    stmt = select(VocabularyTerm).where(VocabularyTerm.kind == kind)
    if name:
        stmt = stmt.where(VocabularyTerm.name == name)
    return db.session.scalars(stmt.order_by(VocabularyTerm.position)).first()


def _add(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def make_agency(**overrides) -> Agency:
    n = next(_counter)
    values = dict(name=f"Task Force {n}", timezone="America/New_York")
    values.update(overrides)
    return _add(Agency(**values))


def make_user(role: str = "handler", agency: Agency | None = None, **overrides) -> User:
    n = next(_counter)
    if role in ("manager", "handler") and agency is None:
        agency = make_agency()
    values = dict(email=f"{role}{n}@example.org", name=f"{role.title()} {n}", role=role,
                  agency=agency if role in ("manager", "handler") else None,
                  password_hash=password_hash())
    values.update(overrides)
    return _add(User(**values))


def make_handler(agency: Agency, **overrides) -> Handler:
    n = next(_counter)
    values = dict(agency_id=agency.id, name=f"Handler {n}", badge_number=f"B{n:04d}")
    values.update(overrides)
    return _add(Handler(**values))


def make_dog(agency: Agency, **overrides) -> Dog:
    n = next(_counter)
    values = dict(agency_id=agency.id, name=f"Dog {n}", call_sign=f"K9-{n}", breed="Labrador Retriever",
                  sex="female", status="active", microchip_id=f"9851{n:011d}",
                  acquired_on=date(2023, 1, 1))
    values.update(overrides)
    return _add(Dog(**values))


def make_team(dog: Dog, handler: Handler, starts_on: date = date(2023, 1, 1), **overrides) -> TeamAssignment:
    values = dict(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id, starts_on=starts_on)
    values.update(overrides)
    return _add(TeamAssignment(**values))


def make_handler_with_dog(agency: Agency, handler_name: str, **dog) -> tuple[User, Handler, Dog]:
    """A handler who signs in (`handler_name` on the account and the handler record), teamed with a dog."""
    user = make_user("handler", agency, name=handler_name)
    handler = make_handler(agency, user_id=user.id, name=handler_name)
    dog_record = make_dog(agency, **dog)
    make_team(dog_record, handler)
    return user, handler, dog_record


def make_import_program() -> Agency:
    """The agency an import goes into: Lakeside ICAC (Chicago) with Rex, Pat Lee and their team since 2023."""
    agency = make_agency(name="Lakeside ICAC", timezone="America/Chicago")
    handler = make_handler(agency, name="Pat Lee", badge_number="B-7")
    dog = make_dog(agency, name="Rex", call_sign="K9-REX", microchip_id="985000000000777")
    make_team(dog, handler, starts_on=date(2023, 1, 1))
    db.session.commit()
    return agency


def make_session(dog: Dog, handler: Handler, hides=(), false_alerts=0, **overrides) -> TrainingSession:
    """A training session; `hides` is a list of dicts like {"outcome": "found", "device": "USB drive"}."""
    values = dict(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id,
                  started_at=datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc), duration_minutes=60,
                  purpose="maintenance")
    values.update(overrides)
    session = TrainingSession(**values)
    for position, spec in enumerate(hides):
        spec = dict(spec)
        session.hides.append(Hide(
            position=position,
            device_type_id=term("device_type", spec.pop("device", None)).id,
            hiding_spot_id=term("hiding_spot", spec.pop("spot", None)).id,
            **{"outcome": "found", "blind": False, **spec}))
    for _ in range(false_alerts):
        session.false_alerts.append(FalseAlert(hiding_spot_id=term("hiding_spot").id))
    return _add(session)


def make_deployment(dog: Dog, handler: Handler, finds=(), alerts=(), **overrides) -> Deployment:
    """A deployment; `finds` is a list of dicts like {"device": "Phone", "missed_by_human_search": True};
    `alerts` of dicts like {"outcome": "confirmed", "find": 0} (the index of its find) or
    {"outcome": "explained", "explanation": "Residual odour"}."""
    values = dict(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id,
                  started_at=datetime(2026, 3, 12, 9, 0, tzinfo=timezone.utc),
                  legal_authority="search_warrant", case_number="2026-CR-0001")
    values.update(overrides)
    deployment = Deployment(**values)
    for spec in finds:
        spec = dict(spec)
        deployment.finds.append(Find(device_type_id=term("device_type", spec.pop("device", None)).id,
                                     hiding_spot_id=term("hiding_spot", spec.pop("spot", None)).id,
                                     **spec))
    for spec in alerts:
        spec = dict(spec)
        find = spec.pop("find", None)
        spot = spec.pop("spot", None)
        deployment.alerts.append(FieldAlert(find=deployment.finds[find] if find is not None else None,
                                            hiding_spot_id=term("hiding_spot", spot).id if spot else None, **spec))
    return _add(deployment)


def make_certification(dog: Dog, handler: Handler | None = None, issued_on: date = date(2026, 1, 15),
                       **overrides) -> Certification:
    values = dict(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id if handler else None,
                  certifying_body_id=term("certifying_body").id, discipline="esd", issued_on=issued_on,
                  expires_on=issued_on + timedelta(days=365), evaluator="J. Evaluator", result="pass")
    values.update(overrides)
    return _add(Certification(**values))
