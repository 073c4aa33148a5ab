"""Access cases of the proficiency area: the matrix, the hides behind a cell, readiness gaps, the next session.

Record readers see their own agency's dogs; funders never see dog-level cells or gaps (404).
"""
from tests.access import MANAGERS, RECORD_READERS, Route

CASES = [
    Route("proficiency.matrix", RECORD_READERS),
    Route("proficiency.matrix", RECORD_READERS, params=lambda side: {"agency": side.agency.id, "by": "hiding_spot"}),
    Route("proficiency.matrix_csv", RECORD_READERS),
    Route("proficiency.cell_hides", RECORD_READERS,
          params=lambda side: {"dog": side.dog.id, "by": "device_type", "value": side.hide.device_type_id}),
    Route("proficiency.gaps", RECORD_READERS),
    Route("proficiency.next_session", RECORD_READERS, params=lambda side: {"dog_id": side.dog.id}),
    Route("training.new_session", RECORD_READERS, params=lambda side: {"plan": side.dog.id}),
]
CASES += [
    Route("proficiency.standards", MANAGERS),
    Route("proficiency.standards", MANAGERS, params=lambda side: {"agency": side.agency.id}),
    Route("proficiency.standards", MANAGERS, method="POST", params=lambda side: {"agency": side.agency.id},
          data={"proficiency_standard": "85", "readiness_window_days": "45"}),
]
