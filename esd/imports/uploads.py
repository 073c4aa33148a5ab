"""An upload waiting to be imported from the browser: the file kept between the steps, and its preview.

The file is stored under the instance's upload folder (`imports/<id>/`), with its SHA-256, its
owner (the user who uploaded it, and the agency it goes into), the user's mapping and the last
preview. Only its owner reaches it, and only while they may manage that agency; after a day, after
it is imported or discarded, the id answers nothing (the views make that a 404).

The preview is the dry run's summary (services.plan, which writes nothing), kept as JSON so that its
pages of refused rows and their CSV do not read the file again. Confirming plans again and writes
only when the result is still the one previewed (its fingerprint), in one transaction.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from ..extensions import db
from ..models import Agency, AuditEntry
from ..models.base import utcnow
from ..roles import can_manage
from .kinds import IGNORE, KINDS, ORDER, normal
from .readers import read_upload
from .services import CREATE_TERM, Mapping, plan, remember, sheet_key
from .writer import apply

UPLOAD_LIMIT = 50 * 1024 * 1024  # the largest file an import takes from the browser
REQUEST_LIMIT = UPLOAD_LIMIT + 256 * 1024  # the file plus the form around it
KEEP_FOR = timedelta(hours=24)
TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")
CHUNK = 1024 * 1024
# How a header was matched (services.SheetPlan.headers) when the user should see it in the mapping step.
TO_CONFIRM = ("similar name", "remembered", "remembered: not imported", "unknown")
CHOSEN = ("your choice", "not imported")


class UploadRefused(ValueError):
    """The file cannot be kept: the message says why, beside the file field."""


def _root() -> str:
    return os.path.join(current_app.config["UPLOAD_FOLDER"], "imports")


@dataclass
class Upload:
    token: str
    folder: str
    meta: dict

    @property
    def path(self) -> str:
        return os.path.join(self.folder, "file")

    @property
    def filename(self) -> str:
        return self.meta["filename"]

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["created_at"])

    @property
    def mapping(self) -> Mapping:
        return Mapping.from_json(self.meta.get("mapping"))

    @mapping.setter
    def mapping(self, value: Mapping) -> None:
        self.meta["mapping"] = value.to_json()

    @property
    def agency(self) -> Agency | None:
        return db.session.get(Agency, self.meta["agency_id"])

    def save(self) -> None:
        _write_json(os.path.join(self.folder, "meta.json"), self.meta)

    def preview(self) -> dict | None:
        """The last preview's summary, None before the first."""
        try:
            with open(os.path.join(self.folder, "preview.json"), encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return None

    def save_preview(self, summary: dict) -> None:
        _write_json(os.path.join(self.folder, "preview.json"), summary)


def _write_json(path: str, data) -> None:
    temporary = f"{path}.{secrets.token_hex(4)}.tmp"
    with open(temporary, "w", encoding="utf-8") as fh:
        json.dump(data, fh, default=str)
    os.replace(temporary, path)


def store(stream, filename: str, user, agency_id: int, now: datetime | None = None) -> Upload:
    """Keep an uploaded file (read in chunks, hashed as it is written); UploadRefused when empty or too big."""
    now = now or utcnow()
    sweep(now)
    token = secrets.token_urlsafe(18)
    folder = os.path.join(_root(), token)
    os.makedirs(folder, mode=0o700)
    digest, size = hashlib.sha256(), 0
    try:
        with open(os.path.join(folder, "file"), "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > UPLOAD_LIMIT:
                    raise UploadRefused(f"The file is larger than {UPLOAD_LIMIT // (1024 * 1024)} MB: split it "
                                        "(one file per kind, or a year at a time) and import each part.")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused("The file is empty.")
    except UploadRefused:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = os.path.basename(filename.replace("\\", "/")).strip()[:200] or "upload.csv"
    upload = Upload(token, folder, {"filename": name, "sha256": digest.hexdigest(), "size": size,
                                    "user_id": user.id, "agency_id": agency_id, "created_at": now.isoformat(),
                                    "mapping": Mapping().to_json(), "asked": [], "labels": {}})
    upload.save()
    return upload


def load(token: str, user, now: datetime | None = None) -> Upload | None:
    """The upload `token` names if `user` owns it, may still manage its agency and it is not stale; else None."""
    if not TOKEN.fullmatch(token or ""):
        return None
    folder = os.path.join(_root(), token)
    try:
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as fh:
            meta = json.load(fh)
        created = datetime.fromisoformat(meta["created_at"])
    except (OSError, ValueError, KeyError):
        return None
    if (now or utcnow()) - created > KEEP_FOR:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if meta.get("user_id") != user.id or not can_manage(user, meta.get("agency_id")):
        return None
    if db.session.get(Agency, meta["agency_id"]) is None:
        return None
    return Upload(token, folder, meta)


def waiting(user, now: datetime | None = None) -> list[Upload]:
    """The user's uploads not yet imported nor discarded, newest first (the index offers to go on with them)."""
    root = _root()
    if not os.path.isdir(root):
        return []
    found = [load(name, user, now) for name in os.listdir(root) if TOKEN.fullmatch(name)]
    return sorted((u for u in found if u is not None), key=lambda u: u.meta["created_at"], reverse=True)


def discard(upload: Upload) -> None:
    shutil.rmtree(upload.folder, ignore_errors=True)


def sweep(now: datetime) -> int:
    """Delete uploads older than KEEP_FOR (a person who left the preview open does not keep the file)."""
    root, removed = _root(), 0
    if not os.path.isdir(root):
        return 0
    for name in os.listdir(root):
        folder = os.path.join(root, name)
        try:
            with open(os.path.join(folder, "meta.json"), encoding="utf-8") as fh:
                created = datetime.fromisoformat(json.load(fh)["created_at"])
        except (OSError, ValueError, KeyError):
            created = None
            try:
                created = datetime.fromtimestamp(os.path.getmtime(folder), now.tzinfo)
            except OSError:
                continue
        if now - created > KEEP_FOR:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


# --------------------------------------------------------------------------- the dry run, summarised

def summarize(the_plan) -> dict:
    """What the pages show of a plan, as JSON: sheets, counts per kind, refused rows, unknown values."""
    sheets = []
    for sp in the_plan.sheets:
        sheets.append({"key": sheet_key(sp.sheet), "file": sp.sheet.file, "name": sp.sheet.name, "kind": sp.kind,
                       "rows": sp.rows, "empty_rows": sp.empty_rows, "encoding": sp.sheet.encoding,
                       "header": list(sp.sheet.header), "headers": [list(h) for h in sp.headers]})
    counts = the_plan.counts()
    new_terms = sorted([r.values["kind"], r.values["name"]] for r in the_plan.new_terms)
    problems = [[p.file, p.sheet, p.row, p.column, p.message] for p in the_plan.problems]
    fingerprint = hashlib.sha256(json.dumps({"counts": counts, "new_terms": new_terms, "problems": len(problems)},
                                            sort_keys=True).encode()).hexdigest()
    return {"sheets": sheets, "counts": counts, "new_terms": new_terms, "problems": problems,
            "whole": [p for p in problems if p[2] is None], "refused_rows": the_plan.refused_rows,
            "unknown": {scope: dict(values) for scope, values in the_plan.unknown.items()},
            "unmatched_users": len(the_plan.unmatched_users), "changes": the_plan.changes_anything,
            "fingerprint": fingerprint}


def dry_run(upload: Upload) -> dict:
    """Plan the upload with its mapping, keep the summary as its preview and return it; writes no record.

    Raises readers.Refused when the file cannot be read as a whole.
    """
    try:
        the_plan = plan(read_upload(upload.path, upload.filename), upload.agency, upload.mapping)
        summary = summarize(the_plan)
    finally:
        db.session.rollback()
    upload.save_preview(summary)
    return summary


def confirm(upload: Upload, user, fingerprint: str) -> tuple[AuditEntry | None, dict]:
    """Plan again and, if it is what the user previewed, write it all and remember the mapping; commit.

    Returns the import's audit event and the summary, or (None, the new summary) when the records or
    the file's reading changed since the preview (nothing is written then). The caller owns the upload.
    """
    agency = upload.agency
    mapping = upload.mapping
    try:
        the_plan = plan(read_upload(upload.path, upload.filename), agency, mapping)
        summary = summarize(the_plan)
        if summary["fingerprint"] != fingerprint or not the_plan.changes_anything:
            db.session.rollback()
            upload.save_preview(summary)
            return None, summary
        event = apply(the_plan, user, upload.filename, upload.meta["sha256"], upload.meta["size"])
        remember(agency, mapping, the_plan)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return event, summary


def claim(upload: Upload) -> Upload | None:
    """Take the upload for one confirmation: a second click or tab finds it gone (None)."""
    busy = upload.folder + ".confirming"
    try:
        os.rename(upload.folder, busy)
    except OSError:
        return None
    return Upload(upload.token, busy, upload.meta)


def release(upload: Upload, original_folder: str) -> None:
    """Give a claimed upload back (the confirmation wrote nothing)."""
    try:
        os.rename(upload.folder, original_folder)
    except OSError:
        pass


# --------------------------------------------------------------------------- the mapping step

@dataclass
class HeaderChoice:
    key: str  # the decision's key ("col|sheet|header")
    sheet: str
    header: str
    kind: str
    current: str  # our column (with _utc), or IGNORE
    how: str


@dataclass
class ValueChoice:
    key: str
    scope: str  # a vocabulary ("device_type") or a kind's column ("hides.outcome")
    value: str
    rows: int
    current: str  # "" (refused), CREATE_TERM, a term's name or an allowed value


def column_choices(kind: str) -> list[tuple[str, str]]:
    """Our columns of a kind for a header's select: each by name, a timestamp also as UTC."""
    out = [(IGNORE, "Not imported")]
    for column in KINDS[kind].columns:
        label = column.name.replace("_", " ") + (" (required)" if column.required else "")
        out.append((column.name, label))
        if column.type == "instant":
            out.append((f"{column.name}_utc", f"{column.name.replace('_', ' ')} in UTC"))
    return out


def kind_choices() -> list[tuple[str, str]]:
    return [("", "Not imported")] + [(k, KINDS[k].title) for k in ORDER]


def value_scope(scope: str) -> tuple[str, str | None, list[str] | None]:
    """(what the values are, the vocabulary, the allowed values) of an unknown value's scope."""
    if "." in scope:
        kind, name = scope.split(".", 1)
        column = KINDS[kind].column(name) if kind in KINDS else None
        if column is None:
            return scope, None, []
        allowed = list(column.choices) if column.type == "choice" else ["yes", "no"]
        return f"{KINDS[kind].title}: {name.replace('_', ' ')}", None, allowed
    return scope.replace("_", " "), scope, None


def decisions(upload: Upload, summary: dict) -> tuple[list[dict], list[ValueChoice]]:
    """What the mapping step asks: each sheet's kind and its headers to confirm, and each unknown value."""
    mapping = upload.mapping
    sheets = []
    for sheet in summary["sheets"]:
        if not sheet["header"]:
            continue  # not a table (a PDF in a ZIP): nothing to map
        key = sheet["key"]
        headers, matched = [], []
        for header, column, utc, how in sheet["headers"]:
            if how in TO_CONFIRM or how in CHOSEN:
                current = (f"{column}_utc" if utc else column) if column else IGNORE
                headers.append(HeaderChoice(f"col|{key}|{header}", key, header, sheet["kind"], current, how))
            elif column:
                matched.append((header, f"{column}_utc" if utc else column))
        sheets.append({"key": f"kind|{key}", "sheet": key, "file": sheet["file"], "name": sheet["name"],
                       "kind": sheet["kind"] or "", "headers": headers, "matched": matched})
    labels = upload.meta.get("labels", {})
    values: dict[tuple[str, str], ValueChoice] = {}
    for scope, found in summary["unknown"].items():
        for value, rows in sorted(found.items()):
            key = f"val|{scope}|{normal(value)}"
            values.setdefault((scope, normal(value)), ValueChoice(key, scope, value, rows, ""))
    for scope, chosen in mapping.values.items():
        for source, target in chosen.items():
            text = labels.get(scope, {}).get(source, source)
            values[(scope, source)] = ValueChoice(f"val|{scope}|{source}", scope, text,
                                                  summary["unknown"].get(scope, {}).get(text, 0), target)
    return sheets, sorted(values.values(), key=lambda v: (v.scope, v.value.lower()))


def pending(upload: Upload, summary: dict) -> list[str]:
    """Decisions the user has not been shown yet: the mapping step comes (again) when there are any."""
    sheets, values = decisions(upload, summary)
    keys = [s["key"] for s in sheets if not s["kind"]]
    keys += [h.key for s in sheets for h in s["headers"] if h.how in TO_CONFIRM]
    keys += [v.key for v in values if not v.current]
    asked = set(upload.meta.get("asked", []))
    return [k for k in keys if k not in asked]


def apply_choices(upload: Upload, summary: dict, kinds: dict[str, str], columns: dict[str, str],
                  values: dict[str, str]) -> None:
    """Record the user's choices (by decision key) in the upload's mapping, and that they were asked."""
    sheets, shown_values = decisions(upload, summary)
    mapping = upload.mapping
    for sheet in sheets:
        key = sheet["sheet"]
        if sheet["key"] in kinds:
            chosen_kind = kinds[sheet["key"]] or None
            if chosen_kind != (sheet["kind"] or None):
                mapping.kinds[key] = chosen_kind
                mapping.columns.pop(key, None)  # the headers' choices were for another kind
                continue
            mapping.kinds[key] = chosen_kind
        for header in sheet["headers"]:
            if header.key in columns:
                mapping.columns.setdefault(key, {})[header.header] = columns[header.key]
    labels = upload.meta.setdefault("labels", {})
    for value in shown_values:
        if value.key not in values:
            continue
        source = normal(value.value)
        target = values[value.key]
        if target:
            mapping.values.setdefault(value.scope, {})[source] = target
            labels.setdefault(value.scope, {})[source] = value.value
        else:
            mapping.values.get(value.scope, {}).pop(source, None)
    upload.mapping = mapping
    upload.meta["asked"] = sorted(set(upload.meta.get("asked", [])) | set(kinds) | set(columns) | set(values))
    upload.save()


__all__ = ["CREATE_TERM", "REQUEST_LIMIT", "UPLOAD_LIMIT", "Upload", "UploadRefused", "apply_choices", "claim",
           "column_choices", "confirm", "decisions", "discard", "dry_run", "kind_choices", "load", "pending",
           "release", "store", "summarize", "value_scope", "waiting"]
