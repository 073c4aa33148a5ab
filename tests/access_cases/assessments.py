"""Access cases of planned sessions and standards: record roles read and record, trainers (managers, handlers
with the trainer right) plan and close, managers set standards; another agency's plan or standard does not exist.
A trainer never changes or closes a plan in which they are the handler or the observer."""
from esd.extensions import db
from tests.access import MANAGERS, RECORD_READERS, TRAINERS, Route, ok_for, trainer_of
from tests.assessment_builders import area, make_plan, make_standard


def plan(side) -> dict:
    """A single-blind plan of the side's dog (its handler records), made once per side."""
    if not hasattr(side, "plan"):
        side.plan = make_plan(side.dog, side.handler, side.manager, blindness="single_blind",
                              areas=[area("Office 1", "USB drive", "Book"), area("Office 2")])
        db.session.commit()
    return {"plan_id": side.plan.id}


def trainers_own_plan(side) -> dict:
    """A single-blind plan of the trainer's own dog, which the trainer handles (made once per side)."""
    trainer_of(side)
    if not hasattr(side, "trainers_own_plan"):
        side.trainers_own_plan = make_plan(side.trainer_dog, side.trainer_handler, side.manager,
                                           blindness="single_blind", areas=[area("Garage", "USB drive", "Book")])
        db.session.commit()
    return {"plan_id": side.trainers_own_plan.id}


def trainer_observes(side) -> dict:
    """A double-blind plan of the side's dog that the trainer observes (made once per side)."""
    trainer_of(side)
    if not hasattr(side, "observed_plan"):
        side.observed_plan = make_plan(side.dog, side.handler, side.manager, observer_id=side.trainer_user.id,
                                       areas=[area("Locker", "USB drive", "Book")])
        db.session.commit()
    return {"plan_id": side.observed_plan.id}


def outcome(side) -> dict:
    return plan(side) | {"area_id": side.plan.areas[0].id}


def standard(side) -> dict:
    if not hasattr(side, "standard"):
        side.standard = make_standard(side.agency)
        db.session.commit()
    return {"standard_id": side.standard.id}


CASES = [
    Route("assessments.list_plans", RECORD_READERS),
    Route("assessments.new_plan", TRAINERS),
    Route("assessments.new_plan", TRAINERS, method="POST", data={}),
    # ?dog_id= prefills the form: another agency's dog does not exist.
    Route("assessments.new_plan", TRAINERS, params=lambda side: {"dog_id": side.dog.id}),
    Route("assessments.plan_detail", RECORD_READERS, params=plan),
    Route("assessments.edit_plan", TRAINERS, params=plan),
    Route("assessments.edit_plan", TRAINERS, method="POST", params=plan, data={}),
    # The trainer's own dog's plan, and one they observe: they read the areas, never change or close it.
    Route("assessments.plan_detail", RECORD_READERS, params=trainers_own_plan),
    Route("assessments.edit_plan", MANAGERS, params=trainers_own_plan),
    Route("assessments.close", MANAGERS, method="POST", params=trainers_own_plan, data={}),
    Route("assessments.record", ok_for("admin", "manager", "trainer"), params=trainers_own_plan),
    Route("assessments.edit_plan", MANAGERS, params=trainer_observes),
    Route("assessments.close", MANAGERS, method="POST", params=trainer_observes, data={}),
    Route("assessments.record", RECORD_READERS, params=plan),
    Route("assessments.start", RECORD_READERS, method="POST", params=plan),
    # A form-encoded body is not JSON: allowed roles get 400, the others 404.
    Route("assessments.record_outcome", RECORD_READERS, method="POST", params=outcome),
    Route("assessments.close", TRAINERS, method="POST", params=plan, data={}),
    Route("assessments.standards", RECORD_READERS),
    Route("assessments.new_standard", MANAGERS),
    Route("assessments.new_standard", MANAGERS, method="POST", data={}),
    Route("assessments.edit_standard", MANAGERS, params=standard),
    Route("assessments.edit_standard", MANAGERS, method="POST", params=standard, data={}),
]
