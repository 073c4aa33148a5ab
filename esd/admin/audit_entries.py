"""How an audit entry reads: a change as before → after, an event (a login, an export) as its details."""
from __future__ import annotations

import json
from dataclasses import dataclass

# Row changes whose `changes` are {field: [before, after]}; every other action is an event.
CHANGES = ("create", "update", "archive", "delete")
NOTHING = "—"


@dataclass(frozen=True)
class Line:
    """One line of an entry: `before` is None for a detail (a value, not a change)."""

    field: str
    value: str
    before: str | None = None

    @property
    def is_change(self) -> bool:
        return self.before is not None


def _text(value) -> str:
    if value is None or value == "":
        return NOTHING
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _is_pair(value) -> bool:
    return isinstance(value, list) and len(value) == 2


def lines(action: str, changes: dict | None) -> list[Line]:
    """The entry's lines in the form its kind has."""
    if not changes:
        return []
    if action == "revise":  # a training session saved again: whole snapshots before and after
        before, after = changes.get("before") or {}, changes.get("after") or {}
        return [Line(key, _text(after.get(key)), _text(before.get(key)))
                for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
    if action in CHANGES and all(_is_pair(pair) for pair in changes.values()):
        return [Line(key, _text(pair[1]), _text(pair[0])) for key, pair in changes.items()]
    return [Line(key, _text(value)) for key, value in changes.items()]
