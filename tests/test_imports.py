"""Bringing a program's history in: templates, mapping, dry run, repeat, corrections, round trip, bad input."""
from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from esd import create_app
from esd.audit_chain import verify
from esd.exports.packet import digest, source_rows
from esd.exports.services import DateRange, zip_bytes
from esd.extensions import db
from esd.imports import readers
from esd.imports.readers import Refused, read_upload
from esd.imports.services import Mapping, plan, remember
from esd.imports.writer import apply
from esd.assessments import services as assessment_services
from esd.models import (Agency, AssessmentStandard, AuditEntry, CaseOutcome, Certification, Deployment, Dog, FalseAlert, FieldAlert, Find,
                        Handler, Hide, PlannedArea, PlannedSession, TeamAssignment, TrainingSession, User, VocabularyTerm, seed_vocabularies)
from esd.models.versions import ReportVersion
from esd.reports import metrics
from esd.rollups import differences
from tests.assessment_builders import area, make_plan, make_standard
from tests.helpers import (make_agency, make_certification, make_deployment, make_dog, make_handler, make_import_program,
                           make_session, make_team, make_user, password_hash, term)

KINDS = (Dog, Handler, TeamAssignment, TrainingSession, Hide, FalseAlert, Deployment, Find, FieldAlert, CaseOutcome,
         Certification, AssessmentStandard, PlannedSession, PlannedArea)


def write(tmp_path, name: str, data: bytes | str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return str(path)


def run_import(path: str, agency: Agency, mapping: Mapping | None = None, user=None, confirm: bool = True):
    """Plan the file at `path` and, when asked, write it and commit; return the plan."""
    the_plan = plan(read_upload(path, os.path.basename(path)), agency, mapping)
    if confirm:
        apply(the_plan, user, os.path.basename(path), "0" * 64, os.path.getsize(path))
        db.session.commit()
    else:
        db.session.rollback()
    return the_plan


def counts(agency_id: int | None = None) -> dict[str, int]:
    out = {}
    for model in KINDS:
        stmt = select(func.count()).select_from(model)
        out[model.__tablename__] = db.session.scalar(stmt)
    return out


def messages(the_plan) -> list[str]:
    return [str(p) for p in the_plan.problems]


SESSIONS_CSV = """dog,started_at,duration_minutes,purpose,environment,handler,notes
Rex,2024-03-10 09:30,45,maintenance,Residence,B-7,=HYPERLINK("http://evil")
Rex,2024-03-11 14:00,30,proficiency,Office,B-7,
"""
HIDES_CSV = """dog,session_started_at,device_type,hiding_spot,outcome,seconds_to_find,blind
Rex,2024-03-10 09:30,microSD card,Book,found,42,yes
Rex,2024-03-10 09:30,USB drive,Drawer,missed,,no
Rex,2024-03-11 14:00,SIM card,Toy,found,12,no
"""


@pytest.fixture
def program():
    """An agency with a dog and its handler, ready for a training history."""
    return make_import_program()


def _workbook(tmp_path, sheets: dict[str, list[list]]) -> str:
    import openpyxl
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "history.xlsx"
    book.save(path)
    return str(path)


# --------------------------------------------------------------------------- the basic flow

def test_a_csv_of_sessions_and_hides_imports_with_local_times_and_formulas_kept_as_text(program, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("sessions.csv", SESSIONS_CSV)
        z.writestr("hides.csv", HIDES_CSV)
    version = db.session.scalar(select(ReportVersion.version).where(ReportVersion.agency_id == program.id))
    the_plan = run_import(write(tmp_path, "history.zip", archive.getvalue()), program)
    assert messages(the_plan) == []
    # Cached figures of the agency are stale from now: its report version moved, once for the import.
    assert db.session.scalar(select(ReportVersion.version).where(ReportVersion.agency_id == program.id)) == version + 1
    sessions = list(db.session.scalars(select(TrainingSession).order_by(TrainingSession.started_at)))
    assert [s.started_at for s in sessions] == [datetime(2024, 3, 10, 14, 30, tzinfo=timezone.utc),  # 09:30 CDT
                                                datetime(2024, 3, 11, 19, 0, tzinfo=timezone.utc)]
    assert sessions[0].notes == '=HYPERLINK("http://evil")'  # text, never evaluated
    assert [(h.device_type.name, h.outcome, h.seconds_to_find, h.blind) for h in sessions[0].hides] == [
        ("microSD card", "found", 42, True), ("USB drive", "missed", None, False)]
    assert sessions[0].handler.name == "Pat Lee"
    assert differences(db.session.connection()) == []  # the rollups saw the bulk rows


def test_the_command_line_imports_with_a_progress_bar_and_exits_1_when_rows_were_refused(app, program, tmp_path):
    runner = app.test_cli_runner()
    good = write(tmp_path, "sessions.csv", SESSIONS_CSV)
    dry = runner.invoke(args=["esd", "import", good, "--agency", "Lakeside ICAC", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "sessions: 2 new, 0 changed, 0 unchanged, 0 refused" in dry.output and "Dry run: nothing was written." in dry.output
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0
    done = runner.invoke(args=["esd", "import", good, "--agency", "Lakeside ICAC"])
    assert done.exit_code == 0, done.output
    assert "Reading rows" in done.output and "Writing records" in done.output and "Imported into Lakeside ICAC" in done.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 2
    # One row refused: the others are imported, the row is named, and the exit status says so.
    bad = write(tmp_path, "hides.csv", HIDES_CSV + "Rex,2024-03-11 14:00,SIM card,Toy,lost,12,no\n")
    partial = runner.invoke(args=["esd", "import", bad, "--agency", "Lakeside ICAC"])
    assert partial.exit_code == 1
    assert "hides.csv, row 5, column outcome: lost is not one of: found, missed" in partial.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Hide)) == 3


def test_the_dry_run_writes_nothing(program, tmp_path):
    before = counts()
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    the_plan = run_import(write(tmp_path, "sessions.csv", SESSIONS_CSV), program, confirm=False)
    assert the_plan.counts()["sessions"] == {"create": 2, "update": 0, "same": 0, "refused": 0}
    assert counts() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_a_repeat_import_creates_nothing_and_a_corrected_file_updates_with_audit(program, tmp_path):
    path = write(tmp_path, "sessions.csv", SESSIONS_CSV)
    run_import(path, program)
    hides = write(tmp_path, "hides.csv", HIDES_CSV)
    run_import(hides, program)
    before = counts()
    again = run_import(path, program)
    assert again.counts()["sessions"] == {"create": 0, "update": 0, "same": 2, "refused": 0}
    assert run_import(hides, program).counts()["hides"]["same"] == 3
    assert counts() == before

    corrected = write(tmp_path, "hides-fixed.csv", HIDES_CSV.replace("USB drive,Drawer,missed,,no",
                                                                     "USB drive,Drawer,found,95,no"))
    manager = make_user("manager", program)
    db.session.commit()
    version = db.session.scalar(select(ReportVersion.version).where(ReportVersion.agency_id == program.id))
    fixed = run_import(corrected, program, user=manager)
    assert fixed.counts()["hides"] == {"create": 0, "update": 1, "same": 2, "refused": 0}
    # The agency's cached figures are stale: its version moved once (the ORM's update and the import's own note).
    assert db.session.scalar(select(ReportVersion.version).where(ReportVersion.agency_id == program.id)) == version + 1
    hide = db.session.scalar(select(Hide).where(Hide.device_type_id == term("device_type", "USB drive").id))
    assert (hide.outcome, hide.seconds_to_find) == ("found", 95)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "hide", AuditEntry.action == "update"))
    assert entry.changes["outcome"] == ["missed", "found"] and entry.user_id == manager.id
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id.desc()))
    assert entry.reason.startswith(f"Import #{event.id} of hides-fixed.csv")
    assert event.changes["counts"]["hides"]["update"] == 1 and event.changes["confirmed_by"] == manager.email
    assert verify(db.session.connection()).ok
    assert differences(db.session.connection()) == []


def test_every_created_record_is_audited_pointing_to_the_import_event(program, tmp_path):
    run_import(write(tmp_path, "sessions.csv", SESSIONS_CSV), program)
    run_import(write(tmp_path, "hides.csv", HIDES_CSV), program)
    events = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id)))
    assert len(events) == 2 and len(events[1].changes["sha256"]) == 64
    created = list(db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "hide", AuditEntry.action == "create")))
    assert len(created) == 3
    assert {e.reason.split(" of ")[0] for e in created} == {f"Import #{events[1].id}"}
    assert created[0].changes["outcome"][1] in ("found", "missed")
    assert verify(db.session.connection()).ok


# --------------------------------------------------------------------------- mapping

def test_foreign_headers_and_values_are_mapped_and_remembered_for_next_time(program, tmp_path):
    foreign = ("K9,Date,Item,Location,Result\n"
               "Rex,03/10/2024 9:30 AM,micro sd,Book,Alerted\n"
               "Rex,03/10/2024 9:30 AM,thumb drive,Drawer,Missed\n")
    sessions = write(tmp_path, "sessions.csv", SESSIONS_CSV)
    run_import(sessions, program)
    path = write(tmp_path, "log.csv", foreign)
    first = run_import(path, program, Mapping(kinds={"log.csv::log": "hides"}), confirm=False)
    assert first.unknown["device_type"] == {"micro sd": 1, "thumb drive": 1}
    assert first.unknown["hides.outcome"] == {"Alerted": 1}
    assert any("column Item: unknown device type 'micro sd'" in m for m in messages(first))

    mapping = Mapping(kinds={"log.csv::log": "hides"},
                      columns={"log.csv::log": {"Date": "session_started_at", "Location": "hiding_spot"}},
                      values={"device_type": {"micro_sd": "microSD card", "thumb_drive": "+"},
                              "hides.outcome": {"alerted": "found"}})
    remember(program, mapping, first)
    db.session.commit()
    done = run_import(path, program, Mapping(kinds={"log.csv::log": "hides"}))  # remembered: nothing chosen now
    assert messages(done) == []
    assert done.counts()["hides"]["create"] == 2
    names = {h.device_type.name for h in db.session.scalars(select(Hide))}
    assert names == {"microSD card", "thumb drive"}
    assert db.session.scalar(select(VocabularyTerm).where(VocabularyTerm.name == "thumb drive")).kind == "device_type"


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-8-sig", "utf-8", "cp1252"])
@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_in_other_encodings_and_separators_reads_the_same(program, tmp_path, encoding, separator):
    text = ("dog;started_at;duration_minutes;purpose;notes\n"
            "Rex;2024-03-10 09:30;45;maintenance;Café «ñ» déjà vu\n").replace(";", separator)
    the_plan = run_import(write(tmp_path, "sessions.csv", text, encoding=encoding), program)
    assert messages(the_plan) == []
    assert db.session.scalar(select(TrainingSession.notes)) == "Café «ñ» déjà vu"


def test_bad_rows_are_reported_by_row_and_column_and_the_good_ones_import(program, tmp_path):
    text = ("dog,started_at,duration_minutes,purpose\n"
            "Rex,2019-02-31 10:00,45,maintenance\n"  # not a date
            ",,,\n"  # empty row: counted, not an error
            "Rex,2024-05-01 10:00,9999,maintenance\n"  # out of bounds (the training schema's message)
            "Rex,2024-05-02 10:00,45,maintenance\n"
            "Rex,2024-05-02 10:00,45,maintenance\n"  # a duplicate row
            "Ghost,2024-05-03 10:00,45,maintenance\n")
    the_plan = run_import(write(tmp_path, "sessions.csv", text), program)
    found = messages(the_plan)
    assert "sessions.csv, row 2, column started_at: 2019-02-31 10:00 is not a date and time (YYYY-MM-DD HH:MM)." in found
    assert any(m.startswith("sessions.csv, row 4, column duration_minutes: Enter a duration from 1 to 600") for m in found)
    assert "sessions.csv, row 6, column started_at: duplicate of row 5 (same dog and start): not imported twice." in found
    assert any(m.startswith("sessions.csv, row 7, column dog: unknown dog 'Ghost'") for m in found)
    assert the_plan.sheets[0].empty_rows == 1
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 1


def test_field_alerts_import_with_their_outcomes_and_bad_ones_are_refused_by_row(program, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("deployments.csv", "id,dog,started_at,handler,legal_authority\n"
                                      "1,Rex,2024-06-01 10:00,B-7,search_warrant\n2,Rex,2024-06-08 10:00,B-7,consent\n")
        z.writestr("finds.csv", "id,deployment_id,device_type\n10,1,Phone\n11,2,Laptop\n")
        z.writestr("field_alerts.csv", "deployment_id,outcome,find_id,location_note,explanation\n"
                                       "1,confirmed,10,Desk drawer,\n"  # imported
                                       "1,explained,,Closet,Phone handed over before the search\n"  # imported
                                       "2,unverified,,Garage,\n"  # imported
                                       "1,confirmed,,Hall,\n"  # row 5: no find
                                       "1,confirmed,11,Hall,\n"  # row 6: another deployment's find
                                       "1,confirmed,10,Hall,\n"  # row 7: the find confirms an alert already
                                       "2,explained,,Shed,\n"  # row 8: no explanation
                                       "2,maybe,,Shed,\n")  # row 9: no such outcome
    the_plan = run_import(write(tmp_path, "records.zip", archive.getvalue()), program)
    found = {m.split(":")[0]: m for m in messages(the_plan)}
    for row, column, words in ((5, "find_id", "a confirmed alert names the find"),
                               (6, "find_id", "a confirmed alert names the find"),
                               (7, "find_id", "one find confirms one alert"), (8, "explanation", "say why"),
                               (9, "outcome", "maybe")):
        assert words in found.get(f"records.zip/field_alerts.csv, row {row}, column {column}", ""), messages(the_plan)
    alerts = db.session.scalars(select(FieldAlert).order_by(FieldAlert.id)).all()
    assert [(a.outcome, a.find.device_type.name if a.find else None, a.location_note) for a in alerts] == [
        ("confirmed", "Phone", "Desk drawer"), ("explained", None, "Closet"), ("unverified", None, "Garage")]
    assert alerts[1].explanation == "Phone handed over before the search"


def test_excel_dates_as_numbers_and_formulas_in_cells(program, tmp_path):
    path = _workbook(tmp_path, {"Training sessions": [
        ["dog", "started_at", "duration_minutes", "purpose", "notes", "blank_areas"],
        ["Rex", 45361.5, 40, "maintenance", "=SUM(A1:A3)", None],  # 2024-03-10 12:00
        [None, None, None, None, None, None],
        ["Rex", datetime(2024, 3, 12, 8, 0), "=1+1", "maintenance", None, None],
    ]})
    the_plan = run_import(path, program)
    assert messages(the_plan) == ["history.xlsx, sheet Training sessions, row 4, column duration_minutes: "
                                  "=1+1 is not a whole number."]
    session = db.session.scalar(select(TrainingSession))
    assert session.started_at == datetime(2024, 3, 10, 17, 0, tzinfo=timezone.utc)  # 12:00 CDT
    assert session.notes == "=SUM(A1:A3)"


def test_a_hide_whose_session_is_missing_is_refused_by_row(program, tmp_path):
    text = "session_id,device_type,hiding_spot,outcome\n77,USB drive,Book,found\n"
    the_plan = run_import(write(tmp_path, "hides.csv", text), program)
    assert messages(the_plan) == ["hides.csv, row 2, column session_id: session 77 is missing from the file's "
                                  "sessions (or was refused): this row is not imported."]
    assert db.session.scalar(select(func.count()).select_from(Hide)) == 0


def test_a_team_with_overlapping_dates_is_refused(program, tmp_path):
    make_handler(program, name="Sam Roe", badge_number="B-9")
    db.session.commit()
    text = "dog,handler,starts_on,ends_on\nRex,B-9,2024-01-01,2024-06-30\n"
    the_plan = run_import(write(tmp_path, "teams.csv", text), program)
    assert messages(the_plan) == ["teams.csv, row 2, column starts_on: this team (2024-01-01–2024-06-30) overlaps "
                                  "the dog's team 2023-01-01–open already recorded."]


def test_a_certification_of_a_dog_in_another_agency_is_refused(program, tmp_path):
    other = make_agency(name="Elsewhere TF")
    make_dog(other, name="Zed", microchip_id="985111111111111")
    db.session.commit()
    text = "dog,body,issued_on,expires_on\n985111111111111,NAPWDA,2024-01-10,2025-01-10\n"
    the_plan = run_import(write(tmp_path, "certifications.csv", text), program)
    assert messages(the_plan) == ["certifications.csv, row 2, column dog: the dog 985111111111111 belongs to "
                                  "another agency (Elsewhere TF)."]
    assert db.session.scalar(select(func.count()).select_from(Certification)) == 0


def test_case_outcomes_import_by_their_deployment_update_when_corrected_and_refuse_impossible_counts(program, tmp_path):
    dog = db.session.scalar(select(Dog).where(Dog.agency_id == program.id))
    search = make_deployment(dog, db.session.scalar(select(Handler).where(Handler.agency_id == program.id)),
                             started_at=datetime(2024, 9, 2, 14, 0, tzinfo=timezone.utc))
    db.session.commit()
    header = "dog,deployment_started_at_utc,devices_examined,devices_with_evidence,arrests\n"
    the_plan = run_import(write(tmp_path, "outcomes.csv", header + "Rex,2024-09-02 14:00,5,3,1\n"), program)
    assert messages(the_plan) == []
    outcome = db.session.scalar(select(CaseOutcome).where(CaseOutcome.deployment_id == search.id))
    assert (outcome.devices_examined, outcome.devices_with_evidence, outcome.arrests) == (5, 3, 1)
    # The same deployment again, corrected: the one outcome is updated (and audited), not doubled.
    run_import(write(tmp_path, "outcomes.csv", header + "Rex,2024-09-02 14:00,5,3,2\n"), program)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CaseOutcome)) == 1
    assert db.session.get(CaseOutcome, outcome.id).arrests == 2
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "case_outcome", AuditEntry.action == "update"))
    assert change.changes["arrests"] == [1, 2]
    # More devices with evidence than examined is refused by row; the file's other rows are not the point.
    refused = run_import(write(tmp_path, "outcomes.csv", header + "Rex,2024-09-02 14:00,2,3,1\n"), program,
                         confirm=False)
    assert messages(refused) == ["outcomes.csv, row 2, column devices_with_evidence: more devices with evidence "
                                 "than devices examined."]


def test_planned_sessions_of_an_unknown_dog_and_areas_of_a_missing_plan_are_refused(program, tmp_path):
    db.session.add(User(email="trainer@example.org", name="T", role="admin", password_hash=password_hash()))
    db.session.commit()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("planned_sessions.csv", "id,planned_on,dog,trainer,blindness,kind,standard,created_at_utc\n"
                                           "1,2024-09-03,Rex,trainer@example.org,known,,,2024-09-01 10:00\n"
                                           "2,2024-09-03,Fido,trainer@example.org,known,,,2024-09-01 10:05\n"
                                           "3,2024-09-04,Rex,nobody@example.org,known,,,2024-09-01 10:06\n"
                                           "4,2024-09-05,Rex,trainer@example.org,known,certification,Gone,"
                                           "2024-09-01 10:07\n")
        z.writestr("planned_areas.csv", "plan_id,position,label,device_type,hiding_spot,outcome,alert_spot\n"
                                        "1,0,Office,USB drive,Book,,\n1,1,Hall,,,alert,\n2,0,Car,,,,\n")
    path = write(tmp_path, "plans.zip", archive.getvalue())
    the_plan = run_import(path, program)
    assert messages(the_plan) == [
        "plans.zip/planned_sessions.csv, row 3, column dog: unknown dog 'Fido' (not in the file's dogs nor in "
        "Lakeside ICAC).",
        "plans.zip/planned_sessions.csv, row 4, column trainer: no account here has the trainer's e-mail "
        "nobody@example.org: accounts are not imported, create it first.",
        "plans.zip/planned_sessions.csv, row 5, column standard: unknown standard 'Gone' (not in the file's "
        "standards nor in Lakeside ICAC).",
        "plans.zip/planned_areas.csv, row 3, column alert_spot: an alert names where the dog alerted "
        "(alert_spot), and only an alert.",
        "plans.zip/planned_areas.csv, row 4, column plan_id: plan 2 is missing from the file's planned sessions "
        "(or was refused): this area is not imported."]
    plan_row = db.session.scalar(select(PlannedSession))
    assert (plan_row.handler.name, plan_row.status, [a.label for a in plan_row.areas]) == ("Pat Lee", "planned", ["Office"])
    assert run_import(path, program).changes_anything is False  # the repeat matches the plan and its area
    assert db.session.scalar(select(func.count()).select_from(PlannedSession)) == 1


def test_a_zip_with_paths_outside_its_folder_is_refused_whole(tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../etc/sessions.csv", SESSIONS_CSV)
    with pytest.raises(Refused, match="path outside its folder"):
        read_upload(write(tmp_path, "evil.zip", archive.getvalue()), "evil.zip")


def test_a_zip_bomb_is_refused_whole(tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("hides.csv", b"0" * (50 * 1024 * 1024))
    with pytest.raises(Refused, match="ZIP bomb"):
        read_upload(write(tmp_path, "bomb.zip", archive.getvalue()), "bomb.zip")


def test_a_file_that_is_no_spreadsheet_is_refused_whole(tmp_path):
    with pytest.raises(Refused):
        read_upload(write(tmp_path, "photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100), "photo.xlsx")
    with pytest.raises(Refused):
        read_upload(write(tmp_path, "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00IHDR" * 10), "photo.csv")


# --------------------------------------------------------------------------- round trip

def _other_database(tmp_path) -> str:
    """The other side of the round trip: PostgreSQL when this run is SQLite (and one is named), else SQLite."""
    here = os.environ.get("TEST_DATABASE_URL", "")
    if here.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'other.sqlite3'}"
    return os.environ.get("TEST_ROUNDTRIP_DATABASE_URL") or f"sqlite:///{tmp_path / 'other.sqlite3'}"


def _history(agency: Agency) -> None:
    """A small but complete history: teams changing, sessions with hides and false alerts, finds, renewals."""
    manager = db.session.scalar(select(User).where(User.agency_id == agency.id))
    first, second = make_handler(agency, name="Ana Ortiz", user=None), make_handler(agency, name="Ben Cho")
    dog = make_dog(agency, name="Juno", created_at=datetime(2023, 1, 2, 12, 0, 0, 123456, tzinfo=timezone.utc))
    make_team(dog, first, starts_on=date(2023, 1, 1), ends_on=date(2024, 6, 30), notes="Handler moved")
    make_team(dog, second, starts_on=date(2024, 7, 1))
    for day in range(0, 600, 7):
        start = datetime(2023, 2, 1, 15, 0, tzinfo=timezone.utc) + timedelta(days=day, minutes=day)
        make_session(dog, first if day < 500 else second, started_at=start, false_alerts=day % 3 == 0,
                     hides=[{"outcome": "found" if (day + i) % 4 else "missed", "device": name,
                             "seconds_to_find": 30 + i if (day + i) % 4 else None, "blind": i % 2 == 0}
                            for i, name in enumerate(("microSD card", "USB drive", "SIM card")[: 1 + day % 3])],
                     temperature_c=12.5, created_by_id=manager.id, notes="+1 trained well")
    search = make_deployment(dog, second, started_at=datetime(2024, 8, 1, 13, 0, tzinfo=timezone.utc),
                             finds=[{"device": "Phone", "missed_by_human_search": True, "evidence": "yes"},
                                    {"device": "USB drive", "spot": "Drawer"}],
                             alerts=[{"outcome": "unverified", "location_note": "Hall closet"},
                                     {"outcome": "confirmed", "find": 1, "spot": "Drawer"},
                                     {"outcome": "confirmed", "find": 0},
                                     {"outcome": "explained", "explanation": "Residual odour: a phone charged there"}])
    db.session.add(CaseOutcome(deployment_id=search.id, agency_id=agency.id, devices_examined=4,
                               devices_with_evidence=2, arrests=1, children_safeguarded=None, updated_by_id=manager.id))
    new = make_certification(dog, second, issued_on=date(2024, 5, 1))
    make_certification(dog, first, issued_on=date(2023, 5, 1), replaced_by_id=new.id)
    # A proficiency assessment, closed (its training session, result and criteria), and a plan still sealed.
    standard = make_standard(agency, name="Annual ESD check", max_misses=0)
    placed = datetime(2024, 9, 3, 14, 0, tzinfo=timezone.utc)
    assessment = make_plan(dog, second, manager, kind="proficiency", standard_id=standard.id, planned_on=date(2024, 9, 3),
                           started_at=datetime(2024, 9, 3, 15, 0, tzinfo=timezone.utc), observer_id=manager.id,
                           knew="Sgt. Placer", areas=[
                               area("Office 1", "USB drive", "Book", "alert", "Book", seconds_to_find=42, placed_at=placed),
                               area("Office 2", "microSD card", "Drawer", "no_alert", placed_at=placed),
                               area("Closet", outcome="alert", alert_spot="Clothing", alert_note="Top shelf"),
                               area("Kitchen", outcome="no_alert")])
    assessment_services.close(assessment, manager, datetime(2024, 9, 3, 16, 0, tzinfo=timezone.utc), 40)
    make_plan(dog, second, manager, planned_on=date(2025, 5, 30), blindness="single_blind",
              areas=[area("Car", "SIM card", "Toy"), area("Trunk")])
    db.session.commit()


def _figures(agency_name: str, as_of: date) -> dict:
    agency = db.session.scalar(select(Agency).where(Agency.name == agency_name))
    out = {"counts": {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in KINDS},
           "outcomes": sorted((o.devices_examined, o.devices_with_evidence, o.arrests, o.charges, o.children_safeguarded)
                              for o in db.session.scalars(select(CaseOutcome).where(CaseOutcome.agency_id == agency.id))),
           "plans": sorted((p.planned_on, p.kind, p.blindness, p.status, p.result, p.criteria,
                            p.standard.name if p.standard else None, p.trainer.email,
                            p.training_session.started_at.isoformat() if p.training_session else None,
                            [(a.position, a.label, a.device_type.name if a.device_type else None, a.outcome,
                              a.alert_spot.name if a.alert_spot else None) for a in p.areas])
                           for p in db.session.scalars(select(PlannedSession).where(PlannedSession.agency_id == agency.id)))}
    for dog in db.session.scalars(select(Dog).where(Dog.agency_id == agency.id)):
        filters = metrics.Filters(agency_ids=(agency.id,), dog_id=dog.id, tz=agency.timezone)
        rates = metrics.find_rates(filters, by="device_type")
        out[dog.name] = {"rate": (metrics.find_rate(filters).found, metrics.find_rate(filters).n),
                         "by_device": sorted((r.label, r.found, r.n) for r in rates),
                         "hours": metrics.training_hours(filters),
                         "digest": digest(source_rows(dog, as_of))}
    return out


def test_round_trip_export_import_gives_identical_figures_and_digests(app, tmp_path):
    agency = make_agency(name="Round Trip TF", timezone="America/Denver")
    manager = make_user("manager", agency, email="manager.rt@example.org")
    db.session.commit()
    _history(agency)
    as_of = date(2025, 6, 1)
    before = _figures("Round Trip TF", as_of)
    data = zip_bytes([agency.id], DateRange())
    path = write(tmp_path, "records.zip", data)
    email = manager.email

    other = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": _other_database(tmp_path),
                        "CACHE_DIR": str(tmp_path / "cache2"), "SERVER_NAME": None})
    with other.app_context():
        db.drop_all()
        db.create_all()
        seed_vocabularies()
        # Accounts are not imported: the installation has its own, matched by e-mail.
        db.session.add(User(email=email, name="M", role="admin", password_hash=password_hash()))
        target = Agency(name="Round Trip TF", timezone="America/Denver")
        db.session.add(target)
        db.session.commit()
        first = run_import(path, target)
        assert messages(first) == []
        after = _figures("Round Trip TF", as_of)
        assert run_import(path, target).changes_anything is False  # the repeat creates and changes nothing
        back = zip_bytes([target.id], DateRange())
        assert verify(db.session.connection()).ok
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    assert after == before
    assert after["Juno"]["rate"][1] > 100
    assert after["outcomes"] == [(4, 2, 1, None, None)]
    closed, sealed = after["plans"]
    assert closed[:5] == (date(2024, 9, 3), "proficiency", "double_blind", "closed", "fail")  # a miss, none allowed
    assert [c["name"] for c in closed[5] if not c["met"]] == ["Find rate", "Missed aids per environment"] and closed[-1][0] == (0, "Office 1", "USB drive", "alert", "Book")
    assert sealed[:5] == (date(2025, 5, 30), "training", "single_blind", "planned", None)
    # And back again into this database's second agency: the same export, row for row.
    assert _csv_rows(back) == _csv_rows(data)


def _csv_rows(data: bytes) -> dict:
    """Each CSV of a ZIP without its id columns (ids differ between databases)."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            rows = list(csv.DictReader(io.StringIO(z.read(name).decode("utf-8-sig"))))
            out[name] = sorted(tuple((k, v) for k, v in row.items() if k != "id" and not k.endswith("_id"))
                               for row in rows)
    return out
