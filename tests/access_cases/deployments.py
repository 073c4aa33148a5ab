"""Access cases of the deployments area: record readers of the agency; funders never (404)."""
from tests.access import MANAGERS, RECORD_READERS, Route

CASES = [
    Route("deployments.list_deployments", RECORD_READERS),
    Route("deployments.new_deployment", RECORD_READERS),
    Route("deployments.new_deployment", RECORD_READERS, params=lambda side: {"dog_id": side.dog.id}),
    # A POST with nothing filled in: the form answers 400 with its messages, never 500.
    Route("deployments.new_deployment", RECORD_READERS, method="POST", data={}),
    Route("deployments.deployment_detail", RECORD_READERS,
          params=lambda side: {"deployment_id": side.deployment.id}),
    Route("deployments.edit_deployment", RECORD_READERS,
          params=lambda side: {"deployment_id": side.deployment.id}),
    Route("deployments.edit_deployment", RECORD_READERS, method="POST",
          params=lambda side: {"deployment_id": side.deployment.id}, data={}),
    Route("deployments.find_evidence", RECORD_READERS, method="POST",
          params=lambda side: {"deployment_id": side.deployment.id, "find_id": side.find.id},
          data={"evidence": "yes"}),
    # The case outcome: managers of the agency (and admins) only; a POST of nothing saves a blank outcome.
    Route("deployments.case_outcome", MANAGERS, params=lambda side: {"deployment_id": side.deployment.id}),
    Route("deployments.case_outcome", MANAGERS, method="POST", params=lambda side: {"deployment_id": side.deployment.id},
          data={"arrests": "x"}),
    Route("deployments.archive_deployment", {"admin": "ok", "manager": "ok", "handler": "deny", "funder": "deny"},
          method="POST", params=lambda side: {"deployment_id": side.deployment.id}),
]
