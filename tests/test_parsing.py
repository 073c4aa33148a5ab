"""Ids, numbers and dates from requests: plain ASCII, bounded to what the databases hold; NUL refused."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import Deployment
from esd.parsing import MAX_ID, optional_int, parse_day, plain_int
from tests.helpers import make_agency, make_deployment, make_dog, make_handler, make_session, make_team

HUGE = "99999999999999999999"  # beyond SQLite's 2**63 and PostgreSQL's 2**31


@pytest.fixture
def side(login_as):
    """A manager logged in, with a dog, its handler, a session and a deployment of the agency."""
    agency = make_agency(timezone="UTC")
    manager = login_as("manager", agency)
    handler = make_handler(agency)
    dog = make_dog(agency)
    make_team(dog, handler)
    session = make_session(dog, handler, hides=[{"outcome": "found"}])
    deployment = make_deployment(dog, handler)
    db.session.commit()
    return manager, dog, handler, session, deployment


@pytest.mark.parametrize("value, expected", [
    ("12", 12), (" 7 ", 7), (3, 3), (3.0, 3),
    ("\u0661", ValueError), ("\u00b2", ValueError), ("1e19", ValueError), ("1.5", ValueError),
    (True, ValueError), ([1], ValueError), ({"id": 1}, ValueError), (None, ValueError),
    (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), ValueError), (1e19, ValueError),
])
def test_plain_int_takes_ascii_whole_numbers_an_integer_column_holds(value, expected):
    if expected is ValueError:
        with pytest.raises(ValueError):
            plain_int(value)
    else:
        assert plain_int(value) == expected


def test_optional_int_is_blank_an_id_or_an_id_no_record_has():
    assert optional_int("") is None and optional_int(None) is None and optional_int("None") is None
    assert optional_int("42") == 42
    assert optional_int("\u0661") == optional_int(HUGE) == optional_int("abc") == -1


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "\u0662\u0660\u0662\u0666-01-01", "2026-02-30",
                                  "2026-1-1"])
def test_parse_day_refuses_days_outside_the_window_or_not_in_ascii(text):
    with pytest.raises(ValueError):
        parse_day(text)
    assert parse_day("2026-03-31") == date(2026, 3, 31)


@pytest.mark.parametrize("path", ["/dogs/{huge}", "/dogs/2147483648", "/dogs/\u0661", "/dogs/\u00b9",
                                  "/deployments/{huge}", "/training/sessions/{huge}", "/api/sessions/{huge}",
                                  "/dogs/{huge}/reliability-record"])
def test_an_id_in_a_path_beyond_the_database_or_in_other_digits_is_not_found(client, side, path):
    response = client.get(path.format(huge=HUGE))
    assert response.status_code == 404


def test_unicode_digits_in_a_path_never_name_a_record(client, side):
    _, dog, *_ = side
    assert client.get(f"/dogs/{dog.id}").status_code == 200
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in str(dog.id))
    assert client.get(f"/dogs/{arabic_indic}").status_code == 404


@pytest.mark.parametrize("query", [f"dog={HUGE}", "dog=\u0661", f"handler={HUGE}", f"agency={HUGE}"])
def test_a_filter_id_that_names_no_record_is_not_found(client, side, query):
    assert client.get(f"/reports/dashboard?{query}").status_code == 404
    assert client.get(f"/reports/charts/trend.png?{query}").status_code == 404


@pytest.mark.parametrize("url", [f"/audit?page={HUGE}", "/audit?page=\u0662", f"/deployments?page={HUGE}",
                                 f"/deployments/new?dog_id={HUGE}", f"/certifications/new?dog_id={HUGE}",
                                 "/dogs/{dog}/sessions?after=20260101T000000000000_" + HUGE])
def test_page_numbers_and_query_ids_never_reach_sql_out_of_range(client, side, url):
    _, dog, *_ = side
    assert client.get(url.format(dog=dog.id)).status_code in (200, 404)


@pytest.mark.parametrize("url", ["/reports/dashboard?end=9999-12-31", "/reports/dashboard?start=0001-01-01",
                                 "/reports/charts/trend.png?end=9999-12-31",
                                 "/reports/charts/trend.csv?start=0001-01-01&end=9999-12-31",
                                 "/audit?end=9999-12-31", "/deployments?end=9999-12-31&start=0001-01-01",
                                 "/exports?end=9999-12-31", "/dogs/{dog}/sessions?end=9999-12-31"])
def test_a_filter_range_to_the_end_of_the_calendar_reads_as_the_whole_range(client, side, url):
    _, dog, *_ = side
    assert client.get(url.format(dog=dog.id)).status_code == 200


def test_an_export_to_9999_streams_to_its_end(client, side):
    response = client.get("/exports/sessions.csv?start=0001-01-01&end=9999-12-31")
    body = response.get_data(as_text=True)  # the stream runs to its end here
    assert response.status_code == 200 and body.count("\n") == 2  # the header and the one session


def test_as_of_the_first_day_of_the_calendar_is_refused_with_a_message(client, side):
    _, dog, *_ = side
    response = client.get(f"/dogs/{dog.id}/reliability-record?as_of=0001-01-01")
    assert response.status_code == 400 and "as_of must be a date" in response.get_data(as_text=True)


@pytest.mark.parametrize("data", [{"notes": "a\x00b"}, {"case_number": "\x00"}])
def test_a_nul_byte_in_a_form_field_is_refused_and_nothing_is_stored(client, side, data):
    _, dog, handler, *_ = side
    before = db.session.scalar(select(db.func.count(Deployment.id)))
    form = {"dog": dog.id, "handler": handler.id, "day": "2026-03-14", "time": "21:30",
            "legal_authority": "consent", **data}
    response = client.post("/deployments/new", data=form)
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Deployment.id))) == before


@pytest.mark.parametrize("url", ["/dogs?status=\x00", "/audit?q=a\x00b"])
def test_a_nul_byte_in_a_query_is_refused(client, side, url):
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("value", [1e19, HUGE, [1], {"id": 1}, "\u0661", True])
def test_api_dog_id_that_is_not_an_id_is_refused_or_not_found(client, side, value):
    response = client.post("/api/sessions", json={"dog_id": value, "started_at": "2026-03-01T10:00",
                                                  "duration_minutes": 30, "purpose": "maintenance"})
    assert response.status_code in (404, 422) and response.is_json


@pytest.mark.parametrize("started_at", ["9999-12-31T23:00:00-14:00", "0001-01-01T00:30:00+14:00",
                                        "\u0662\u0660\u0662\u0666-03-01T10:00"])
def test_api_started_at_at_the_calendar_edges_is_refused_with_its_field(client, side, started_at):
    _, dog, *_ = side
    response = client.post("/api/sessions", json={"dog_id": dog.id, "started_at": started_at,
                                                  "duration_minutes": 30, "purpose": "maintenance"})
    assert response.status_code == 422 and response.json["field"] == "started_at"


def test_a_deployment_dated_9999_is_refused_beside_the_field(client, side):
    _, dog, handler, *_ = side
    response = client.post("/deployments/new", data={"dog": dog.id, "handler": handler.id, "day": "9999-12-31",
                                                      "time": "10:00", "legal_authority": "consent"})
    assert response.status_code == 400 and "Enter a day that has passed" in response.get_data(as_text=True)
    assert not db.session.scalars(select(Deployment).where(
        Deployment.started_at > datetime(2100, 1, 1, tzinfo=timezone.utc))).first()


@pytest.mark.parametrize("value, message", [("99999999999", "Use a number from"), ("\u0665", "Use the digits 0-9")])
def test_a_certification_score_beyond_an_integer_is_refused_beside_the_field(client, side, value, message):
    _, dog, handler, *_ = side
    response = client.post("/certifications/new", data={"dog_id": dog.id, "certifying_body_id": "",
                                                         "issued_on": "2026-01-01", "score_hides": value})
    assert response.status_code in (200, 400) and message in response.get_data(as_text=True)


@pytest.mark.parametrize("first, second", [("Ördner", "Ördner"), ("Ördner", "ÖRDNER"), ("Çanta", "çanta")])
def test_a_non_ascii_duplicate_vocabulary_term_is_refused_beside_the_field(client, login_as, first, second):
    login_as("admin")
    assert client.post("/admin/vocabularies", data={"kind": "hiding_spot", "name": first}).status_code == 302
    response = client.post("/admin/vocabularies", data={"kind": "hiding_spot", "name": second})
    assert response.status_code == 400 and "is already in this vocabulary" in response.get_data(as_text=True)
