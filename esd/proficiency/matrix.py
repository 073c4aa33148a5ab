"""The proficiency matrix: each dog's find rate per device type, hiding spot, concealment or height,
judged against the agency's proficiency standard by its 95% Wilson interval.

The verdict of a cell (one definition, `verdict`):
- *not yet known* with fewer than `MIN_HIDES` hides, whatever they show: a dog is never called
  weak (or proficient) on a handful of hides;
- *below standard* when the interval's upper bound is under the standard: even the most
  favourable reading of the hides falls short;
- *meets standard* when the interval's lower bound is at or above it;
- *undecided* otherwise: the interval includes the standard, more hides will tell.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import VocabularyTerm
from ..models.training import CONCEALMENTS, HEIGHTS
from ..rates import Rate
from ..reports import metrics
from ..reports.metrics import DogGroup, Filters

# A cell with fewer hides than this is "not yet known" (the heatmap's threshold for colouring a cell).
MIN_HIDES = metrics.MIN_CELL_HIDES

ASPECTS = ("device_type", "hiding_spot", "concealment", "height")
ASPECT_LABELS = {"device_type": "Device types", "hiding_spot": "Hiding spots", "concealment": "Concealment",
                 "height": "Height"}
ASPECT_SINGULAR = {"device_type": "device type", "hiding_spot": "hiding spot", "concealment": "concealment",
                   "height": "height"}
# Concealment and height are fixed lists: their values as people read them, in the form's order.
FIXED_VALUES = {"concealment": {v: v.capitalize() for v in CONCEALMENTS},
                "height": {v: v.capitalize() for v in HEIGHTS}}

VERDICTS = ("below", "undecided", "meets", "unknown", "none")
VERDICT_LABELS = {"below": "Below standard", "undecided": "Undecided", "meets": "Meets standard",
                  "unknown": "Not yet known", "none": "No hides"}

DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 1825  # five years


def verdict(rate: Rate, standard: int) -> str:
    """The cell's verdict against `standard` (a percentage): below, undecided, meets, unknown or none."""
    if not rate.n:
        return "none"
    if rate.n < MIN_HIDES:
        return "unknown"
    if rate.high < standard / 100:
        return "below"
    if rate.low >= standard / 100:
        return "meets"
    return "undecided"


def weakness(rate: Rate) -> tuple:
    """Sort key of cells, weakest first: the lowest upper bound (surest shortfall), then the lowest rate."""
    return (rate.n < MIN_HIDES, rate.high, rate.rate if rate.rate is not None else 2.0, -rate.n)


def period(today: date, days: int) -> tuple[date, date]:
    """The `days` agency days ending `today`, both ends included."""
    return today - timedelta(days=days - 1), today


@dataclass(frozen=True)
class Cell:
    """One dog's hides of one column, with its verdict."""

    dog_id: int
    dog_name: str
    value: str  # the column's key: a vocabulary term id (as text) or a concealment / height
    label: str
    rate: Rate
    verdict: str
    last: date | None  # the agency day of its last hide in the period

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]


@dataclass(frozen=True)
class Row:
    dog_id: int
    dog_name: str
    cells: list[Cell]  # one per column, in the columns' order
    total: Rate


@dataclass(frozen=True)
class ProficiencyMatrix:
    """Dogs as rows (weakest first), columns weakest first, and the cells below standard or undecided."""

    aspect: str
    standard: int
    columns: list[tuple[str, str, Rate]]  # (value, label, the column's pooled rate)
    rows: list[Row]
    weakest: list[Cell] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for row in self.rows:
            for cell in row.cells:
                out[cell.verdict] += 1
        return out


def column_labels(aspect: str, values) -> dict[str, str]:
    """Labels of a column's values: vocabulary names, or the fixed lists' words."""
    if aspect in FIXED_VALUES:
        return {v: FIXED_VALUES[aspect].get(v, v) for v in values}
    ids = {int(v) for v in values}
    names = dict(db.session.execute(select(VocabularyTerm.id, VocabularyTerm.name)
                                    .where(VocabularyTerm.id.in_(ids))).all()) if ids else {}
    return {v: names.get(int(v), "?") for v in values}


def build_matrix(filters: Filters, dogs: list[tuple[int, str]], aspect: str, standard: int, zone) -> ProficiencyMatrix:
    """The matrix of `dogs` (id, name) for the filters' period: one SQL aggregate, verdicts against `standard`."""
    groups = metrics.dog_hide_groups(filters, (aspect,))
    return matrix_from_groups(groups, dogs, aspect, standard, zone)


def matrix_from_groups(groups: dict[tuple, DogGroup], dogs: list[tuple[int, str]], aspect: str, standard: int,
                       zone) -> ProficiencyMatrix:
    """Arrange grouped counts ({(dog id, value): DogGroup}) into the matrix."""
    names = dict(dogs)
    groups = {(dog, str(value)): g for (dog, value), g in groups.items() if dog in names}
    labels = column_labels(aspect, {value for _, value in groups})
    pooled: dict[str, list[int]] = {}
    for (_, value), g in groups.items():
        total = pooled.setdefault(value, [0, 0])
        total[0] += g.found
        total[1] += g.hides
    columns = sorted(((v, labels[v], Rate(f, n, labels[v])) for v, (f, n) in pooled.items()),
                     key=lambda c: (*weakness(c[2]), c[1]))
    rows, weakest = [], []
    for dog_id, dog_name in dogs:
        cells = []
        for value, label, _ in columns:
            g = groups.get((dog_id, value))
            rate = Rate(g.found, g.hides, f"{dog_name}: {label}") if g else Rate(0, 0, f"{dog_name}: {label}")
            cell = Cell(dog_id, dog_name, value, label, rate, verdict(rate, standard),
                        g.last.astimezone(zone).date() if g else None)
            cells.append(cell)
            if cell.verdict in ("below", "undecided"):
                weakest.append(cell)
        found = sum(c.rate.found for c in cells)
        rows.append(Row(dog_id, dog_name, cells, Rate(found, sum(c.rate.n for c in cells))))
    row_key = {row.dog_id: min((weakness(c.rate) for c in row.cells if c.rate.n), default=(True, 2.0, 2.0, 0))
               for row in rows}
    rows.sort(key=lambda r: (row_key[r.dog_id], r.dog_name))
    weakest.sort(key=lambda c: (VERDICTS.index(c.verdict), weakness(c.rate), c.dog_name, c.label))
    return ProficiencyMatrix(aspect, standard, columns, rows, weakest)


def csv_rows(matrix: ProficiencyMatrix) -> list[list]:
    """The matrix as a table: one row per dog and column, with the counts, interval and verdict."""
    header = ["Dog", ASPECT_SINGULAR[matrix.aspect].capitalize(), "Hides", "Found", "Find rate %",
              "95% CI low %", "95% CI high %", f"Verdict (standard {matrix.standard}%)", "Last hide"]
    rows = [header]
    for row in matrix.rows:
        for c in row.cells:
            if not c.rate.n:
                continue
            rows.append([c.dog_name, c.label, c.rate.n, c.rate.found, round(100 * c.rate.rate, 1),
                         round(100 * c.rate.low, 1), round(100 * c.rate.high, 1), c.verdict_label,
                         c.last.isoformat() if c.last else ""])
    return rows
