"""An import: read the sheets, match each row to a record (new, changed, unchanged), then write.

`plan()` reads every row through the kinds' columns, the training schema (esd/training/forms.py)
and the rules that need the database, and returns a `Plan`: what would be created, updated and
left as it is per kind, and every row that cannot be imported with its file, sheet, row, column
and reason. It writes nothing (the dry run, and the mapping step's source of unknown values).
`apply()` writes a plan in the caller's transaction (one commit or none) and audits it.

Rows are matched on natural keys (kinds.py), so importing the same file twice creates nothing the
second time, and a corrected file updates the rows it matches.
"""
from __future__ import annotations

import gc
import hashlib
import json
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ..dates import zone
from ..extensions import db
from ..models import (Agency, AssessmentStandard, CaseOutcome, Certification, Deployment, Dog, FalseAlert, FieldAlert, Find, Handler, Hide, ImportMapping,
                      PlannedArea, PlannedSession, TeamAssignment, TrainingSession, User, VocabularyTerm)
from ..models.base import utcnow
from ..models.outcomes import MAX_OUTCOME_COUNT, OUTCOME_COUNTS
from ..parsing import EARLIEST_DAY, LATEST_DAY, MAX_ID, within_window
from ..training import forms as training_forms
from .kinds import IGNORE, KINDS, ORDER, Column, Kind, kind_of_sheet, match_header, normal
from .readers import Refused, Sheet

CREATE_TERM = "+"  # a value mapping that creates the term as written
FUTURE_SKEW = timedelta(minutes=5)
EXCEL_EPOCH = datetime(1899, 12, 30)
# Text columns the database bounds by type (String(n)) are bounded by it; these have no length there.
TEXT_LIMITS = {("sessions", "notes"): training_forms.MAX_NOTES, ("false_alerts", "note"): training_forms.MAX_FALSE_ALERT_NOTE,
               ("deployments", "notes"): 5000, ("finds", "notes"): 500, ("field_alerts", "explanation"): 1000, ("certifications", "notes"): 4000,
               ("teams", "notes"): 2000, ("planned_sessions", "notes"): 4000}
MODELS = {"handlers": Handler, "dogs": Dog, "teams": TeamAssignment, "sessions": TrainingSession, "hides": Hide,
          "false_alerts": FalseAlert, "deployments": Deployment, "finds": Find, "field_alerts": FieldAlert, "outcomes": CaseOutcome,
          "certifications": Certification, "standards": AssessmentStandard, "planned_sessions": PlannedSession,
          "planned_areas": PlannedArea, "vocabulary": VocabularyTerm}
# Our column -> the model's column, where they differ.
MODEL_COLUMN = {"dog": "dog_id", "handler": "handler_id", "environment": "environment_id", "device_type": "device_type_id",
                "hiding_spot": "hiding_spot_id", "location_type": "location_type_id", "body": "certifying_body_id",
                "created_by": "created_by_id", "signed_off_by": "signed_off_by_id", "user": "user_id",
                "replaced_by_id": "replaced_by_id", "session": "session_id", "deployment": "deployment_id",
                "updated_by": "updated_by_id", "find": "find_id", "trainer": "trainer_id", "observer": "observer_id",
                "closed_by": "closed_by_id", "standard": "standard_id", "training_session": "training_session_id",
                "alert_spot": "alert_spot_id", "recorded_by": "recorded_by_id"}
# Columns read to find a record's parent or identity, not stored as they are.
NOT_STORED = {"id", "agency", "dog_id", "handler_id", "session_id", "session_started_at", "deployment_id",
              "deployment_started_at", "find_id", "plan_id"}
US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?")
ISO_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?\s*"
                         r"(Z|[+-]\d{2}:?\d{2}|[A-Za-z]{1,6}|UTC[+-]\d{1,2})?")


class RowError(ValueError):
    """A cell that cannot be read: the column and the reason."""

    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column, self.message = column, message


@dataclass
class Problem:
    file: str
    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f", sheet {self.sheet}" if self.sheet and not self.file.endswith(f"{self.sheet}.csv")
                                 and self.file != self.sheet else "")
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class Rec:
    """One record of the plan: created, updated or unchanged, with the row it came from."""

    __slots__ = ("kind", "action", "id", "values", "where", "changes", "parent", "obj")

    def __init__(self, kind: str, values: dict, where: tuple, action: str = "create", id: int | None = None):
        self.kind, self.values, self.where, self.action, self.id = kind, values, where, action, id
        self.changes: dict | None = None
        self.parent = None
        self.obj = None


@dataclass
class Mapping:
    """The user's decisions: the kind of each sheet, the column of each header, the meaning of values."""

    kinds: dict[str, str | None] = field(default_factory=dict)  # sheet key -> kind (None: not imported)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet key -> header -> column ("-": none)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # scope -> normal(value) -> target

    def to_json(self) -> dict:
        return {"kinds": self.kinds, "columns": self.columns, "values": self.values}

    @classmethod
    def from_json(cls, data: dict | None) -> Mapping:
        data = data or {}
        return cls(dict(data.get("kinds", {})), {k: dict(v) for k, v in data.get("columns", {}).items()},
                   {k: dict(v) for k, v in data.get("values", {}).items()})


def sheet_key(sheet: Sheet) -> str:
    return f"{sheet.file}::{sheet.name}"


@dataclass
class SheetPlan:
    sheet: Sheet
    kind: str | None
    headers: list[tuple[str, str | None, bool, str]]  # (header, column, utc, how it was matched)
    rows: int = 0
    empty_rows: int = 0


@dataclass
class Plan:
    agency: Agency
    sheets: list[SheetPlan]
    records: dict[str, list[Rec]]
    problems: list[Problem]
    unknown: dict[str, dict[str, int]]  # scope -> value as written -> rows
    unmatched_users: set[str]
    new_terms: list[Rec]

    def counts(self) -> dict[str, dict[str, int]]:
        out = {}
        for kind in ORDER:
            recs = self.records.get(kind, [])
            refused = sum(1 for p in self.problems if p.row is not None and p.sheet and self._kind_of(p) == kind)
            if recs or refused:
                out[kind] = {"create": sum(1 for r in recs if r.action == "create"),
                             "update": sum(1 for r in recs if r.action == "update"),
                             "same": sum(1 for r in recs if r.action == "same"), "refused": refused}
        return out

    def _kind_of(self, problem: Problem) -> str | None:
        for sp in self.sheets:
            if sp.sheet.file == problem.file and sp.sheet.name == problem.sheet:
                return sp.kind
        return None

    @property
    def refused_rows(self) -> int:
        return len({(p.file, p.sheet, p.row) for p in self.problems if p.row is not None})

    @property
    def refused_whole(self) -> list[Problem]:
        return [p for p in self.problems if p.row is None]

    @property
    def changes_anything(self) -> bool:
        return any(r.action != "same" for recs in self.records.values() for r in recs) or bool(self.new_terms)


# --------------------------------------------------------------------------- reading cells

def text_of(value) -> str | None:
    """A cell as text: numbers as written (12, not 12.0), empty as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def excel_serial(value: float) -> datetime:
    """An Excel date number (days since 1899-12-30, the fraction the time of day)."""
    if not 1 <= value < 2958466:
        raise ValueError
    return EXCEL_EPOCH + timedelta(days=float(value))


def read_day(value, header: str) -> date:
    """A date from an ISO text, a US month/day/year, an Excel date or a date cell; 1990 to 2099."""
    day = None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            day = excel_serial(value).date()
        except (ValueError, OverflowError):
            raise RowError(header, f"{value} is not a date (an Excel date number or YYYY-MM-DD).") from None
    else:
        text = str(value).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                day = date.fromisoformat(text)
            elif m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})[ T]00:00(:00)?", text):
                day = date.fromisoformat(m.group(1))
            elif (m := US_DATE.fullmatch(text)) and not m.group(4):
                day = date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            day = None
        if day is None:
            raise RowError(header, f"{text[:40]} is not a date (YYYY-MM-DD, or month/day/year).")
    try:
        return within_window(day)
    except ValueError:
        raise RowError(header, f"{day.isoformat()} is outside {EARLIEST_DAY.year}–{LATEST_DAY.year}.") from None


def read_instant(value, header: str, tz_name: str, utc: bool) -> datetime:
    """A UTC instant from a cell: with an offset or Z as given, `_utc` columns as UTC, else the agency's time."""
    tz = timezone.utc if utc else zone(tz_name)
    moment = None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tz)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            moment = excel_serial(value).replace(tzinfo=tz)
        except (ValueError, OverflowError):
            raise RowError(header, f"{value} is not a date and time.") from None
    else:
        text = str(value).strip()
        try:
            if m := ISO_INSTANT.fullmatch(text):
                day, clock, suffix = m.group(1), m.group(2) or "00:00", m.group(3)
                naive = datetime.fromisoformat(f"{day} {clock if len(clock) > 4 else '0' + clock}")
                moment = _with_suffix(naive, suffix, tz, tz_name)
            elif m := US_DATE.fullmatch(text):
                hour, minute, second = int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0)
                if m.group(7):
                    if not 1 <= hour <= 12:
                        raise ValueError
                    hour = hour % 12 + (12 if m.group(7).lower() == "pm" else 0)
                moment = datetime(int(m.group(3)), int(m.group(1)), int(m.group(2)), hour, minute, second, tzinfo=tz)
        except ValueError:
            moment = None
        if moment is None:
            raise RowError(header, f"{text[:40]} is not a date and time (YYYY-MM-DD HH:MM).")
    try:
        within_window(moment.astimezone(zone(tz_name)).date())
    except (ValueError, OverflowError):
        raise RowError(header, f"{moment.date().isoformat()} is outside {EARLIEST_DAY.year}–{LATEST_DAY.year}.") from None
    return moment.astimezone(timezone.utc)


def _with_suffix(naive: datetime, suffix: str | None, tz, tz_name: str) -> datetime:
    """Attach the zone a text names: Z or an offset; an abbreviation (the export's "PST") picks the DST side."""
    if not suffix:
        return naive.replace(tzinfo=tz)
    if suffix == "Z" or suffix.upper() == "UTC":
        return naive.replace(tzinfo=timezone.utc)
    if suffix[0] in "+-":
        digits = suffix.replace(":", "")
        offset = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
        return naive.replace(tzinfo=timezone(offset if suffix[0] == "+" else -offset))
    local = zone(tz_name)
    for fold in (0, 1):
        candidate = naive.replace(tzinfo=local, fold=fold)
        if candidate.tzname() == suffix:
            return candidate
    return naive.replace(tzinfo=tz)


BOOLEAN = {"yes": True, "y": True, "true": True, "1": True, "x": True, "no": False, "n": False, "false": False,
           "0": False}


# --------------------------------------------------------------------------- the planner

class Planner:
    """Reads the sheets into a Plan; one instance per plan (it holds the lookups it built)."""

    def __init__(self, agency: Agency, mapping: Mapping, now: datetime, progress: Callable[[int], None] | None = None):
        self.agency, self.mapping, self.now = agency, mapping, now
        self.tz = agency.timezone
        self.progress = progress or (lambda n: None)
        self.problems: list[Problem] = []
        self.unknown: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.unmatched_users: set[str] = set()
        self.records: dict[str, list[Rec]] = defaultdict(list)
        self.new_terms: dict[tuple[str, str], Rec] = {}
        self.alert_finds: set[int] = set()  # the finds (their Recs' ids) a planned alert names
        self.forms: dict = {}  # the training schema's forms, bound once (_verdict)
        self.verdicts: dict = {}
        self.chip_agencies: dict[str, str | None] = {}
        self._load()

    # -- what the database holds -----------------------------------------------------------------
    def _load(self) -> None:
        a = self.agency.id
        self.terms: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
        for term_id, kind, name in db.session.execute(select(VocabularyTerm.id, VocabularyTerm.kind, VocabularyTerm.name)):
            self.terms[kind][normal(name)] = (term_id, name)
        self.users = {email.lower(): uid for uid, email in db.session.execute(select(User.id, User.email))}
        self.linked_users = set(db.session.scalars(select(Handler.user_id).where(Handler.user_id.is_not(None))))
        self.db_rows = {kind: self._rows(MODELS[kind], MODELS[kind].agency_id == a)
                        for kind in ("handlers", "dogs", "teams", "sessions", "deployments", "certifications")}
        self.remembered = defaultdict(dict)
        if a is not None:
            for scope, source, target in db.session.execute(
                    select(ImportMapping.scope, ImportMapping.source, ImportMapping.target)
                    .where(ImportMapping.agency_id == a)):
                self.remembered[scope][source] = target
        # Lookups of the agency's records by their natural keys.
        self.dog_keys: dict[str, dict] = {"microchip": {}, "call_sign": {}, "name": {}}
        self.handler_keys: dict[str, dict] = {"badge": {}, "name": {}}
        for row in self.db_rows["dogs"]:
            self._index_dog(Rec("dogs", row, None, "same", row["id"]))
        for row in self.db_rows["handlers"]:
            self._index_handler(Rec("handlers", row, None, "same", row["id"]))
        self.session_keys: dict = {}
        self.session_by_uuid: dict = {}
        for row in self.db_rows["sessions"]:
            rec = Rec("sessions", row, None, "same", row["id"])
            self.session_keys[(row["dog_id"], _utc(row["started_at"]))] = rec
            if row.get("client_uuid"):
                self.session_by_uuid[row["client_uuid"]] = rec
        self.deployment_keys = {(row["dog_id"], _utc(row["started_at"])): Rec("deployments", row, None, "same", row["id"])
                                for row in self.db_rows["deployments"]}
        self.existing_children: dict = {}

    def _rows(self, model, *where) -> list[dict]:
        if self.agency.id is None:
            return []
        return [r._mapping for r in db.session.execute(select(model.__table__).where(*where))]

    def _index_dog(self, rec: Rec) -> None:
        v = rec.values
        for key, value in (("microchip", v.get("microchip_id")), ("call_sign", v.get("call_sign")), ("name", v.get("name"))):
            if value:
                self.dog_keys[key].setdefault(normal(value), rec)

    def _index_handler(self, rec: Rec) -> None:
        v = rec.values
        if v.get("badge_number"):
            self.handler_keys["badge"].setdefault(normal(v["badge_number"]), rec)
        if v.get("name"):
            self.handler_keys["name"].setdefault(normal(v["name"]), rec)

    # -- sheets and headers ----------------------------------------------------------------------
    def sheet_plan(self, sheet: Sheet) -> SheetPlan:
        key = sheet_key(sheet)
        header = sheet.header
        kind = self.mapping.kinds.get(key, kind_of_sheet(sheet.name, header)) if key in self.mapping.kinds \
            else kind_of_sheet(sheet.name, header)
        headers = []
        if kind:
            chosen = self.mapping.columns.get(key, {})
            remembered = self.remembered.get(f"column:{kind}", {})
            taken: dict[str, int] = {}
            for h in header:
                if h in chosen:
                    target = chosen[h]
                    if target == IGNORE or not target:
                        headers.append((h, None, False, "not imported"))
                        continue
                    name, utc = (target[:-4], True) if target.endswith("_utc") else (target, False)
                    match = (name if KINDS[kind].column(name) else None, utc, "your choice")
                else:
                    m = match_header(KINDS[kind], h, remembered)
                    match = (m.column, m.utc, m.reason or "same name")
                column, utc, how = match
                if column and column in taken:
                    # Two headers for one column (the export's _local and _utc): the UTC one is read.
                    earlier = taken[column]
                    if utc and not headers[earlier][2]:
                        headers[earlier] = (headers[earlier][0], None, False, "read from the UTC column")
                    else:
                        headers.append((h, None, False, f"{column} is read from another column"))
                        continue
                if column:
                    taken[column] = len(headers)
                headers.append((h, column, utc, how))
        return SheetPlan(sheet, kind, headers)

    # -- rows ------------------------------------------------------------------------------------
    def read_sheet(self, sp: SheetPlan):
        """(where, values by column, problems) of each non-empty row; values are still raw cells."""
        kind = KINDS[sp.kind]
        index = [(i, column, utc) for i, (_, column, utc, _) in enumerate(sp.headers) if column]
        present = {column for _, column, _ in index}
        missing = [c.name for c in kind.columns if c.required and c.name not in present
                   and not (c.name == "dog" and "dog_id" in present) and not (c.name == "handler" and "handler_id" in present)]
        if sp.kind in ("hides", "false_alerts") and not ({"session_id", "session_started_at"} & present):
            missing.append("session_id or session_started_at")
        if sp.kind in ("finds", "field_alerts") and not ({"deployment_id", "deployment_started_at"} & present):
            missing.append("deployment_id or deployment_started_at")
        if missing:
            self.problems.append(Problem(sp.sheet.file, sp.sheet.name, None, None,
                                         f"no column for {', '.join(missing)}: map one in the mapping step; "
                                         f"the sheet's {kind.title.lower()} are not imported."))
            return
        utc_of = {column: utc for _, column, utc in index}
        # Problems name a column as the file's header says it ("Date"), not as we do.
        self.header_of = {column: sp.headers[i][0] for i, column, _ in index}
        for number, cells in sp.sheet.rows():
            if all(c is None for c in cells):
                sp.empty_rows += 1
                continue
            sp.rows += 1
            if sp.rows % 1000 == 0:
                self.progress(1000)
            raw = {column: cells[i] if i < len(cells) else None for i, column, _ in index}
            yield (sp.sheet.file, sp.sheet.name, number), raw, utc_of
        self.progress(sp.rows % 1000)

    def converted(self, sp: SheetPlan, kind_name: str):
        """(where, raw cells, typed values) of each row of a sheet whose cells all read (the others noted)."""
        kind = KINDS[kind_name]
        for where, raw, utc_of in self.read_sheet(sp):
            values = self.convert(kind, raw, utc_of, where)
            if values is not None:
                yield where, raw, values

    def keep(self, kind: str, rec: Rec, existing: Rec | None, compared: Iterable[str]) -> bool:
        """Add a row's record to the plan, matched to `existing`; False when its file id was seen already."""
        if not self._remember_source(kind, rec.values, rec, rec.where):
            return False
        self._match(kind, rec, existing, compared)
        self.records[kind].append(rec)
        return True

    def problem(self, where: tuple, column: str | None, message: str) -> None:
        header = getattr(self, "header_of", {}).get(column, column)
        self.problems.append(Problem(where[0], where[1], where[2], header, message))

    def convert(self, kind: Kind, raw: dict, utc_of: dict, where: tuple) -> dict | None:
        """Typed values of a row's cells; None (with the row's problems noted) when any is wrong."""
        values, ok = {}, True
        columns = _columns_of(kind.name)
        for name, cell in raw.items():
            column = columns[name]
            try:
                values[name] = self.cell(kind, column, cell, utc_of.get(name, False))
            except RowError as error:
                self.problem(where, error.column or name, error.message)
                ok = False
        return values if ok else None

    def cell(self, kind: Kind, column: Column, cell, utc: bool):
        text = text_of(cell) if not isinstance(cell, (datetime, date)) else cell
        if text is None:
            return None
        name, t = column.name, column.type
        if isinstance(text, str) and "\x00" in text:
            raise RowError(name, training_forms.NUL_MESSAGE)
        if t in ("text", "ref"):
            limit = _text_limit(kind.name, name)
            if limit and len(text) > limit:
                raise RowError(name, f"at most {limit} characters (this one has {len(text)}).")
            return text
        if t == "int":
            if isinstance(cell, float) and not cell.is_integer():
                raise RowError(name, f"{cell} is not a whole number.")
            if not re.fullmatch(r"-?[0-9]{1,18}", str(text)):
                raise RowError(name, f"{str(text)[:40]} is not a whole number.")
            number = int(text)
            if not -MAX_ID <= number <= MAX_ID:
                raise RowError(name, f"{number} is out of range.")
            return number
        if t == "number":
            if not re.fullmatch(r"-?[0-9]{1,6}(\.[0-9]{1,12})?", str(text)):
                raise RowError(name, f"{str(text)[:40]} is not a number.")
            return float(text)
        if t == "date":
            return read_day(cell if not isinstance(cell, str) else text, name)
        if t == "instant":
            return read_instant(cell if not isinstance(cell, str) else text, name, self.tz, utc)
        if t == "bool":
            key = normal(text)
            mapped = self._mapped(f"{kind.name}.{name}", text)
            if key in BOOLEAN:
                return BOOLEAN[key]
            if mapped in ("yes", "no"):
                return mapped == "yes"
            self.unknown[f"{kind.name}.{name}"][str(text)] += 1
            raise RowError(name, f"{str(text)[:40]} is not yes or no.")
        if t == "choice":
            return self.choice(kind, column, str(text))
        if t == "term":
            return self.term(column.vocab, str(text), name)
        if t == "email":
            email = str(text).lower()
            user_id = self.users.get(email)
            if user_id is None:
                self.unmatched_users.add(email)
            return user_id
        return text

    def _mapped(self, scope: str, text: str) -> str | None:
        key = normal(text)
        chosen = self.mapping.values.get(scope, {})
        if key in chosen:
            return chosen[key]
        return self.remembered.get(f"value:{scope}", {}).get(key)

    def choice(self, kind: Kind, column: Column, text: str) -> str:
        key = normal(text)
        if key in column.choices:
            return key
        mapped = self._mapped(f"{kind.name}.{column.name}", text)
        if mapped in column.choices:
            return mapped
        self.unknown[f"{kind.name}.{column.name}"][text] += 1
        raise RowError(column.name, f"{text[:40]} is not one of: {', '.join(column.choices)} (map it in the mapping step).")

    def term(self, vocab: str, text: str, column: str):
        key = normal(text)
        if key in self.terms[vocab]:
            return self.terms[vocab][key][0]
        mapped = self._mapped(vocab, text)
        if mapped == CREATE_TERM or (vocab, key) in self.new_terms:
            return self.new_term(vocab, text)
        if mapped and normal(mapped) in self.terms[vocab]:
            return self.terms[vocab][normal(mapped)][0]
        self.unknown[vocab][text] += 1
        label = vocab.replace("_", " ")
        raise RowError(column, f"unknown {label} {text[:40]!r}: map it to a {label} or create it in the mapping step.")

    def new_term(self, vocab: str, name: str, position: int | None = None, active: bool = True, where=None) -> Rec:
        key = (vocab, normal(name))
        if key not in self.new_terms:
            if len(name) > 80:
                raise RowError("name", "a term has at most 80 characters.")
            self.new_terms[key] = Rec("vocabulary", {"kind": vocab, "name": name.strip(), "position": position,
                                                     "active": active}, where)
        return self.new_terms[key]

    # -- the kinds -------------------------------------------------------------------------------
    def run(self, sheets: list[Sheet]) -> Plan:
        plans = [self.sheet_plan(s) for s in sheets]
        by_kind = defaultdict(list)
        for sp in plans:
            if sp.kind:
                by_kind[sp.kind].append(sp)
        self.source: dict[str, dict[int, Rec]] = defaultdict(dict)
        for kind in ORDER:
            for sp in by_kind.get(kind, []):
                getattr(self, f"_plan_{kind}")(sp)
        self._link_replacements()
        return Plan(self.agency, plans, dict(self.records), self.problems,
                    {k: dict(v) for k, v in self.unknown.items()}, self.unmatched_users, list(self.new_terms.values()))

    def _remember_source(self, kind: str, values: dict, rec: Rec, where) -> bool:
        source_id = values.get("id")
        if source_id is None:
            return True
        if source_id in self.source[kind]:
            earlier = self.source[kind][source_id].where
            self.problem(where, "id", f"duplicate of row {earlier[2] if earlier else '?'} (id {source_id}): not imported twice.")
            return False
        self.source[kind][source_id] = rec
        return True

    def _agency_ok(self, values: dict, where) -> bool:
        named = values.get("agency")
        if named and normal(named) != normal(self.agency.name):
            self.problem(where, "agency", f"this row belongs to {named[:60]}; the import is into {self.agency.name}.")
            return False
        return True

    def _match(self, kind: str, rec: Rec, existing: Rec | None, columns: Iterable[str]) -> None:
        """Make `rec` an update or "same" of `existing`, comparing the columns the file gave."""
        if existing is None or existing.id is None:
            return
        rec.id = existing.id
        changes = {}
        for name in columns:
            if name in NOT_STORED:
                continue
            model_column = MODEL_COLUMN.get(name, name)
            new, old = rec.values.get(name), existing.values.get(model_column)
            if isinstance(new, Rec):
                if new.id is None or new.id != old:
                    changes[model_column] = (old, new)
                continue
            if isinstance(old, datetime) and old.tzinfo is None:
                old = old.replace(tzinfo=timezone.utc)
            if new != old and not (new is None and old in (None, False, 0, "")):
                changes[model_column] = (old, new)
        rec.action = "update" if changes else "same"
        rec.changes = changes

    # handlers
    def _plan_handlers(self, sp: SheetPlan) -> None:
        for where, raw, values in self.converted(sp, "handlers"):
            if not self._agency_ok(values, where):
                continue
            if not values.get("name"):
                self.problem(where, "name", "the handler's name is required.")
                continue
            existing = (self.handler_keys["badge"].get(normal(values["badge_number"])) if values.get("badge_number")
                        else self.handler_keys["name"].get(normal(values["name"])))
            if existing is not None and existing.where is not None:
                self.problem(where, "badge_number" if values.get("badge_number") else "name",
                             f"duplicate of row {existing.where[2]}: not imported twice.")
                continue
            if values.get("user") is not None:
                if values["user"] in self.linked_users and (existing is None or existing.values.get("user_id") != values["user"]):
                    self.problem(where, "user", "that account is already linked to another handler.")
                    continue
            rec = Rec("handlers", values, where)
            if self.keep("handlers", rec, existing, raw):
                self._index_handler(rec)

    # dogs
    def _plan_dogs(self, sp: SheetPlan) -> None:
        for where, raw, values in self.converted(sp, "dogs"):
            if not self._agency_ok(values, where):
                continue
            if not values.get("name"):
                self.problem(where, "name", "the dog's name is required.")
                continue
            values["status"] = values.get("status") or ("retired" if values.get("retired_on") else None)
            acquired, retired, born = values.get("acquired_on"), values.get("retired_on"), values.get("date_of_birth")
            if acquired and retired and retired < acquired:
                self.problem(where, "retired_on", "the retired date cannot be before the acquired date.")
                continue
            if acquired and born and acquired < born:
                self.problem(where, "date_of_birth", "the date of birth cannot be after the acquired date.")
                continue
            chip = values.get("microchip_id")
            existing = None
            if chip:
                existing = self.dog_keys["microchip"].get(normal(chip))
                if existing is None:
                    other = self.agency_of_chip(chip)
                    if other is not None:
                        self.problem(where, "microchip_id",
                                     f"microchip {chip} belongs to a dog of another agency ({other}): not imported.")
                        continue
            if existing is None and values.get("call_sign"):
                existing = self.dog_keys["call_sign"].get(normal(values["call_sign"]))
            if existing is None and not chip and not values.get("call_sign"):
                existing = self.dog_keys["name"].get(normal(values["name"]))
            if existing is not None and existing.where is not None:
                self.problem(where, "name", f"duplicate of row {existing.where[2]} (same dog): not imported twice.")
                continue
            rec = Rec("dogs", values, where)
            if self.keep("dogs", rec, existing, raw):
                self._index_dog(rec)

    def agency_of_chip(self, chip: str) -> str | None:
        """The agency whose dog has this microchip (asked once per chip: a file names its dogs on every row)."""
        if chip not in self.chip_agencies:
            self.chip_agencies[chip] = db.session.scalar(select(Agency.name).join(Dog, Dog.agency_id == Agency.id)
                                                         .where(Dog.microchip_id == chip))
        return self.chip_agencies[chip]

    def dog_of(self, values: dict, where) -> Rec | None:
        """The dog a row names: by the file's dog id, else by microchip, call sign or name; noted when unknown."""
        if values.get("dog_id") is not None and values["dog_id"] in self.source["dogs"]:
            return self.source["dogs"][values["dog_id"]]
        text = values.get("dog")
        if text:
            key = normal(text)
            for index in ("microchip", "call_sign", "name"):
                if key in self.dog_keys[index]:
                    return self.dog_keys[index][key]
            other = self.agency_of_chip(text)
            if other is not None:
                self.problem(where, "dog", f"the dog {text[:40]} belongs to another agency ({other}).")
                return None
            self.problem(where, "dog", f"unknown dog {text[:40]!r} (not in the file's dogs nor in {self.agency.name}).")
            return None
        if values.get("dog_id") is not None:
            self.problem(where, "dog_id", f"dog {values['dog_id']} is not in the file's dogs (or was refused).")
        else:
            self.problem(where, "dog", "the dog is required.")
        return None

    def handler_of(self, values: dict, where, dog: Rec | None = None, day: date | None = None,
                   required: bool = True) -> Rec | None | bool:
        """The handler a row names (badge or name, or the file's id); the dog's team of `day` when none is named."""
        if values.get("handler_id") is not None and values["handler_id"] in self.source["handlers"]:
            return self.source["handlers"][values["handler_id"]]
        text = values.get("handler")
        if text:
            key = normal(text)
            found = self.handler_keys["badge"].get(key) or self.handler_keys["name"].get(key)
            if found is None:
                self.problem(where, "handler", f"unknown handler {text[:40]!r} (not in the file's handlers nor in "
                                               f"{self.agency.name}).")
                return False
            return found
        if values.get("handler_id") is not None:
            self.problem(where, "handler_id", f"handler {values['handler_id']} is not in the file's handlers (or was refused).")
            return False
        if dog is not None and day is not None:
            team = self.team_on(dog, day)
            if team is not None:
                return team
        if required:
            self.problem(where, "handler", "no handler named, and no team works this dog on that day.")
            return False
        return None

    # teams
    def _plan_teams(self, sp: SheetPlan) -> None:
        self.teams_of: dict = defaultdict(list)  # dog rec id -> [(starts, ends, handler rec, team rec)]
        handlers_by_id = {r.id: r for r in self.handler_keys["badge"].values()} | \
            {r.id: r for r in self.handler_keys["name"].values()}
        dogs_by_id = {r.id: r for index in self.dog_keys.values() for r in index.values() if r.id}
        existing_by_key = {}
        for row in self.db_rows["teams"]:
            dog, handler = dogs_by_id.get(row["dog_id"]), handlers_by_id.get(row["handler_id"])
            rec = Rec("teams", row, None, "same", row["id"])
            if dog is not None:
                self.teams_of[id(dog)].append((row["starts_on"], row["ends_on"], handler, rec))
            existing_by_key[(row["dog_id"], row["handler_id"], row["starts_on"])] = rec
        for where, raw, values in self.converted(sp, "teams"):
            dog = self.dog_of(values, where)
            handler = self.handler_of(values, where, required=True) if dog else None
            if not dog or not handler:
                continue
            starts, ends = values.get("starts_on"), values.get("ends_on")
            if starts is None:
                self.problem(where, "starts_on", "the team's first day is required.")
                continue
            if ends and ends < starts:
                self.problem(where, "ends_on", "the end date cannot be before the start date.")
                continue
            values["dog"], values["handler"] = dog, handler
            existing = existing_by_key.get((dog.id, handler.id, starts)) if dog.id and handler.id else None
            clash = None
            for s, e, h, other in self.teams_of[id(dog)]:
                if other is existing:
                    continue
                if s <= (ends or date.max) and starts <= (e or date.max):
                    clash = (s, e, h, other)
                    break
            if clash:
                s, e, h, other = clash
                if other.where is not None and h is handler and s == starts:
                    self.problem(where, "starts_on", f"duplicate of row {other.where[2]}: not imported twice.")
                else:
                    self.problem(where, "starts_on", f"this team ({starts}–{ends or 'open'}) overlaps the dog's team "
                                                     f"{s}–{e or 'open'}" + (f" (row {other.where[2]})" if other.where else
                                                                             " already recorded") + ".")
                continue
            rec = Rec("teams", values, where)
            if self.keep("teams", rec, existing, [c for c in raw if c not in ("dog", "handler")]):
                self.teams_of[id(dog)].append((starts, ends, handler, rec))

    def team_on(self, dog: Rec, day: date) -> Rec | None:
        teams = getattr(self, "teams_of", None)
        if teams is None:
            self._plan_teams_from_db()
        for starts, ends, handler, _ in self.teams_of.get(id(dog), []):
            if starts <= day and (ends is None or ends >= day) and handler is not None:
                return handler
        return None

    def _plan_teams_from_db(self) -> None:
        self.teams_of = defaultdict(list)
        handlers_by_id = {r.id: r for index in self.handler_keys.values() for r in index.values() if r.id}
        dogs_by_id = {r.id: r for index in self.dog_keys.values() for r in index.values() if r.id}
        for row in self.db_rows["teams"]:
            dog = dogs_by_id.get(row["dog_id"])
            if dog is not None:
                self.teams_of[id(dog)].append((row["starts_on"], row["ends_on"], handlers_by_id.get(row["handler_id"]),
                                               Rec("teams", row, None, "same", row["id"])))

    # sessions
    def _plan_started(self, sp: SheetPlan, kind_name: str, keys: dict, own_rules) -> None:
        """Sessions and deployments: a dog's record starting at an instant, by its handler of the day.

        `own_rules(values, where)` checks what only the kind has (the training schema, the legal
        authority …) and says whether the row is imported; `keys` finds the record by dog + start.
        """
        new_uuids: dict = {}
        for where, raw, values in self.converted(sp, kind_name):
            dog = self.dog_of(values, where)
            if dog is None:
                continue
            started = values.get("started_at")
            if started is None:
                self.problem(where, "started_at", "the date and start time are required.")
                continue
            if started > self.now + FUTURE_SKEW:
                self.problem(where, "started_at", "the start cannot be in the future.")
                continue
            handler = self.handler_of(values, where, dog, started.astimezone(zone(self.tz)).date())
            if not handler or not own_rules(values, where):
                continue
            values["dog"], values["handler"] = dog, handler
            key = (dog.id, started) if dog.id else (id(dog), started)
            uuid = values.get("client_uuid")
            existing = (self.session_by_uuid.get(uuid) if uuid else None) or keys.get(key)
            if existing is not None and existing.where is not None:
                self.problem(where, "started_at", f"duplicate of row {existing.where[2]} (same dog and start): "
                                                  "not imported twice.")
                continue
            rec = Rec(kind_name, values, where)
            if not self.keep(kind_name, rec, existing, raw):
                continue
            keys[key] = rec
            if uuid:
                self.session_by_uuid[uuid] = rec
                if existing is None:
                    new_uuids[uuid] = (rec, key)
        self._refuse_other_agencies_uuids(new_uuids, keys)

    def _refuse_other_agencies_uuids(self, new_uuids: dict, keys: dict) -> None:
        """New sessions whose tablet id a session of another agency has: refused (asked in chunks, not per row)."""
        taken = set()
        pending = list(new_uuids)
        for start in range(0, len(pending), 1000):
            taken.update(db.session.scalars(select(TrainingSession.client_uuid).where(
                TrainingSession.client_uuid.in_(pending[start:start + 1000]))))
        if not taken:
            return
        refused = set()
        for uuid in taken:
            rec, key = new_uuids[uuid]
            self.problem(rec.where, "client_uuid", "a session of another agency has this tablet id: not imported.")
            refused.add(id(rec))
            keys.pop(key, None)
            self.session_by_uuid.pop(uuid, None)
            if rec.values.get("id") is not None:
                self.source["sessions"].pop(rec.values["id"], None)
        self.records["sessions"] = [r for r in self.records["sessions"] if id(r) not in refused]

    def _plan_sessions(self, sp: SheetPlan) -> None:
        def own_rules(values: dict, where) -> bool:
            values["blank_areas"] = values.get("blank_areas") or 0
            return self._schema_ok("sessions", values, where)

        self._plan_started(sp, "sessions", self.session_keys, own_rules)

    def _schema_ok(self, kind: str, values: dict, where) -> bool:
        """Check a session, hide or false alert row against the training schema (its bounds and messages)."""
        if kind == "sessions":
            form_class, names = training_forms.SessionForm, training_forms.record_columns()
            data = {"dog_id": "0", "started_at": values["started_at"].isoformat(), "client_uuid": values.get("client_uuid")}
        else:
            form_class = training_forms.HideForm if kind == "hides" else training_forms.FalseAlertForm
            names = [n for n, _ in training_forms.fields_of(form_class)]
            data = {}
        for name in names:
            ours = name[:-3] if name.endswith("_id") and name[:-3] in values else name
            value = values.get(ours)
            if isinstance(value, Rec) or (ours != name and value is not None):
                value = 1  # a vocabulary term, found or to be created: its name was checked already
            data[name] = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
        errors = self._verdict(form_class, data)
        for name, message in errors:
            self.problem(where, name[:-3] if name.endswith("_id") and name not in ("client_uuid",) else name, message)
        return not errors

    def _verdict(self, form_class, data: dict) -> tuple[tuple[str, str], ...]:
        """The schema's (field, first error) of a row's data; the same data is judged once.

        Ten thousands of hides repeat a few hundred combinations of values, and the schema's
        fields are judged each on its own value, so the verdict of one is the verdict of all.
        One form per schema is bound once and given each new row (`Form.process`). Sessions are
        not remembered: each has its own start.
        """
        key = (form_class, tuple(data.items()))
        verdict = self.verdicts.get(key)
        if verdict is None:
            form = self.forms.get(form_class)
            if form is None:
                form = self.forms[form_class] = form_class()
            form.process(MultiDict(data))
            form.validate()
            verdict = tuple((f.short_name, f.errors[0]) for f in form
                            if f.errors and not isinstance(f, training_forms.FieldList))
            if form_class is not training_forms.SessionForm and len(self.verdicts) < 100_000:
                self.verdicts[key] = verdict  # (a session's start and tablet id are its own: never seen again)
        return verdict

    def parent_of(self, parent_kind: str, values: dict, where) -> Rec | None:
        """The session (of a hide or false alert) or deployment (of a find) a row belongs to.

        The file's id of it first; else the dog and its start (`session_started_at`, …).
        """
        singular = parent_kind[:-1]
        id_column, start_column = f"{singular}_id", f"{singular}_started_at"
        if values.get(id_column) is not None:
            rec = self.source[parent_kind].get(values[id_column])
            if rec is not None:
                return rec
            if values.get(start_column) is None:
                self.problem(where, id_column, f"{singular} {values[id_column]} is missing from the file's "
                                               f"{parent_kind} (or was refused): this row is not imported.")
                return None
        started = values.get(start_column)
        if started is None:
            self.problem(where, start_column, f"the {singular} is required (its id or its start with the dog).")
            return None
        dog = self.dog_of(values, where)
        if dog is None:
            return None
        keys = self.session_keys if parent_kind == "sessions" else self.deployment_keys
        rec = keys.get((dog.id, started) if dog.id else (id(dog), started))
        if rec is None:
            self.problem(where, start_column, f"no {singular} of {dog.values.get('name')} starts at "
                                              f"{self.agency.format_time(started)}: this row is not imported.")
        return rec

    # hides and false alerts
    def _children(self, parent_kind: str) -> dict:
        """Existing hides, false alerts or finds of the agency, by parent id, in their order."""
        if parent_kind not in self.existing_children:
            model, parent_col, order, parent_model = {
                "hides": (Hide, Hide.session_id, (Hide.position, Hide.id), TrainingSession),
                "false_alerts": (FalseAlert, FalseAlert.session_id, (FalseAlert.id,), TrainingSession),
                "finds": (Find, Find.deployment_id, (Find.id,), Deployment),
                "field_alerts": (FieldAlert, FieldAlert.deployment_id, (FieldAlert.id,), Deployment)}[parent_kind]
            out = defaultdict(list)
            if self.agency.id is not None:
                stmt = (select(model.__table__).join(parent_model, parent_model.id == parent_col)
                        .where(parent_model.agency_id == self.agency.id).order_by(parent_col, *order))
                for row in db.session.execute(stmt):
                    out[row._mapping[parent_col.key]].append(row._mapping)  # a row, lighter than a dict
            self.existing_children[parent_kind] = out
        return self.existing_children[parent_kind]

    def _plan_child(self, sp: SheetPlan, kind_name: str, parent_kind: str, positioned: bool) -> None:
        existing_all = self._children(kind_name)
        seen: dict = defaultdict(dict)  # parent -> position -> rec
        ordinal: dict = defaultdict(int)
        for where, raw, values in self.converted(sp, kind_name):
            parent = self.parent_of(parent_kind, values, where)
            if parent is None:
                continue
            if kind_name in ("hides", "false_alerts") and not self._schema_ok(kind_name, values, where):
                continue
            if kind_name == "hides" and values.get("outcome") == "missed":
                values["seconds_to_find"] = None  # the schema's rule: a missed hide has no time to find
            if kind_name == "hides":
                values["blind"] = bool(values.get("blind"))
            if kind_name == "finds":
                values["evidence"] = values.get("evidence") or "pending"
                values["missed_by_human_search"] = bool(values.get("missed_by_human_search"))
            if kind_name == "field_alerts" and not self._alert_ok(values, parent, where):
                continue
            position = values.get("position") if positioned and values.get("position") is not None else ordinal[id(parent)]
            ordinal[id(parent)] += 1
            if position in seen[id(parent)]:
                self.problem(where, "position", f"duplicate of row {seen[id(parent)][position].where[2]} "
                                                "(same session and position): not imported twice.")
                continue
            if positioned:
                values["position"] = position
            rec = Rec(kind_name, values, where)
            rec.parent = parent
            seen[id(parent)][position] = rec
            match = None
            if parent.id is not None:
                rows = existing_all.get(parent.id, [])
                if positioned and raw.get("position") is not None:
                    match = next((r for r in rows if r["position"] == position), None)
                else:
                    match = rows[position] if position < len(rows) else None
            existing = Rec(kind_name, match, None, "same", match["id"]) if match is not None else None
            compared = [c for c in raw if c not in ("dog", "position") or (c == "position" and positioned)] \
                + (["find"] if kind_name == "field_alerts" else [])  # the alert's find, by its Rec
            if self.keep(kind_name, rec, existing, compared) and rec.action == "same":
                rec.values = {}  # nothing to write, and nothing refers to a hide: a repeat stays small

    def _plan_hides(self, sp: SheetPlan) -> None:
        self._plan_child(sp, "hides", "sessions", positioned=True)

    def _plan_false_alerts(self, sp: SheetPlan) -> None:
        self._plan_child(sp, "false_alerts", "sessions", positioned=False)

    # deployments and finds
    def _plan_deployments(self, sp: SheetPlan) -> None:
        def own_rules(values: dict, where) -> bool:
            if not values.get("legal_authority"):
                self.problem(where, "legal_authority", "choose the legal authority: "
                                                       f"{', '.join(KINDS['deployments'].column('legal_authority').choices)}.")
                return False
            if values.get("duration_minutes") is not None and not 1 <= values["duration_minutes"] <= 1440:
                self.problem(where, "duration_minutes", "a search lasts between 1 and 1440 minutes.")
                return False
            return True

        self._plan_started(sp, "deployments", self.deployment_keys, own_rules)

    def _plan_finds(self, sp: SheetPlan) -> None:
        self._plan_child(sp, "finds", "deployments", positioned=False)

    def _plan_field_alerts(self, sp: SheetPlan) -> None:
        self._plan_child(sp, "field_alerts", "deployments", positioned=False)

    def _alert_ok(self, values: dict, deployment: Rec, where) -> bool:
        """A field alert's outcome rules (the form's): confirmed names one find of its deployment, once."""
        outcome = values.get("outcome")
        if outcome is None:
            self.problem(where, "outcome", "choose confirmed, unverified or explained.")
            return False
        find = self.source["finds"].get(values["find_id"]) if values.get("find_id") is not None else None
        if outcome == "confirmed":
            if find is None or find.parent is not deployment:
                self.problem(where, "find_id", "a confirmed alert names the find recovered there: the id of one of "
                                               "its deployment's finds in this file.")
                return False
            if id(find) in self.alert_finds:
                self.problem(where, "find_id", "another alert already names this find: one find confirms one alert.")
                return False
            self.alert_finds.add(id(find))
        if outcome == "explained" and not (values.get("explanation") or "").strip():
            self.problem(where, "explanation", "say why nothing was recovered.")
            return False
        values["find"] = find if outcome == "confirmed" else None
        if outcome != "explained":
            values["explanation"] = None
        return True

    # case outcomes
    def _plan_outcomes(self, sp: SheetPlan) -> None:
        """One outcome per deployment: matched by its deployment, so a corrected file updates it."""
        existing_by_deployment = {r["deployment_id"]: Rec("outcomes", r, None, "same", r["id"])
                                  for r in self._rows(CaseOutcome, CaseOutcome.agency_id == self.agency.id)}
        seen: dict = {}
        for where, raw, values in self.converted(sp, "outcomes"):
            deployment = self.parent_of("deployments", values, where)
            if deployment is None or not self._outcome_ok(values, where):
                continue
            if id(deployment) in seen:
                self.problem(where, "deployment_id", f"duplicate of row {seen[id(deployment)].where[2]} (one outcome "
                                                     "a deployment): not imported twice.")
                continue
            rec = Rec("outcomes", values, where)
            rec.parent = deployment
            seen[id(deployment)] = rec
            self.keep("outcomes", rec, existing_by_deployment.get(deployment.id) if deployment.id is not None else None,
                      [c for c in raw if c != "dog"])

    def _outcome_ok(self, values: dict, where) -> bool:
        """The outcome's bounds (the model's checks, as messages): counts 0 to the maximum, evidence of examined."""
        for count in OUTCOME_COUNTS:
            if values.get(count) is not None and not 0 <= values[count] <= MAX_OUTCOME_COUNT:
                self.problem(where, count, f"a count from 0 to {MAX_OUTCOME_COUNT}.")
                return False
        examined, evidence = values.get("devices_examined"), values.get("devices_with_evidence")
        if examined is not None and evidence is not None and evidence > examined:
            self.problem(where, "devices_with_evidence", "more devices with evidence than devices examined.")
            return False
        return True

    # certifications
    def _plan_certifications(self, sp: SheetPlan) -> None:
        existing_by_key = {(r["dog_id"], r["certifying_body_id"], r["discipline"], r["issued_on"]):
                           Rec("certifications", r, None, "same", r["id"]) for r in self.db_rows["certifications"]}
        seen = {}
        for where, raw, values in self.converted(sp, "certifications"):
            dog = self.dog_of(values, where)
            if dog is None:
                continue
            handler = self.handler_of(values, where, required=False)
            if handler is False:
                continue
            issued, expires = values.get("issued_on"), values.get("expires_on")
            if issued is None or expires is None:
                self.problem(where, "issued_on" if issued is None else "expires_on", "the dates of issue and expiry are required.")
                continue
            if expires <= issued:
                self.problem(where, "expires_on", "the expiry date must be after the date of issue.")
                continue
            if values.get("body") is None:
                self.problem(where, "body", "the certifying body is required.")
                continue
            for score in ("score_finds", "score_hides", "score_false_alerts"):
                if values.get(score) is not None and values[score] < 0:
                    self.problem(where, score, "cannot be negative.")
                    break
            else:
                if values.get("score_finds") is not None and values.get("score_hides") is not None \
                        and values["score_finds"] > values["score_hides"]:
                    self.problem(where, "score_finds", "there cannot be more finds than hides.")
                    continue
                values["dog"], values["handler"] = dog, handler
                values["discipline"] = values.get("discipline") or "esd"
                values["result"] = values.get("result") or "pass"
                body = values["body"]
                key = (id(dog), id(body) if isinstance(body, Rec) else body, values["discipline"], issued)
                if key in seen:
                    self.problem(where, "issued_on", f"duplicate of row {seen[key].where[2]}: not imported twice.")
                    continue
                existing = existing_by_key.get((dog.id, body, values["discipline"], issued)) if dog.id else None
                rec = Rec("certifications", values, where)
                if self.keep("certifications", rec, existing, [c for c in raw if c != "replaced_by_id"]):
                    seen[key] = rec

    def _link_replacements(self) -> None:
        for rec in self.records.get("certifications", []):
            source = rec.values.pop("replaced_by_id", None)
            if source is None:
                continue
            target = self.source["certifications"].get(source)
            if target is None:
                self.problem(rec.where, "replaced_by_id", f"certification {source} is not in the file: the link is "
                                                          "not imported (the certification is).")
                continue
            rec.values["replaced_by"] = target

    # assessment standards, planned (sealed) sessions and their areas
    def _plan_standards(self, sp: SheetPlan) -> None:
        """Standards by their name in the agency (unique there), so a repeat matches and a corrected file updates."""
        self._plan_standards_from_db()
        for where, raw, values in self.converted(sp, "standards"):
            if not self._agency_ok(values, where):
                continue
            if not values.get("name") or values.get("body") is None:
                self.problem(where, "name" if not values.get("name") else "body",
                             "a standard needs its name and its certifying body.")
                continue
            rate = values.get("min_find_rate_percent")
            if rate is not None and not 0 <= rate <= 100:
                self.problem(where, "min_find_rate_percent", "a find rate from 0 to 100 (%).")
                continue
            if any(values.get(c) is not None and values[c] < 0 for c in ("max_misses", "max_false_responses")):
                self.problem(where, "max_misses" if (values.get("max_misses") or 0) < 0 else "max_false_responses",
                             "cannot be negative (empty: no limit).")
                continue
            existing = self.standards.get(normal(values["name"]))
            if existing is not None and existing.where is not None:
                self.problem(where, "name", f"duplicate of row {existing.where[2]} (same name): not imported twice.")
                continue
            rec = Rec("standards", values, where)
            if self.keep("standards", rec, existing, raw):
                self.standards[normal(values["name"])] = rec

    def _plan_planned_sessions(self, sp: SheetPlan) -> None:
        """Plans by dog + planned day + when they were planned; a closed one names its training session."""
        if not hasattr(self, "standards"):
            self._plan_standards_from_db()
        rows = self._rows(PlannedSession, PlannedSession.agency_id == self.agency.id)
        existing_by_key = {(r["dog_id"], r["planned_on"], _utc(r["created_at"])): Rec("planned_sessions", r, None, "same",
                                                                                      r["id"]) for r in rows}
        plan_of_session = {r["training_session_id"]: r["id"] for r in rows if r["training_session_id"]}
        seen: dict = {}
        sessions_taken: dict = {}
        for where, raw, values in self.converted(sp, "planned_sessions"):
            dog = self.dog_of(values, where)
            if dog is None:
                continue
            day, created = values.get("planned_on"), values.get("created_at")
            if day is None or created is None:
                self.problem(where, "planned_on" if day is None else "created_at",
                             "the planned day and when the plan was made (created_at) are required: with the dog "
                             "they tell plans apart.")
                continue
            handler = self.handler_of(values, where, dog, day)
            if not handler:
                continue
            if values.get("trainer") is None:
                named = text_of(raw.get("trainer"))
                self.problem(where, "trainer", f"no account here has the trainer's e-mail {named[:60]}: accounts are "
                                               "not imported, create it first." if named else "the trainer is required.")
                continue
            values["kind"] = values.get("kind") or "training"
            values["purpose"] = values.get("purpose") or "maintenance"
            if not self._plan_standard_ok(values, where):
                continue
            session = None
            if values.get("session_id") is not None or values.get("session_started_at") is not None:
                session = self.parent_of("sessions", values, where)
                if session is None:
                    continue
            if values.get("closed_at") is not None and session is None:
                self.problem(where, "closed_at", "a closed plan names its training session (session_id in the "
                                                 "file's sessions, or session_started_at).")
                continue
            if session is not None and id(session) in sessions_taken:
                self.problem(where, "session_id", f"row {sessions_taken[id(session)].where[2]} already names this "
                                                  "session: one plan is closed as one session.")
                continue
            if values.get("criteria") is not None:
                try:
                    values["criteria"] = json.loads(values["criteria"])
                except ValueError:
                    values["criteria"] = None
                if not isinstance(values["criteria"], list):
                    self.problem(where, "criteria", "not the export's criteria (a JSON list).")
                    continue
            values["dog"], values["handler"], values["training_session"] = dog, handler, session
            key = (id(dog), day, created)
            if key in seen:
                self.problem(where, "created_at", f"duplicate of row {seen[key].where[2]} (same dog, day and "
                                                  "created_at): not imported twice.")
                continue
            existing = existing_by_key.get((dog.id, day, created)) if dog.id is not None else None
            if session is not None and session.id is not None and plan_of_session.get(session.id, None) not in (
                    None, existing.id if existing is not None else None):
                self.problem(where, "session_id", "another plan of the agency was closed as this session.")
                continue
            rec = Rec("planned_sessions", values, where)
            if self.keep("planned_sessions", rec, existing, [*raw, "training_session"]):
                seen[key] = rec
                if session is not None:
                    sessions_taken[id(session)] = rec

    def _plan_standards_from_db(self) -> None:
        self.standards = {normal(r["name"]): Rec("standards", r, None, "same", r["id"])
                          for r in self._rows(AssessmentStandard, AssessmentStandard.agency_id == self.agency.id)}

    def _plan_standard_ok(self, values: dict, where) -> bool:
        """The model's rule as a message: an assessment names its standard (by name), a training plan none."""
        name = values.get("standard")
        if values["kind"] == "training":
            if name:
                self.problem(where, "standard", "a training plan is judged by no standard (only assessments are).")
                return False
            return True
        standard = self.standards.get(normal(name)) if name else None
        if standard is None:
            self.problem(where, "standard", f"unknown standard {name[:60]!r} (not in the file's standards nor in "
                                            f"{self.agency.name})." if name else "an assessment names its standard.")
            return False
        values["standard"] = standard if standard.where is not None else standard.id
        return True

    def _plan_planned_areas(self, sp: SheetPlan) -> None:
        """Areas by their plan (the file's id) and position: a repeat matches, a corrected file updates."""
        existing_all: dict = defaultdict(dict)
        if self.agency.id is not None:
            for row in db.session.execute(select(PlannedArea.__table__).join(
                    PlannedSession, PlannedSession.id == PlannedArea.session_id)
                    .where(PlannedSession.agency_id == self.agency.id)):
                existing_all[row._mapping["session_id"]][row._mapping["position"]] = row._mapping
        seen: dict = defaultdict(dict)
        ordinal: dict = defaultdict(int)
        for where, raw, values in self.converted(sp, "planned_areas"):
            plan = self.source["planned_sessions"].get(values.get("plan_id"))
            if plan is None:
                self.problem(where, "plan_id", f"plan {values.get('plan_id')} is missing from the file's planned "
                                               "sessions (or was refused): this area is not imported.")
                continue
            if not self._area_ok(values, where):
                continue
            position = values["position"] if values.get("position") is not None else ordinal[id(plan)]
            ordinal[id(plan)] += 1
            if position in seen[id(plan)]:
                self.problem(where, "position", f"duplicate of row {seen[id(plan)][position].where[2]} (same plan "
                                                "and position): not imported twice.")
                continue
            values["position"] = position
            rec = Rec("planned_areas", values, where)
            rec.parent = plan
            seen[id(plan)][position] = rec
            match = existing_all.get(plan.id, {}).get(position) if plan.id is not None else None
            existing = Rec("planned_areas", match, None, "same", match["id"]) if match is not None else None
            self.keep("planned_areas", rec, existing, [*raw, "position"])

    def _area_ok(self, values: dict, where) -> bool:
        """The area's rules (the model's checks, as messages)."""
        if not values.get("label"):
            self.problem(where, "label", "name the area the handler searches.")
            return False
        if (values.get("device_type") is None) != (values.get("hiding_spot") is None):
            self.problem(where, "hiding_spot" if values.get("hiding_spot") is None else "device_type",
                         "a hide has its device type and its hiding spot (a negative area neither).")
            return False
        if (values.get("outcome") == "alert") != (values.get("alert_spot") is not None):
            self.problem(where, "alert_spot", "an alert names where the dog alerted (alert_spot), and only an alert.")
            return False
        seconds = values.get("seconds_to_find")
        if seconds is not None and not 0 <= seconds <= 7200:
            self.problem(where, "seconds_to_find", "from 0 to 7200 seconds.")
            return False
        return True

    # vocabulary
    def _plan_vocabulary(self, sp: SheetPlan) -> None:
        for where, raw, values in self.converted(sp, "vocabulary"):
            if not values.get("kind") or not values.get("name"):
                self.problem(where, "name", "a term needs its vocabulary (kind) and its name.")
                continue
            if normal(values["name"]) in self.terms[values["kind"]]:
                continue  # known here: the installation's own order and state stay
            try:
                self.new_term(values["kind"], values["name"], values.get("position"),
                              values.get("active") is not False, where)
            except RowError as error:
                self.problem(where, error.column, error.message)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@lru_cache(maxsize=None)
def _text_limit(kind: str, name: str) -> int | None:
    """The most characters a text column holds: our bound, else the database's String(n)."""
    if (kind, name) in TEXT_LIMITS:
        return TEXT_LIMITS[(kind, name)]
    model = MODELS.get(kind)
    column = model.__table__.c.get(MODEL_COLUMN.get(name, name)) if model is not None else None
    return getattr(column.type, "length", None) if column is not None else None


@lru_cache(maxsize=None)
def _columns_of(kind_name: str) -> dict[str, Column]:
    """A kind's columns by name (looked up for every cell of every row)."""
    return {column.name: column for column in KINDS[kind_name].columns}


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a plan of a hundred thousand rows is written.

    Its full collections scan every object alive, and a plan keeps each row alive until it is
    written: with it running, the collector takes a quarter of the writer's time. The writer makes
    no cycles; reading a file does (openpyxl's parser), so the planner leaves the collector on.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def plan(sheets: list[Sheet], agency: Agency, mapping: Mapping | None = None, now: datetime | None = None,
         progress: Callable[[int], None] | None = None) -> Plan:
    """Read every sheet and match every row; write nothing (the dry run)."""
    return Planner(agency, mapping or Mapping(), now or utcnow(), progress).run(sheets)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = ["Mapping", "Plan", "Problem", "Refused", "file_sha256", "plan", "sheet_key", "CREATE_TERM"]


def remember(agency: Agency, mapping: Mapping, the_plan: Plan) -> int:
    """Keep the user's column and value choices for the agency's next import; return how many were stored."""
    wanted: dict[tuple[str, str], str] = {}
    kinds = {sheet_key(sp.sheet): sp.kind for sp in the_plan.sheets}
    for key, columns in mapping.columns.items():
        kind = mapping.kinds.get(key) or kinds.get(key)
        if kind:
            for header, target in columns.items():
                if target and normal(header) != normal(target):
                    wanted[(f"column:{kind}", normal(header))] = target
    for scope, values in mapping.values.items():
        for source, target in values.items():
            if target:
                wanted[(f"value:{scope}", normal(source))] = target
    if not wanted:
        return 0
    existing = {(m.scope, m.source): m for m in db.session.scalars(
        select(ImportMapping).where(ImportMapping.agency_id == agency.id))}
    for (scope, source), target in wanted.items():
        row = existing.get((scope, source[:200]))
        if row is None:
            db.session.add(ImportMapping(agency_id=agency.id, scope=scope, source=source[:200], target=target[:80]))
        elif row.target != target:
            row.target = target[:80]
    return len(wanted)
