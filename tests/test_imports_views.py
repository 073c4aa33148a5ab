"""Import from the browser: templates, upload, mapping, dry-run preview, confirm — through the test client."""
from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import datetime, timezone

import openpyxl
import pytest
from sqlalchemy import func, select

from esd.exports.services import DateRange, csv_rows
from esd.extensions import db
from esd.imports import uploads
from esd.imports.kinds import KINDS
from esd.imports.readers import README_SHEET
from esd.imports.templates import TEMPLATE_KINDS
from esd.models import AuditEntry, Hide, ImportMapping, TrainingSession, VocabularyTerm
from tests.helpers import PASSWORD, make_agency, make_import_program, make_user

SESSIONS_CSV = ("dog,started_at,duration_minutes,purpose,environment,handler\n"
                "Rex,2024-03-10 09:30,45,maintenance,Residence,B-7\n"
                "Rex,2024-03-11 14:00,30,proficiency,Office,B-7\n")
FOREIGN_CSV = ("K9,Date,Item,Location,Result,Trainer remarks\n"
               "Rex,03/10/2024 9:30 AM,micro sd,Book,Alerted,good\n"
               "Rex,03/10/2024 9:30 AM,thumb drive,Drawer,Missed,\n")


@pytest.fixture(autouse=True)
def no_uploads(app):
    """Each test starts with no upload kept (the app, and its upload folder, live for the whole run)."""
    import shutil
    shutil.rmtree(os.path.join(app.config["UPLOAD_FOLDER"], "imports"), ignore_errors=True)


@pytest.fixture
def program():
    """An agency with a dog, its handler and their team, and a manager logged in."""
    return make_import_program()


@pytest.fixture
def manager(program, client):
    user = make_user("manager", program)
    db.session.commit()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def upload(client, name: str, data: bytes | str, **extra):
    body = data.encode() if isinstance(data, str) else data
    return client.post("/imports/upload", data={"file": (io.BytesIO(body), name), **extra},
                       content_type="multipart/form-data")


def token_of(response) -> str:
    match = re.search(r"/imports/([A-Za-z0-9_-]{24})", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


def fingerprint(page: str) -> str:
    return re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]{64})"', page).group(1)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def row_counts(page: str, kind: str) -> dict[str, int]:
    row = re.search(rf'<tr data-kind="{kind}">(.*?)</tr>', page, re.S).group(1)
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', row)}


# --------------------------------------------------------------------------- templates

def test_the_templates_have_the_exports_columns_and_the_workbook_explains_them(client, manager):
    from esd.exports.services import EXPORTS
    assert set(TEMPLATE_KINDS) == set(KINDS) == set(EXPORTS)  # a template for every kind the import reads
    for kind in TEMPLATE_KINDS:
        response = client.get(f"/imports/templates/{kind}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        header = next(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        assert header == [c.name for c in KINDS[kind].columns]
        # Every column the export writes is one the template has (a timestamp without its _local/_utc).
        exported = next(csv_rows(kind, [], DateRange()))
        names = {re.sub(r"_(local|utc)$", "", c) for c in exported} - {"time_zone"}
        assert names <= set(header), (kind, names - set(header))

    response = client.get("/imports/templates/esd-import-template.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == [README_SHEET, *TEMPLATE_KINDS]
    readme = [list(r) for r in book[README_SHEET].iter_rows(values_only=True)]
    hide_device = next(r for r in readme if r[0] == "hides" and r[1] == "device_type")
    assert hide_device[2] == "yes" and "microSD card" in hide_device[3] and "USB drive" in hide_device[3]
    outcome = next(r for r in readme if r[0] == "hides" and r[1] == "outcome")
    assert outcome[3] == "found, missed"
    assert [c for c in next(book["sessions"].iter_rows(values_only=True))] == [c.name for c in KINDS["sessions"].columns]
    assert client.get("/imports/templates/passwords.csv").status_code == 404


def test_a_filled_workbook_template_imports(client, manager, program):
    book = openpyxl.load_workbook(io.BytesIO(client.get("/imports/templates/esd-import-template.xlsx").data))
    header = [c.value for c in book["dogs"][1]]
    book["dogs"].append([{"name": "Juno", "call_sign": "K9-JUNO", "status": "active", "sex": "female"}.get(h)
                         for h in header])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, "filled.xlsx", out.getvalue())
    assert response.status_code == 302 and "/mapping" not in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert row_counts(page, "dogs") == {"create": 1, "update": 0, "same": 0, "refused": 0}


# --------------------------------------------------------------------------- the whole flow

def test_upload_preview_confirm_then_a_repeat_creates_nothing(client, manager, program):
    response = upload(client, "sessions.csv", SESSIONS_CSV)
    assert response.status_code == 302
    token = token_of(response)
    assert response.headers["Location"].endswith(f"/imports/{token}")  # every header ours: straight to the preview
    stored = os.path.join(client.application.config["UPLOAD_FOLDER"], "imports", token)
    assert open(os.path.join(stored, "file"), "rb").read() == SESSIONS_CSV.encode()

    page = client.get(f"/imports/{token}").get_data(as_text=True)
    assert row_counts(page, "sessions") == {"create": 2, "update": 0, "same": 0, "refused": 0}
    assert "Lakeside ICAC" in page and "nothing has been written" in page
    assert count(TrainingSession) == 0  # the dry run wrote nothing

    response = client.post(f"/imports/{token}/confirm", data={"fingerprint": fingerprint(page)})
    assert response.status_code == 302
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported sessions.csv into Lakeside ICAC: 2 records created, 0 updated" in done
    assert count(TrainingSession) == 2
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert event.user_id == manager.id and event.agency_id == program.id
    assert event.changes["file"] == "sessions.csv" and event.changes["counts"]["sessions"]["create"] == 2
    assert len(event.changes["sha256"]) == 64 and f"Audit event #{event.id}" in done
    assert not os.path.exists(stored)  # the file is gone once imported
    assert 'data-test="waiting"' not in done
    assert client.get(f"/imports/{token}").status_code == 404  # and its id with it

    again = token_of(upload(client, "sessions.csv", SESSIONS_CSV))
    page = client.get(f"/imports/{again}").get_data(as_text=True)
    assert row_counts(page, "sessions") == {"create": 0, "update": 0, "same": 2, "refused": 0}
    assert 'data-test="nothing-to-import"' in page and 'data-test="confirm"' not in page
    response = client.post(f"/imports/{again}/confirm", data={"fingerprint": fingerprint_of_summary(again)})
    assert count(TrainingSession) == 2
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "import")) == 1


def fingerprint_of_summary(token: str) -> str:
    import json
    from flask import current_app
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "imports", token)
    with open(os.path.join(folder, "preview.json")) as fh:
        return json.load(fh)["fingerprint"]


def test_confirm_writes_nothing_when_the_records_changed_since_the_preview(client, manager, program):
    token = token_of(upload(client, "sessions.csv", SESSIONS_CSV))
    page = client.get(f"/imports/{token}").get_data(as_text=True)
    seen = fingerprint(page)
    other = token_of(upload(client, "sessions.csv", SESSIONS_CSV.splitlines()[0] + "\n" + SESSIONS_CSV.splitlines()[1]))
    client.post(f"/imports/{other}/confirm", data={"fingerprint": fingerprint_of_summary(other)})
    assert count(TrainingSession) == 1
    response = client.post(f"/imports/{token}/confirm", data={"fingerprint": seen})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/imports/{token}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The records changed since this preview" in page
    assert row_counts(page, "sessions") == {"create": 1, "update": 0, "same": 1, "refused": 0}
    assert count(TrainingSession) == 1
    client.post(f"/imports/{token}/confirm", data={"fingerprint": fingerprint(page)})
    assert count(TrainingSession) == 2


def test_refused_rows_are_listed_with_file_row_column_and_reason_paged_and_as_csv(client, manager, program):
    lines = ["dog,started_at,duration_minutes,purpose"]
    lines += [f"Rex,2019-02-{d:02d} 10:00,45,maintenance" for d in range(29, 32)]  # three impossible dates
    lines += [f"Ghost,2024-01-01 {h:02d}:{m:02d},45,maintenance" for h in range(10) for m in range(0, 60, 2)]  # 300
    lines += ["Rex,2024-05-02 10:00,45,maintenance"]
    token = token_of(upload(client, "log.csv", "\n".join(lines) + "\n"))
    page = client.get(f"/imports/{token}").get_data(as_text=True)
    assert row_counts(page, "sessions") == {"create": 1, "update": 0, "same": 0, "refused": 303}
    assert "Rows that cannot be imported (303)" in page and "Page 1 of 4" in page
    assert "<td class=\"text-break\">log.csv</td><td>log</td><td>2</td><td>started_at</td><td>2019-02-29 10:00 is not a date and time" in page
    last = client.get(f"/imports/{token}?page=4").get_data(as_text=True)
    assert "Page 4 of 4" in last and last.count("unknown dog") == 3
    assert client.get(f"/imports/{token}?page=99999999999999999999").status_code == 200
    rows = list(csv.reader(io.StringIO(client.get(f"/imports/{token}/refused.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["file", "sheet", "row", "column", "reason"] and len(rows) == 304
    assert rows[1][:4] == ["log.csv", "log", "2", "started_at"]


def test_a_file_named_in_any_script_is_previewed_and_its_refused_rows_downloaded(client, manager, program):
    token = token_of(upload(client, "训练日志 “2024”.csv", "dog,started_at,duration_minutes,purpose\nGhost,2024-03-10 09:30,45,maintenance\n"))
    assert "训练日志 “2024”.csv" in client.get(f"/imports/{token}").get_data(as_text=True)
    response = client.get(f"/imports/{token}/refused.csv")
    assert response.status_code == 200 and "unknown dog 'Ghost'" in response.get_data(as_text=True)
    # A real server writes headers in Latin-1: the name in the header is ASCII (the page keeps the user's).
    assert response.headers["Content-Disposition"].startswith('attachment; filename="refused-rows-')
    assert response.headers["Content-Disposition"].isascii()


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_file_in_another_encoding_is_read_and_its_bad_rows_shown(client, manager, program, encoding):
    text = ("dog;started_at;duration_minutes;purpose;notes\n"
            "Rex;2024-03-10 09:30;45;maintenance;Café déjà vu\n"
            "Rex;31/02/2019;45;maintenance;Überprüfung\n")
    token = token_of(upload(client, "sessions.csv", text.encode(encoding)))
    page = client.get(f"/imports/{token}").get_data(as_text=True)
    assert ("Windows-1252 (Latin-1)" if encoding == "latin-1" else "UTF-16") in page
    assert "separated by semicolons" in page
    assert "31/02/2019 is not a date and time" in page
    assert row_counts(page, "sessions") == {"create": 1, "update": 0, "same": 0, "refused": 1}
    client.post(f"/imports/{token}/confirm", data={"fingerprint": fingerprint(page)})
    assert db.session.scalar(select(TrainingSession.notes)) == "Café déjà vu"


def test_a_file_refused_as_a_whole_says_why_beside_the_field(client, manager):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../etc/evil.csv", "x\n")
    response = upload(client, "records.zip", archive.getvalue())
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "invalid-feedback" in page
    assert "holds a path outside its folder" in page
    assert os.listdir(os.path.join(client.application.config["UPLOAD_FOLDER"], "imports")) == []  # not kept
    response = upload(client, "notes.pdf", b"%PDF-1.4 not a spreadsheet")
    assert response.status_code == 400 and "upload a CSV, an XLSX workbook or the ZIP from Exports" in response.get_data(as_text=True)
    response = upload(client, "empty.csv", b"")
    assert response.status_code == 400 and "The file is empty." in response.get_data(as_text=True)
    response = client.post("/imports/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file to import." in response.get_data(as_text=True)


def test_a_file_over_50_mb_gets_a_readable_page_with_the_message_beside_the_field(client, manager):
    big = b"dog,started_at\n" + b"x" * (51 * 1024 * 1024)
    response = upload(client, "huge.csv", big)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file is larger than 50 MB" in page and "invalid-feedback" in page
    assert 'data-test="upload-form"' in page  # the upload page again, not a bare error
    token = token_of(upload(client, "sessions.csv", SESSIONS_CSV))
    response = client.post(f"/imports/{token}/mapping", data={"layout": "x" * (13 * 1024 * 1024)},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "The request is too large." in response.get_data(as_text=True)
    # Up to the limit, a file is taken (the app's 12 MB limit for other forms does not apply here).
    response = upload(client, "big.csv", b"dog,started_at,duration_minutes,purpose\n" + b",,,\n" * (4 * 1024 * 1024))
    assert response.status_code == 302


def test_the_upload_limit_is_for_the_import_only(client, manager):
    response = client.post("/imports/upload", data={"file": (io.BytesIO(b"x" * (20 * 1024 * 1024)), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code != 413
    assert client.application.config["MAX_CONTENT_LENGTH"] <= 16 * 1024 * 1024


# --------------------------------------------------------------------------- mapping

def test_foreign_headers_and_values_go_through_the_mapping_step_and_are_remembered(client, manager, program):
    token = token_of(upload(client, "sessions.csv", SESSIONS_CSV))
    client.post(f"/imports/{token}/confirm", data={"fingerprint": fingerprint_of_summary(token)})

    response = upload(client, "log.csv", FOREIGN_CSV)
    token = token_of(response)
    assert response.headers["Location"].endswith(f"/imports/{token}/mapping")
    page = client.get(f"/imports/{token}/mapping").get_data(as_text=True)
    form = form_fields(page)
    columns = column_fields(page)
    sheet = next(n for n in form if n.startswith("kind_"))
    assert form[sheet] == "hides"  # recognised by its headers ("Item", "Location", "Result")
    assert form[columns["Item"]] == "device_type" and form[columns["Result"]] == "outcome"  # similar names proposed
    assert form[columns["Trainer remarks"]] == "-"
    values = value_fields(page)
    assert set(values) == {"micro sd", "thumb drive", "Alerted"}  # each value the file uses that is not ours
    assert "Create “thumb drive” as a new term" in page
    data = {**form, columns["Date"]: "session_started_at", columns["Location"]: "hiding_spot"}
    data.update({values["micro sd"]: "microSD card", values["thumb drive"]: "+", values["Alerted"]: "found"})
    response = client.post(f"/imports/{token}/mapping", data=data)
    assert response.headers["Location"].endswith(f"/imports/{token}")
    page = client.get(f"/imports/{token}").get_data(as_text=True)
    assert row_counts(page, "hides") == {"create": 2, "update": 0, "same": 0, "refused": 0}
    assert "New vocabulary terms: thumb drive (device type)" in page
    assert count(ImportMapping) == 0  # remembered on confirm, with the import
    client.post(f"/imports/{token}/confirm", data={"fingerprint": fingerprint(page)})
    assert {h.device_type.name for h in db.session.scalars(select(Hide))} == {"microSD card", "thumb drive"}
    assert db.session.scalar(select(VocabularyTerm.kind).where(VocabularyTerm.name == "thumb drive")) == "device_type"
    assert count(ImportMapping) > 0

    # Next time the mapping is pre-filled: headers proposed as remembered, values known already.
    token = token_of(upload(client, "log.csv", FOREIGN_CSV))
    page = client.get(f"/imports/{token}/mapping").get_data(as_text=True)
    form, columns = form_fields(page), column_fields(page)
    assert form[columns["Date"]] == "session_started_at" and form[columns["Location"]] == "hiding_spot"
    assert "remembered from an earlier import" in page
    assert value_fields(page) == {}


def test_thousands_of_unknown_values_come_a_round_at_a_time(client, manager, program):
    rows = "".join(f"1,USB drive,Spot {n},found\n" for n in range(160))
    token = token_of(upload(client, "hides.csv", "session_id,device_type,hiding_spot,outcome\n" + rows))
    page = client.get(f"/imports/{token}/mapping").get_data(as_text=True)
    assert len(value_fields(page)) == 150 and "10 more values after these" in page
    response = client.post(f"/imports/{token}/mapping", data=form_fields(page))
    assert response.headers["Location"].endswith("/mapping")
    page = client.get(f"/imports/{token}/mapping").get_data(as_text=True)
    shown = value_fields(page)
    assert len(shown) == 150 and {f"Spot {n}" for n in range(150, 160)} <= set(shown)  # the ten not seen yet
    response = client.post(f"/imports/{token}/mapping", data=form_fields(page))
    assert response.headers["Location"].endswith(f"/imports/{token}")  # every value shown once: the preview


def test_a_hostile_mapping_choice_is_refused_beside_the_field(client, manager, program):
    token = token_of(upload(client, "log.csv", FOREIGN_CSV))
    page = client.get(f"/imports/{token}/mapping").get_data(as_text=True)
    form = form_fields(page)
    sheet = next(n for n in form if n.startswith("kind_"))
    response = client.post(f"/imports/{token}/mapping", data={**form, sheet: "passwords"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    stale = client.post(f"/imports/{token}/mapping", data={**form, "layout": "0" * 32})
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/mapping")


def form_fields(page: str) -> dict[str, str]:
    """The mapping form's selects with their selected values (as a browser would send them)."""
    fields = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        first = re.search(r'<option[^>]*value="([^"]*)"', body)
        fields[name] = (selected.group(1) or selected.group(2) or "") if selected else first.group(1)
    layout = re.search(r'name="layout" type="hidden" value="([^"]*)"', page)
    fields["layout"] = layout.group(1)
    return fields


def column_fields(page: str) -> dict[str, str]:
    return {label: name for name, label in re.findall(r'<label class="form-label" for="(column_[0-9_]+)">Column “([^”]+)”', page)}


def value_fields(page: str) -> dict[str, str]:
    return {label: name for name, label in re.findall(r'<label class="form-label" for="(value_[0-9]+)">“([^”]+)”', page)}


# --------------------------------------------------------------------------- scope and roles

def test_another_users_or_a_stale_or_made_up_upload_id_is_404(client, manager, program, app):
    token = token_of(upload(client, "sessions.csv", SESSIONS_CSV))
    fp = fingerprint_of_summary(token)
    other = app.test_client()
    colleague = make_user("manager", make_agency(name="Elsewhere"))
    db.session.commit()
    other.post("/login", data={"email": colleague.email, "password": PASSWORD})
    for url in (f"/imports/{token}", f"/imports/{token}/mapping", f"/imports/{token}/refused.csv"):
        assert other.get(url).status_code == 404
    assert other.post(f"/imports/{token}/confirm", data={"fingerprint": fp}).status_code == 404
    assert other.post(f"/imports/{token}/discard").status_code == 404
    assert count(TrainingSession) == 0
    assert f"/imports/{token}" in client.get("/imports").get_data(as_text=True)  # offered to its owner to go on
    assert f"/imports/{token}" not in other.get("/imports").get_data(as_text=True)  # and to nobody else
    for made_up in ("A" * 24, "../../../../etc/passwd", "x"):
        assert client.get(f"/imports/{made_up}").status_code == 404

    upload_ = uploads.load(token, manager)
    upload_.meta["created_at"] = datetime(2020, 1, 1, tzinfo=timezone.utc).isoformat()
    upload_.save()
    assert client.get(f"/imports/{token}").status_code == 404
    assert not os.path.exists(upload_.folder)


def test_an_admin_imports_into_the_agency_they_choose(client, program):
    admin = make_user("admin")
    other = make_agency(name="Hill County K9")
    db.session.commit()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    page = client.get("/imports").get_data(as_text=True)
    assert "Hill County K9" in page and "Lakeside ICAC" in page
    response = upload(client, "sessions.csv", SESSIONS_CSV, agency_id=str(other.id))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Into <strong>Hill County K9</strong>" in page
    assert row_counts(page, "sessions") == {"create": 0, "update": 0, "same": 0, "refused": 2}  # no Rex there
    assert upload(client, "sessions.csv", SESSIONS_CSV, agency_id="99999").status_code == 400


@pytest.mark.parametrize("role", ["handler", "funder"])
def test_handlers_and_funders_get_404_everywhere(client, program, role):
    user = make_user(role, program if role == "handler" else None)
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/imports").status_code == 404
    assert client.get("/imports/templates/dogs.csv").status_code == 404
    assert client.get("/imports/templates/esd-import-template.xlsx").status_code == 404
    assert upload(client, "sessions.csv", SESSIONS_CSV).status_code == 404
    assert "/imports" not in client.get("/").get_data(as_text=True)


def test_the_navigation_links_managers_to_the_import(client, manager):
    assert 'href="/imports"' in client.get("/").get_data(as_text=True)


def test_the_upload_form_needs_its_csrf_token(app, program, tmp_path):
    from esd import create_app
    protected = create_app({"TESTING": True, "SECRET_KEY": "csrf-test", "WTF_CSRF_ENABLED": True,
                            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                            "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    client = protected.test_client()
    user = make_user("manager", program)
    db.session.commit()
    token = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
    login = token.search(client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": login}).status_code == 302
    response = upload(client, "sessions.csv", SESSIONS_CSV)
    assert response.status_code == 400 and "The form expired" in response.get_data(as_text=True)
    page = client.get("/imports").get_data(as_text=True)
    response = upload(client, "sessions.csv", SESSIONS_CSV, csrf_token=token.search(page).group(1))
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.post(response.headers["Location"] + "/confirm", data={"fingerprint": fingerprint(preview)}).status_code == 400
    assert count(TrainingSession) == 0
