"""The record kinds an import reads: their columns (the export's names), what each holds, its key.

The columns are those of the CSV export (esd/exports/services.py), so the ZIP from Exports reads
back as it is; a timestamp may come as `…_utc` (UTC) or `…_local` / plain (the agency's local time).
Bounds and allowed values are the models' and the forms' own (the training schema validates each
session, hide and false alert row: see services.py); this module only says what a column is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..models.assessments import AREA_OUTCOMES, BLINDNESS
from ..models.assessments import KINDS as PLAN_KINDS
from ..models.assessments import RESULTS as ASSESSMENT_RESULTS
from ..models.certifications import DISCIPLINES, RESULTS
from ..models.core import DOG_STATUSES, SEXES
from ..models.deployments import ALERT_OUTCOMES, EVIDENCE, LEGAL_AUTHORITIES
from ..models.outcomes import MAX_OUTCOME_COUNT, OUTCOME_COUNTS
from ..models.training import CONCEALMENTS, HEIGHTS, OUTCOMES, PRECIPITATIONS, PURPOSES, WINDS
from ..models.vocab import VOCAB_KINDS


@dataclass(frozen=True)
class Column:
    """One column of a kind: `type` is text, int, number, date, instant, bool, choice, term, ref or email."""

    name: str
    type: str = "text"
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    vocab: str | None = None  # the vocabulary of a `term` column
    ref: str | None = None  # the kind a `ref` column names
    aliases: tuple[str, ...] = ()

    @property
    def allowed(self) -> str:
        if self.choices:
            return ", ".join(self.choices)
        if self.type == "term":
            return f"a {self.vocab.replace('_', ' ')} of the vocabulary (unknown ones are mapped or created)"
        return {"date": "YYYY-MM-DD (or an Excel date)", "instant": "YYYY-MM-DD HH:MM (the agency's time; "
                "a column ending _utc is UTC)", "bool": "yes or no", "int": "a whole number",
                "number": "a number", "email": "an e-mail address of an account here"}.get(self.type, "text")


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()  # sheet or file names that mean this kind
    key_help: str = ""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _c(*args, **kwargs) -> Column:
    return Column(*args, **kwargs)


SOURCE_ID = _c("id", "int", help="The record's id in the file (the export's id): other rows of the file refer to it.")
CREATED = _c("created_at", "instant", help="When the record was first entered (kept from the old system).")
ARCHIVED = _c("archived_at", "instant", help="When the record was archived, if it was.")
DOG_REF = (_c("dog_id", "int", help="The dog's id in the file's dogs sheet."),
           _c("dog", "ref", ref="dogs", help="The dog: microchip id, call sign or name.",
              aliases=("dog name", "k9", "canine", "call sign")))
HANDLER_REF = (_c("handler_id", "int", help="The handler's id in the file's handlers sheet."),
               _c("handler", "ref", ref="handlers", help="The handler: badge number or name.",
                  aliases=("handler name", "officer")))

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("vocabulary", "Vocabulary terms", (
        _c("kind", "choice", True, "Which vocabulary.", choices=VOCAB_KINDS),
        _c("name", "text", True, "The term."),
        _c("position", "int", help="Its place in lists."),
        _c("active", "bool", help="no: kept for old records, not offered for new ones."),
    ), aliases=("vocabularies", "terms"), key_help="kind + name"),
    Kind("handlers", "Handlers", (
        SOURCE_ID,
        _c("agency", help="The agency (must be the one imported into, when given)."),
        _c("name", "text", True, "The handler's full name.", aliases=("handler name", "handler", "officer")),
        _c("badge_number", help="Badge number, unique in the agency.", aliases=("badge", "badge no")),
        _c("phone"), _c("email", help="Contact e-mail."),
        _c("user", "email", help="The e-mail of the handler's login here, to link it (accounts are not created)."),
        ARCHIVED, CREATED,
    ), key_help="badge number, else name"),
    Kind("dogs", "Dogs", (
        SOURCE_ID,
        _c("agency", help="The agency (must be the one imported into, when given)."),
        _c("name", "text", True, "The dog's name.", aliases=("dog name", "dog", "k9")),
        _c("call_sign", aliases=("call sign", "callsign")), _c("breed"),
        _c("sex", "choice", choices=SEXES), _c("date_of_birth", "date", aliases=("dob", "born")),
        _c("microchip_id", help="Unique in the installation.", aliases=("microchip", "chip")),
        _c("status", "choice", choices=DOG_STATUSES), _c("acquired_on", "date"), _c("retired_on", "date"),
        ARCHIVED, CREATED,
    ), aliases=("k9s", "canines"), key_help="microchip id, else call sign, else name"),
    Kind("teams", "Teams", (
        SOURCE_ID, *DOG_REF, *HANDLER_REF,
        _c("starts_on", "date", True, "The team's first day.", aliases=("start", "from")),
        _c("ends_on", "date", help="Its last day (empty while it works).", aliases=("end", "to")),
        _c("notes"), CREATED,
    ), aliases=("team assignments", "teams"), key_help="dog + handler + first day"),
    Kind("sessions", "Training sessions", (
        SOURCE_ID,
        _c("started_at", "instant", True, "Date and start time.", aliases=("date", "start", "session date")),
        *DOG_REF, *HANDLER_REF,
        _c("duration_minutes", "int", True, "Minutes, 1 to 600.", aliases=("duration", "minutes")),
        _c("location"), _c("environment", "term", vocab="environment"),
        _c("purpose", "choice", True, choices=PURPOSES),
        _c("temperature_c", "number", help="°C."), _c("wind", "choice", choices=WINDS),
        _c("precipitation", "choice", choices=PRECIPITATIONS), _c("blank_areas", "int"),
        _c("notes"), _c("signed_off_at", "instant"), _c("signed_off_by", "email"), ARCHIVED,
        _c("client_uuid", help="The tablet's id of the session (matched first when given)."),
        _c("created_by", "email"), CREATED, _c("updated_at", "instant"),
    ), aliases=("training sessions", "training"), key_help="dog + start time (or the tablet's id)"),
    Kind("hides", "Hides", (
        SOURCE_ID,
        _c("session_id", "int", help="The session's id in the file's sessions sheet."),
        _c("session_started_at", "instant", help="Or: the session's start (with the dog).",
           aliases=("session date", "date")),
        *DOG_REF,
        _c("position", "int", help="Its place in the session (else the order of the rows)."),
        _c("device_type", "term", True, vocab="device_type", aliases=("device", "item", "aid")),
        _c("hiding_spot", "term", True, vocab="hiding_spot", aliases=("spot", "location", "hide location")),
        _c("height", "choice", choices=HEIGHTS), _c("concealment", "choice", choices=CONCEALMENTS),
        _c("aid_set_minutes", "int", aliases=("aid set", "odor dwell")), _c("blind", "bool"),
        _c("outcome", "choice", True, choices=OUTCOMES, aliases=("result",)),
        _c("seconds_to_find", "int", aliases=("time to find", "seconds")),
    ), key_help="session + position"),
    Kind("false_alerts", "False alerts", (
        SOURCE_ID, _c("session_id", "int"), _c("session_started_at", "instant"), *DOG_REF,
        _c("hiding_spot", "term", vocab="hiding_spot"), _c("location_note"), _c("note"),
    ), aliases=("false alerts",), key_help="session + order in the file"),
    Kind("deployments", "Deployments", (
        SOURCE_ID,
        _c("started_at", "instant", True, "Date and start time of the search.", aliases=("date",)),
        *DOG_REF, *HANDLER_REF,
        _c("requesting_agency"), _c("case_number", aliases=("case", "case no")),
        _c("legal_authority", "choice", True, choices=LEGAL_AUTHORITIES),
        _c("location_type", "term", vocab="location_type"), _c("duration_minutes", "int"),
        _c("notes"), ARCHIVED, _c("created_by", "email"), CREATED,
    ), aliases=("searches",), key_help="dog + start time"),
    Kind("finds", "Finds", (
        SOURCE_ID, _c("deployment_id", "int"), _c("deployment_started_at", "instant"), *DOG_REF,
        _c("device_type", "term", True, vocab="device_type"), _c("hiding_spot", "term", vocab="hiding_spot"),
        _c("missed_by_human_search", "bool"), _c("evidence", "choice", choices=EVIDENCE), _c("notes"),
    ), key_help="deployment + order in the file"),
    Kind("field_alerts", "Field alerts", (
        SOURCE_ID, _c("deployment_id", "int"), _c("deployment_started_at", "instant"), *DOG_REF,
        _c("hiding_spot", "term", vocab="hiding_spot"), _c("location_note", aliases=("where", "location")),
        _c("outcome", "choice", True, choices=ALERT_OUTCOMES, aliases=("alert outcome",)),
        _c("find_id", "int", help="For a confirmed alert: the id (in this file) of the find recovered there."),
        _c("explanation", help="For an explained alert: why nothing was recovered."),
    ), aliases=("alerts", "field alerts"), key_help="deployment + order in the file"),
    Kind("outcomes", "Case outcomes", (
        SOURCE_ID, _c("deployment_id", "int", help="The deployment's id in the file's deployments sheet."),
        _c("deployment_started_at", "instant", help="Or: the deployment's start (with the dog)."), *DOG_REF,
        *(_c(count, "int", help=f"{count.replace('_', ' ').capitalize()}: 0 to {MAX_OUTCOME_COUNT}, empty when "
                                "not known yet.") for count in OUTCOME_COUNTS),
        _c("updated_by", "email", help="Who last recorded it (an account here)."), _c("updated_at", "instant"),
    ), aliases=("case outcomes",), key_help="deployment (one outcome each)"),
    Kind("certifications", "Certifications", (
        SOURCE_ID, *DOG_REF, *HANDLER_REF,
        _c("body", "term", True, vocab="certifying_body", aliases=("certifying body",)),
        _c("discipline", "choice", choices=DISCIPLINES), _c("issued_on", "date", True),
        _c("expires_on", "date", True), _c("evaluator"), _c("result", "choice", choices=RESULTS),
        _c("score_finds", "int"), _c("score_hides", "int"), _c("score_false_alerts", "int"), _c("notes"),
        _c("replaced_by_id", "int", help="The id (in this file) of the certification that replaced it."),
        _c("certificate_name", help="The certificate's file name (the file itself is not imported)."),
        _c("created_by", "email"), CREATED, ARCHIVED,
    ), key_help="dog + body + discipline + date of issue"),
    Kind("standards", "Assessment standards", (
        SOURCE_ID, _c("agency", help="The agency (must be the one imported into, when given)."),
        _c("name", "text", True, "The standard's name, unique in the agency."),
        _c("body", "term", True, vocab="certifying_body", aliases=("certifying body",)),
        _c("min_find_rate_percent", "int", help="0 to 100."), _c("max_misses", "int"),
        _c("max_false_responses", "int"), _c("negative_search_required", "bool"), ARCHIVED, CREATED,
    ), aliases=("assessment standards",), key_help="name (in the agency)"),
    Kind("planned_sessions", "Planned sessions", (
        SOURCE_ID, _c("planned_on", "date", True, "The day it is planned for."), *DOG_REF, *HANDLER_REF,
        _c("trainer", "email", help="The trainer who planned it (an account here)."),
        _c("location"), _c("environment", "term", vocab="environment"), _c("purpose", "choice", choices=PURPOSES),
        _c("blindness", "choice", True, choices=BLINDNESS), _c("placed_by"),
        _c("observer", "email", help="Who observes and records (an account here)."), _c("knew"),
        _c("kind", "choice", choices=PLAN_KINDS), _c("evaluator"),
        _c("body", "term", vocab="certifying_body", aliases=("certifying body",)),
        _c("standard", help="An assessment's standard, by name (the file's standards or the agency's)."),
        _c("notes"), _c("started_at", "instant"), _c("closed_at", "instant"), _c("closed_by", "email"),
        _c("session_id", "int", help="A closed plan's training session: its id in the file's sessions."),
        _c("session_started_at", "instant", help="Or: that session's start (with the dog)."),
        _c("result", "choice", choices=ASSESSMENT_RESULTS),
        _c("criteria", help="An assessment's criteria as judged on closing (the export's JSON)."),
        CREATED, _c("updated_at", "instant"),
    ), aliases=("plans", "planned sessions"), key_help="dog + planned day + when it was planned (created_at)"),
    Kind("planned_areas", "Planned areas", (
        SOURCE_ID, _c("plan_id", "int", True, "The plan's id in the file's planned sessions."),
        _c("position", "int", help="Its place in the plan (else the order of the rows)."),
        _c("label", "text", True, "The area as the handler is told it."),
        _c("environment", "term", vocab="environment"), _c("device_type", "term", vocab="device_type"),
        _c("hiding_spot", "term", vocab="hiding_spot"), _c("height", "choice", choices=HEIGHTS),
        _c("concealment", "choice", choices=CONCEALMENTS), _c("aid"), _c("placed_by"), _c("placed_at", "instant"),
        _c("outcome", "choice", choices=AREA_OUTCOMES), _c("alert_spot", "term", vocab="hiding_spot"),
        _c("alert_note"), _c("seconds_to_find", "int"), _c("recorded_by", "email"), _c("recorded_at", "instant"),
    ), aliases=("areas", "planned areas"), key_help="plan + position"),
)}

# Written in this order: each kind's references are to kinds before it.
ORDER = ("vocabulary", "handlers", "dogs", "teams", "sessions", "hides", "false_alerts", "deployments",
         "finds", "field_alerts", "outcomes", "certifications", "standards", "planned_sessions", "planned_areas")
IGNORE = "-"  # a column mapped to nothing
# Columns of the export that an import reads from another column (the zone) or ignores (a name beside an id).
IGNORED_EXPORT_COLUMNS = {"time_zone"}


@lru_cache(maxsize=65536)
def normal(text) -> str:
    """A header or value as compared: lower case, words joined by single underscores (a file repeats its values)."""
    return re.sub(r"[^0-9a-z]+", "_", str(text).strip().lower()).strip("_")


def kind_of_sheet(name: str, header: list[str]) -> str | None:
    """The kind a sheet holds, from its name ("hides.csv", "Training sessions") or failing that its header."""
    key = normal(name)
    for kind in KINDS.values():
        if key == kind.name or key in {normal(a) for a in kind.aliases} or key == normal(kind.title):
            return kind.name
    headers = {normal(h) for h in header}
    best, score = None, 0
    for kind in KINDS.values():
        hits = sum(1 for c in kind.columns if c.required and (c.name in headers or any(
            normal(a) in headers for a in c.aliases)))
        if hits > score and hits == sum(1 for c in kind.columns if c.required):
            best, score = kind.name, hits
    return best


@dataclass
class HeaderMatch:
    """How one header of a sheet is read: the column, and whether its times are UTC."""

    column: str | None
    utc: bool = False
    proposed: bool = False  # matched by an alias or a remembered mapping, shown for confirmation
    reason: str = field(default="")


def match_header(kind: Kind, header: str, remembered: dict[str, str]) -> HeaderMatch:
    """Our column for a header: its own name (with _utc/_local), a remembered mapping, an alias."""
    key = normal(header)
    if header in remembered or key in remembered:
        target = remembered.get(header, remembered.get(key))
        if target == IGNORE:
            return HeaderMatch(None, proposed=True, reason="remembered: not imported")
        name, utc = _split_zone(target)
        if kind.column(name):
            return HeaderMatch(name, utc, proposed=True, reason="remembered")
    name, utc = _split_zone(key)
    if kind.column(name):
        return HeaderMatch(name, utc)
    if key in IGNORED_EXPORT_COLUMNS:
        return HeaderMatch(None)
    for column in kind.columns:
        if key in {normal(a) for a in column.aliases}:
            return HeaderMatch(column.name, proposed=True, reason="similar name")
    return HeaderMatch(None, reason="unknown")


def _split_zone(key: str) -> tuple[str, bool]:
    if key.endswith("_utc"):
        return key[:-4], True
    if key.endswith("_local"):
        return key[:-6], False
    return key, False
