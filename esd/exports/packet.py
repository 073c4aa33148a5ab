"""The dog's reliability record (the discovery packet), as of a date.

Every figure comes from `esd.reports.metrics` — the same functions the charts and dashboards
use — so the packet can never disagree with them. The SHA-256 digest is taken over the source
rows' content the packet was built from, not over the rendered PDF nor the database ids: a copy
built later from unchanged records, or in another database they were moved to, gives the same
digest, and a change to any of them gives another.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from ..assessments import record as assessment_record
from ..content_digest import content_digest
from ..dates import format_local, zone_label
from ..extensions import db
from ..models import (AuditEntry, Certification, Deployment, Dog, FalseAlert, FieldAlert, Find, Handler, Hide,
                      TeamAssignment, TrainingSession, User, VocabularyTerm)
from ..reports import cache as report_cache
from ..rates import Rate, rate_text
from ..reports import charts, metrics
from .pdf import Document, Facts, Grid, Heading, Picture, Text

# The training windows a court asks about, in days up to and including the as-of date.
WINDOWS = (("30 days", 30), ("90 days", 90), ("12 months", 365))
CHANGE_ACTIONS = ("update", "archive", "delete")
PACKET_CHARTS = ("device_type", "hiding_spot", "heatmap", "trend")


def _num(value, digits=1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@dataclass
class Window:
    label: str
    start: date
    end: date
    totals: metrics.TrainingTotals
    blind: Rate
    known: Rate
    blanks: int


@dataclass
class Packet:
    dog: Dog
    as_of: date
    generated_at: datetime
    generated_by: User
    digest: str
    teams: list[TeamAssignment]
    team_on_date: TeamAssignment | None
    certifications: list[Certification]
    windows: list[Window]
    months: list[metrics.Month]
    device_rates: list[Rate]
    spot_rates: list[Rate]
    impact: metrics.Impact
    deployments: list[Deployment]
    field_year: metrics.Impact  # the deployments of the twelve months up to the as-of date
    changes: list[AuditEntry]
    charts: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name -> (png, alt)
    assessments: assessment_record.AssessmentRecord | None = None  # blind vs known, assessments
    # Set once the packet is registered (esd/verification/services.py): how anyone can check it.
    code: str = ""
    verify_url: str = ""
    audit_head: str = ""
    qr_png: bytes = b""

    @property
    def target_hours(self) -> int:
        return self.dog.agency.monthly_training_target_hours

    @property
    def valid_certifications(self) -> list[Certification]:
        return [c for c in self.certifications
                if c.result == "pass" and c.issued_on <= self.as_of <= c.expires_on and c.archived_at is None]


def _filters(dog: Dog, start: date | None, end: date, blind_only: bool = False) -> metrics.Filters:
    return metrics.Filters(agency_ids=(dog.agency_id,), dog_id=dog.id, start=start, end=end,
                           blind_only=blind_only, tz=dog.agency.timezone)


def blank_areas_searched(filters: metrics.Filters) -> int:
    """Blank areas (with nothing hidden) the dog searched in the period."""
    f = filters
    clauses = [TrainingSession.archived_at.is_(None), TrainingSession.dog_id == f.dog_id]
    if f.start:
        clauses.append(TrainingSession.started_at >= f.start_utc())
    if f.end:
        clauses.append(TrainingSession.started_at < f.end_utc())
    return int(db.session.scalar(select(func.coalesce(func.sum(TrainingSession.blank_areas), 0))
                                 .where(*clauses)) or 0)


def _start_utc(dog: Dog, day: date) -> datetime:
    """The agency's local midnight starting `day`."""
    return datetime.combine(day, datetime.min.time(), ZoneInfo(dog.agency.timezone))


def _window(dog: Dog, label: str, days: int, as_of: date) -> Window:
    start = as_of - timedelta(days=days - 1)
    filters = _filters(dog, start, as_of)
    totals = metrics.training_totals(filters)
    blind = metrics.find_rate(_filters(dog, start, as_of, blind_only=True))
    known = Rate(totals.found - blind.found, totals.hides - blind.n, "Known hides")
    return Window(label, start, as_of, totals, Rate(blind.found, blind.n, "Blind hides"), known,
                  blank_areas_searched(filters))


# --------------------------------------------------------------------------- source rows and digest

def _rows(model, *where, order=None):
    table = model.__table__
    stmt = select(table).where(*where).order_by(*(order or [table.c.id]))
    return [dict(row._mapping) for row in db.session.execute(stmt)]


def source_rows(dog: Dog, as_of: date) -> dict[str, list[dict]]:
    """Every row the packet is built from, as of `as_of` (the digest covers exactly these)."""
    tz = ZoneInfo(dog.agency.timezone)
    end_utc = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tz)
    year_start = datetime.combine(as_of - timedelta(days=364), datetime.min.time(), tz)
    sessions = select(TrainingSession.id).where(
        TrainingSession.dog_id == dog.id, TrainingSession.started_at >= year_start,
        TrainingSession.started_at < end_utc)
    deployments = select(Deployment.id).where(Deployment.dog_id == dog.id, Deployment.started_at < end_utc)
    teams = select(TeamAssignment.id).where(TeamAssignment.dog_id == dog.id, TeamAssignment.starts_on <= as_of)
    certifications = select(Certification.id).where(Certification.dog_id == dog.id,
                                                    Certification.issued_on <= as_of)
    rows = {
        "dog": _rows(Dog, Dog.id == dog.id),
        "team_assignment": _rows(TeamAssignment, TeamAssignment.id.in_(teams)),
        "handler": _rows(Handler, Handler.id.in_(select(TeamAssignment.handler_id).where(
            TeamAssignment.id.in_(teams)))),
        "certification": _rows(Certification, Certification.id.in_(certifications)),
        "training_session": _rows(TrainingSession, TrainingSession.id.in_(sessions)),
        "hide": _rows(Hide, Hide.session_id.in_(sessions)),
        "false_alert": _rows(FalseAlert, FalseAlert.session_id.in_(sessions)),
        "deployment": _rows(Deployment, Deployment.id.in_(deployments)),
        "find": _rows(Find, Find.deployment_id.in_(deployments)),
        "field_alert": _rows(FieldAlert, FieldAlert.deployment_id.in_(deployments)),
    }
    # The names the rows refer to (a renamed device type changes the record; a new one does not).
    term_ids = {row[key] for records in rows.values() for row in records for key in
                ("device_type_id", "hiding_spot_id", "environment_id", "location_type_id",
                 "certifying_body_id") if row.get(key) is not None}
    rows["vocabulary_term"] = _rows(VocabularyTerm, VocabularyTerm.id.in_(term_ids))
    touched = [and_(AuditEntry.entity == name, AuditEntry.entity_id.in_([r["id"] for r in records]))
               for name, records in rows.items() if records and name != "vocabulary_term"]
    rows["audit_entry"] = _rows(AuditEntry, AuditEntry.action.in_(CHANGE_ACTIONS), or_(*touched)) \
        if touched else []
    rows.update(assessment_record.source_rows(dog, end_utc))  # closed plans only: open ones are sealed
    return rows


def digest(rows: dict[str, list[dict]]) -> str:
    """SHA-256 of the rows' content, ids replaced by what they refer to (esd/content_digest.py)."""
    return content_digest(rows)


# --------------------------------------------------------------------------- building

def build_packet(dog: Dog, as_of: date, by: User, now: datetime, with_charts: bool = True) -> Packet:
    """Assemble the reliability record of `dog` as of `as_of` (the caller has checked scope)."""
    rows = source_rows(dog, as_of)
    year = _filters(dog, as_of - timedelta(days=364), as_of)
    teams = sorted((t for t in dog.teams if t.starts_on <= as_of), key=lambda t: t.starts_on)
    team_on_date = next((t for t in reversed(teams) if t.active_on(as_of)), None)
    ids = {name: [r["id"] for r in records] for name, records in rows.items()}
    certifications = list(db.session.scalars(select(Certification).where(
        Certification.id.in_(ids["certification"])).order_by(Certification.issued_on)))
    # The field record lists every deployment with its finds and alerts: one query each, not one per deployment.
    deployments = list(db.session.scalars(select(Deployment).where(
        Deployment.id.in_(ids["deployment"])).options(selectinload(Deployment.finds), selectinload(Deployment.alerts))
        .order_by(Deployment.started_at)))
    changes = list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.id.in_(ids["audit_entry"])).order_by(AuditEntry.at, AuditEntry.id)))
    packet = Packet(
        dog=dog, as_of=as_of, generated_at=now, generated_by=by, digest=digest(rows), teams=teams,
        team_on_date=team_on_date, certifications=certifications,
        windows=[_window(dog, label, days, as_of) for label, days in WINDOWS],
        months=metrics.monthly_training(_filters(dog, date(as_of.year - 1, as_of.month, 1), as_of)),
        device_rates=metrics.find_rates(year, by="device_type"),
        spot_rates=metrics.find_rates(year, by="hiding_spot"),
        impact=metrics.deployment_impact(_filters(dog, None, as_of)),
        deployments=deployments, field_year=metrics.deployment_impact(year), changes=changes)
    packet.assessments = assessment_record.build(dog, _start_utc(dog, as_of - timedelta(days=364)),
                                                 _start_utc(dog, as_of + timedelta(days=1)))
    if with_charts:
        for name in PACKET_CHARTS:
            packet.charts[name] = _chart(name, year, packet.digest)
    return packet


def _chart(name: str, year: metrics.Filters, source_digest: str) -> tuple[bytes, str]:
    """One chart of the packet (PNG and its text), drawn once per state of the rows it shows.

    Keyed on the packet's digest rather than the report cache's data version: that version moves
    with every audit entry of the agency, and each packet built writes one, so every packet would
    draw its charts again. The digest covers every row these charts read (the dog's sessions,
    hides and false alerts of the twelve months, the names of their terms) and moves with any change.
    """
    def draw() -> tuple[bytes, str]:
        table = charts.CHARTS[name].table(year)
        return charts.render(table, "png"), table.alt
    return report_cache.remember(("packet-chart", name, year.key(), source_digest), draw)


# --------------------------------------------------------------------------- the document

def _local(moment: datetime | None, tz: str) -> str:
    return format_local(moment, tz)


def _rate_rows(rates: list[Rate]) -> list[list]:
    return [[r.label, r.n, r.found, f"{100 * r.rate:.1f}" if r.n else "–",
             f"{100 * r.low:.1f}–{100 * r.high:.1f}"] for r in rates]


def document(packet: Packet) -> Document:
    """The packet as document blocks, shared by the printable page and the PDF."""
    dog, tz = packet.dog, packet.dog.agency.timezone
    team = packet.team_on_date
    blocks = [
        Heading("The dog"),
        Facts([("Name", dog.name), ("Call sign", dog.call_sign or ""), ("Agency", dog.agency.name),
               ("Breed", dog.breed or ""), ("Sex", dog.sex or ""),
               ("Date of birth", str(dog.date_of_birth or "")), ("Microchip", dog.microchip_id or ""),
               ("Status", dog.status.replace("_", " ")), ("Acquired", str(dog.acquired_on or "")),
               ("Retired", str(dog.retired_on or "")),
               (f"Team on {packet.as_of}", team.handler.name if team else "no handler assigned")]),
        Heading("Handlers over time", 2),
        Grid(["Handler", "Badge", "From", "To"],
             [[t.handler.name, t.handler.badge_number or "", t.starts_on, t.ends_on or "—"]
              for t in packet.teams], empty="No team assignments."),
        Heading("Certifications"),
        Text(f"Valid on {packet.as_of}: " + (", ".join(
            f"{c.certifying_body.name} {c.discipline.upper()} (issued {c.issued_on}, expires {c.expires_on})"
            for c in packet.valid_certifications) or "none") + "."),
        Grid(["Body", "Discipline", "Handler", "Issued", "Expires", "Result", "Score", "Evaluator"],
             [[c.certifying_body.name, c.discipline.upper(), c.handler.name if c.handler else "",
               c.issued_on, c.expires_on, c.result,
               (f"{c.score_finds}/{c.score_hides} finds" if c.score_hides is not None else "")
               + (f", {c.score_false_alerts} false alerts" if c.score_false_alerts is not None else ""),
               c.evaluator or ""] for c in packet.certifications],
             caption="Full certification history up to the as-of date.", empty="No certifications."),
        Heading("Training"),
        Grid(["Window", "Sessions", "Hours", "Hides", "Find rate (95% CI)", "Blind hides", "Known hides",
              "False alerts", "per 100 hides", "per hour", "Blank areas"],
             [[f"{w.label} ({w.start} – {w.end})", w.totals.sessions, _num(w.totals.hours),
               w.totals.hides, rate_text(w.totals.find_rate, 1), rate_text(w.blind, 1), rate_text(w.known, 1),
               w.totals.false_alerts, _num(w.totals.false_alerts_per_100_hides),
               _num(w.totals.false_alerts_per_hour, 2), w.blanks] for w in packet.windows]),
        Heading("Training hours per month", 2),
        Grid(["Month", "Hours", f"Target ({packet.target_hours} h)", "Hides", "Find rate"],
             [[m.month.strftime("%Y-%m"), _num(m.hours),
               "met" if m.hours >= packet.target_hours else f"{_num(packet.target_hours - m.hours)} h short",
               m.hides, rate_text(m.rate, 1)] for m in packet.months], empty="No training in the period."),
        Heading("Find rate per device type (12 months)", 2),
        Grid(["Device type", "Hides", "Found", "Find rate %", "95% CI %"], _rate_rows(packet.device_rates),
             empty="No hides."),
        Heading("Find rate per hiding spot (12 months)", 2),
        Grid(["Hiding spot", "Hides", "Found", "Find rate %", "95% CI %"], _rate_rows(packet.spot_rates),
             empty="No hides."),
    ]
    for name, (png, alt) in packet.charts.items():
        blocks.append(Picture(png, alt))
    blocks += assessment_record.blocks(packet.assessments)
    impact = packet.impact
    blocks += [
        Heading("Field record"),
        Facts([("Deployments", str(impact.deployments)), ("Devices found", str(impact.devices_found)),
               ("Found after the human search missed them", str(impact.found_after_human_missed)),
               ("Finds that held evidence", str(impact.finds_with_evidence)),
               ("Finds awaiting the forensic exam", str(impact.finds_evidence_pending))]),
        Grid(["Date", "Case", "Authority", "Requesting agency", "Finds", "Missed by humans", "Evidence",
              "Alerts (confirmed)"],
             [[_local(d.started_at, tz), d.case_number or "", d.legal_authority.replace("_", " "),
               d.requesting_agency or "", len(d.finds), sum(f.missed_by_human_search for f in d.finds),
               ", ".join(f.evidence for f in d.finds),
               f"{len(d.alerts)} ({sum(a.outcome == 'confirmed' for a in d.alerts)})" if d.alerts else ""]
              for d in packet.deployments], empty="No deployments up to the as-of date."),
        *field_alert_blocks(packet),
        Heading("Record changes"),
        Grid(["When", "By", "Record", "Change", "Reason"],
             [[_local(e.at, tz), e.user.name if e.user else "system", f"{e.entity} #{e.entity_id}",
               "; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in (e.changes or {}).items()), e.reason or ""]
              for e in packet.changes],
             caption="Every change made after a record was first entered, with the reason given.",
             empty="No record was changed after it was entered."),
        Heading("Integrity"),
        Facts([("Generated", f"{_local(packet.generated_at, tz)} ({zone_label(tz)})"),
               ("Generated by", f"{packet.generated_by.name} <{packet.generated_by.email}>"),
               ("SHA-256 of the source records", packet.digest)]
              + ([("Verification code", packet.code), ("Check at", packet.verify_url),
                  ("Audit log head", packet.audit_head)] if packet.code else [])),
        Text("The digest is computed over the content of the records this record was built from, not "
             "their database ids. A copy built later from the same, unchanged records shows the same "
             "digest, even in another database they were moved to; any change shows another."),
    ]
    if packet.code:
        blocks += [
            Text(f"Anyone can check this record without an account: open {packet.verify_url} (or scan the "
                 f"code below) and enter {packet.code}. The page says whether this installation issued "
                 "it, and whether the records behind it are unchanged today. The audit log head is the "
                 "hash of the last entry of the installation's hash-chained audit log when this record "
                 "was made; `flask esd audit verify` on the installation shows whether that log is intact."),
            Picture(packet.qr_png, f"QR code of {packet.verify_url}", width_in=1.4),
        ]
    return Document(title=f"Reliability record: {dog.name}", subtitle=(
        f"{dog.agency.name} · as of {packet.as_of} · ESD / TPPO detection"),
        footer=f"{dog.name} reliability record as of {packet.as_of} · SHA-256 {packet.digest[:16]}…"
               + (f" · verification code {packet.code}" if packet.code else ""),
        blocks=blocks)


def field_alert_blocks(packet: Packet) -> list:
    """The field alerts: field accuracy with its interval, and every alert where nothing was recovered, dated."""
    tz = packet.dog.agency.timezone

    def accuracy(impact: metrics.Impact) -> str:
        return rate_text(impact.field_accuracy, 1) if impact.alerts else "no alerts recorded"
    start = packet.as_of - timedelta(days=364)
    open_alerts = [(d, a) for d in packet.deployments if d.archived_at is None
                   for a in d.alerts if a.outcome != "confirmed"]
    return [
        Heading("Field alerts", 2),
        Facts([("Alerts up to the as-of date", str(packet.impact.alerts)),
               ("Confirmed (a device recovered there)", str(packet.impact.alerts_confirmed)),
               ("Unverified (nothing recovered)", str(packet.impact.unverified_alerts)),
               ("Explained (nothing recovered, reason recorded)", str(packet.impact.alerts_explained)),
               ("Field accuracy, all deployments (95% CI)", accuracy(packet.impact)),
               (f"Field accuracy, {start} – {packet.as_of} (95% CI)", accuracy(packet.field_year))]),
        Grid(["Date", "Case", "Where", "Outcome", "Explanation"],
             [[_local(d.started_at, tz), d.case_number or "",
               ": ".join(x for x in (a.hiding_spot.name if a.hiding_spot else "", a.location_note or "") if x),
               a.outcome, a.explanation or ""] for d, a in open_alerts],
             caption="Every alert where nothing was recovered, unverified or explained.",
             empty="Every alert up to the as-of date was confirmed by a recovered device."),
    ]


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
