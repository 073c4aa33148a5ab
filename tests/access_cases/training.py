"""Access cases of the training area: record roles read and log; managers sign off."""
from tests.access import CREATOR, EVERYONE, MANAGERS, RECORD_READERS, Route, ok_for

CASES = [
    Route("training.overview", RECORD_READERS),
    Route("training.new_session", RECORD_READERS),
    Route("training.session_detail", RECORD_READERS, params=lambda side: {"session_id": side.session.id}),
    # The world's session was created by the own handler, so they may edit it.
    Route("training.edit_session", CREATOR, params=lambda side: {"session_id": side.session.id}),
    Route("training.sign_off", MANAGERS, method="POST", params=lambda side: {"session_id": side.session.id}),
    Route("training.dog_sessions", RECORD_READERS, params=lambda side: {"dog_id": side.dog.id}),
    Route("training.service_worker", EVERYONE),
    # The sign-off queue: managers of the agency; ticking another agency's session signs nothing (404).
    Route("training.queue", MANAGERS),
    Route("training.sign_off_many", MANAGERS, method="POST", data=lambda side: {"session_id": side.session.id},
          other=ok_for("admin")),
]
