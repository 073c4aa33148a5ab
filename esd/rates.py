"""A proportion with its 95% Wilson score interval, and the one way it is written for people.

Every find rate (found hides / all hides), field accuracy or any other "k of n" in the product is a
`Rate`; every page, PDF and message shows it through `rate_text` (templates: the `rate` filter), so
a find rate is never a bare percentage of three hides.

With no trials (n = 0) the proportion is undefined (`None`) and the interval is (0.0, 1.0): nothing
is known, every proportion is possible. (The training summary's old copy answered `None` for the
interval instead, so any comparison against a standard would have raised; the reports' copy
answered (0, 1), which keeps "below standard only when the upper bound is under it" true for a
cell without hides. This module keeps (0, 1).)
"""
import math
from dataclasses import dataclass, field

from markupsafe import Markup

Z95 = 1.96  # the two-sided 95 % normal quantile, as rounded in the published tables


def wilson_interval(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval of successes out of total; (0.0, 1.0) without trials."""
    if total <= 0:
        return 0.0, 1.0
    p = successes / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


@dataclass(frozen=True)
class Rate:
    """Found (successes) of n (total): the rate and its 95% Wilson interval, with an optional label."""

    found: int
    n: int
    label: str = ""
    low: float = field(init=False)
    high: float = field(init=False)

    def __post_init__(self):
        low, high = wilson_interval(self.found, self.n)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def rate(self) -> float | None:
        """Return the proportion, or None without trials."""
        return self.found / self.n if self.n else None

    @property
    def missed(self) -> int:
        """Return the failures (n − found)."""
        return self.n - self.found


NO_TRIALS = "no hides"


@dataclass(frozen=True)
class RateWords:
    """The parts of a written rate, for a layout that places them apart (a matrix cell)."""

    percent: str  # "67%"; "–" without trials
    count: str  # "2 of 3"
    interval: str  # "95% CI 21–94%"; "no hides" without trials


def rate_words(rate: Rate, digits: int = 0) -> RateWords:
    """The parts of `rate_text` (templates: the `rate_words` filter)."""
    if not rate.n:
        return RateWords("–", "0 of 0", NO_TRIALS)
    return RateWords(f"{100 * rate.rate:.{digits}f}%", f"{rate.found} of {rate.n}",
                     f"95% CI {100 * rate.low:.{digits}f}–{100 * rate.high:.{digits}f}%")


def rate_text(rate: Rate, digits: int = 0) -> str:
    """Write a rate with its count and interval: '67% (2 of 3; 95% CI 21–94%)'."""
    if not rate.n:
        return NO_TRIALS
    words = rate_words(rate, digits)
    return f"{words.percent} ({words.count}; {words.interval})"


def rate_html(rate: Rate) -> Markup:
    """Write `rate_text` for a page: the percentage prominent, the count and interval muted."""
    if not rate.n:
        return Markup.escape(NO_TRIALS)
    words = rate_words(rate)
    return Markup('{} <span class="text-muted small">({}; {})</span>').format(words.percent, words.count,
                                                                              words.interval)


def interval_words(rate: Rate) -> str:
    """The 95% interval in plain words for readers without statistics: "likely between 85% and 87%"."""
    if not rate.n:
        return "not known yet"
    low, high = round(100 * rate.low), round(100 * rate.high)
    return f"likely about {low}%" if low == high else f"likely between {low}% and {high}%"


# Why a range is shown, in a sentence a donor understands (beside every `interval_words`).
INTERVAL_NOTE = ("A range is shown because the hides are a sample of what the dogs do: with few hides the "
                 "true rate could be some way off the one measured, with many it is close. Worked out this "
                 "way (a 95% Wilson interval), the range holds the true rate 95 times in 100.")
