"""The bulk writer: a plan written with Core `insert()` (COPY on PostgreSQL), in one transaction.

Not ORM objects: a million hides must load in minutes. That also bypasses the ORM audit and rollup
hooks on purpose — seeding is not a user's change; `seed_demo` rebuilds the rollups and records one
audit event.
"""
from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Table, bindparam, func, insert, select, update

from ..extensions import db
from ..models import (Agency, Certification, Deployment, Dog, FalseAlert, Find, Handler, Hide,
                      TeamAssignment, TrainingSession, User, VocabularyTerm, funder_grants)
from .catalogue import (AID_SET_MINUTES, CONCEALMENTS, DEFAULT_DEVICE, DEFAULT_SPOT, DEPLOYMENT_DEVICES, DEPLOYMENT_NOTES,
                        DEVICES, ENVIRONMENT_SPOTS, ENVIRONMENTS, EVALUATORS, FALSE_ALERT_NOTES, FALSE_ALERT_PLACES,
                        HEIGHTS, LOCATION_TYPES, MEAN_HIDES_PER_SESSION, SESSION_CHUNK, SESSION_NOTES, SPOTS,
                        TRAINING_PLACES)
from .plan import DogPlan, Plan, Summary, Weighted


class Writer:
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
        self.device_draw = Weighted(self.device_info, [v[1] for v in self.device_info.values()])
        envs = self.vocab.get("environment", {})
        self.env_draw = Weighted(envs.values(), [ENVIRONMENTS.get(n, 3) for n in envs]) if envs else None
        self.env_names = {v: k for k, v in envs.items()}
        # Spots that fit each device in each environment, weighted by how often trainers use them.
        self.spot_draws: dict = {}
        for env_id in [None, *envs.values()]:
            allowed = ENVIRONMENT_SPOTS.get(self.env_names.get(env_id))
            for device_id, (_, _, size) in self.device_info.items():
                fits = [s for s, (_, _, biggest) in self.spot_info.items()
                        if biggest >= size and (allowed is None or self.spot_names[s] in allowed)]
                fits = fits or list(self.spot_info)
                self.spot_draws[env_id, device_id] = Weighted(fits, [self.spot_info[s][1] for s in fits])
        self.any_spot = Weighted(self.spot_info, [v[1] for v in self.spot_info.values()])
        self.height_draw = Weighted([h[0] for h in HEIGHTS], [h[1] for h in HEIGHTS])
        self.height_mod = {h[0]: h[2] for h in HEIGHTS}
        self.conceal_draw = Weighted([c[0] for c in CONCEALMENTS], [c[1] for c in CONCEALMENTS])
        self.conceal_mod = {c[0]: c[2] for c in CONCEALMENTS}
        finds = {devices[n]: w for n, w in DEPLOYMENT_DEVICES.items() if n in devices} or \
            {i: 1 for i in devices.values()}
        self.find_device_draw = Weighted(finds, finds.values())
        locations = self.vocab.get("location_type", {})
        self.location_draw = (Weighted(locations.values(), [LOCATION_TYPES.get(n, 2) for n in locations])
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
                          agency_id=u.agency.id if u.agency else None, trainer=u.trainer, created_at=created)
                     for u in plan.users]
        for user, user_id in zip(plan.users, self.insert(User, user_rows, ids=True)):
            user.id = user_id
            if user.handler:
                user.handler.user_id = user_id
        self.insert(funder_grants, [dict(user_id=u.id, agency_id=a.id) for u in plan.users
                                    for a in u.grants])
        handler_rows = [dict(agency_id=h.agency.id, name=h.name, badge_number=h.badge, phone=h.phone,
                             email=h.email, user_id=h.user_id,
                             created_at=noon(max(h.since or plan.start, plan.start - timedelta(days=30))))
                        for h in plan.handlers]
        for h, handler_id in zip(plan.handlers, self.insert(Handler, handler_rows, ids=True)):
            h.id = handler_id
        dog_rows = [dict(agency_id=x.agency.id, name=x.name, call_sign=x.call_sign, breed=x.breed,
                         sex=x.sex, date_of_birth=x.born, microchip_id=x.microchip, status=x.status,
                         acquired_on=x.acquired_on, retired_on=x.retired_on,
                         created_at=noon(max(x.acquired_on, plan.start - timedelta(days=30))))
                    for x in plan.dogs]
        for x, dog_id in zip(plan.dogs, self.insert(Dog, dog_rows, ids=True)):
            x.id = dog_id
        team_rows = [dict(agency_id=x.agency.id, dog_id=x.id, handler_id=h.id, starts_on=starts,
                          ends_on=ends, notes=team_note(x, i, ends), created_at=noon(starts))
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
            counts = [round_random(rng, days / 7 * plan.deployments_per_week * rng.uniform(0.7, 1.3))
                      for _, _, days in certified]
        else:  # about one deployment for every 25 training hides
            total = sum(days for _, _, days in certified) or 1
            counts = [round_random(rng, plan.target_hides / 25 * days / total) for _, _, days in certified]
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
            legal_authority=weighted_pick(rng, (("search_warrant", 65), ("probation_parole", 25),
                                                 ("consent", 10))),
            location_type_id=self.location_draw.draw(rng) if self.location_draw else None,
            duration_minutes=duration,
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
                    created_at=noon(issued + timedelta(days=rng.randint(0, 4)))))
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


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), timezone.utc)


def team_note(x: DogPlan, index: int, ends: date | None) -> str | None:
    if ends is None:
        return None
    if x.retired_on and ends == x.retired_on:
        return "Dog retired; lives with the handler."
    return "Handler reassigned; dog handed over to a new handler." if index < len(x.teams) - 1 else None


def round_random(rng: random.Random, value: float) -> int:
    """Round `value` up or down at random so that sums come out right on average."""
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)


def weighted_pick(rng: random.Random, pairs) -> str:
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for value, weight in pairs:
        r -= weight
        if r < 0:
            return value
    return pairs[-1][0]
