"""What a closed plan shows: each area's outcome compared with what was placed there (one definition).

| placed in the area | recorded at the site | counts as |
|---|---|---|
| a hide | an alert at the hide's hiding spot | found |
| a hide | an alert at another spot | missed, and a false alert in the area |
| a hide | no alert | missed |
| nothing (a negative area) | an alert | a false alert in the area |
| nothing (a negative area) | no alert | a clear negative search |

Plain functions over anything shaped like a planned area (tested without a database).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..rates import Rate

FOUND, MISSED, MISSED_AND_FALSE, FALSE_ALERT, CLEAR = (
    "found", "missed", "missed_and_false_alert", "false_alert", "clear")
VERDICT_LABELS = {FOUND: "Found", MISSED: "Missed (no alert)", MISSED_AND_FALSE: "Missed; alerted elsewhere (false alert)",
                  FALSE_ALERT: "False alert in a negative area", CLEAR: "Negative area searched clear"}
UNSPECIFIED = "Environment not given"


def verdict(area) -> str | None:
    """An area's verdict, or None while its outcome is not recorded."""
    if area.outcome is None:
        return None
    alerted = area.outcome == "alert"
    if area.device_type_id is None:
        return FALSE_ALERT if alerted else CLEAR
    if not alerted:
        return MISSED
    return FOUND if area.alert_spot_id == area.hiding_spot_id else MISSED_AND_FALSE


@dataclass
class Tally:
    """Counts of one environment (or of the whole session)."""

    found: int = 0
    missed: int = 0
    false_alerts: int = 0
    negatives: int = 0

    @property
    def hides(self) -> int:
        return self.found + self.missed

    @property
    def find_rate(self) -> Rate:
        return Rate(self.found, self.hides)

    def add(self, result: str) -> None:
        if result == FOUND:
            self.found += 1
        elif result in (MISSED, MISSED_AND_FALSE):
            self.missed += 1
        if result in (MISSED_AND_FALSE, FALSE_ALERT):
            self.false_alerts += 1
        if result in (FALSE_ALERT, CLEAR):
            self.negatives += 1


@dataclass
class Comparison:
    """The whole session's tally, each environment's, and each area's verdict (by area position)."""

    total: Tally = field(default_factory=Tally)
    environments: dict[str, Tally] = field(default_factory=dict)
    verdicts: list[tuple[object, str | None]] = field(default_factory=list)

    @property
    def unrecorded(self) -> list:
        return [area for area, result in self.verdicts if result is None]


def environment_name(area, session_environment: str | None) -> str:
    """The environment an area is judged in: its own, else the session's."""
    own = getattr(area, "environment", None)
    return own.name if own is not None else (session_environment or UNSPECIFIED)


def compare(areas, session_environment: str | None = None) -> Comparison:
    """Compare every area's recorded outcome with its plan; areas without an outcome are listed, not counted."""
    result = Comparison()
    for area in areas:
        outcome = verdict(area)
        result.verdicts.append((area, outcome))
        if outcome is None:
            continue
        result.total.add(outcome)
        result.environments.setdefault(environment_name(area, session_environment), Tally()).add(outcome)
    return result
