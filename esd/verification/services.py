"""Issued packets: registered when generated, checked by code or digest at /verify."""
from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import segno
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from ..audit_chain import read_head
from ..extensions import db
from ..models import AuditEntry, Deployment, User
from ..models.audit import IssuedPacket

# Crockford's base 32: no I, L, O or U, so a code read aloud or typed from paper is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: not guessable at /verify's rate limit
KINDS = {"reliability_record": "Reliability record", "deployment_packet": "Deployment packet"}
# The audit actions that change a record (the events — logins, exports, packets — change none).
RECORD_CHANGES = ("create", "update", "archive", "delete", "revise")
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    """The code as printed: groups of four, easy to read out."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def parse_query(text: str | None) -> tuple[str, str] | None:
    """("code", …) or ("digest", …) from what a person typed, or None when it is neither."""
    cleaned = re.sub(r"[\s-]", "", text or "")
    if re.fullmatch(r"[0-9a-fA-F]{64}", cleaned):
        return "digest", cleaned.lower()
    code = cleaned.upper().translate(_TYPO)
    if len(code) == CODE_LENGTH and all(c in ALPHABET for c in code):
        return "code", code
    return None


def register_packet(packet, kind: str, by: User, deployment: Deployment | None = None) -> IssuedPacket:
    """Register a packet just built (its digest, the audit head now) under a new code; not committed."""
    head = read_head(db.session.connection())
    for _ in range(5):  # a clash of two random 50-bit codes is unlikely; try another if it happens
        issued = IssuedPacket(code=new_code(), digest=packet.digest, kind=kind, agency_id=packet.dog.agency_id,
                              dog_id=packet.dog.id, deployment_id=deployment.id if deployment else None,
                              as_of=packet.as_of, issued_by_id=by.id, issued_at=packet.generated_at,
                              audit_head=head)
        try:
            with db.session.begin_nested():
                db.session.add(issued)
            return issued
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free verification code")


def issue(packet, by: User, deployment: Deployment | None = None) -> IssuedPacket:
    """Register a packet and print on it how to check it: code, address, QR code, audit head."""
    from flask import url_for
    issued = register_packet(packet, "deployment_packet" if deployment else "reliability_record", by, deployment)
    packet.code, packet.audit_head = display_code(issued.code), issued.audit_head
    packet.verify_url = url_for("verification.verify", q=packet.code, _external=True)
    packet.qr_png = qr_png(packet.verify_url)
    return issued


def find_issued(query: tuple[str, str]) -> list[IssuedPacket]:
    """The packets issued under a code, or with a digest (the same records may be issued often)."""
    kind, value = query
    column = IssuedPacket.code if kind == "code" else IssuedPacket.digest
    return list(db.session.scalars(select(IssuedPacket).where(column == value)
                                   .order_by(IssuedPacket.issued_at.desc()).limit(20)))


@dataclass
class Check:
    issued: IssuedPacket
    unchanged: bool
    changes: list[AuditEntry]


def check_all(issued: list[IssuedPacket]) -> list[Check]:
    """Check each packet, reading the records of each dog and as-of date once."""
    from ..exports.packet import digest, source_rows
    today: dict[tuple, tuple] = {}
    checks = []
    for packet in issued:
        key = (packet.dog_id, packet.as_of)
        if key not in today:
            rows = source_rows(packet.dog, packet.as_of)
            today[key] = (rows, digest(rows))
        checks.append(_check(packet, *today[key]))
    return checks


def _check(issued: IssuedPacket, rows: dict, current_digest: str) -> Check:
    """Whether the records behind a packet are unchanged today, and the audited changes since."""
    unchanged = current_digest == issued.digest
    changes: list[AuditEntry] = []
    if not unchanged:
        touched = [and_(AuditEntry.entity == name, AuditEntry.entity_id.in_([r["id"] for r in records]))
                   for name, records in rows.items() if records and name not in ("audit_entry", "vocabulary_term")]
        changes = list(db.session.scalars(
            select(AuditEntry).where(AuditEntry.at > issued.issued_at, AuditEntry.action.in_(RECORD_CHANGES),
                                     or_(*touched)).order_by(AuditEntry.at, AuditEntry.id)))
    return Check(issued, unchanged, changes)


def qr_png(url: str) -> bytes:
    """A QR code of `url` as PNG (segno writes PNG itself, no imaging library)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=2)
    return out.getvalue()


def issued_on(issued: IssuedPacket, tz: str) -> datetime:
    from zoneinfo import ZoneInfo
    return issued.issued_at.astimezone(ZoneInfo(tz))
