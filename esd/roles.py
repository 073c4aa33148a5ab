"""The four roles and who may do what: the one definition the models, views, forms, CLI and templates use.

| | admin | manager | handler | funder |
|---|---|---|---|---|
| agencies, users, vocabularies | all | — | — | — |
| dogs, handlers, certifications | all | own agency | read own agency | — |
| training sessions | all | own agency | create; edit own | — |
| deployments, case numbers | all | own agency | own agency | never |
| exports, packets, audit log | all | own agency | — | — |
| charts and dashboards | all | own agency | own agency | aggregates of granted agencies |

Which agencies a role reaches is scoping's rule (esd/scoping.py); which role may do a thing is here.
"""
from __future__ import annotations

ROLES = ("admin", "manager", "handler", "funder")
ROLE_LABELS = {"admin": "Administrator", "manager": "Program manager", "handler": "Handler",
               "funder": "Funder (aggregates of granted agencies)"}
# Belong to exactly one agency (admins and funders to none).
AGENCY_ROLES = ("manager", "handler")
# Read and write records, not only aggregates.
RECORD_ROLES = ("admin", "manager", "handler")
# Change dogs, handlers, teams and certifications; export, build packets, read the audit log.
MANAGE_ROLES = ("admin", "manager")
# See the aggregates of several agencies (the funder dashboard).
AGGREGATE_ROLES = ("admin", "funder")


def can_manage(user, agency_id: int) -> bool:
    """Return whether `user` may create and change dogs, handlers, teams and certifications of an agency."""
    return user.role == "admin" or (user.role == "manager" and user.agency_id == agency_id)
