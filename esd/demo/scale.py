"""The national-scale data set for measuring: 62 task forces, about 400 dogs, five years, N hides."""
from __future__ import annotations

import random
from datetime import date, timedelta

from .catalogue import ADMIN_EMAIL, BREEDS, DOG_NAMES, FUNDER_EMAIL, SCALE_AGENCIES, SCALE_YEARS, STATES
from .plan import (AgencyPlan, DogPlan, HandlerPlan, Plan, UserPlan, Weighted, cert_chain, person_name, phone_number,
                   unique_email, weighted)


def scale_plan(today: date, rng: random.Random, hides: int) -> Plan:
    """62 task forces, about 400 dogs joining and retiring over five years, `hides` hides in all."""
    start = today - timedelta(days=365 * SCALE_YEARS)
    agencies, handlers, dogs, users, taken = [], [], [], [], set()
    bodies = Weighted(("NAPWDA", "NNDDA", "USPCA", "NPCA", "In-house"), (45, 20, 20, 5, 10))
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
        manager = person_name(rng)
        users.append(UserPlan(unique_email(manager, taken), f"Lt. {manager}", "manager", agency))
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
                first = new_handler(rng, agency, handlers, taken, acquired)
            teams = [(first, acquired, None)]
            if rng.random() < 0.25:  # handed over: promotion, transfer, retirement of the handler
                span = (retired_on or today) - acquired
                if span.days > 400:
                    switch = acquired + timedelta(days=rng.randint(200, span.days - 100))
                    second = new_handler(rng, agency, handlers, taken, switch)
                    teams = [(first, acquired, switch - timedelta(days=1)), (second, switch, None)]
            if retired_on:
                last, starts, _ = teams[-1]
                teams[-1] = (last, starts, retired_on)
                free.append((last, retired_on))
            chip += 1
            x = DogPlan(agency, rng.choice(DOG_NAMES), f"K9-{code}-{chip}", weighted(BREEDS).draw(rng),
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
                x.certs = cert_chain(rng, max(last_issued, earliest), earliest)
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


def new_handler(rng, agency, handlers, taken, since) -> HandlerPlan:
    name = person_name(rng)
    account = rng.random() < 0.85
    h = HandlerPlan(agency, name, f"{agency.code}-{1000 + len(handlers)}",
                    unique_email(name, taken) if account else None, phone_number(rng), since=since)
    handlers.append(h)
    return h
