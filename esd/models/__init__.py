"""All models, importable from one place: `from esd.models import Dog`."""
from .assessments import AssessmentStandard, PlannedArea, PlannedSession
from .audit import AuditEntry
from .base import utcnow
from .certifications import Certification, Notification, Reminder
from .core import Agency, Dog, Handler, TeamAssignment, User, funder_grants
from .deployments import Deployment, FieldAlert, Find
from .imports import ImportMapping
from .outcomes import CaseOutcome
from .rollups import (DeploymentRollup, DeviceRollup, DogMonthRollup, DogPairRollup, HideRollup, PairRollup,
                      ServedRollup, SessionRollup, SpotRollup, YearRollup)
from .training import FalseAlert, Hide, TrainingSession
from .twofactor import RecoveryCode, TwoFactor, TwoFactorRule
from .versions import ReportVersion
from .vocab import VocabularyTerm, seed_vocabularies, terms

__all__ = [
    "AssessmentStandard", "PlannedArea", "PlannedSession",
    "Agency", "AuditEntry", "CaseOutcome", "Certification", "Deployment", "DeploymentRollup", "DeviceRollup", "Dog",
    "DogMonthRollup", "DogPairRollup", "FalseAlert", "FieldAlert",
    "Find", "Handler", "Hide", "HideRollup", "ImportMapping", "Notification", "PairRollup", "Reminder", "ReportVersion", "ServedRollup",
    "RecoveryCode", "SessionRollup", "SpotRollup", "TeamAssignment", "TrainingSession", "TwoFactor",
    "TwoFactorRule", "User",
    "VocabularyTerm", "YearRollup", "funder_grants", "seed_vocabularies", "terms", "utcnow",
]
