"""Access cases of the exports area: managers and admins only."""
from tests.access import MANAGERS, Route

CASES = [
    Route("exports.index", MANAGERS),
    Route("exports.download", MANAGERS, params=lambda side: {"kind": "dogs"}, other=MANAGERS),
    Route("exports.download_zip", MANAGERS),
]

CASES += [
    Route("exports.reliability_record", MANAGERS, params=lambda side: {"dog_id": side.dog.id}),
    Route("exports.deployment_packet", MANAGERS, params=lambda side: {"deployment_id": side.deployment.id}),
]
