"""Access cases of the deployments area: record readers of the agency; funders never (404)."""
from tests.access import RECORD_READERS, Route

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
    Route("deployments.archive_deployment", {"admin": "ok", "manager": "ok", "handler": "deny", "funder": "deny"},
          method="POST", params=lambda side: {"deployment_id": side.deployment.id}),
]
