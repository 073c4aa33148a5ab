"""Access cases of the admin area: administrators only, except the audit log (managers: their agency)."""
from tests.access import ADMINS, MANAGERS, Route
from tests.helpers import term

agency = lambda side: {"agency_id": side.agency.id}  # noqa: E731
user = lambda side: {"user_id": side.manager.id}  # noqa: E731
vocab_term = lambda side: {"term_id": term("device_type").id}  # noqa: E731

CASES = [
    Route("admin.index", ADMINS),
    Route("admin.list_agencies", ADMINS),
    Route("admin.new_agency", ADMINS),
    Route("admin.new_agency", ADMINS, method="POST", data={}),
    Route("admin.edit_agency", ADMINS, params=agency),
    Route("admin.edit_agency", ADMINS, method="POST", params=agency, data={}),
    Route("admin.archive_agency", ADMINS, method="POST", params=agency),
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
