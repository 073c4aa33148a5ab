"""Column helpers shared by the models."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, TypeDecorator

from ..dates import utcnow  # noqa: F401  (the models' default timestamps; one definition, in dates)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no offset, so without this a value read back is naive and
    comparisons with `utcnow()` fail. Naive values written are taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def aggregate_utc(value):
    """MIN/MAX of a UTCDateTime column: the column's type on PostgreSQL, text on SQLite; aware UTC either way."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)


def enum_check(column: str, values) -> str:
    """SQL text of a CHECK that `column` is one of `values`."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
