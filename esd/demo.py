"""`flask esd seed-demo`: a believable installation to try the app on, or a national one to measure.

Every row is written with SQLAlchemy Core `insert()` in batches, not ORM objects: a million hides
must load in minutes. That also bypasses the ORM audit hook on purpose — seeding is not a user
change; one `seed_demo` audit event records that it happened.
"""
from __future__ import annotations

import math
import random
from bisect import bisect
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import accumulate
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Table, bindparam, func, insert, select, update

from .cli import esd_cli
from .extensions import db
from .models import (Agency, Certification, Deployment, Dog, FalseAlert, Find, Handler, Hide,
                     TeamAssignment, TrainingSession, User, VocabularyTerm, funder_grants,
                     seed_vocabularies)

DEMO_PASSWORD = "tracker demo 2026"
DEMO_DOMAIN = "demo.example.org"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
FUNDER_EMAIL = f"funder@{DEMO_DOMAIN}"
SESSION_CHUNK = 2000  # sessions per batch: their hides (~13,000 rows) go in one executemany
SCALE_AGENCIES = 62
SCALE_YEARS = 5
MEAN_HIDES_PER_SESSION = 6.5

# ---------------------------------------------------------------------------------------------
# What makes a hide hard. Names are the default vocabulary; terms an installation adds get the
# neutral defaults. Probabilities are the chance a certified dog finds a known hide in the open.
# ---------------------------------------------------------------------------------------------
# name: (find probability, how often trained, size 0 tiny … 3 large)
DEVICES = {
    "microSD card": (0.90, 14, 0), "SIM card": (0.88, 8, 0), "SD card": (0.92, 8, 0),
    "USB drive": (0.95, 16, 1), "Smartwatch": (0.94, 4, 1), "SSD": (0.95, 5, 1),
    "Phone": (0.98, 14, 2), "Camera": (0.96, 3, 2), "Hard drive": (0.97, 6, 2), "CD/DVD": (0.91, 2, 2),
    "Tablet": (0.98, 5, 3), "Laptop": (0.99, 5, 3), "Game console": (0.98, 2, 3), "Router": (0.97, 2, 3),
}
DEFAULT_DEVICE = (0.94, 2, 2)
# name: (change in find probability, how often used, largest device size it takes)
SPOTS = {
    "Drawer": (+0.03, 10, 3), "Furniture": (0.0, 10, 3), "Clothing": (+0.01, 7, 2),
    "Bedding": (0.0, 6, 3), "Book": (-0.02, 7, 2), "Container": (0.0, 7, 3),
    "Appliance": (-0.05, 5, 3), "Toy": (-0.02, 4, 2), "Vehicle": (-0.05, 6, 3),
    "Ceiling tile": (-0.07, 5, 3), "Light fixture": (-0.08, 4, 1), "Electrical outlet": (-0.12, 5, 1),
    "Wall cavity": (-0.10, 4, 2), "Floorboard": (-0.06, 4, 2), "Hollowed coin": (-0.06, 2, 0),
    "Buried": (-0.12, 3, 2),
}
DEFAULT_SPOT = (-0.03, 2, 3)
# Environments where only some spots make sense.
ENVIRONMENT_SPOTS = {"Vehicle": {"Vehicle", "Container", "Clothing", "Toy"},
                     "Outdoor": {"Buried", "Container", "Vehicle", "Clothing"}}
ENVIRONMENTS = {"Residence": 40, "Office": 16, "Vehicle": 12, "Outdoor": 6, "Warehouse": 8,
                "School": 6, "Storage unit": 6, "Retail": 6}
HEIGHTS = (("floor", 25, 0.0), ("low", 30, 0.01), ("mid", 25, 0.0), ("high", 15, -0.03),
           ("overhead", 5, -0.08))
CONCEALMENTS = (("open", 15, +0.02), ("concealed", 65, 0.0), ("layered", 20, -0.05))
AID_SET_MINUTES = (5, 10, 15, 20, 30, 30, 45, 60, 60, 90, 120, 240, 1440)
FALSE_ALERT_PLACES = ("Bedroom closet", "Kitchen cabinet", "Desk drawer", "Glovebox", "HVAC vent",
                      "Nightstand", "Under the sink", "Bookshelf", "Couch cushion", "Tool bench",
                      "Trunk liner", "Filing cabinet")
FALSE_ALERT_NOTES = (None, None, "Residual odor from an earlier placement suspected.",
                     "Handler may have cued; rerun blind next session.",
                     "Alerted on a TV remote (batteries).", "Alerted on a charging cable.",
                     "Ran out of the search pattern; reset and re-searched.")
SESSION_NOTES = (None, None, None, None, "Good pace, thorough detail work.",
                 "Distracted by food odor in the kitchen; refocused.", "Worked well off leash.",
                 "Hot day: shortened the session and watered often.",
                 "Slow on the high hides; add more elevated placements.",
                 "Strong final response on every find.", "New building for the dog: settled quickly.")
DEPLOYMENT_DEVICES = {"Phone": 22, "USB drive": 20, "microSD card": 14, "SD card": 10,
                      "Hard drive": 10, "SIM card": 6, "Laptop": 4, "Tablet": 4, "SSD": 5,
                      "Camera": 2, "Smartwatch": 2, "CD/DVD": 1}
LOCATION_TYPES = {"Residence": 60, "Business": 8, "Vehicle": 14, "Storage unit": 5, "Outdoor": 3,
                  "Jail / prison": 4, "Hotel room": 6}
DEPLOYMENT_NOTES = (None, None, "Dog alerted on a dresser drawer; thumb drive taped underneath.",
                    "Search team had cleared the bedroom; dog found a microSD in a sock.",
                    "Two rooms searched; suspect had a second phone behind the dryer.",
                    "Consent search of the vehicle; SIM card in the sun visor.",
                    "Probation compliance check; nothing found, dog worked well.",
                    "Hot, cluttered residence: dog rested twice.")
EVALUATORS = ("R. Dalton (NAPWDA)", "M. Fuentes", "K. Okafor", "S. Lindqvist", "T. Brennan",
              "J. Whitaker", "A. Castillo")
BREEDS = {"Labrador Retriever": 55, "English Springer Spaniel": 15, "Golden Retriever": 8,
          "Labrador mix": 7, "English Cocker Spaniel": 5, "Belgian Malinois": 3,
          "German Shorthaired Pointer": 3, "Vizsla": 2, "Chesapeake Bay Retriever": 2}
DOG_NAMES = ("Bella", "Ruger", "Nova", "Maverick", "Josie", "Bear", "Piper", "Dexter", "Hazel",
             "Ozzy", "Willow", "Tilly", "Scout", "Ranger", "Daisy", "Boomer", "Molly", "Jax",
             "Sadie", "Tucker", "Luna", "Cooper", "Remi", "Gunner", "Millie", "Bentley", "Rosie",
             "Diesel", "Lucy", "Koda", "Penny", "Rocco", "Maggie", "Bruno", "Zoey", "Hank",
             "Ellie", "Duke", "Ginger", "Axel", "Poppy", "Murphy", "Abby", "Zeus", "Lola",
             "Thor", "Ruby", "Blue", "Sage", "Ace", "Stella", "Chase", "Roxy", "Finn", "Lexi",
             "Sarge", "Annie", "Tank", "Honey", "Bolt", "Kona", "Moose", "Dixie", "Ziggy",
             "Callie", "Maddox", "Winnie", "Sully", "Pearl", "Archer", "Olive", "Cash", "Juno",
             "Loki", "Birdie", "Riggs", "Maple", "Colt", "Ivy", "Hunter", "Gracie", "Rebel")
FIRST_NAMES = ("James", "Maria", "Robert", "Jennifer", "Michael", "Linda", "David", "Patricia",
               "Daniel", "Elizabeth", "Carlos", "Susan", "Kevin", "Jessica", "Brian", "Sarah",
               "Jason", "Karen", "Ryan", "Nancy", "Eric", "Lisa", "Jacob", "Angela", "Gary",
               "Ashley", "Tyler", "Michelle", "Aaron", "Amanda", "Jose", "Melissa", "Adam",
               "Stephanie", "Nathan", "Rebecca", "Derek", "Laura", "Trevor", "Heather", "Luis",
               "Nicole", "Shawn", "Rachel", "Marcus", "Kayla", "Dustin", "Tiffany", "Wesley",
               "Danielle", "Corey", "Brittany", "Travis", "Erin", "Andre", "Monica", "Troy", "Dana")
LAST_NAMES = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
              "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
              "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
              "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
              "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
              "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Phillips", "Evans", "Turner",
              "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
              "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Kelly", "Howard", "Ward", "Cox",
              "Brooks", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross")
TRAINING_PLACES = {
    "Residence": ("Training house", "Volunteer residence", "Vacant rental (donated)"),
    "Office": ("Agency headquarters", "Courthouse annex (after hours)", "County office building"),
    "Vehicle": ("Fleet yard", "Impound lot", "Dealership lot (after hours)"),
    "Outdoor": ("Training field", "County park", "Range property"),
    "Warehouse": ("Public works warehouse", "Evidence warehouse", "Distribution center"),
    "School": ("Elementary school (summer break)", "Community college", "Vacant school"),
    "Storage unit": ("Self-storage facility", "Agency storage units"),
    "Retail": ("Thrift store (after hours)", "Electronics store (after hours)"),
}
STATES = (  # (region, time zone, mean °C, seasonal swing °C)
    ("Alabama", "America/Chicago", 18, 9), ("Alaska", "America/Anchorage", 2, 12),
    ("Arizona", "America/Phoenix", 23, 10), ("Arkansas", "America/Chicago", 16, 11),
    ("California", "America/Los_Angeles", 16, 6), ("Colorado", "America/Denver", 10, 11),
    ("Connecticut", "America/New_York", 10, 12), ("Delaware", "America/New_York", 13, 11),
    ("Florida", "America/New_York", 22, 6), ("Georgia", "America/New_York", 18, 9),
    ("Hawaii", "Pacific/Honolulu", 25, 2), ("Idaho", "America/Boise", 10, 12),
    ("Illinois", "America/Chicago", 11, 14), ("Indiana", "America/Indiana/Indianapolis", 12, 13),
    ("Iowa", "America/Chicago", 10, 15), ("Kansas", "America/Chicago", 13, 14),
    ("Kentucky", "America/New_York", 14, 11), ("Louisiana", "America/Chicago", 20, 8),
    ("Maine", "America/New_York", 7, 13), ("Maryland", "America/New_York", 13, 11),
    ("Massachusetts", "America/New_York", 10, 12), ("Michigan", "America/Detroit", 9, 13),
    ("Minnesota", "America/Chicago", 7, 16), ("Mississippi", "America/Chicago", 18, 9),
    ("Missouri", "America/Chicago", 13, 13), ("Montana", "America/Denver", 7, 13),
    ("Nebraska", "America/Chicago", 10, 14), ("Nevada", "America/Los_Angeles", 17, 11),
    ("New Hampshire", "America/New_York", 8, 13), ("New Jersey", "America/New_York", 12, 11),
    ("New Mexico", "America/Denver", 14, 10), ("New York", "America/New_York", 9, 13),
    ("North Carolina", "America/New_York", 15, 10), ("North Dakota", "America/Chicago", 5, 17),
    ("Ohio", "America/New_York", 11, 12), ("Oklahoma", "America/Chicago", 16, 12),
    ("Oregon", "America/Los_Angeles", 11, 8), ("Pennsylvania", "America/New_York", 11, 12),
    ("Rhode Island", "America/New_York", 11, 11), ("South Carolina", "America/New_York", 18, 9),
    ("South Dakota", "America/Chicago", 8, 15), ("Tennessee", "America/Chicago", 15, 11),
    ("Texas", "America/Chicago", 20, 9), ("Utah", "America/Denver", 11, 12),
    ("Vermont", "America/New_York", 7, 13), ("Virginia", "America/New_York", 14, 10),
    ("Washington", "America/Los_Angeles", 10, 8), ("West Virginia", "America/New_York", 12, 11),
    ("Wisconsin", "America/Chicago", 8, 15), ("Wyoming", "America/Denver", 7, 12),
    ("Los Angeles Regional", "America/Los_Angeles", 18, 5),
    ("San Diego Regional", "America/Los_Angeles", 18, 4),
    ("Sacramento Valley", "America/Los_Angeles", 16, 8), ("Dallas Regional", "America/Chicago", 19, 10),
    ("Houston Metro", "America/Chicago", 21, 8), ("New York City", "America/New_York", 13, 11),
    ("Cook County", "America/Chicago", 10, 14), ("Central Florida", "America/New_York", 23, 5),
    ("South Florida", "America/New_York", 25, 3), ("Puerto Rico", "America/Puerto_Rico", 26, 2),
    ("District of Columbia", "America/New_York", 14, 11),
    ("Northern Virginia", "America/New_York", 13, 11),
)


# ---------------------------------------------------------------------------------------------
# The plan of an installation, built in Python before anything is written.
# ---------------------------------------------------------------------------------------------
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


class _Weighted:
    """Draw from weighted choices quickly (cumulative weights and bisect, no per-call setup)."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


def _weighted(mapping: dict) -> _Weighted:
    return _Weighted(mapping.keys(), mapping.values())


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _email(name: str, taken: set) -> str:
    base = name.lower().replace(" ", ".").replace("'", "")
    email, n = f"{base}@{DEMO_DOMAIN}", 1
    while email in taken:
        n += 1
        email = f"{base}{n}@{DEMO_DOMAIN}"
    taken.add(email)
    return email


def _phone(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}"


def _cert_chain(rng: random.Random, last_issued: date, earliest: date) -> list:
    """Annual certifications back from `last_issued` to no earlier than `earliest`, oldest first."""
    chain, issued = [], last_issued
    while issued >= earliest:
        chain.append((issued, issued + timedelta(days=365), "pass"))
        issued = issued - timedelta(days=365 - rng.randint(0, 25))  # renewed a little before expiry
    return list(reversed(chain))


# ---------------------------------------------------------------------------------------------
# The demo: three task forces, twelve dogs, a year.
# ---------------------------------------------------------------------------------------------
def demo_plan(today: date, rng: random.Random) -> Plan:
    """Three task forces in three time zones with twelve dogs and their story over a year."""
    d = lambda days: today - timedelta(days=days)  # noqa: E731  (days ago)
    cascade = AgencyPlan("Cascade Regional ICAC Task Force", "CAS", "America/Los_Angeles", 11, 8,
                         city="Tacoma, WA", body="NAPWDA",
                         requesters=("Pierce County Sheriff's Office", "Tacoma Police Department",
                                     "FBI Seattle Field Office", "HSI Seattle",
                                     "U.S. Probation, W.D. Washington"))
    plains = AgencyPlan("Great Plains ICAC Task Force", "GPL", "America/Chicago", 13, 14,
                        city="Wichita, KS", body="NNDDA", warning_window_days=90,
                        requesters=("Sedgwick County Sheriff's Office", "Wichita Police Department",
                                    "Kansas Bureau of Investigation", "FBI Kansas City Field Office",
                                    "Kansas Department of Corrections"))
    chesapeake = AgencyPlan("Chesapeake ICAC Task Force", "CHS", "America/New_York", 14, 11,
                            city="Annapolis, MD", body="USPCA",
                            requesters=("Anne Arundel County Police", "Maryland State Police",
                                        "HSI Baltimore", "U.S. Marshals Service",
                                        "Maryland Parole and Probation"))
    agencies = [cascade, plains, chesapeake]
    taken: set = set()

    def handler(agency, name, badge, account=True, since=400):
        return HandlerPlan(agency, name, badge, _email(name, taken) if account else None,
                           _phone(rng), since=d(since))

    whitfield = handler(cascade, "Dana Whitfield", "CAS-2231", since=1500)
    reyes = handler(cascade, "Marcus Reyes", "CAS-1987", account=False, since=1800)
    tran = handler(cascade, "Kelsey Tran", "CAS-2410", since=260)
    pike = handler(cascade, "Jordan Pike", "CAS-2502", since=140)
    hadley = handler(plains, "Tom Hadley", "GPL-114", since=1400)
    ortiz = handler(plains, "Angela Ortiz", "GPL-131", since=1300)
    kowalski = handler(plains, "Ray Kowalski", "GPL-097", since=2600)
    ellis = handler(chesapeake, "Brian Ellis", "CHS-5521", since=1600)
    shaw = handler(chesapeake, "Monica Shaw", "CHS-5608", since=1200)
    navarro = handler(chesapeake, "Luis Navarro", "CHS-5644", since=900)
    doyle = handler(chesapeake, "Erin Doyle", "CHS-5710", since=700)
    handlers = [whitfield, reyes, tran, pike, hadley, ortiz, kowalski, ellis, shaw, navarro, doyle]

    chips = iter(range(1, 100))

    def dog(agency, name, breed, sex, age_years, acquired_days, teams, status="active",
            retired_days=None, skill=0.0):
        number = next(chips)
        return DogPlan(agency, name, f"K9-{agency.code}-{number}", breed, sex,
                       d(int(age_years * 365.25)), f"985112{number:09d}", d(acquired_days),
                       d(retired_days) if retired_days else None, status,
                       [(h, d(s), d(e) if e is not None else None) for h, s, e in teams], skill)

    # Ruger changed handler 7 months ago; Bear retired in the spring and his handler took on Piper.
    handover = 210
    dogs = [
        dog(cascade, "Bella", "Labrador Retriever", "female", 5.5, 1460, [(whitfield, 1460, None)],
            skill=0.02),
        dog(cascade, "Ruger", "English Springer Spaniel", "male", 4.2, 1100,
            [(reyes, 1100, handover + 1), (tran, handover, None)]),
        dog(cascade, "Tilly", "English Cocker Spaniel", "female", 3.1, 700, [(whitfield, 700, None)],
            skill=-0.01),
        dog(cascade, "Nova", "Labrador Retriever", "female", 1.6, 120, [(pike, 120, None)],
            status="in_training"),
        dog(plains, "Maverick", "Labrador Retriever", "male", 6.0, 1400, [(hadley, 1400, None)],
            skill=0.01),
        dog(plains, "Josie", "English Springer Spaniel", "female", 4.8, 1280, [(ortiz, 1280, None)],
            skill=-0.02),
        dog(plains, "Bear", "Labrador Retriever", "male", 10.4, 2550, [(kowalski, 2550, 180)],
            status="retired", retired_days=180, skill=-0.01),
        dog(plains, "Piper", "Golden Retriever", "female", 2.3, 178, [(kowalski, 178, None)]),
        dog(chesapeake, "Dexter", "English Springer Spaniel", "male", 5.0, 1590, [(ellis, 1590, None)],
            skill=0.015),
        dog(chesapeake, "Hazel", "Labrador Retriever", "female", 4.5, 1190, [(shaw, 1190, None)]),
        dog(chesapeake, "Ozzy", "Labrador mix", "male", 3.6, 880, [(navarro, 880, None)], skill=-0.03),
        dog(chesapeake, "Willow", "Golden Retriever", "female", 2.9, 690, [(doyle, 690, None)],
            skill=0.005),
    ]
    by_name = {x.name: x for x in dogs}
    # The current certification of each dog sets its status on the board: most valid, two
    # expiring within 30 days, one lapsed, the retired dog's last one long expired.
    last_issued = {
        "Bella": d(95), "Ruger": d(handover - 35), "Tilly": d(160), "Maverick": d(365 - 12),
        "Josie": d(70), "Bear": d(180 + 200), "Piper": d(28), "Dexter": d(365 - 24),
        "Hazel": d(365 + 9), "Ozzy": d(45), "Willow": d(230),
    }
    for name, issued in last_issued.items():
        x = by_name[name]
        earliest = x.acquired_on + timedelta(days=150)
        if name == "Ruger":  # the new team certified together after the handover
            x.certs = _cert_chain(rng, d(handover + 30), earliest) + [(issued, issued + timedelta(days=365),
                                                                       "pass")]
        else:
            x.certs = _cert_chain(rng, issued, min(earliest, issued))
    # Josie failed a renewal once and passed the re-test two weeks later.
    josie = by_name["Josie"]
    if len(josie.certs) >= 2:
        issued, expires, _ = josie.certs[-2]
        josie.certs.insert(-2, (issued - timedelta(days=14), expires - timedelta(days=14), "fail"))

    admin = UserPlan(ADMIN_EMAIL, "Pat Morgan", "admin")
    managers = [UserPlan(f"manager.{a.code.lower()}@{DEMO_DOMAIN}", name, "manager", a)
                for a, name in ((cascade, "Lt. Sarah Cole"), (plains, "Sgt. Dwayne Harris"),
                                (chesapeake, "Lt. Karen Wu"))]
    handler_users = [UserPlan(h.email, h.name, "handler", h.agency, h) for h in handlers if h.email]
    funder = UserPlan(FUNDER_EMAIL, "Grace Holloway (Bright Path Foundation)", "funder",
                      grants=(cascade, plains))
    users = [admin, *managers, *handler_users, funder]
    return Plan(d(365), today, agencies, handlers, dogs, users)


# ---------------------------------------------------------------------------------------------
# The scale data set: a national program of 62 task forces, ~400 dogs, five years.
# ---------------------------------------------------------------------------------------------
def scale_plan(today: date, rng: random.Random, hides: int) -> Plan:
    """62 task forces, about 400 dogs joining and retiring over five years, `hides` hides in all."""
    start = today - timedelta(days=365 * SCALE_YEARS)
    agencies, handlers, dogs, users, taken = [], [], [], [], set()
    bodies = _Weighted(("NAPWDA", "NNDDA", "USPCA", "NPCA", "In-house"), (45, 20, 20, 5, 10))
    chip = 0
    for region, tz, mean_c, swing_c in STATES[:SCALE_AGENCIES]:
        code = "".join(w[0] for w in region.split()).upper()[:3] + f"{len(agencies) + 1:02d}"
        agency = AgencyPlan(f"{region} ICAC Task Force", code, tz, mean_c, swing_c,
                            body=bodies.draw(rng), warning_window_days=rng.choice((30, 60, 60, 90)),
                            requesters=(f"{region} State Police", f"{region} Attorney General's Office",
                                        "FBI", "Homeland Security Investigations",
                                        "U.S. Marshals Service", "U.S. Probation Office",
                                        "County Sheriff's Office", "City Police Department"))
        agencies.append(agency)
        manager = _person(rng)
        users.append(UserPlan(_email(manager, taken), f"Lt. {manager}", "manager", agency))
        free: list = []  # handlers whose dog retired, ready for the next one
        for _ in range(rng.randint(4, 9)):
            acquired = start + timedelta(days=rng.randint(-3 * 365, 5 * 365 - 60))
            age_at_acquisition = rng.uniform(1.0, 2.5)
            working_days = int(rng.uniform(5.5, 8.5) * 365)
            retired = acquired + timedelta(days=working_days)
            retired_on = retired if retired < today else None
            ready = [h for h in free if h[1] < acquired]
            if ready:
                first, _ = ready[0]
                free.remove(ready[0])
            else:
                first = _new_handler(rng, agency, handlers, taken, acquired)
            teams = [(first, acquired, None)]
            if rng.random() < 0.25:  # handed over: promotion, transfer, retirement of the handler
                span = (retired_on or today) - acquired
                if span.days > 400:
                    switch = acquired + timedelta(days=rng.randint(200, span.days - 100))
                    second = _new_handler(rng, agency, handlers, taken, switch)
                    teams = [(first, acquired, switch - timedelta(days=1)), (second, switch, None)]
            if retired_on:
                last, starts, _ = teams[-1]
                teams[-1] = (last, starts, retired_on)
                free.append((last, retired_on))
            chip += 1
            x = DogPlan(agency, rng.choice(DOG_NAMES), f"K9-{code}-{chip}", _weighted(BREEDS).draw(rng),
                        rng.choice(("male", "female")),
                        acquired - timedelta(days=int(age_at_acquisition * 365)), f"985140{chip:09d}",
                        acquired, retired_on, "active", teams, rng.gauss(0, 0.025))
            earliest = acquired + timedelta(days=rng.randint(120, 200))
            end = retired_on or today
            if earliest <= end:
                if retired_on:
                    last_issued = retired_on - timedelta(days=rng.randint(30, 330))
                else:  # spread the current certifications over valid, expiring and expired
                    last_issued = today - timedelta(days=rng.randint(0, 365 + 45))
                x.certs = _cert_chain(rng, max(last_issued, earliest), earliest)
            x.status = "retired" if retired_on else ("active" if x.certs else "in_training")
            dogs.append(x)
    for h in handlers:
        if h.email:
            users.append(UserPlan(h.email, h.name, "handler", h.agency, h))
    admin = UserPlan(ADMIN_EMAIL, "Pat Morgan", "admin")
    funder = UserPlan(FUNDER_EMAIL, "Grace Holloway (Bright Path Foundation)", "funder",
                      grants=tuple(agencies[:12]))
    users = [admin, *users, funder]
    return Plan(start, today, agencies, handlers, dogs, users, target_hides=hides)


def _new_handler(rng, agency, handlers, taken, since) -> HandlerPlan:
    name = _person(rng)
    account = rng.random() < 0.85
    h = HandlerPlan(agency, name, f"{agency.code}-{1000 + len(handlers)}",
                    _email(name, taken) if account else None, _phone(rng), since=since)
    handlers.append(h)
    return h


# ---------------------------------------------------------------------------------------------
# Writing the plan.
# ---------------------------------------------------------------------------------------------
class _Writer:
    """Write a plan with Core inserts on the session's connection, in one transaction."""

    def __init__(self, plan: Plan, rng: random.Random, progress):
        self.plan, self.rng, self.progress = plan, rng, progress
        self.conn = db.session.connection()
        self.summary = Summary()
        vocab = db.session.execute(select(VocabularyTerm.kind, VocabularyTerm.name, VocabularyTerm.id)
                                   .where(VocabularyTerm.active.is_(True))).all()
        self.vocab: dict[str, dict[str, int]] = {}
        for kind, name, term_id in vocab:
            self.vocab.setdefault(kind, {})[name] = term_id
        self._prepare_draws()

    def insert(self, model, rows: list[dict], ids: bool = False) -> list[int]:
        """Insert `rows` in one executemany; return their new ids in order when asked."""
        if not rows:
            return []
        table = model if isinstance(model, Table) else model.__table__
        if self.conn.dialect.name == "postgresql":
            return self._copy(table, rows, ids)
        new_ids: list[int] = []
        if ids:
            # Explicit ids after the highest: RETURNING on SQLite inserts one row per statement
            # when the order must be kept, ten times slower. The database was empty and this one
            # transaction is its only writer, so nothing else takes these ids.
            last = self.conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
            new_ids = list(range(last + 1, last + 1 + len(rows)))
            for new_id, row in zip(new_ids, rows):
                row["id"] = new_id
        self.conn.execute(insert(table), rows)
        return new_ids

    def _copy(self, table: Table, rows: list[dict], ids: bool) -> list[int]:
        """PostgreSQL: COPY the rows, taking their ids from the table's own sequence.

        psycopg sends an executemany as one INSERT per row, and re-parses every batched
        INSERT … VALUES of thousands of parameters: a million hides took ten minutes that
        way, against about a minute with COPY. Ids come from `nextval`, so the sequence
        stays ahead of every row and later inserts by the app never collide.
        """
        columns = [c.name for c in table.c if c.name in rows[0]]
        defaults = {c.name: (c.default.arg if c.default.is_scalar else c.default.arg(None))
                    for c in table.c if c.name not in rows[0] and c.name != "id" and c.default is not None}
        columns += list(defaults)
        new_ids: list[int] = []
        if ids:
            new_ids = sorted(self.conn.execute(
                select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
                .select_from(func.generate_series(1, len(rows)))).scalars())
            columns.insert(0, "id")
        cursor = self.conn.connection.driver_connection.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        fixed = tuple(defaults.values())
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            plain = [c for c in columns if c != "id" and c not in defaults]
            if ids:
                for new_id, row in zip(new_ids, rows):
                    copy.write_row((new_id, *[row[c] for c in plain], *fixed))
            else:
                for row in rows:
                    copy.write_row((*[row[c] for c in plain], *fixed))
        return new_ids

    # -- draws ---------------------------------------------------------------------------------
    def _prepare_draws(self) -> None:
        devices = self.vocab.get("device_type", {})
        spots = self.vocab.get("hiding_spot", {})
        if not devices or not spots:
            raise click.ClickException("The device type and hiding spot vocabularies are empty.")
        self.device_info = {devices[n]: DEVICES.get(n, DEFAULT_DEVICE) for n in devices}
        self.spot_info = {spots[n]: SPOTS.get(n, DEFAULT_SPOT) for n in spots}
        self.spot_names = {spots[n]: n for n in spots}
        self.device_p = {d: info[0] for d, info in self.device_info.items()}
        self.spot_p = {sp: info[0] for sp, info in self.spot_info.items()}
        self.buried_spots = {sp for sp, name in self.spot_names.items() if name == "Buried"}
        self.device_draw = _Weighted(self.device_info, [v[1] for v in self.device_info.values()])
        envs = self.vocab.get("environment", {})
        self.env_draw = _Weighted(envs.values(), [ENVIRONMENTS.get(n, 3) for n in envs]) if envs else None
        self.env_names = {v: k for k, v in envs.items()}
        # Spots that fit each device in each environment, weighted by how often trainers use them.
        self.spot_draws: dict = {}
        for env_id in [None, *envs.values()]:
            allowed = ENVIRONMENT_SPOTS.get(self.env_names.get(env_id))
            for device_id, (_, _, size) in self.device_info.items():
                fits = [s for s, (_, _, biggest) in self.spot_info.items()
                        if biggest >= size and (allowed is None or self.spot_names[s] in allowed)]
                fits = fits or list(self.spot_info)
                self.spot_draws[env_id, device_id] = _Weighted(fits, [self.spot_info[s][1] for s in fits])
        self.any_spot = _Weighted(self.spot_info, [v[1] for v in self.spot_info.values()])
        self.height_draw = _Weighted([h[0] for h in HEIGHTS], [h[1] for h in HEIGHTS])
        self.height_mod = {h[0]: h[2] for h in HEIGHTS}
        self.conceal_draw = _Weighted([c[0] for c in CONCEALMENTS], [c[1] for c in CONCEALMENTS])
        self.conceal_mod = {c[0]: c[2] for c in CONCEALMENTS}
        finds = {devices[n]: w for n, w in DEPLOYMENT_DEVICES.items() if n in devices} or \
            {i: 1 for i in devices.values()}
        self.find_device_draw = _Weighted(finds, finds.values())
        locations = self.vocab.get("location_type", {})
        self.location_draw = (_Weighted(locations.values(), [LOCATION_TYPES.get(n, 2) for n in locations])
                              if locations else None)

    # -- roster --------------------------------------------------------------------------------
    def roster(self, password_hash: str) -> None:
        plan, s = self.plan, self.summary
        created = datetime.combine(plan.start - timedelta(days=30), time(16), timezone.utc)
        for agency, agency_id in zip(plan.agencies, self.insert(Agency, [
                dict(name=a.name, timezone=a.tz, warning_window_days=a.warning_window_days,
                     created_at=created) for a in plan.agencies], ids=True)):
            agency.id, agency.zone = agency_id, ZoneInfo(agency.tz)
        user_rows = [dict(email=u.email, name=u.name, role=u.role, password_hash=password_hash,
                          agency_id=u.agency.id if u.agency else None, created_at=created)
                     for u in plan.users]
        for user, user_id in zip(plan.users, self.insert(User, user_rows, ids=True)):
            user.id = user_id
            if user.handler:
                user.handler.user_id = user_id
        self.insert(funder_grants, [dict(user_id=u.id, agency_id=a.id) for u in plan.users
                                    for a in u.grants])
        handler_rows = [dict(agency_id=h.agency.id, name=h.name, badge_number=h.badge, phone=h.phone,
                             email=h.email, user_id=h.user_id,
                             created_at=_noon(max(h.since or plan.start, plan.start - timedelta(days=30))))
                        for h in plan.handlers]
        for h, handler_id in zip(plan.handlers, self.insert(Handler, handler_rows, ids=True)):
            h.id = handler_id
        dog_rows = [dict(agency_id=x.agency.id, name=x.name, call_sign=x.call_sign, breed=x.breed,
                         sex=x.sex, date_of_birth=x.born, microchip_id=x.microchip, status=x.status,
                         acquired_on=x.acquired_on, retired_on=x.retired_on,
                         created_at=_noon(max(x.acquired_on, plan.start - timedelta(days=30))))
                    for x in plan.dogs]
        for x, dog_id in zip(plan.dogs, self.insert(Dog, dog_rows, ids=True)):
            x.id = dog_id
        team_rows = [dict(agency_id=x.agency.id, dog_id=x.id, handler_id=h.id, starts_on=starts,
                          ends_on=ends, notes=_team_note(x, i, ends), created_at=_noon(starts))
                     for x in plan.dogs for i, (h, starts, ends) in enumerate(x.teams)]
        self.insert(TeamAssignment, team_rows)
        self.managers = {u.agency.id: u.id for u in plan.users if u.role == "manager"}
        s.agencies, s.users, s.handlers = len(plan.agencies), len(plan.users), len(plan.handlers)
        s.dogs, s.teams = len(plan.dogs), len(team_rows)

    # -- training ------------------------------------------------------------------------------
    def session_slots(self) -> list[tuple[date, DogPlan]]:
        """(day, dog) of every training session, oldest first."""
        plan, rng = self.plan, self.rng
        spans = []
        for x in plan.dogs:
            first = max(plan.start, x.acquired_on + timedelta(days=3))
            last = min(plan.today - timedelta(days=1), (x.retired_on or plan.today) - timedelta(days=1))
            if first <= last:
                spans.append((x, first, (last - first).days + 1))
        slots = []
        if plan.target_hides is None:  # several sessions a week, a week off now and then
            for x, first, days in spans:
                for week in range(0, days, 7):
                    if rng.random() < 0.07:
                        continue
                    per_week = rng.choice((3, 3, 4, 4, 4, 5)) + (1 if x.status == "in_training" else 0)
                    offsets = rng.sample(range(min(7, days - week)), min(per_week, days - week))
                    slots += [(first + timedelta(days=week + o), x) for o in offsets]
        elif spans:  # the sessions the target needs, shared by the days each dog worked
            wanted = max(1, round(plan.target_hides / MEAN_HIDES_PER_SESSION))
            per_dog = [0] * len(spans)
            for i in rng.choices(range(len(spans)), weights=[days for _, _, days in spans], k=wanted):
                per_dog[i] += 1
            for (x, first, days), count in zip(spans, per_dog):
                offsets = (rng.sample(range(days), count) if count <= days
                           else rng.choices(range(days), k=count))
                slots += [(first + timedelta(days=o), x) for o in offsets]
        slots.sort(key=lambda slot: (slot[0], slot[1].id))
        return slots

    def hide_counts(self, sessions: int) -> list[int]:
        """3–10 hides per session; exactly the target in all when one is set."""
        rng, target = self.rng, self.plan.target_hides
        counts = [rng.randint(3, 10) for _ in range(sessions)]
        if target is None or not counts:
            return counts
        low = min(3, max(1, target // max(1, sessions)))
        diff = target - sum(counts)
        while diff:
            i = rng.randrange(sessions)
            if diff > 0 and counts[i] < 10 + diff // sessions:
                counts[i] += 1
                diff -= 1
            elif diff < 0 and counts[i] > low:
                counts[i] -= 1
                diff += 1
        return counts

    def training(self) -> None:
        slots = self.session_slots()
        counts = self.hide_counts(len(slots))
        total = sum(counts)
        with self.progress(length=total, label="Training sessions and hides") as bar:
            for begin in range(0, len(slots), SESSION_CHUNK):
                chunk = slots[begin:begin + SESSION_CHUNK]
                chunk_counts = counts[begin:begin + SESSION_CHUNK]
                built = [self._session(day, x, n) for (day, x), n in zip(chunk, chunk_counts)]
                ids = self.insert(TrainingSession, [b[0] for b in built], ids=True)
                hide_rows, alert_rows = [], []
                for session_id, (_, hides, alerts) in zip(ids, built):
                    for row in hides:
                        row["session_id"] = session_id
                    for row in alerts:
                        row["session_id"] = session_id
                    hide_rows += hides
                    alert_rows += alerts
                self.insert(Hide, hide_rows)
                self.insert(FalseAlert, alert_rows)
                self.summary.sessions += len(built)
                self.summary.hides += len(hide_rows)
                self.summary.false_alerts += len(alert_rows)
                bar.update(len(hide_rows))

    def _dog_form(self, x: DogPlan, day: date) -> float:
        """How much better or worse than a certified dog `x` works on `day`."""
        form = x.skill
        in_training = (day - x.acquired_on).days
        if in_training < 210:  # a young dog learns quickly over its first months
            form -= 0.20 * (1 - in_training / 210)
        if x.retired_on and (x.retired_on - day).days < 180:  # slowing down before retirement
            form -= 0.10 * (1 - (x.retired_on - day).days / 180)
        return form

    def _session(self, day: date, x: DogPlan, n_hides: int):
        rng, plan, agency = self.rng, self.plan, x.agency
        handler = x.handler_on(day)
        local = datetime.combine(day, time(rng.choice((7, 8, 8, 9, 9, 10, 13, 14, 14, 15, 18)),
                                           rng.choice((0, 0, 15, 30, 30, 45))), agency.zone)
        started = local.astimezone(timezone.utc)
        env_id = self.env_draw.draw(rng) if self.env_draw else None
        env_name = self.env_names.get(env_id, "Residence")
        age = (day - x.acquired_on).days
        upcoming = any(0 <= (issued - day).days <= 21 for issued, _, _ in x.certs)
        if age < 60:
            purpose = "imprint"
        elif upcoming and rng.random() < 0.6:
            purpose = "certification_prep"
        else:
            purpose = "proficiency" if rng.random() < 0.15 else "maintenance"
        season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)
        temperature = round(agency.mean_c - agency.swing_c * season + rng.gauss(0, 4), 1)
        outside = env_name in ("Outdoor", "Vehicle")
        place = rng.choice(TRAINING_PLACES.get(env_name, ("Training site",)))
        form = self._dog_form(x, day) - (0.02 if temperature > 30 else 0.0)
        blind_share = 0.1 if purpose == "imprint" else (0.6 if purpose == "certification_prep" else 0.35)
        hides = []
        random_, draw_device, spot_draw = rng.random, self.device_draw.draw, self.spot_draws
        device_p, spot_p, buried = self.device_p, self.spot_p, self.buried_spots
        height_draw, conceal_draw = self.height_draw.draw, self.conceal_draw.draw
        height_mod, conceal_mod = self.height_mod, self.conceal_mod
        for position in range(n_hides):  # the hot loop of a million hides: locals only
            device = draw_device(rng)
            spot = spot_draw[env_id, device].draw(rng)
            height = height_draw(rng)
            concealment = "buried" if spot in buried else conceal_draw(rng)
            aid_set = AID_SET_MINUTES[int(random_() * len(AID_SET_MINUTES))]
            blind = random_() < blind_share
            p = (device_p[device] + spot_p[spot] + height_mod[height] + conceal_mod.get(concealment, -0.04)
                 + form - (0.04 if blind else 0.0) - (0.04 if aid_set < 15 else 0.0))
            p = 0.995 if p > 0.995 else (0.30 if p < 0.30 else p)
            found = random_() < p
            seconds = (min(7200, max(3, int(rng.lognormvariate(math.log(25 + 220 * (1 - p)), 0.6))))
                       if found else None)
            hides.append({"position": position, "device_type_id": device, "hiding_spot_id": spot,
                          "height": height, "concealment": concealment, "aid_set_minutes": aid_set,
                          "blind": blind, "outcome": "found" if found else "missed",
                          "seconds_to_find": seconds})
        alerts = []
        expected = 0.22 + max(0.0, -form) * 3
        while rng.random() < expected / (1 + expected) and len(alerts) < 4:
            alerts.append(dict(hiding_spot_id=self.any_spot.draw(rng),
                               location_note=rng.choice(FALSE_ALERT_PLACES),
                               note=rng.choice(FALSE_ALERT_NOTES)))
        duration = int(min(180, max(20, 15 + 6 * n_hides + rng.gauss(0, 10))) // 5 * 5)
        created_by = handler.user_id or self.managers.get(agency.id)
        age_days = (plan.today - day).days
        signed = (age_days > 10 and rng.random() < 0.9) or (age_days > 3 and rng.random() < 0.3)
        manager = self.managers.get(agency.id)
        session = dict(
            agency_id=agency.id, dog_id=x.id, handler_id=handler.id, started_at=started,
            duration_minutes=duration,
            location=f"{place}, {agency.city}" if agency.city else place,
            environment_id=env_id, purpose=purpose, temperature_c=temperature,
            wind=rng.choice(("calm", "light", "light", "moderate", "strong")) if outside else None,
            precipitation=(rng.choice(("none", "none", "none", "rain", "fog", "snow" if temperature < 2
                                       else "rain")) if outside else None),
            blank_areas=0 if rng.random() < 0.55 else rng.randint(1, 3),
            notes=rng.choice(SESSION_NOTES), created_by_id=created_by,
            created_at=started + timedelta(minutes=duration + rng.randint(5, 240)),
            signed_off_by_id=manager if signed and manager else None,
            signed_off_at=(started + timedelta(days=rng.randint(1, 9))) if signed and manager else None)
        return session, hides, alerts

    # -- deployments ---------------------------------------------------------------------------
    def deployments(self) -> None:
        plan, rng = self.plan, self.rng
        slots, certified = [], []
        for x in plan.dogs:  # a dog deploys only while certified: merged (first, last) day spans
            last = min(plan.today, x.retired_on or plan.today) - timedelta(days=1)
            spans: list = []
            for issued, expires, result in sorted(x.certs):
                first, end = max(issued, plan.start), min(expires, last)
                if result != "pass" or first > end:
                    continue
                if spans and first <= spans[-1][1] + timedelta(days=1):
                    spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                else:
                    spans.append((first, end))
            certified.append((x, spans, sum((end - first).days + 1 for first, end in spans)))
        if plan.target_hides is None:
            counts = [_round_random(rng, days / 7 * plan.deployments_per_week * rng.uniform(0.7, 1.3))
                      for _, _, days in certified]
        else:  # about one deployment for every 25 training hides
            total = sum(days for _, _, days in certified) or 1
            counts = [_round_random(rng, plan.target_hides / 25 * days / total) for _, _, days in certified]
        for (x, spans, days), n in zip(certified, counts):
            for offset in sorted(rng.sample(range(days), min(n, days))):
                for first, end in spans:
                    if offset <= (end - first).days:
                        slots.append((first + timedelta(days=offset), x))
                        break
                    offset -= (end - first).days + 1
        slots.sort(key=lambda slot: (slot[0], slot[1].id))
        numbers: dict = {}
        with self.progress(length=len(slots), label="Deployments and finds") as bar:
            for begin in range(0, len(slots), SESSION_CHUNK):
                built = [self._deployment(day, x, numbers) for day, x in slots[begin:begin + SESSION_CHUNK]]
                ids = self.insert(Deployment, [b[0] for b in built], ids=True)
                find_rows = []
                for deployment_id, (_, finds) in zip(ids, built):
                    for row in finds:
                        row["deployment_id"] = deployment_id
                    find_rows += finds
                self.insert(Find, find_rows)
                self.summary.deployments += len(built)
                self.summary.finds += len(find_rows)
                bar.update(len(built))

    def _deployment(self, day: date, x: DogPlan, numbers: dict):
        rng, agency = self.rng, x.agency
        handler = x.handler_on(day)
        local = datetime.combine(day, time(rng.choice((5, 6, 6, 6, 7, 8, 9, 10, 13, 15, 19)),
                                           rng.choice((0, 0, 15, 30, 45))), agency.zone)
        started = local.astimezone(timezone.utc)
        key = (agency.id, day.year)
        numbers[key] = numbers.get(key, 0) + 1
        n_finds = 0 if rng.random() < 0.35 else min(8, 1 + int(rng.expovariate(0.8)))
        age = (self.plan.today - day).days
        pending = 0.85 if age < 45 else (0.35 if age < 180 else 0.04)
        finds = []
        for _ in range(n_finds):
            device = self.find_device_draw.draw(rng)
            spot = self.spot_draws[None, device].draw(rng)
            evidence = "pending" if rng.random() < pending else ("yes" if rng.random() < 0.62 else "no")
            finds.append(dict(device_type_id=device, hiding_spot_id=spot,
                              missed_by_human_search=rng.random() < 0.4, evidence=evidence,
                              notes=None))
        duration = rng.choice((30, 45, 60, 60, 75, 90, 90, 120, 150, 180, 240))
        deployment = dict(
            agency_id=agency.id, dog_id=x.id, handler_id=handler.id, started_at=started,
            requesting_agency=rng.choice(agency.requesters) if agency.requesters else agency.name,
            case_number=f"{day.year}-{agency.code}-{numbers[key]:04d}",
            legal_authority=_weighted_pick(rng, (("search_warrant", 65), ("probation_parole", 25),
                                                 ("consent", 10))),
            location_type_id=self.location_draw.draw(rng) if self.location_draw else None,
            duration_minutes=duration,
            unverified_alert=rng.random() < (0.15 if not finds else 0.04),
            notes=rng.choice(DEPLOYMENT_NOTES) if finds else rng.choice((None, "No devices located.")),
            created_by_id=handler.user_id or self.managers.get(agency.id),
            created_at=started + timedelta(minutes=duration + rng.randint(30, 600)))
        return deployment, finds

    # -- certifications ------------------------------------------------------------------------
    def certifications(self) -> None:
        rng, rows, chains = self.rng, [], []
        bodies = self.vocab.get("certifying_body", {})
        if not bodies:
            raise click.ClickException("The certifying body vocabulary is empty.")
        for x in self.plan.dogs:
            chain = []
            body = bodies.get(x.agency.body) or next(iter(bodies.values()))
            for issued, expires, result in x.certs:
                hides = rng.choice((8, 10, 10, 12, 15, 20))
                found = hides - (rng.randint(2, 4) if result == "fail" else rng.choice((0, 0, 0, 1)))
                chain.append(len(rows))
                rows.append(dict(
                    agency_id=x.agency.id, dog_id=x.id, handler_id=x.handler_on(issued).id,
                    certifying_body_id=body, discipline="esd", issued_on=issued, expires_on=expires,
                    evaluator=rng.choice(EVALUATORS), result=result, score_finds=found,
                    score_hides=hides, score_false_alerts=rng.choice((0, 0, 0, 1)) + (result == "fail"),
                    notes="Re-test scheduled." if result == "fail" else None,
                    created_by_id=self.managers.get(x.agency.id),
                    created_at=_noon(issued + timedelta(days=rng.randint(0, 4)))))
            chains.append(chain)
        ids = self.insert(Certification, rows, ids=True)
        # Each certification is replaced by the next one passed (a failed attempt replaces nothing).
        links = []
        for chain in chains:
            for i, row_index in enumerate(chain):
                later = [j for j in chain[i + 1:] if rows[j]["result"] == "pass"]
                if later:
                    links.append(dict(old=ids[row_index], new=ids[later[0]]))
        if links:
            table = Certification.__table__
            self.conn.execute(update(table).where(table.c.id == bindparam("old"))
                              .values(replaced_by_id=bindparam("new")), links)
        self.summary.certifications = len(rows)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), timezone.utc)


def _team_note(x: DogPlan, index: int, ends: date | None) -> str | None:
    if ends is None:
        return None
    if x.retired_on and ends == x.retired_on:
        return "Dog retired; lives with the handler."
    return "Handler reassigned; dog handed over to a new handler." if index < len(x.teams) - 1 else None


def _round_random(rng: random.Random, value: float) -> int:
    """Round `value` up or down at random so that sums come out right on average."""
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)


def _weighted_pick(rng: random.Random, pairs) -> str:
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for value, weight in pairs:
        r -= weight
        if r < 0:
            return value
    return pairs[-1][0]


# ---------------------------------------------------------------------------------------------
# The service and the command.
# ---------------------------------------------------------------------------------------------
def database_counts() -> dict[str, int]:
    """How many agencies, users and dogs the database holds (any of them means not empty)."""
    return {name: db.session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (("agencies", Agency), ("users", User), ("dogs", Dog))}


def demo_logins() -> list[tuple[str, str]]:
    """The demo accounts to try, as (role, e-mail): admin, a manager and a handler of the first
    three task forces, the funder."""
    users = db.session.scalars(select(User).where(User.email.like(f"%@{DEMO_DOMAIN}"))
                               .order_by(User.id)).all()
    agencies: list = []
    picked: dict = {}
    for u in users:
        if u.role in ("manager", "handler"):
            if u.agency_id not in agencies and len(agencies) < 3:
                agencies.append(u.agency_id)
            if u.agency_id in agencies:
                picked.setdefault((u.role, u.agency_id), u)
    logins = [("admin", u.email) for u in users if u.role == "admin"]
    for role in ("manager", "handler"):
        logins += [(f"{role}, {u.agency.name}", u.email) for (r, a), u in picked.items() if r == role]
    for u in users:
        if u.role == "funder":
            granted = u.granted_agencies
            names = (" and ".join(a.name for a in granted) if len(granted) <= 2
                     else f"{len(granted)} task forces")
            logins.append((f"funder (sees aggregates of {names})", u.email))
    return logins


def seed_demo(today: date, seed: int = 2026, hides: int | None = None, progress=None) -> Summary:
    """Fill an empty database with the demo (or, with `hides`, the scale data set); commit."""
    from .audit import record_event
    from .auth.passwords import hash_password
    rng = random.Random(seed)
    progress = progress or (lambda length, label: nullcontext(_NoBar()))
    seed_vocabularies()
    db.session.flush()
    plan = scale_plan(today, rng, hides) if hides else demo_plan(today, rng)
    writer = _Writer(plan, rng, progress)
    writer.roster(hash_password(DEMO_PASSWORD))  # hashed once: 600,000 PBKDF2 rounds are slow
    writer.certifications()
    writer.training()
    writer.deployments()
    # The bulk inserts bypass the rollups' flush hooks: build the rollups from the rows written.
    from .rollups import rebuild
    agencies = db.session.scalar(select(func.count()).select_from(Agency))
    with progress(agencies, "Rollups") as bar:
        rebuild(db.session.connection(), progress=bar.update)
    summary = writer.summary
    record_event("seed_demo", "installation", changes={
        "seed": [None, seed], "today": [None, today.isoformat()], "hides": [None, summary.hides]},
        reason="Demo data seeded by `flask esd seed-demo`.")
    from .report_version import bump
    bump(db.session)  # the bulk inserts bypassed the hooks that move every agency's report version
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # COPY leaves the planner without statistics until autovacuum gets round to it; meanwhile it
        # picks plans for empty tables (a dog's session list took 3× longer at 1M hides).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    # Figures cached for an earlier database (same ids, other rows) must not be served for this one.
    from .reports import cache as report_cache
    report_cache.clear()
    return summary


class _NoBar:
    def update(self, n: int) -> None:
        pass


def _echo_logins(logins) -> None:
    if not logins:
        click.echo("This database has no demo accounts.")
        return
    click.echo(f"\nDemo logins (every account's password: {DEMO_PASSWORD!r}):")
    width = max(len(email) for _, email in logins)
    for role, email in logins:
        click.echo(f"  {email.ljust(width)}  {role}")


@esd_cli.command("seed-demo")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date the demo is built around (YYYY-MM-DD); default: today.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="Random seed: the same seed and date give the same data.")
@click.option("--hides", type=click.IntRange(min=1), default=None,
              help="Build the national scale data set instead (62 task forces, ~400 dogs, five "
                   "years) with this many training hides.")
@click.option("--if-empty", is_flag=True,
              help="On a database that already has data, only print the demo logins (for `make run`).")
def seed_demo_command(today, seed, hides, if_empty):
    """Fill an empty database with demo agencies, dogs, training, deployments and certifications."""
    counts = database_counts()
    if any(counts.values()):
        if if_empty:
            click.echo("The database already has data; no demo data added.")
            _echo_logins(demo_logins())
            return
        held = ", ".join(f"{n} {name}" for name, n in counts.items())
        raise click.ClickException(
            f"The database already has data ({held}); seed-demo only fills an empty database. "
            "To start fresh, point DATABASE_URL at a new database (or move instance/esd.sqlite3 "
            "away), run `flask db upgrade`, then `flask esd seed-demo`.")
    day = today.date() if today else date.today()
    summary = seed_demo(day, seed=seed, hides=hides,
                        progress=lambda length, label: click.progressbar(length=length, label=label))
    click.echo(f"Seeded {summary.agencies} agencies, {summary.dogs} dogs, {summary.handlers} handlers, "
               f"{summary.users} users, {summary.sessions} training sessions with {summary.hides} hides "
               f"and {summary.false_alerts} false alerts, {summary.deployments} deployments with "
               f"{summary.finds} finds, {summary.certifications} certifications (as of {day}).")
    _echo_logins(demo_logins())
