"""`flask esd seed-demo`: the demo installation, its refusals, and the scale data set."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import case, func, select

from esd.auth.passwords import password_problem
from esd.demo import DEMO_PASSWORD, seed_demo
from esd.extensions import db
from esd.models import (Agency, Certification, Deployment, Dog, FalseAlert, FieldAlert, Find, Handler, Hide,
                        TeamAssignment, TrainingSession, User, VocabularyTerm, seed_vocabularies)
from tests.helpers import make_agency, make_dog, make_handler, make_session

TODAY = date(2026, 5, 1)


def run(app, *args):
    """Run `flask esd seed-demo` with `args` in the test's app context."""
    return app.test_cli_runner().invoke(args=["esd", "seed-demo", "--today", TODAY.isoformat(), *args])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def find_rate(column, name: str) -> float:
    """Share of hides found for one device type or hiding spot, in SQL."""
    found = func.sum(case((Hide.outcome == "found", 1), else_=0))
    n, f = db.session.execute(select(func.count(), found).join(VocabularyTerm, VocabularyTerm.id == column)
                              .where(VocabularyTerm.name == name)).one()
    assert n >= 20, f"too few hides of {name} to compare"
    return f / n


def printed_logins(output: str) -> list[str]:
    return re.findall(r"^\s+(\S+@\S+)\s", output, flags=re.M)


def test_demo_password_is_published_so_the_password_rules_refuse_it():
    # The seed makes the demo accounts directly; nobody may choose it through the forms.
    assert password_problem(DEMO_PASSWORD) is not None


def test_seed_demo_builds_three_task_forces_with_a_year_of_work(app, client):
    result = run(app)
    assert result.exit_code == 0, result.output

    agencies = db.session.scalars(select(Agency)).all()
    assert len(agencies) == 3
    assert len({a.timezone for a in agencies}) == 3
    assert all("ICAC" in a.name for a in agencies)

    dogs = db.session.scalars(select(Dog)).all()
    assert 10 <= len(dogs) <= 14
    assert {d.status for d in dogs} == {"active", "in_training", "retired"}
    assert len({d.microchip_id for d in dogs}) == len(dogs)
    assert {"Labrador Retriever", "English Springer Spaniel"} <= {d.breed for d in dogs}
    handovers = db.session.execute(select(TeamAssignment.dog_id).group_by(TeamAssignment.dog_id)
                                   .having(func.count(func.distinct(TeamAssignment.handler_id)) > 1)).all()
    assert handovers, "at least one dog changed handler"

    # Certifications in every state on the given day, with renewal history behind them.
    window = {a.id: a.warning_window_days for a in agencies}
    latest: dict[int, Certification] = {}
    for cert in db.session.scalars(select(Certification).order_by(Certification.issued_on)):
        if cert.result == "pass":
            latest[cert.dog_id] = cert
    statuses = {c.status_on(TODAY, window[c.agency_id]) for c in latest.values()}
    assert statuses == {"valid", "expiring", "expired"}
    assert any(0 <= (c.expires_on - TODAY).days <= 30 for c in latest.values())
    assert db.session.scalar(select(func.count()).where(Certification.replaced_by_id.is_not(None))) > 5

    # A year of training, several sessions a week per dog, 3–10 hides each.
    first, last = db.session.execute(select(func.min(TrainingSession.started_at),
                                            func.max(TrainingSession.started_at))).one()
    assert TODAY - timedelta(days=366) <= first.date() <= TODAY - timedelta(days=350)
    assert last.date() < TODAY + timedelta(days=1)
    sessions = count(TrainingSession)
    assert sessions > 10 * 52 * 2
    per_session = (select(func.count().label("n")).select_from(Hide).group_by(Hide.session_id)
                   .subquery())
    low, high = db.session.execute(select(func.min(per_session.c.n), func.max(per_session.c.n))).one()
    assert (low, high) == (3, 10)
    assert count(FalseAlert) > 0
    assert db.session.scalar(select(func.count()).where(TrainingSession.blank_areas > 0)) > 0
    assert {b for (b,) in db.session.execute(select(Hide.blind).distinct())} == {True, False}
    assert db.session.scalar(select(func.count()).where(Hide.outcome == "missed")) > 0
    assert db.session.scalar(select(func.min(Hide.seconds_to_find))) >= 0
    # Believable difficulty: tiny media and hard spots are found less often.
    assert find_rate(Hide.device_type_id, "microSD card") < find_rate(Hide.device_type_id, "Phone")
    assert find_rate(Hide.hiding_spot_id, "Electrical outlet") < find_rate(Hide.hiding_spot_id, "Drawer")

    # Deployments: finds, finds the human search missed, evidence in each state, empty searches.
    assert count(Deployment) > 50 and count(Find) > 50
    assert db.session.scalar(select(func.count()).where(Find.missed_by_human_search.is_(True))) > 0
    assert {e for (e,) in db.session.execute(select(Find.evidence).distinct())} == {"yes", "no", "pending"}
    # Field alerts of every outcome; each find is a confirmed alert.
    outcomes = dict(db.session.execute(select(FieldAlert.outcome, func.count()).group_by(FieldAlert.outcome)).all())
    assert set(outcomes) == {"confirmed", "unverified", "explained"} and outcomes["confirmed"] == count(Find)
    assert db.session.scalar(select(func.count()).where(FieldAlert.outcome == "explained",
                                                        FieldAlert.explanation.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(Deployment)
                             .where(~Deployment.finds.any())) > 0

    # Accounts: one admin, a manager per task force, handlers linked to their records, a funder.
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles["admin"] == 1 and roles["manager"] == 3 and roles["funder"] == 1
    assert roles["handler"] == db.session.scalar(select(func.count()).where(Handler.user_id.is_not(None)))
    funder = db.session.scalar(select(User).where(User.role == "funder"))
    assert len(funder.granted_agencies) == 2

    # The printed logins work: a handler sees the own task force's dogs, not the others'.
    emails = printed_logins(result.output)
    assert DEMO_PASSWORD in result.output
    printed_roles = {db.session.scalar(select(User.role).where(User.email == e)) for e in emails}
    assert printed_roles == {"admin", "manager", "handler", "funder"}
    handler = db.session.scalar(select(User).where(User.email.in_(emails), User.role == "handler"))
    response = client.post("/login", data={"email": handler.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    page = client.get("/dogs").get_data(as_text=True)
    own = db.session.scalars(select(Dog.name).where(Dog.agency_id == handler.agency_id)).all()
    other = db.session.scalars(select(Dog.name).where(Dog.agency_id != handler.agency_id)).all()
    assert all(name in page for name in own)
    assert not any(f">{name}<" in page for name in other)


def test_seed_demo_refuses_a_database_that_has_data(app):
    make_agency(name="Real Task Force")
    db.session.commit()
    result = run(app)
    assert result.exit_code != 0
    assert "already has data" in result.output
    assert "start fresh" in result.output
    assert count(Agency) == 1 and count(Dog) == 0 and count(User) == 0


def test_if_empty_seeds_once_then_only_prints_the_logins(app):
    first = run(app, "--if-empty")
    assert first.exit_code == 0, first.output
    counts = {m.__name__: count(m) for m in (Agency, User, Dog, TrainingSession, Hide, Certification)}

    again = run(app, "--if-empty")
    assert again.exit_code == 0, again.output
    assert "already has data" in again.output
    assert printed_logins(again.output) == printed_logins(first.output)
    assert {m.__name__: count(m) for m in (Agency, User, Dog, TrainingSession, Hide, Certification)} == counts

    assert run(app).exit_code != 0  # without --if-empty a second seeding is refused


def test_if_empty_on_a_real_installation_adds_nothing(app):
    make_agency(name="Real Task Force")
    db.session.commit()
    result = run(app, "--if-empty")
    assert result.exit_code == 0
    assert "no demo accounts" in result.output
    assert count(Dog) == 0


def test_scale_data_set_has_the_requested_hides_over_a_national_program(app):
    result = run(app, "--hides", "2000")
    assert result.exit_code == 0, result.output
    assert count(Hide) == 2000
    assert count(Agency) == 62
    assert 350 <= count(Dog) <= 450
    assert db.session.scalar(select(func.count(func.distinct(Hide.device_type_id)))) >= 12
    assert db.session.scalar(select(func.count(func.distinct(Hide.hiding_spot_id)))) >= 14
    assert count(FalseAlert) > 0 and count(Deployment) > 0 and count(Certification) > 300
    first = db.session.scalar(select(func.min(TrainingSession.started_at)))
    assert first.date() < TODAY - timedelta(days=4 * 365)
    assert {s for (s,) in db.session.execute(select(Dog.status).distinct())} == \
        {"active", "in_training", "retired"}
    assert printed_logins(result.output)

    # Bulk rows took their ids from the sequences: the app's next records do not collide.
    agency = db.session.scalar(select(Agency).order_by(Agency.id))
    dog = make_dog(agency, name="Newcomer")
    handler = make_handler(agency)
    session = make_session(dog, handler, hides=[{"outcome": "found"}], false_alerts=1)
    db.session.commit()
    assert session.id > db.session.scalar(select(func.min(TrainingSession.id)))
    assert count(Hide) == 2001
    # The bulk rows are in the rollups (built at the end of the seed), the new session by the hooks.
    from esd.rollups import differences
    assert differences(db.session.connection()) == []


def _fingerprint():
    device = VocabularyTerm.__table__.alias()
    rows = db.session.execute(
        select(Dog.name, TrainingSession.started_at, device.c.name, Hide.outcome, Hide.seconds_to_find)
        .join(TrainingSession, TrainingSession.id == Hide.session_id).join(Dog, Dog.id == TrainingSession.dog_id)
        .join(device, device.c.id == Hide.device_type_id)
        .order_by(TrainingSession.started_at, Dog.name, Hide.position)).all()
    return [tuple(r) for r in rows]


def test_same_seed_and_day_give_the_same_data(app):
    from tests.conftest import _empty_all_tables
    seed_demo(TODAY, seed=11, hides=300)
    before = _fingerprint()
    _empty_all_tables()
    seed_vocabularies()
    db.session.commit()
    seed_demo(TODAY, seed=11, hides=300)
    assert _fingerprint() == before and len(before) == 300
