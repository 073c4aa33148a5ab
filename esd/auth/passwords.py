"""Password rules (NIST SP 800-63B / CJIS: length, no composition rules, no common passwords) and hashing."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 128
# Printed in the README for the demo accounts (made by the seed, not through this policy): anyone may
# try it, so the policy refuses it.
DEMO_PASSWORD = "tracker demo 2026"
PUBLISHED = frozenset({DEMO_PASSWORD})


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The list of passwords refused because attackers try them first."""
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalpha())


def password_problem(password: str, email: str | None = None, agency_name: str | None = None) -> str | None:
    """Why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "This password is on a list of commonly used passwords; choose another."
    if len(set(lowered)) <= 2:
        return "This password repeats one or two characters; choose another."
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        return "The password must not be your e-mail address."
    if " ".join(lowered.split()) in PUBLISHED:
        return "This is the demo's published password; choose another."
    # The agency's name, whatever the case, spacing, digits or punctuation around it ("Metro Task Force 2026!").
    if agency_name and _letters(agency_name) and _letters(password) == _letters(agency_name):
        return "The password must not be your agency's name."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)
