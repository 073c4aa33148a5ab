"""Access cases of the JSON API: record roles only; anonymous callers get 401, never a login page."""
from tests.access import CREATOR, RECORD_READERS, Route

CASES = [
    Route("api.csrf_token", RECORD_READERS),
    Route("api.vocabularies", RECORD_READERS),
    # A form-encoded body is not JSON: allowed roles get 400, the others 404.
    Route("api.create_session", RECORD_READERS, method="POST"),
    Route("api.get_session", RECORD_READERS, params=lambda side: {"session_id": side.session.id}),
    Route("api.update_session", CREATOR, method="PUT", params=lambda side: {"session_id": side.session.id}),
]
