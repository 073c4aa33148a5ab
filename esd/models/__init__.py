"""All models, importable from one place: `from esd.models import Dog`."""
from .audit import AuditEntry
from .base import utcnow
from .certifications import Certification, Notification, Reminder
from .core import Agency, Dog, Handler, TeamAssignment, User, funder_grants
from .deployments import Deployment, Find
from .training import FalseAlert, Hide, TrainingSession
from .vocab import VocabularyTerm, seed_vocabularies, terms

__all__ = [
    "Agency", "AuditEntry", "Certification", "Deployment", "Dog", "FalseAlert", "Find", "Handler",
    "Hide", "Notification", "Reminder", "TeamAssignment", "TrainingSession", "User",
    "VocabularyTerm", "funder_grants", "seed_vocabularies", "terms", "utcnow",
]
