"""Access cases of the admin area: administrators only, except the audit log (managers: their agency)."""
import itertools

from esd.extensions import db
from tests.access import ADMINS, MANAGERS, Route
from tests.helpers import make_agency, term

_spares = itertools.count(1)

agency = lambda side: {"agency_id": side.agency.id}  # noqa: E731
user = lambda side: {"user_id": side.manager.id}  # noqa: E731
vocab_term = lambda side: {"term_id": term("device_type").id}  # noqa: E731


def spare_agency(side) -> dict:
    """An agency of its own with no users, made for one request."""
    spare = make_agency(name=f"Spare of {side.name} {next(_spares)}")
    db.session.commit()
    return {"agency_id": spare.id}


CASES = [
    Route("admin.index", ADMINS),
    Route("admin.list_agencies", ADMINS),
    Route("admin.new_agency", ADMINS),
    Route("admin.new_agency", ADMINS, method="POST", data={}),
    Route("admin.edit_agency", ADMINS, params=agency),
    Route("admin.edit_agency", ADMINS, method="POST", params=agency, data={}),
    # A spare agency: archiving the side's own would log its users out for the roles that follow.
    Route("admin.archive_agency", ADMINS, method="POST", params=spare_agency),
    Route("admin.list_users", ADMINS),
    Route("admin.new_user", ADMINS),
    Route("admin.new_user", ADMINS, method="POST", data={}),
    Route("admin.edit_user", ADMINS, params=user),
    Route("admin.edit_user", ADMINS, method="POST", params=user, data={}),
    Route("admin.unlock_user", ADMINS, method="POST", params=user),
    Route("admin.two_factor_rules", ADMINS),
    Route("admin.two_factor_rules", ADMINS, method="POST", data={}),
    Route("admin.reset_two_factor", ADMINS, method="POST", params=user),
    Route("admin.vocabularies", ADMINS),
    Route("admin.vocabularies", ADMINS, query="?kind=hiding_spot"),
    Route("admin.add_vocabulary_term", ADMINS, method="POST", data={"kind": "device_type", "name": ""}),
    Route("admin.toggle_vocabulary_term", ADMINS, method="POST", params=vocab_term, data={"active": "0"}),
    Route("admin.move_vocabulary_term", ADMINS, method="POST", params=vocab_term, data={"direction": "down"}),
    Route("admin.audit_log", MANAGERS),
    Route("admin.audit_log", MANAGERS, query="?entity=dog&start=2020-01-01"),
]
