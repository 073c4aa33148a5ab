"""The four roles and who may do what: the one definition the models, views, forms, CLI and templates use.

| | admin | manager | handler | funder |
|---|---|---|---|---|
| agencies, users, vocabularies | all | — | — | — |
| dogs, handlers, certifications | all | own agency | read own agency | — |
| training sessions | all | own agency | create; edit own | — |
| deployments, case numbers | all | own agency | own agency | never |
| exports, packets, audit log | all | own agency | — | — |
| charts and dashboards | all | own agency | own agency | aggregates of granted agencies |
| planned (sealed) sessions: plan, see, close | all | own agency | with the trainer right | — |

A handler given the trainer right (`User.trainer`) is a trainer of their agency, as its managers are: they plan,
see and close sealed sessions, except one in which they are the handler or the observer (the seal's rule,
esd/assessments/services.py `may_see_plan`). Standards, certifications and everything else stay the managers'.

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
# May be given the trainer right (managers are trainers already; administrators and funders train no team).
TRAINER_RIGHT_ROLES = ("handler",)
# See the aggregates of several agencies (the funder dashboard).
AGGREGATE_ROLES = ("admin", "funder")


def can_manage(user, agency_id: int) -> bool:
    """Return whether `user` may create and change dogs, handlers, teams and certifications of an agency."""
    return user.role == "admin" or (user.role == "manager" and user.agency_id == agency_id)


def is_trainer(user, agency_id: int | None) -> bool:
    """Return whether `user` plans, sees and closes an agency's sealed sessions: its managers (and admins),
    and its handlers given the trainer right."""
    if can_manage(user, agency_id):
        return True
    return user.role in TRAINER_RIGHT_ROLES and bool(user.trainer) and agency_id is not None \
        and user.agency_id == agency_id
