"""Small-number suppression: the one rule for every count a funder sees that describes people.

A count from 1 to 4 is shown as "fewer than 5" (0 and 5 or more are shown). That alone is not
enough where a total is shown beside its parts: a total of 9 beside parts 6 and "fewer than 5"
gives the suppressed part away (3). So suppression is applied to *groups* — parts with the total
they add up to — and a reader's view is worked out: each suppressed primary cell lies in 1..4,
each cell withheld to protect another ("complementary" suppression) in 0..total. While any
suppressed cell can be pinned down to one value from the total and the cells shown, the smallest
shown part is withheld as well; with no part left to withhold, the total is.

A cell appears in several groups (an agency's count is a part of its region's total and of the
national total): `suppress` repeats over all groups until nothing changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable

THRESHOLD = 5
FEWER = f"fewer than {THRESHOLD}"
WITHHELD = "not shown"  # withheld so that a small count elsewhere cannot be worked out


@dataclass(frozen=True)
class Shown:
    """A count as a funder sees it: the number, "fewer than 5", or "not shown"."""

    value: int | None  # None: nothing recorded
    hidden: str = ""  # "" when the number is shown, else FEWER or WITHHELD

    @property
    def suppressed(self) -> bool:
        return bool(self.hidden)

    @property
    def text(self) -> str:
        if self.hidden:
            return self.hidden
        return "none recorded" if self.value is None else f"{self.value:,}"

    def __str__(self) -> str:
        return self.text


def is_small(value: int | None) -> bool:
    """Whether a count is suppressed on its own: 1 to 4."""
    return value is not None and 0 < value < THRESHOLD


def shown(value: int | None) -> Shown:
    """One count on its own (no total beside it): "fewer than 5" for 1 to 4."""
    return Shown(value, FEWER if is_small(value) else "")


@dataclass(frozen=True)
class Group:
    """Cells that add up to a total cell: `total` and each of `parts` are keys of the values."""

    total: Hashable
    parts: tuple[Hashable, ...]


def suppress(values: dict[Hashable, int | None], groups: Iterable[Group] = ()) -> dict[Hashable, Shown]:
    """Every cell as shown: 1-4 as "fewer than 5", and more withheld until no group gives one away."""
    groups = list(groups)
    hidden: dict[Hashable, str] = {key: FEWER for key, value in values.items() if is_small(value)}
    changed = True
    while changed:
        changed = False
        for group in groups:
            if _protect(values, hidden, group):
                changed = True
    return {key: Shown(value, hidden.get(key, "")) for key, value in values.items()}


def _protect(values: dict, hidden: dict, group: Group) -> bool:
    """Withhold one more cell of the group when a suppressed cell can be pinned down; True when it did."""
    if group.total in hidden or values.get(group.total) is None:
        return False
    parts = [p for p in group.parts if values.get(p) is not None]
    secret = [p for p in parts if p in hidden]
    if not secret or not _pinned(values, hidden, group.total, secret, parts):
        return False
    candidates = sorted((values[p], str(p)) for p in parts if p not in hidden)
    if candidates:
        key = next(p for p in parts if p not in hidden and str(p) == candidates[0][1])
        hidden[key] = WITHHELD
    else:
        hidden[group.total] = WITHHELD
    return True


def _pinned(values: dict, hidden: dict, total_key, secret: list, parts: list) -> bool:
    """Whether a reader who knows the total and the parts shown can tell some suppressed part's value."""
    rest = values[total_key] - sum(values[p] for p in parts if p not in hidden)
    total = values[total_key]
    bounds = [(1, THRESHOLD - 1) if hidden[p] == FEWER else (0, total) for p in secret]
    low_sum, high_sum = sum(lo for lo, _ in bounds), sum(hi for _, hi in bounds)
    for lo, hi in bounds:
        least = max(lo, rest - (high_sum - hi))
        most = min(hi, rest - (low_sum - lo))
        if least >= most:
            return True
    return False


def change_words(now: Shown | int, before: Shown | int, since: str) -> str:
    """The change between two periods in words: "up 12 from last year", "the same as …", or why not compared."""
    now_shown = now if isinstance(now, Shown) else Shown(now)
    before_shown = before if isinstance(before, Shown) else Shown(before)
    if now_shown.suppressed or before_shown.suppressed:
        return f"not compared with {since}: a count under {THRESHOLD} is not shown"
    if now_shown.value is None or before_shown.value is None:
        return f"not compared with {since}: none recorded in one of them"
    a, b = now_shown.value, before_shown.value
    if a == b:
        return f"the same as {since}"
    return f"{'up' if a > b else 'down'} {abs(a - b):,} from {since}"
