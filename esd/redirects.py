"""Where the app may send a browser after an action: a path on this site, nothing else."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target) -> str | None:
    """`target` if it is a path on this site, else None (no open redirect).

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
    `/\\t/evil.example` and `/\\evil.example` lead off-site as `//evil.example` does: any control
    character, whitespace or backslash refuses the target.
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return None
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
