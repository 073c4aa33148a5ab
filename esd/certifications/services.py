"""Certification rules: status on a day, a dog's current certification, the board, upcoming expiries, files."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..dates import months_between, one_year_after
from ..extensions import db
from ..models import Agency, Certification, Dog, Handler, Reminder, TeamAssignment, User
from ..scoping import can_manage
from ..spreadsheets import csv_text

STATUSES = ("valid", "expiring", "expired", "none")
STATUS_LABELS = {"valid": "Valid", "expiring": "Expiring soon", "expired": "Expired",
                 "none": "No certification"}
# Most urgent first: what a manager must act on comes to the top of the board.
URGENCY = {"expired": 0, "none": 1, "expiring": 2, "valid": 3}
SORT_KEYS = ("status", "dog", "team", "body", "expires", "days")
UPCOMING_DAYS = 180

MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024
# Magic bytes decide the type, never the name or the browser's claim.
SIGNATURES = ((b"%PDF-", "application/pdf", "pdf"),
              (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
              (b"\xff\xd8\xff", "image/jpeg", "jpg"))


# --- Status rules -----------------------------------------------------------------------------

def status_of(certification: Certification | None, today: date, warning_days: int) -> str:
    """`valid`, `expiring`, `expired`, or `none` when the dog has no current certification."""
    if certification is None:
        return "none"
    return certification.status_on(today, warning_days)


def days_left(certification: Certification | None, today: date) -> int | None:
    """Days until expiry (negative once expired); None without a certification."""
    return None if certification is None else (certification.expires_on - today).days


# A dog's current certification, written once for both forms below: among its passing certifications
# that are not archived (CANDIDATE), the first in CURRENT_FIRST order (the latest to expire).
CANDIDATE = (Certification.result == "pass", Certification.archived_at.is_(None))
CURRENT_FIRST = (Certification.expires_on.desc(), Certification.id.desc())


def _current_ranked():
    """Every dog's candidates ranked: rank 1 is the dog's current one (for lists of many dogs)."""
    return (select(Certification.id.label("cid"), Certification.dog_id.label("dog_id"),
                   func.row_number().over(partition_by=Certification.dog_id, order_by=CURRENT_FIRST).label("rank"))
            .where(*CANDIDATE).subquery())


def _current_id(dog: Dog):
    """SQL: the id of one dog's current certification."""
    return (select(Certification.id).where(Certification.dog_id == dog.id, *CANDIDATE)
            .order_by(*CURRENT_FIRST).limit(1).scalar_subquery())


def current_certification(dog: Dog) -> Certification | None:
    """The dog's current certification (None without one)."""
    return db.session.scalar(select(Certification).where(Certification.id == _current_id(dog)))


def history_and_current(dog: Dog) -> tuple[list[Certification], Certification | None]:
    """Every certification of a dog, newest first, archived ones included for the record, and its
    current one (`current_certification`), in one statement: each row says whether it is the current one."""
    rows = db.session.execute(
        select(Certification, func.coalesce(Certification.id == _current_id(dog), False))
        .where(Certification.dog_id == dog.id)
        .options(joinedload(Certification.certifying_body), joinedload(Certification.handler))
        .order_by(Certification.issued_on.desc(), Certification.id.desc())).all()
    return [cert for cert, _ in rows], next((cert for cert, current in rows if current), None)


def superseded_clause():
    """SQL: a later-expiring passing certification of the same dog and discipline exists."""
    later = aliased(Certification)
    return (select(later.id)
            .where(later.dog_id == Certification.dog_id, later.discipline == Certification.discipline,
                   later.result == "pass", later.archived_at.is_(None),
                   later.expires_on > Certification.expires_on)
            .exists())


def cancel_reminders(certification: Certification) -> int:
    """Cancel the notices of a certification not sent yet (e.g. it was renewed or archived)."""
    result = db.session.execute(
        update(Reminder)
        .where(Reminder.certification_id == certification.id, Reminder.status.in_(("pending", "failed")))
        .values(status="cancelled"))
    return result.rowcount or 0


# --- The status board ---------------------------------------------------------------------------

@dataclass
class BoardRow:
    agency: Agency
    dog: Dog
    certification: Certification | None
    handler: Handler | None
    today: date
    status: str
    days_left: int | None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def board_rows(agency_ids: list[int] | None, now: datetime | None = None,
               all_in_training: bool = False) -> list[BoardRow]:
    """Every dog that holds or needs a certification, with its current one and status on the agency's today.

    Active dogs need one; a dog in training appears once it holds one (or every dog in training
    with `all_in_training`); retired dogs never do.
    """
    ranked = _current_ranked()
    on_board = or_(Dog.status == "active", Certification.id.is_not(None)) if not all_in_training \
        else Dog.status != "retired"
    stmt = (select(Dog, Certification)
            .join(Agency, Agency.id == Dog.agency_id)
            .outerjoin(ranked, and_(ranked.c.dog_id == Dog.id, ranked.c.rank == 1))
            .outerjoin(Certification, Certification.id == ranked.c.cid)
            .where(Dog.status != "retired", on_board, Dog.archived_at.is_(None), Agency.archived_at.is_(None))
            .options(selectinload(Dog.agency), selectinload(Certification.certifying_body),
                     selectinload(Certification.handler))
            .order_by(Agency.name, Dog.name))
    if agency_ids is not None:
        stmt = stmt.where(Dog.agency_id.in_(agency_ids or [-1]))
    pairs = db.session.execute(stmt).all()
    todays = {}
    for dog, _ in pairs:
        todays.setdefault(dog.agency_id, dog.agency.today(now))
    teams = current_handlers([dog.id for dog, _ in pairs], todays)
    rows = []
    for dog, cert in pairs:
        today = todays[dog.agency_id]
        handler = (cert.handler if cert is not None and cert.handler is not None else teams.get(dog.id))
        rows.append(BoardRow(agency=dog.agency, dog=dog, certification=cert, handler=handler, today=today,
                             status=status_of(cert, today, dog.agency.warning_window_days),
                             days_left=days_left(cert, today)))
    return rows


@dataclass
class LeftOut:
    """The agencies' dogs the board does not show, and why."""

    retired: int = 0
    in_training: int = 0  # in training without a certification (shown on request)


def left_out(agency_ids: list[int] | None, all_in_training: bool = False) -> LeftOut:
    """Count the dogs not on the board: retired ones, and those in training without a certification."""
    ranked = _current_ranked()
    stmt = (select(Dog.status, func.count(Dog.id)).join(Agency, Agency.id == Dog.agency_id)
            .outerjoin(ranked, and_(ranked.c.dog_id == Dog.id, ranked.c.rank == 1))
            .where(Dog.archived_at.is_(None), Agency.archived_at.is_(None),
                   or_(Dog.status == "retired", and_(Dog.status == "in_training", ranked.c.cid.is_(None))))
            .group_by(Dog.status))
    if agency_ids is not None:
        stmt = stmt.where(Dog.agency_id.in_(agency_ids or [-1]))
    counts = dict(db.session.execute(stmt).all())
    return LeftOut(retired=counts.get("retired", 0),
                   in_training=0 if all_in_training else counts.get("in_training", 0))


def current_handlers(dog_ids: list[int], todays: dict[int, date]) -> dict[int, Handler]:
    """The handler of each dog's team in force today, in one query."""
    if not dog_ids:
        return {}
    earliest = min(todays.values())
    latest = max(todays.values())
    stmt = (select(TeamAssignment).options(selectinload(TeamAssignment.handler))
            .where(TeamAssignment.dog_id.in_(dog_ids), TeamAssignment.starts_on <= latest,
                   (TeamAssignment.ends_on.is_(None)) | (TeamAssignment.ends_on >= earliest))
            .order_by(TeamAssignment.starts_on))
    found = {}
    for team in db.session.scalars(stmt):
        today = todays.get(team.agency_id, latest)
        if team.active_on(today):
            found[team.dog_id] = team.handler  # ordered by start: the latest start wins
    return found


def filter_rows(rows: list[BoardRow], statuses) -> list[BoardRow]:
    """Only the rows whose status is one of `statuses` (all when none is chosen)."""
    wanted = {s for s in statuses or () if s in STATUSES}
    return [row for row in rows if row.status in wanted] if wanted else list(rows)


def sort_rows(rows: list[BoardRow], key: str = "status", descending: bool = False) -> list[BoardRow]:
    """Rows sorted by one column; ties by dog name. Rows without an expiry sort last."""
    far = 10 ** 6

    def days(row):
        return row.days_left if row.days_left is not None else (far if not descending else -far)
    keys = {
        "status": lambda r: (URGENCY[r.status], days(r)),
        "dog": lambda r: (r.dog.name.lower(),),
        "team": lambda r: ((r.handler.name.lower() if r.handler else "~"),),
        "body": lambda r: ((r.certification.certifying_body.name.lower() if r.certification else "~"),),
        "expires": lambda r: (days(r),),
        "days": lambda r: (days(r),),
    }
    fn = keys.get(key, keys["status"])
    ordered = sorted(rows, key=lambda r: (r.agency.name.lower(), r.dog.name.lower(), r.dog.id))
    ordered.sort(key=fn, reverse=descending)
    # Grouped by agency always (an admin sees agencies apart); stable sort keeps the order inside.
    ordered.sort(key=lambda r: r.agency.name.lower())
    return ordered


def group_by_agency(rows: list[BoardRow]) -> list[tuple[Agency, list[BoardRow]]]:
    groups: list[tuple[Agency, list[BoardRow]]] = []
    for row in rows:
        if not groups or groups[-1][0].id != row.agency.id:
            groups.append((row.agency, []))
        groups[-1][1].append(row)
    return groups


def status_counts(rows: list[BoardRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row.status] += 1
    return counts


CSV_HEADER = ["agency", "dog", "call_sign", "handler", "certifying_body", "discipline", "issued_on",
              "expires_on", "days_left", "status"]


def board_csv(rows: list[BoardRow]) -> str:
    """The board as CSV, one line per dog, in the order shown."""
    def line(row: BoardRow) -> list:
        cert = row.certification
        return [row.agency.name, row.dog.name, row.dog.call_sign, row.handler.name if row.handler else "",
                cert.certifying_body.name if cert else "", cert.discipline.upper() if cert else "",
                cert.issued_on.isoformat() if cert else "", cert.expires_on.isoformat() if cert else "",
                row.days_left, row.label]
    return csv_text(CSV_HEADER, (line(row) for row in rows))


# --- Upcoming expiries ----------------------------------------------------------------------------

@dataclass
class Month:
    first: date
    certifications: list[Certification] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.first.strftime("%B %Y")


def upcoming(agency_ids: list[int] | None, today: date, days: int = UPCOMING_DAYS) -> list[Month]:
    """Current certifications of serving dogs that expire in the next `days`, month by month."""
    end = today + timedelta(days=days)
    stmt = (select(Certification).join(Dog, Dog.id == Certification.dog_id)
            .join(Agency, Agency.id == Certification.agency_id)
            .where(Certification.result == "pass", Certification.archived_at.is_(None),
                   Certification.replaced_by_id.is_(None), ~superseded_clause(),
                   Certification.expires_on >= today, Certification.expires_on <= end,
                   Dog.archived_at.is_(None), Dog.status != "retired", Agency.archived_at.is_(None))
            .options(selectinload(Certification.dog).selectinload(Dog.agency),
                     selectinload(Certification.certifying_body), selectinload(Certification.handler))
            .order_by(Certification.expires_on, Certification.id))
    if agency_ids is not None:
        stmt = stmt.where(Certification.agency_id.in_(agency_ids or [-1]))
    months = [Month(first) for first in months_between(today, end)]
    by_month = {(m.first.year, m.first.month): m for m in months}
    for cert in db.session.scalars(stmt):
        by_month[(cert.expires_on.year, cert.expires_on.month)].certifications.append(cert)
    return months


# --- Certificate files ----------------------------------------------------------------------------

@dataclass
class StoredFile:
    filename: str  # random, on disk
    original: str  # as the user named it, for display and download
    mime: str


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """(mime type, extension) from the first bytes of a file, or None when it is not PDF/PNG/JPEG."""
    for magic, mime, ext in SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def file_size(stream) -> int:
    position = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


def certificate_problem(upload) -> str | None:
    """Why an uploaded certificate cannot be kept, or None when it is a PDF/PNG/JPEG of at most 10 MB."""
    size = file_size(upload.stream)
    if size == 0:
        return "The file is empty."
    if size > MAX_CERTIFICATE_BYTES:
        return f"The file is {size / 1024 / 1024:.1f} MB; a certificate may be at most 10 MB."
    upload.stream.seek(0)
    head = upload.stream.read(16)
    upload.stream.seek(0)
    if sniff_type(head) is None:
        return "This file is not a PDF, PNG or JPEG (its content was checked, whatever its name says)."
    return None


def certificates_folder() -> str:
    """Certificates live outside static/, under the upload folder."""
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "certificates")
    os.makedirs(folder, exist_ok=True)
    return folder


def original_name(name: str | None, ext: str) -> str:
    """The user's file name without any folder part, for display and the download's name."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().replace('"', "")
    base = "".join(ch for ch in base if ch.isprintable())[:200]
    return base or f"certificate.{ext}"


def store_certificate(upload) -> StoredFile:
    """Write an already-checked upload under a random name; return what to record."""
    upload.stream.seek(0)
    mime, ext = sniff_type(upload.stream.read(16))
    upload.stream.seek(0)
    filename = f"{secrets.token_hex(16)}.{ext}"
    upload.save(os.path.join(certificates_folder(), filename))
    return StoredFile(filename=filename, original=original_name(upload.filename, ext), mime=mime)


def remove_certificate(stored: StoredFile | None) -> None:
    """Delete a file written for a save that did not happen: no orphans."""
    if stored is None:
        return
    try:
        os.remove(os.path.join(certificates_folder(), stored.filename))
    except FileNotFoundError:
        pass


def certificate_path(certification: Certification) -> str | None:
    if not certification.certificate_file:
        return None
    path = os.path.join(certificates_folder(), os.path.basename(certification.certificate_file))
    return path if os.path.exists(path) else None


# --- Recording --------------------------------------------------------------------------------

RECORD_FIELDS = ("dog_id", "handler_id", "certifying_body_id", "discipline", "issued_on", "expires_on",
                 "evaluator", "result", "score_finds", "score_hides", "score_false_alerts", "notes")


def correct_certification(cert: Certification, values: dict) -> list[str]:
    """Apply a correction to the certification's fields (not its dog); return the names of those changed.

    The audit log keeps each change with its before and after; the caller sets the reason.
    """
    data = {key: values.get(key) for key in RECORD_FIELDS if key != "dog_id"}
    if not data.get("expires_on"):
        data["expires_on"] = one_year_after(data["issued_on"])
    for key in ("evaluator", "notes"):
        data[key] = (data[key] or "").strip() or None
    changed = [key for key, value in data.items() if getattr(cert, key) != value]
    for key in changed:
        setattr(cert, key, data[key])
    return changed


def record_certification(values: dict, stored: StoredFile | None, by, replaces: Certification | None = None
                         ) -> Certification:
    """Add a certification; a passing renewal marks the one it replaces and cancels that one's notices."""
    dog = db.session.get(Dog, values["dog_id"])
    data = {key: values.get(key) for key in RECORD_FIELDS}
    if not data.get("expires_on"):
        data["expires_on"] = one_year_after(data["issued_on"])
    for key in ("evaluator", "notes"):
        data[key] = (data[key] or "").strip() or None
    cert = Certification(agency_id=dog.agency_id, created_by_id=by.id if by else None, **data)
    if stored is not None:
        cert.certificate_file = stored.filename
        cert.certificate_name = stored.original
        cert.certificate_mime = stored.mime
    db.session.add(cert)
    db.session.flush()
    if replaces is not None and cert.result == "pass":
        replaces.replaced_by_id = cert.id
        cancel_reminders(replaces)
    return cert


def dog_section(dog: Dog, today: date, user: User) -> dict:
    """The dog page's certification section: current status and the whole history."""
    every, current = history_and_current(dog)
    return {"current": current, "today": today,
            "status": status_of(current, today, dog.agency.warning_window_days),
            "days_left": days_left(current, today), "history": every, "labels": STATUS_LABELS,
            "can_manage": can_manage(user, dog.agency_id)}
