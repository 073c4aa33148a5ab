"""Readiness gaps of each working dog, and the suggested next session that closes them.

A dog's gaps, as of the agency's day:
- *stale*: a device type, hiding spot, concealment or height the agency's dogs searched in the last
  year (`LOOKBACK_DAYS`) that this dog has had no hide of in the agency's readiness window (N days);
- *few blind hides*: under `BLIND_SHARE` of its hides in the window were blind (or it had no hides);
- *no blank search*: no session in the window with a blank area (`TrainingSession.blank_areas`, an
  area searched where nothing was hidden: the app has no other record of a blank search);
- *below standard*: proficiency-matrix cells (default period) whose interval lies under the standard.

The suggested next session takes 5–8 device type × hiding spot pairs, weakest and stalest first:
pairs below standard, then pairs with a stale device type or spot, then undecided pairs, then the
pairs the dog searched longest ago; each hide gets the dog's stalest or weakest height and
concealment in turn, every other hide (the first included) is blind, and there is at least one blank area.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models import Agency, Dog, VocabularyTerm

from ..rates import Rate
from ..reports import cache as report_cache
from ..reports import metrics
from ..reports.metrics import DogGroup, Filters
from .matrix import (ASPECTS, ASPECT_SINGULAR, DEFAULT_PERIOD_DAYS, FIXED_VALUES, Cell, column_labels,
                     matrix_from_groups, period, verdict, weakness)

LOOKBACK_DAYS = 365  # what the agency trains on: the values of its hides in the last year
BLIND_SHARE = 0.25  # blind hides test the dog, not the handler's cues: at least a quarter of them
MIN_SUGGESTED, MAX_SUGGESTED = 5, 8
MAX_PER_VALUE = 2  # a suggested session spreads over device types and spots: each at most twice


@dataclass(frozen=True)
class Stale:
    """A value the dog has not searched in the window: `days` since its last hide (None: not in the last year)."""

    aspect: str
    value: str
    label: str
    days: int | None

    @property
    def text(self) -> str:
        return f"{self.label}: {ago(self.days)}"


@dataclass(frozen=True)
class DogGaps:
    """What one dog has not trained recently."""

    dog_id: int
    dog_name: str
    window_days: int
    stale: list[Stale]
    hides: int
    blind_hides: int
    blank_sessions: int
    last_blank: date | None
    below: list[Cell]

    @property
    def few_blind(self) -> bool:
        return self.hides == 0 or self.blind_hides < BLIND_SHARE * self.hides

    @property
    def no_blank(self) -> bool:
        return self.blank_sessions == 0

    @property
    def count(self) -> int:
        return len(self.stale) + len(self.below) + self.few_blind + self.no_blank

    def stale_of(self, aspect: str) -> list[Stale]:
        return [s for s in self.stale if s.aspect == aspect]


def ago(days: int | None) -> str:
    """'last 74 days ago', 'last today', 'not in the last year'."""
    if days is None:
        return "not in the last year"
    if days == 0:
        return "last today"
    return f"last {days} day{'' if days == 1 else 's'} ago"


@dataclass(frozen=True)
class Readiness:
    """The inputs of the gaps and suggestions of some dogs, read once: grouped counts in SQL."""

    today: date
    window_days: int
    standard: int
    zone: object
    year: dict[str, dict[tuple, DogGroup]]  # aspect -> {(dog, value): group} over LOOKBACK_DAYS
    recent: dict[str, dict[tuple, DogGroup]]  # aspect -> the same over the matrix's default period
    training: dict[int, metrics.DogTraining]  # over the window

    def days_since(self, group: DogGroup | None) -> int | None:
        return None if group is None else (self.today - group.last.astimezone(self.zone).date()).days


def read(filters: Filters, today: date, window_days: int, standard: int, zone) -> Readiness:
    """Read what readiness needs for the filters' agency (and dog, when named): nine grouped queries."""
    year = replace(filters, blind_only=False, start=period(today, LOOKBACK_DAYS)[0], end=today)
    recent = replace(year, start=period(today, DEFAULT_PERIOD_DAYS)[0])
    window = replace(year, start=period(today, window_days)[0])
    return Readiness(today, window_days, standard, zone,
                     {a: metrics.dog_hide_groups(year, (a,)) for a in ASPECTS},
                     {a: metrics.dog_hide_groups(recent, (a,)) for a in ASPECTS},
                     metrics.dog_training(window))


def gaps(data: Readiness, dogs: list[tuple[int, str]], agency_values: dict[str, set] | None = None) -> list[DogGaps]:
    """Each dog's gaps, most gaps first. `agency_values` (aspect -> values) default to the values in `data`."""
    values = agency_values or {a: {str(v) for _, v in data.year[a]} for a in ASPECTS}
    labels = {a: column_labels(a, values[a]) for a in ASPECTS}
    below = {a: matrix_from_groups(data.recent[a], dogs, a, data.standard, data.zone) for a in ASPECTS}
    result = []
    for dog_id, dog_name in dogs:
        stale = []
        for aspect in ASPECTS:
            for value in values[aspect]:
                days = data.days_since(data.year[aspect].get((dog_id, _key(aspect, value))))
                if days is None or days >= data.window_days:
                    stale.append(Stale(aspect, value, labels[aspect][value], days))
        stale.sort(key=lambda s: (-(s.days if s.days is not None else 10**6), ASPECTS.index(s.aspect), s.label))
        cells = [c for a in ASPECTS for row in below[a].rows if row.dog_id == dog_id
                 for c in row.cells if c.verdict == "below"]
        cells.sort(key=lambda c: weakness(c.rate))
        t = data.training.get(dog_id, metrics.DogTraining())
        result.append(DogGaps(dog_id, dog_name, data.window_days, stale, t.hides, t.blind_hides, t.blank_sessions,
                              t.last_blank.astimezone(data.zone).date() if t.last_blank else None, cells))
    result.sort(key=lambda g: (-g.count, g.dog_name))
    return result


def _key(aspect: str, value: str):
    """A value as the grouped rows hold it: term ids are ints, heights and concealments text."""
    return value if aspect in ("concealment", "height") else int(value)


# --------------------------------------------------------------------------- the next session

@dataclass(frozen=True)
class SuggestedHide:
    device_type_id: int
    device_type: str
    hiding_spot_id: int
    hiding_spot: str
    height: str
    concealment: str
    blind: bool
    why: str

    def setup(self) -> dict:
        """The hide's set-up as the tablet form takes it (the outcome is recorded as it happens)."""
        return {"device_type_id": self.device_type_id, "hiding_spot_id": self.hiding_spot_id,
                "height": self.height, "concealment": self.concealment, "blind": self.blind}


@dataclass(frozen=True)
class Plan:
    dog_id: int
    dog_name: str
    hides: list[SuggestedHide]
    blank_areas: int
    blank_why: str
    gaps: DogGaps

    def tablet_json(self) -> dict:
        return {"dog_id": self.dog_id, "blank_areas": self.blank_areas,
                "hides": [h.setup() for h in self.hides]}


def _rate_words(group: DogGroup | None, days: int | None) -> str:
    if group is None:
        return "not searched in the last year"
    rate = group.rate
    return f"{round(100 * rate.rate)}% of {rate.n}, {ago(days)}"


def suggest(data: Readiness, dog_id: int, dog_name: str, gaps_of_dog: DogGaps, pairs: dict[tuple, DogGroup],
            fallback: dict[str, list[tuple[int, str]]]) -> Plan:
    """The next session for one dog: `pairs` are its hides per (dog, device type, hiding spot) over the last year;
    `fallback` lists the agency's device types and spots (id, name) for a dog with too little history."""
    names = {"device_type": {}, "hiding_spot": {}}
    for aspect in names:
        for value, label in fallback[aspect]:
            names[aspect][value] = label
    stale = {a: {int(s.value): s for s in gaps_of_dog.stale_of(a)} for a in ("device_type", "hiding_spot")}
    for aspect in stale:
        for value, s in stale[aspect].items():
            names[aspect].setdefault(value, s.label)
    mine = {(d, p): g for (dog, d, p), g in pairs.items() if dog == dog_id}
    pair_labels = column_labels("device_type", {str(d) for d, _ in mine})
    spot_labels = column_labels("hiding_spot", {str(p) for _, p in mine})
    for d, p in mine:
        names["device_type"].setdefault(d, pair_labels[str(d)])
        names["hiding_spot"].setdefault(p, spot_labels[str(p)])

    def label(d, p):
        return f"{names['device_type'].get(d, '?')} in {names['hiding_spot'].get(p, '?')}"

    candidates: list[tuple[tuple, int, int, str]] = []  # (sort key, device, spot, why)
    for (d, p), g in mine.items():
        rate, days = g.rate, data.days_since(g)
        why = f"{label(d, p)}: {_rate_words(g, days)}"
        v = verdict(rate, data.standard)
        stalest = max((stale[a][x].days if stale[a][x].days is not None else 10**6)
                      for a, x in (("device_type", d), ("hiding_spot", p)) if x in stale[a]) \
            if d in stale["device_type"] or p in stale["hiding_spot"] else None
        if v == "below":
            key = (0, weakness(rate))
        elif stalest is not None:
            key = (1, -stalest)
            why += f" ({'device type' if d in stale['device_type'] else 'hiding spot'} stale)"
        elif v == "undecided":
            key = (2, weakness(rate))
        else:
            key = (3, -(days or 0), weakness(rate))
        candidates.append((key, d, p, why))
    # Stale values this dog has no pair of in the last year: paired with its stalest partner.
    spots_by_age = sorted(names["hiding_spot"], key=lambda p: _age_of(stale["hiding_spot"], p))
    devices_by_age = sorted(names["device_type"], key=lambda d: _age_of(stale["device_type"], d))
    for aspect, partners in (("device_type", spots_by_age), ("hiding_spot", devices_by_age)):
        for value, s in stale[aspect].items():
            if any((d if aspect == "device_type" else p) == value for d, p in mine):
                continue
            for partner in partners:
                d, p = (value, partner) if aspect == "device_type" else (partner, value)
                if (d, p) not in mine:
                    age = s.days if s.days is not None else 10**6
                    candidates.append(((1, -age), d, p, f"{label(d, p)}: {ASPECT_SINGULAR[aspect]} {s.label} "
                                                        f"{ago(s.days)}"))
                    break
    # A dog with little history: the agency's own device types and spots, in their list order.
    for i, (d, _) in enumerate(fallback["device_type"]):
        for j, (p, _) in enumerate(fallback["hiding_spot"][:3]):
            if (d, p) not in mine:
                candidates.append(((4, i + j), d, p, f"{label(d, p)}: not searched in the last year"))
    candidates.sort(key=lambda c: c[0])

    chosen = _pick(candidates)
    heights = _order_values(data, dog_id, "height", gaps_of_dog)
    concealments = _order_values(data, dog_id, "concealment", gaps_of_dog)
    hides = []
    for i, (_, d, p, why) in enumerate(chosen):
        height, h_why = heights[i % len(heights)]
        concealment, c_why = concealments[i % len(concealments)]
        extra = [w for w in (h_why, c_why) if w]
        hides.append(SuggestedHide(d, names["device_type"].get(d, "?"), p, names["hiding_spot"].get(p, "?"), height,
                                   concealment, i % 2 == 0, "; ".join([why, *extra])))
    if gaps_of_dog.no_blank:
        blank, blank_why = 2, f"No blank search in {data.window_days} days: two areas with nothing hidden."
    else:
        blank, blank_why = 1, (f"One area with nothing hidden (last blank search "
                               f"{(data.today - gaps_of_dog.last_blank).days} days ago).")
    return Plan(dog_id, dog_name, hides, blank, blank_why, gaps_of_dog)


def _age_of(stale: dict, value: int) -> tuple:
    s = stale.get(value)
    if s is None:
        return (1, 0)
    return (0, -(s.days if s.days is not None else 10**6))


def _pick(candidates: list) -> list:
    """5–8 distinct pairs in order, each device type and spot at most twice while enough remain."""
    chosen, seen = [], set()
    counts: dict[tuple[str, int], int] = {}
    for strict in (True, False):
        for c in candidates:
            _, d, p, _ = c
            if (d, p) in seen or len(chosen) >= MAX_SUGGESTED:
                continue
            if strict and (counts.get(("d", d), 0) >= MAX_PER_VALUE or counts.get(("p", p), 0) >= MAX_PER_VALUE):
                continue
            if not strict and len(chosen) >= MIN_SUGGESTED:
                break
            # Beyond the minimum, only pairs that close a gap (below standard, stale or undecided).
            if strict and len(chosen) >= MIN_SUGGESTED and c[0][0] > 2:
                continue
            chosen.append(c)
            seen.add((d, p))
            counts[("d", d)] = counts.get(("d", d), 0) + 1
            counts[("p", p)] = counts.get(("p", p), 0) + 1
    return chosen


def _order_values(data: Readiness, dog_id: int, aspect: str, gaps_of_dog: DogGaps) -> list[tuple[str, str]]:
    """The dog's heights (or concealments), stalest and weakest first, each with why (empty when nothing to say)."""
    stale = {s.value: s for s in gaps_of_dog.stale_of(aspect)}
    ordered = []
    for value, label in FIXED_VALUES[aspect].items():
        recent = data.recent[aspect].get((dog_id, value))
        s = stale.get(value)
        rate = recent.rate if recent else Rate(0, 0)  # the matrix's default period, as the verdict
        v = verdict(rate, data.standard)
        name = f"{ASPECT_SINGULAR[aspect]} {label.lower()}"
        if s is not None:
            key, why = (0, -(s.days if s.days is not None else 10**6)), f"{name}: {ago(s.days)}"
        elif v == "below":
            key, why = (1, weakness(rate)), f"{name}: below standard ({round(100 * rate.rate)}% of {rate.n})"
        else:
            key, why = (2, weakness(rate)), ""
        ordered.append((key, value, why))
    ordered.sort(key=lambda o: o[0])
    return [(value, why) for _, value, why in ordered]


# --------------------------------------------------------------------------- for the pages

def working_dogs(agency_id: int, dog_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the agency's dogs in work (active or in training, not archived), by name."""
    stmt = (select(Dog.id, Dog.name).where(Dog.agency_id == agency_id, Dog.archived_at.is_(None),
                                          Dog.status != "retired").order_by(Dog.name, Dog.id))
    if dog_id is not None:
        stmt = stmt.where(Dog.id == dog_id)
    return [(row.id, row.name) for row in db.session.execute(stmt)]


def agency_filters(agency: Agency, dog_id: int | None = None) -> Filters:
    return Filters(agency_ids=(agency.id,), dog_id=dog_id, tz=agency.timezone)


def agency_gaps(agency: Agency, today: date, dog_ids: list[int] | None = None) -> list[DogGaps]:
    """The gaps of the agency's working dogs (or of `dog_ids` among them), most gaps first."""
    data = read(agency_filters(agency), today, agency.readiness_window_days, agency.proficiency_standard,
                agency_zone(agency))
    dogs = working_dogs(agency.id)
    if dog_ids is not None:
        dogs = [d for d in dogs if d[0] in dog_ids]
    return gaps(data, dogs)


def agency_zone(agency: Agency) -> ZoneInfo:
    return ZoneInfo(agency.timezone)


def next_session(dog: Dog, today: date) -> Plan:
    """The suggested next session of one dog, from the agency's last year of hides."""
    agency = dog.agency
    filters = agency_filters(agency)
    data = read(filters, today, agency.readiness_window_days, agency.proficiency_standard, agency_zone(agency))
    values = {a: {str(v) for _, v in data.year[a]} for a in ASPECTS}
    dog_gaps = gaps(data, [(dog.id, dog.name)], values)[0]
    year = replace(filters, dog_id=dog.id, start=period(today, LOOKBACK_DAYS)[0], end=today)
    pairs = metrics.dog_hide_groups(year, ("device_type", "hiding_spot"))
    fallback = {kind: [(t.id, t.name) for t in db.session.scalars(
        select(VocabularyTerm).where(VocabularyTerm.kind == kind, VocabularyTerm.active.is_(True))
        .order_by(VocabularyTerm.position, VocabularyTerm.name))] for kind in ("device_type", "hiding_spot")}
    return suggest(data, dog.id, dog.name, dog_gaps, pairs, fallback)


def cached_plan(dog: Dog) -> Plan:
    """The dog's suggested next session, cached until its agency's records change."""
    agency = dog.agency
    today = agency.today()
    filters = Filters(agency_ids=(agency.id,), dog_id=dog.id, tz=agency.timezone, end=today)
    return report_cache.report(("next session", agency.readiness_window_days, agency.proficiency_standard),
                               filters, lambda: next_session(dog, today))


def cached_agency_gaps(agency: Agency, today: date) -> list[DogGaps]:
    """`agency_gaps` of every working dog, cached until the agency's records (or settings) change."""
    filters = Filters(agency_ids=(agency.id,), tz=agency.timezone, end=today)
    return report_cache.report(("readiness", agency.readiness_window_days, agency.proficiency_standard),
                               filters, lambda: agency_gaps(agency, today))
