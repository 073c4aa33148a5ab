"""The funders' impact report: what the granted agencies' dogs achieved, in plain words, period against period.

Every figure comes from `esd.reports.metrics` (the same definitions as every chart and packet) or,
for case outcomes, from the sums below; each carries a sentence a donor understands and its
definition. Counts that describe people (case outcomes) go through `esd.suppression` before they
reach this module's result: the report object holds their *shown* text only, so no page, PDF,
CSV or cache entry built from it can hold a small number.

A report compares its period with the period just before it and the same period a year earlier
(esd/periods.py). Its per-agency table and national view are grouped in SQL by agency.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import func, literal, select, union_all

from ..agency_day import local_days_clause
from ..extensions import db
from ..models import Agency, CaseOutcome, Certification, Deployment, Dog
from ..models.outcomes import OUTCOME_COUNTS
from ..models.rollups import DEPLOYMENT_COUNTS
from ..periods import Period
from ..rates import INTERVAL_NOTE, Rate, interval_words
from ..suppression import FEWER, THRESHOLD, WITHHELD, Group, Shown, change_words, suppress
from . import metrics

NO_REGION = "No region set"
SUPPRESSION_NOTE = (f"Counts of arrests, charges, children and examined devices from 1 to {THRESHOLD - 1} are shown "
                    f"as “{FEWER}” so that no case or person can be recognised; a count is “{WITHHELD}” where, "
                    "beside a total, it would let such a small count be worked out.")
PRIVACY_NOTE = "No case numbers, names of people, dogs or requesting agencies, or case details are ever shown here."

# The outcome figures: label, the words after the count in a sentence, definition.
OUTCOMES = {
    "devices_examined": ("Devices sent for forensic examination", "devices were sent for forensic examination",
                         "Devices from these searches that went to a forensic examiner, as recorded by the "
                         "agency's program manager on each search's case outcome."),
    "devices_with_evidence": ("Examined devices that held evidence", "examined devices held evidence",
                              "Examined devices that held evidence of a crime, as recorded on the case outcome."),
    "arrests": ("Arrests", "arrests followed", "Arrests that followed these searches, as recorded on the case "
                "outcome once known."),
    "charges": ("Charges filed", "charges were filed", "Criminal charges filed after these searches, as recorded "
                "on the case outcome once known."),
    "children_safeguarded": ("Children identified or safeguarded", "children were identified or safeguarded",
                             "Children identified as victims or brought to safety after these searches, as "
                             "recorded on the case outcome once known. A count, never a name."),
}


@dataclass(frozen=True)
class Figure:
    """One headline figure as shown: its texts only (people counts already suppressed)."""

    key: str
    label: str
    sentence: str  # the figure in a sentence a donor understands
    definition: str  # what exactly is counted: one tap away on the page, in small print on paper
    now: str
    previous: str
    year_ago: str
    vs_previous: str  # the change in words: "up 12 from the previous period"
    vs_year: str
    note: str = ""  # e.g. why a range is shown

    @property
    def short_previous(self) -> str:
        """The change against the previous period in two or three words ("up 12"), "" when not compared."""
        return _short(self.vs_previous)

    @property
    def short_year(self) -> str:
        return _short(self.vs_year)


def _short(change: str) -> str:
    if change.startswith(("up ", "down ")):
        return change.split(" from ")[0]
    return "the same" if change.startswith("the same") else ""


@dataclass(frozen=True)
class AgencyRow:
    """One agency of the per-agency table (counts of people as shown)."""

    name: str
    region: str
    searches: int
    devices_found: int
    found_after_missed: int
    held_evidence: int
    outcomes: dict[str, str]  # outcome key -> shown text
    certified_dog: bool


@dataclass(frozen=True)
class RegionRow:
    region: str
    agencies: int
    with_certified_dog: int
    searches: int
    devices_found: int
    outcomes: dict[str, str]


@dataclass
class ImpactReport:
    """The report for one period and scope, everything shown already in words and shown counts."""

    period: Period
    previous: Period
    year_earlier: Period
    agency_count: int
    headline: list[Figure]
    outcomes: list[Figure]
    training: list[Figure]
    outcome_coverage: str
    agencies: list[AgencyRow]
    regions: list[RegionRow]
    certified_share: str
    monthly: list[metrics.ImpactMonth]  # the trend's months (`trend_months`: at least twelve)
    impact: metrics.Impact  # the period's, as the funder dashboard's table of finds shows it
    notes: list[str] = field(default_factory=list)

    @property
    def months(self) -> list[tuple[str, int, int]]:
        """(month "2026-03", searches, devices found) of the trend."""
        return [(m.month.strftime("%Y-%m"), m.deployments, m.devices_found) for m in self.monthly]

    @property
    def figures(self) -> list[Figure]:
        return self.headline + self.outcomes + self.training

    def digest(self) -> str:
        """SHA-256 over every figure as shown and the period: printed on the PDF so a copy can be compared."""
        content = {"period": [self.period.start.isoformat(), self.period.end.isoformat()],
                   "figures": [asdict(f) for f in self.figures],
                   "agencies": [asdict(a) for a in self.agencies], "regions": [asdict(r) for r in self.regions]}
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- building

def build(filters: metrics.Filters, period: Period, today: date) -> ImpactReport:
    """The report for `filters`' agencies over `period`, "currently certified" read on `today`."""
    previous, year_earlier = period.previous(), period.year_earlier()
    periods = (period, previous, year_earlier)
    scoped = [metrics.with_period(filters, p.start, p.end) for p in periods]
    by_agency = metrics.deployment_counts_by_agency(scoped[0])
    impacts = [metrics.deployment_impact(scoped[0], by_agency=by_agency)] + [metrics.deployment_impact(f)
                                                                              for f in scoped[1:]]
    totals = [metrics.training_totals(f) for f in scoped]
    certified = metrics.dogs_certified_on(filters, [min(p.end, today) for p in periods])
    agencies = _agencies(filters.agency_ids)
    outcome_rows = _outcomes_by_agency(filters.agency_ids, periods)
    shown_outcomes, agency_cells = _suppressed_outcomes(agencies, outcome_rows)
    shown_by_agency = _impact_by_agency(by_agency)
    certified_now = _agencies_with_certified_dog(filters.agency_ids, today)
    agency_rows = [AgencyRow(a.name, a.region or NO_REGION, *shown_by_agency.get(a.id, (0, 0, 0, 0)),
                             outcomes={k: agency_cells[(a.id, k)].text for k in OUTCOME_COUNTS},
                             certified_dog=a.id in certified_now) for a in agencies]
    with_dog = sum(1 for a in agencies if a.id in certified_now)
    share = Rate(with_dog, len(agencies))
    return ImpactReport(
        period=period, previous=previous, year_earlier=year_earlier, agency_count=len(agencies),
        headline=_headline(impacts, certified),
        outcomes=[_outcome_figure(key, shown_outcomes[key]) for key in OUTCOME_COUNTS],
        training=_training(totals, impacts),
        outcome_coverage=_coverage(outcome_rows[0], impacts[0].deployments),
        agencies=agency_rows, regions=_regions(agency_rows, agencies, agency_cells),
        certified_share=(f"{with_dog} of {len(agencies)} agencies ({round(100 * share.rate)}%) have a dog with a "
                         "valid certification today" if agencies else "No agencies"),
        monthly=_months(filters, period), impact=impacts[0],
        notes=[SUPPRESSION_NOTE, PRIVACY_NOTE])


def _n(count: int, one: str, many: str | None = None) -> str:
    """A count with its noun: "1 dog", "12 dogs"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _words(previous: bool) -> str:
    return "the previous period" if previous else "a year earlier"


def _compare(key, label, sentence, definition, values: list[int], note: str = "") -> Figure:
    """A figure that describes no person: its three values shown as they are."""
    now, before, year = (Shown(v) for v in values)
    return Figure(key, label, sentence, definition, now.text, before.text, year.text,
                  change_words(now, before, _words(True)), change_words(now, year, _words(False)), note)


def _headline(impacts: list[metrics.Impact], certified: list[int]) -> list[Figure]:
    now = impacts[0]

    def values(name):
        return [getattr(i, name) for i in impacts]
    return [
        _compare("searches", "Searches", f"The dogs were called to {_n(now.deployments, 'real search', 'real searches')}.",
                 "Real searches (deployments) the dogs of these agencies worked in the period, by the day of the "
                 "search in each agency's own time zone. Searches logged by mistake are not counted.",
                 values("deployments")),
        _compare("devices_found", "Devices found",
                 f"They found {_n(now.devices_found, 'electronic device')}: phones, drives, memory cards and the like.",
                 "Every electronic storage device a dog indicated and officers recovered in these searches.",
                 values("devices_found")),
        _compare("searches_with_missed_find", "Searches where the dog found what officers missed",
                 f"In {now.searches_with_missed_find:,} of {now.deployments:,} searches the dog found a device the "
                 f"officers had already missed — {now.found_after_human_missed:,} devices in all.",
                 "Searches (not devices) in which the dog found at least one device after the officers' own "
                 "search had not found it.", values("searches_with_missed_find")),
        _compare("found_after_human_missed", "Devices officers had missed",
                 f"{now.found_after_human_missed:,} of the {now.devices_found:,} devices found would have stayed "
                 "hidden: officers had searched and missed them before the dog came in.",
                 "Devices (not searches) found by a dog after the human search before it had missed them. One "
                 "search can have several.", values("found_after_human_missed")),
        _compare("finds_with_evidence", "Found devices that held evidence",
                 f"{now.finds_with_evidence:,} of the devices found held evidence when examined "
                 f"({now.finds_evidence_pending:,} still await the forensic exam).",
                 "Devices found whose forensic examination showed evidence, as recorded on each find.",
                 values("finds_with_evidence")),
        _compare("agencies_served", "Agencies served",
                 f"The dogs searched at the request of {_n(now.agencies_served, 'agency', 'agencies')} (police, probation, "
                 "federal partners and others).",
                 "Distinct agencies that asked for a search. Their names are never shown to funders.",
                 values("agencies_served")),
        _compare("dogs_certified", "Dogs certified",
                 f"{_n(certified[0], 'dog')} held a valid certification at the end of the period.",
                 "Dogs holding a passed certification (NAPWDA, NNDDA, USPCA or in-house) valid on the last day of "
                 "the period (or today, for a period not yet over).", certified),
    ]


def _pct(rate: Rate) -> str:
    return "–" if not rate.n else f"{round(100 * rate.rate)}%"


def _points(a: Rate, b: Rate, since: str, none: str = "hides") -> str:
    """The change of a rate in percentage points, in words."""
    if not a.n or not b.n:
        return f"not compared with {since}: no {none} in one of them"
    diff = round(100 * a.rate) - round(100 * b.rate)
    if diff == 0:
        return f"the same as {since}"
    return f"{'up' if diff > 0 else 'down'} {abs(diff)} percentage point{'s' if abs(diff) != 1 else ''} from {since}"


FIELD_INTERVAL_NOTE = ("A range is shown because the alerts are a sample of what the dogs do: with few alerts the "
                       "true accuracy could be some way off the one measured, with many it is close (a 95% Wilson "
                       "interval). An alert can be right though nothing is recovered (a device taken away before "
                       "the search, residual odour): those count against the figure all the same.")


def _field_accuracy(impacts: list[metrics.Impact]) -> Figure:
    """Field accuracy of the period's searches (confirmed alerts / all alerts), an aggregate only."""
    rates = [i.field_accuracy for i in impacts]
    now = rates[0]
    sentence = (f"In real searches the dogs alerted {_n(now.n, 'time')}; {_pct(now)} of those alerts led officers "
                f"to a device ({interval_words(now)})." if now.n else "No alerts in real searches were recorded.")
    return Figure("field_accuracy", "Field accuracy", sentence,
                  "Alerts in real searches where a device was then recovered, out of all alerts.",
                  _pct(now), _pct(rates[1]), _pct(rates[2]),
                  _points(now, rates[1], _words(True), "alerts"), _points(now, rates[2], _words(False), "alerts"),
                  FIELD_INTERVAL_NOTE)


def _training(totals: list[metrics.TrainingTotals], impacts: list[metrics.Impact]) -> list[Figure]:
    rates = [t.find_rate for t in totals]
    now = rates[0]
    pct, points = _pct, _points

    sentence = (f"In training the dogs found {pct(now)} of the {now.n:,} devices hidden for them "
                f"({interval_words(now)})." if now.n else "No training hides were recorded in the period.")
    hours = [round(t.hours) for t in totals]
    return [
        Figure("find_rate", "Found in training", sentence,
               "Hidden training devices the dog found, out of all hidden for it, in the period's training "
               "sessions (blind and known hides).", pct(now), pct(rates[1]), pct(rates[2]),
               points(now, rates[1], _words(True)), points(now, rates[2], _words(False)), INTERVAL_NOTE),
        _compare("training_hours", "Training hours", f"The teams trained for {_n(hours[0], 'hour')}.",
                 "Hours of recorded training sessions of these agencies' dogs in the period.", hours),
        _field_accuracy(impacts),
    ]


def _outcome_figure(key: str, values: list[Shown]) -> Figure:
    label, words, definition = OUTCOMES[key]
    now, before, year = values
    if now.hidden == WITHHELD:
        sentence = f"{label}: not shown, so that a small count elsewhere cannot be worked out."
    elif now.value is None:
        sentence = f"{label}: none recorded yet."
    else:
        sentence = f"{now.text[0].upper()}{now.text[1:]} {words}."
    return Figure(key, label, sentence, definition, now.text, before.text, year.text,
                  change_words(now, before, _words(True)), change_words(now, year, _words(False)))


def _coverage(rows: dict[int, dict], searches: int) -> str:
    recorded = sum(row["recorded"] for row in rows.values())
    return (f"Case outcomes are recorded for {recorded:,} of {searches:,} searches so far; the rest follow as "
            "cases progress.")


# --------------------------------------------------------------------------- SQL, grouped by agency

def _agencies(agency_ids) -> list[Agency]:
    stmt = select(Agency).order_by(Agency.name)
    if agency_ids is not None:
        stmt = stmt.where(Agency.id.in_(agency_ids or (-1,)))
    else:
        stmt = stmt.where(Agency.archived_at.is_(None))
    return list(db.session.scalars(stmt))


def _deployments_in(agency_ids, period: Period) -> list:
    clauses = [Deployment.archived_at.is_(None),
               local_days_clause(Deployment.started_at, Deployment.agency_id, agency_ids, period.start, period.end)]
    if agency_ids is not None:
        clauses.append(Deployment.agency_id.in_(agency_ids or (-1,)))
    return clauses


def _outcomes_by_agency(agency_ids, periods: tuple[Period, ...]) -> list[dict[int, dict]]:
    """For each period, {agency id: {outcome count: sum, "recorded": searches with an outcome}} of its
    searches: the periods' groupings in one statement, told apart by their first column."""
    sums = [func.sum(getattr(CaseOutcome, name)) for name in OUTCOME_COUNTS]
    stmt = union_all(*(select(literal(index).label("period"), CaseOutcome.agency_id, func.count(CaseOutcome.id), *sums)
                       .join(Deployment, Deployment.id == CaseOutcome.deployment_id)
                       .where(*_deployments_in(agency_ids, period)).group_by(CaseOutcome.agency_id)
                       for index, period in enumerate(periods)))
    out: list[dict[int, dict]] = [{} for _ in periods]
    for index, agency_id, recorded, *values in db.session.execute(stmt):
        out[index][agency_id] = {"recorded": int(recorded), **{name: (None if v is None else int(v))
                                                                 for name, v in zip(OUTCOME_COUNTS, values)}}
    return out


def _impact_by_agency(counts: dict[int, list[int]]) -> dict[int, tuple[int, int, int, int]]:
    """{agency id: (searches, devices found, found after the human search missed, held evidence)} of
    `metrics.deployment_counts_by_agency` (whose sums are the report's totals)."""
    position = {name: DEPLOYMENT_COUNTS.index(name) for name in ("deployments", "finds", "finds_missed", "evidence_yes")}
    return {agency_id: tuple(row[position[name]] for name in position) for agency_id, row in counts.items()}


def _agencies_with_certified_dog(agency_ids, today: date) -> set[int]:
    clauses = [Certification.archived_at.is_(None), Certification.result == "pass",
               Certification.issued_on <= today, Certification.expires_on >= today, Dog.archived_at.is_(None)]
    if agency_ids is not None:
        clauses.append(Certification.agency_id.in_(agency_ids or (-1,)))
    return set(db.session.scalars(select(Certification.agency_id).distinct()
                                  .join(Dog, Dog.id == Certification.dog_id).where(*clauses)))


# --------------------------------------------------------------------------- suppression

def _suppressed_outcomes(agencies: list[Agency], rows: list[dict[int, dict]]):
    """The outcome totals of the three periods, and the current period's per-agency and per-region cells, suppressed.

    The current period's cells form groups (agencies → region, regions → total, agencies → total),
    suppressed together so that no small count can be worked out from the tables shown beside the
    totals. The earlier periods show totals only.
    """
    totals: dict[str, list[Shown]] = {}
    current_cells: dict = {}
    for index, by_agency in enumerate(rows):
        for key in OUTCOME_COUNTS:
            values = [row[key] for row in by_agency.values() if row[key] is not None]
            total = sum(values) if values else None
            if index:
                totals[key].append(suppress({"t": total})["t"])
                continue
            cells = {("total", key): total}
            regions: dict[str, list] = {}
            for agency in agencies:
                cells[(agency.id, key)] = by_agency.get(agency.id, {}).get(key)
                regions.setdefault(agency.region or NO_REGION, []).append((agency.id, key))
            groups = [Group(("total", key), tuple((a.id, key) for a in agencies))]
            for region, parts in regions.items():
                known = [cells[p] for p in parts if cells[p] is not None]
                cells[(("region", region), key)] = sum(known) if known else None
                groups.append(Group((("region", region), key), tuple(parts)))
            groups.append(Group(("total", key), tuple((("region", r), key) for r in regions)))
            shown = suppress(cells, groups)
            current_cells.update(shown)
            totals[key] = [shown[("total", key)]]
    return totals, current_cells


def _regions(rows: list[AgencyRow], agencies: list[Agency], cells: dict) -> list[RegionRow]:
    """Agencies grouped by region (only when they are in more than one agency's view)."""
    if len(agencies) < 2:
        return []
    grouped: dict[str, list[AgencyRow]] = {}
    for row in rows:
        grouped.setdefault(row.region, []).append(row)
    return [RegionRow(region, len(members), sum(m.certified_dog for m in members), sum(m.searches for m in members),
                      sum(m.devices_found for m in members),
                      {k: cells[(("region", region), k)].text for k in OUTCOME_COUNTS})
            for region, members in sorted(grouped.items(), key=lambda item: (item[0] == NO_REGION, item[0]))]


# --------------------------------------------------------------------------- trend

def trend_months(period: Period) -> Period:
    """The months the trend chart shows: the period's, and at least the twelve months to its end."""
    from ..dates import add_months, month_start
    start = min(month_start(period.start), add_months(period.end, -11))
    return Period(start, period.end)


def _months(filters: metrics.Filters, period: Period) -> list[metrics.ImpactMonth]:
    shown = trend_months(period)
    return metrics.monthly_impact(metrics.with_period(filters, shown.start, shown.end))
