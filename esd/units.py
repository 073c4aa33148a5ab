"""Temperatures: stored in °C, shown and entered in the unit the agency chose (°F or °C)."""
from __future__ import annotations

UNITS = {"F": "°F", "C": "°C"}
UNIT_LABELS = {"F": "Fahrenheit (°F)", "C": "Celsius (°C)"}


def from_celsius(celsius: float, unit: str) -> float:
    """A stored °C value in `unit`, to a tenth of a degree."""
    return round(celsius * 9 / 5 + 32, 1) if unit == "F" else round(celsius, 1)


def to_celsius(value: float, unit: str) -> float:
    """A value entered in `unit`, as stored (°C)."""
    return (value - 32) * 5 / 9 if unit == "F" else value


def format_temperature(celsius: float | None, unit: str) -> str:
    """"54.5 °F" or "12.5 °C"; "" when no temperature was recorded."""
    if celsius is None:
        return ""
    value = from_celsius(celsius, unit)
    return f"{value:g} {UNITS.get(unit, '°C')}"
