"""The demo installation: three task forces, twelve dogs, a year, built around a day."""
from __future__ import annotations

import random
from datetime import date, timedelta

from .catalogue import ADMIN_EMAIL, DEMO_DOMAIN, FUNDER_EMAIL
from .plan import AgencyPlan, DogPlan, HandlerPlan, Plan, UserPlan, cert_chain, phone_number, unique_email


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
        return HandlerPlan(agency, name, badge, unique_email(name, taken) if account else None,
                           phone_number(rng), since=d(since))

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
            x.certs = cert_chain(rng, d(handover + 30), earliest) + [(issued, issued + timedelta(days=365),
                                                                       "pass")]
        else:
            x.certs = cert_chain(rng, issued, min(earliest, issued))
    # Josie failed a renewal once and passed the re-test two weeks later.
    josie = by_name["Josie"]
    if len(josie.certs) >= 2:
        issued, expires, _ = josie.certs[-2]
        josie.certs.insert(-2, (issued - timedelta(days=14), expires - timedelta(days=14), "fail"))

    admin = UserPlan(ADMIN_EMAIL, "Pat Morgan", "admin")
    managers = [UserPlan(f"manager.{a.code.lower()}@{DEMO_DOMAIN}", name, "manager", a)
                for a, name in ((cascade, "Lt. Sarah Cole"), (plains, "Sgt. Dwayne Harris"),
                                (chesapeake, "Lt. Karen Wu"))]
    # Ray Kowalski, the Great Plains' most senior handler, plans and closes sealed sessions (the trainer right).
    handler_users = [UserPlan(h.email, h.name, "handler", h.agency, h, trainer=h is kowalski)
                     for h in handlers if h.email]
    funder = UserPlan(FUNDER_EMAIL, "Grace Holloway (Bright Path Foundation)", "funder",
                      grants=(cascade, plains))
    users = [admin, *managers, *handler_users, funder]
    return Plan(d(365), today, agencies, handlers, dogs, users)
