"""Form helpers shared by the areas."""


def optional_int(value):
    """Coerce a select's value to int, or None when empty.

    A value that is not a number becomes -1, never a real id, so the field's own choices check
    refuses it with a clear message instead of a coercion error.
    """
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
