"""The plan of an installation, built in Python before anything is written, and its small helpers."""
from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from zoneinfo import ZoneInfo

from .catalogue import DEMO_DOMAIN, FIRST_NAMES, LAST_NAMES


@dataclass
class AgencyPlan:
    name: str
    code: str
    tz: str
    mean_c: float
    swing_c: float
    city: str | None = None
    body: str = "NAPWDA"
    requesters: tuple = ()
    warning_window_days: int = 60
    id: int | None = None
    zone: ZoneInfo | None = None


@dataclass
class HandlerPlan:
    agency: AgencyPlan
    name: str
    badge: str
    email: str | None  # None: a handler record without an account
    phone: str | None = None
    since: date | None = None
    id: int | None = None
    user_id: int | None = None


@dataclass
class DogPlan:
    agency: AgencyPlan
    name: str
    call_sign: str
    breed: str
    sex: str
    born: date
    microchip: str
    acquired_on: date
    retired_on: date | None
    status: str
    teams: list  # [(HandlerPlan, starts_on, ends_on | None)], oldest first
    skill: float
    certs: list = field(default_factory=list)  # [(issued_on, expires_on, result)], oldest first
    id: int | None = None

    def handler_on(self, day: date) -> HandlerPlan:
        """The handler credited on `day` (the team of that day)."""
        for handler, starts, ends in reversed(self.teams):
            if starts <= day and (ends is None or day <= ends):
                return handler
        return self.teams[0][0]


@dataclass
class UserPlan:
    email: str
    name: str
    role: str
    agency: AgencyPlan | None = None
    handler: HandlerPlan | None = None
    grants: tuple = ()
    id: int | None = None
    trainer: bool = False  # a handler given the trainer right


@dataclass
class Plan:
    start: date
    today: date
    agencies: list
    handlers: list
    dogs: list
    users: list
    target_hides: int | None = None  # None: several sessions a week per dog, 3–10 hides each
    deployments_per_week: float = 0.8  # the demo's rate; the scale set has one per 25 hides


@dataclass
class Summary:
    agencies: int = 0
    users: int = 0
    handlers: int = 0
    dogs: int = 0
    teams: int = 0
    sessions: int = 0
    hides: int = 0
    false_alerts: int = 0
    deployments: int = 0
    finds: int = 0
    certifications: int = 0


class Weighted:
    """Draw from weighted choices quickly (cumulative weights and bisect, no per-call setup)."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


def weighted(mapping: dict) -> Weighted:
    return Weighted(mapping.keys(), mapping.values())


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def unique_email(name: str, taken: set) -> str:
    base = name.lower().replace(" ", ".").replace("'", "")
    email, n = f"{base}@{DEMO_DOMAIN}", 1
    while email in taken:
        n += 1
        email = f"{base}{n}@{DEMO_DOMAIN}"
    taken.add(email)
    return email


def phone_number(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}"


def cert_chain(rng: random.Random, last_issued: date, earliest: date) -> list:
    """Annual certifications back from `last_issued` to no earlier than `earliest`, oldest first."""
    chain, issued = [], last_issued
    while issued >= earliest:
        chain.append((issued, issued + timedelta(days=365), "pass"))
        issued = issued - timedelta(days=365 - rng.randint(0, 25))  # renewed a little before expiry
    return list(reversed(chain))
