"""Access cases of planned sessions and standards: record roles read and record, managers plan, close and
set standards; another agency's plan or standard does not exist."""
from esd.extensions import db
from tests.access import MANAGERS, RECORD_READERS, Route
from tests.assessment_builders import area, make_plan, make_standard


def plan(side) -> dict:
    """A single-blind plan of the side's dog (its handler records), made once per side."""
    if not hasattr(side, "plan"):
        side.plan = make_plan(side.dog, side.handler, side.manager, blindness="single_blind",
                              areas=[area("Office 1", "USB drive", "Book"), area("Office 2")])
        db.session.commit()
    return {"plan_id": side.plan.id}


def outcome(side) -> dict:
    return plan(side) | {"area_id": side.plan.areas[0].id}


def standard(side) -> dict:
    if not hasattr(side, "standard"):
        side.standard = make_standard(side.agency)
        db.session.commit()
    return {"standard_id": side.standard.id}


CASES = [
    Route("assessments.list_plans", RECORD_READERS),
    Route("assessments.new_plan", MANAGERS),
    Route("assessments.new_plan", MANAGERS, method="POST", data={}),
    Route("assessments.plan_detail", RECORD_READERS, params=plan),
    Route("assessments.edit_plan", MANAGERS, params=plan),
    Route("assessments.edit_plan", MANAGERS, method="POST", params=plan, data={}),
    Route("assessments.record", RECORD_READERS, params=plan),
    Route("assessments.start", RECORD_READERS, method="POST", params=plan),
    # A form-encoded body is not JSON: allowed roles get 400, the others 404.
    Route("assessments.record_outcome", RECORD_READERS, method="POST", params=outcome),
    Route("assessments.close", MANAGERS, method="POST", params=plan, data={}),
    Route("assessments.standards", RECORD_READERS),
    Route("assessments.new_standard", MANAGERS),
    Route("assessments.new_standard", MANAGERS, method="POST", data={}),
    Route("assessments.edit_standard", MANAGERS, params=standard),
    Route("assessments.edit_standard", MANAGERS, method="POST", params=standard, data={}),
]
