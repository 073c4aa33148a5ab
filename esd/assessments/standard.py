"""Whether an assessment meets its standard: each criterion met or not, and pass only when all are (one definition).

A plain function of the comparison's counts and the standard's limits, tested without a request.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..rates import rate_text
from .comparison import Comparison


class NoStandard(ValueError):
    """An assessment asked to be judged without a standard."""


@dataclass(frozen=True)
class Criterion:
    name: str
    required: str
    actual: str
    met: bool


def _per_environment(comparison: Comparison, attribute: str) -> str:
    return "; ".join(f"{name}: {getattr(tally, attribute)}" for name, tally in sorted(comparison.environments.items())) \
        or "no area searched"


def judge(comparison: Comparison, standard) -> list[Criterion]:
    """Each criterion of `standard` (min find rate %, max misses and false responses per environment,
    a negative search) against the comparison. Raises NoStandard when `standard` is None."""
    if standard is None:
        raise NoStandard("This assessment names no standard: choose the standard it is judged against.")
    total = comparison.total
    rate = total.find_rate
    minimum = standard.min_find_rate_percent
    criteria = [Criterion(
        "Find rate", f"at least {minimum}%", rate_text(rate),
        rate.n > 0 and 100 * rate.found >= minimum * rate.n)]
    if standard.max_misses is not None:
        criteria.append(Criterion(
            "Missed aids per environment", f"at most {standard.max_misses}", _per_environment(comparison, "missed"),
            all(t.missed <= standard.max_misses for t in comparison.environments.values())))
    if standard.max_false_responses is not None:
        criteria.append(Criterion(
            "False responses per environment", f"at most {standard.max_false_responses}",
            _per_environment(comparison, "false_alerts"),
            all(t.false_alerts <= standard.max_false_responses for t in comparison.environments.values())))
    if standard.negative_search_required:
        criteria.append(Criterion(
            "Negative search", "at least one area with nothing placed",
            f"{total.negatives} negative area{'s' if total.negatives != 1 else ''} searched", total.negatives > 0))
    return criteria


def passed(criteria: list[Criterion]) -> bool:
    return all(c.met for c in criteria)


def as_record(criteria: list[Criterion]) -> list[dict]:
    """The criteria as kept with the assessment (JSON)."""
    return [asdict(c) for c in criteria]
