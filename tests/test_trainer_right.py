"""The trainer right: an administrator gives it to a handler, who then plans, sees and closes the agency's sealed
sessions as a manager does — never a plan in which they are the handler or the observer — and nothing more."""
import html

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from esd.extensions import db
from esd.models import AuditEntry, PlannedSession, User
from esd.roles import is_trainer
from tests.access import build_world, trainer_of
from tests.assessment_builders import area, make_plan
from tests.helpers import PASSWORD, make_user
from tests.test_assessments_views import plan_form

AID = "Aid 7"  # what plan_form places in Office 1: seen only by those the seal lets in


def login(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def user_form(user, **overrides) -> dict:
    data = {"email": user.email, "name": user.name, "role": user.role, "agency": user.agency_id or "",
            "active": "y", "password": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def give_right(app, admin, user, trainer="y"):
    return login(app, admin).post(f"/admin/users/{user.id}/edit", data=user_form(user, trainer=trainer))


# ---------------------------------------------------------------- who grants it

def test_an_administrator_gives_a_handler_the_trainer_right_and_it_is_audited(app):
    world = build_world()
    handler = world.own.handler_user
    assert not is_trainer(handler, world.own.agency.id)
    response = give_right(app, world.admin, handler)
    assert response.status_code == 302
    db.session.expire_all()
    assert handler.trainer and is_trainer(handler, world.own.agency.id)
    assert not is_trainer(handler, world.other.agency.id)  # their own agency only
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == handler.id,
                                                       AuditEntry.action == "update"))
    assert entry.changes == {"trainer": [False, True]} and entry.user_id == world.admin.id
    users = page(login(app, world.admin).get("/admin/users"))
    row = users[users.index(f'id="user-{handler.id}"'):].split("</tr>")[0]
    assert "Trainer" in row
    profile = page(login(app, world.own.manager).get(f"/handlers/{world.own.handler.id}"))
    assert "Trainer" in profile


@pytest.mark.parametrize("role", ["funder", "admin", "manager"])
def test_only_a_handler_is_given_the_trainer_right(app, role):
    world = build_world()
    user = {"funder": world.funder, "admin": make_user("admin"), "manager": world.own.manager}[role]
    db.session.commit()
    response = give_right(app, world.admin, user)
    assert response.status_code == 400
    assert "Only a handler is given the trainer right" in page(response)
    db.session.expire_all()
    assert not user.trainer


def test_the_database_refuses_the_trainer_right_to_a_funder():
    funder = make_user("funder")
    db.session.commit()
    funder.trainer = True
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_manager_cannot_give_the_right(app):
    """Managers do not edit accounts: the user form is the administrator's."""
    world = build_world()
    response = login(app, world.own.manager).post(f"/admin/users/{world.own.handler_user.id}/edit",
                                                  data=user_form(world.own.handler_user, trainer="y"))
    assert response.status_code == 404
    db.session.expire_all()
    assert not world.own.handler_user.trainer


# ---------------------------------------------------------------- what it gives

def test_a_handler_trainer_plans_a_session_for_another_handlers_dog_which_that_handler_cannot_see(app):
    world = build_world()
    trainer = trainer_of(world.own).trainer_user
    client = login(app, trainer)
    assert "Plan a session" in page(client.get("/planned"))
    assert client.get(f"/planned/new?dog_id={world.own.dog.id}").status_code == 200
    response = client.post("/planned/new", data=plan_form(world.own.dog, world.own.handler))
    assert response.status_code == 302
    plan = db.session.scalar(select(PlannedSession))
    assert plan.trainer_id == trainer.id and plan.handler_id == world.own.handler.id
    assert AID in page(client.get(f"/planned/{plan.id}"))
    assert client.get(f"/planned/{plan.id}/edit").status_code == 200
    theirs = page(login(app, world.own.handler_user).get(f"/planned/{plan.id}"))
    assert "Office 1" in theirs and AID not in theirs and "USB drive" not in theirs
    # Another agency's dog is not theirs to plan for.
    assert client.get(f"/planned/new?dog_id={world.other.dog.id}").status_code == 404
    refused = client.post("/planned/new", data=plan_form(world.other.dog, world.other.handler))
    assert refused.status_code == 400 and db.session.scalar(select(PlannedSession).where(
        PlannedSession.dog_id == world.other.dog.id)) is None


def test_a_handler_trainer_closes_a_session_they_did_not_plan(app):
    world = build_world()
    trainer = trainer_of(world.own).trainer_user
    plan = make_plan(world.own.dog, world.own.handler, world.own.manager, blindness="single_blind", areas=[
        area("Office 1", "USB drive", "Book", outcome="alert", alert_spot="Book"), area("Office 2", outcome="no_alert")])
    db.session.commit()
    response = login(app, trainer).post(f"/planned/{plan.id}/close", data={"duration_minutes": "45"})
    assert response.status_code == 302
    db.session.expire_all()
    assert plan.is_closed and plan.closed_by_id == trainer.id
    assert plan.training_session.found == 1 and plan.training_session.hide_count == 1


def test_a_handler_trainer_cannot_plan_for_their_own_dog_nor_see_its_plan(app):
    world = build_world()
    side = trainer_of(world.own)
    client = login(app, side.trainer_user)
    assert "Plan a session" not in page(client.get(f"/dogs/{side.trainer_dog.id}"))
    assert "Plan a session" in page(client.get(f"/dogs/{world.own.dog.id}"))
    response = client.post("/planned/new", data=plan_form(side.trainer_dog, side.trainer_handler))
    assert response.status_code == 400
    assert "You cannot plan a session in which you are the handler" in page(response)
    assert db.session.scalar(select(PlannedSession)) is None
    plan = make_plan(side.trainer_dog, side.trainer_handler, world.own.manager, blindness="single_blind",
                     areas=[area("Garage", "USB drive", "Book", aid="AID-GARAGE-9")])
    observed = make_plan(world.own.dog, world.own.handler, world.own.manager, observer_id=side.trainer_user.id,
                         areas=[area("Locker", "USB drive", "Book", aid="AID-LOCKER-4")])
    db.session.commit()
    for sealed, secret in ((plan, "AID-GARAGE-9"), (observed, "AID-LOCKER-4")):
        detail = page(client.get(f"/planned/{sealed.id}"))
        assert sealed.areas[0].label in detail and secret not in detail and "USB drive" not in detail
        assert client.get(f"/planned/{sealed.id}/edit").status_code == 404
        assert client.post(f"/planned/{sealed.id}/close", data={"duration_minutes": "30"}).status_code == 404
        assert secret not in page(client.get("/planned"))
        db.session.expire_all()
        assert not sealed.is_closed


def test_removing_the_right_removes_access(app):
    world = build_world()
    handler = world.own.handler_user
    assert give_right(app, world.admin, handler).status_code == 302
    client = login(app, handler)
    other_dog_plan = make_plan(world.own.dog, world.own.handler, world.own.manager, blindness="single_blind",
                               areas=[area("Office 1", "USB drive", "Book", aid="AID-OTHER-3")])
    db.session.commit()
    # As a trainer (this handler works the world's dog: a plan of another trainer's dog shows them the aid).
    side = trainer_of(world.own)
    theirs = make_plan(side.trainer_dog, side.trainer_handler, world.own.manager, blindness="single_blind",
                       areas=[area("Garage", "USB drive", "Book", aid="AID-THEIRS-5")])
    db.session.commit()
    assert "AID-THEIRS-5" in page(client.get(f"/planned/{theirs.id}"))
    assert client.get("/planned/new").status_code == 200
    assert give_right(app, world.admin, handler, trainer=None).status_code == 302
    db.session.expire_all()
    assert not handler.trainer
    assert client.get("/planned/new").status_code == 404  # the same login, the next request
    assert "AID-THEIRS-5" not in page(client.get(f"/planned/{theirs.id}"))
    assert client.get(f"/planned/{theirs.id}/edit").status_code == 404
    assert client.post(f"/planned/{theirs.id}/close", data={"duration_minutes": "30"}).status_code == 404
    assert "Plan a session" not in page(client.get("/planned"))
    assert "AID-OTHER-3" not in page(client.get(f"/planned/{other_dog_plan.id}"))


def test_the_right_opens_no_manager_page(app):
    world = build_world()
    client = login(app, trainer_of(world.own).trainer_user)
    for url in (f"/dogs/{world.own.dog.id}/edit", "/exports", "/audit", "/standards/new",
                f"/dogs/{world.other.dog.id}", "/training/queue"):
        assert client.get(url).status_code == 404, url
    assert "New standard" not in page(client.get("/standards"))


def test_a_handler_trainers_home_lists_the_open_plans_they_may_close(app):
    world = build_world()
    side = trainer_of(world.own)
    theirs = make_plan(world.own.dog, world.own.handler, world.own.manager, blindness="single_blind",
                       areas=[area("Office 1", "USB drive", "Book")])
    own_dog = make_plan(side.trainer_dog, side.trainer_handler, world.own.manager, blindness="single_blind",
                        areas=[area("Garage", "USB drive", "Book")])
    elsewhere = make_plan(world.other.dog, world.other.handler, world.other.manager, blindness="single_blind",
                          areas=[area("Shed", "USB drive", "Book")])
    db.session.commit()
    home = page(login(app, side.trainer_user).get("/"))
    assert "Planned sessions to close" in home
    assert f"/planned/{theirs.id}\"" in home
    assert f"/planned/{own_dog.id}\"" not in home and f"/planned/{elsewhere.id}\"" not in home
    assert "Planned sessions to close" not in page(login(app, world.own.handler_user).get("/"))


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 820, "height": 1180}])
def test_a_handler_trainers_home_fits_a_phone_and_a_tablet(browser, live_server, browser_login, viewport):
    from tests.test_two_factor_browser import fits_and_targets
    world = build_world()
    side = trainer_of(world.own)
    plan = make_plan(world.own.dog, world.own.handler, world.own.manager, blindness="single_blind",
                     areas=[area("Office 1", "USB drive", "Book")])
    db.session.commit()
    context = browser.new_context(viewport=viewport, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        browser_login(page, side.trainer_user)
        section = page.locator("[data-test=home-trainer]")
        assert section.is_visible() and section.locator("[data-test=home-trainer-plan]").count() == 1
        assert fits_and_targets(page) == []
        link = section.locator(f"a[href='/planned/{plan.id}']")
        assert link.bounding_box()["height"] >= 44
        link.click()
        page.wait_for_url(f"{live_server}/planned/{plan.id}")
        assert "USB drive" in page.content()  # the trainer sees what was placed
    finally:
        context.close()
