"""Every dog side by side: the agency's proficiency standard, and the proficiency matrix."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import Agency, AuditEntry, VocabularyTerm
from tests.helpers import make_agency


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def words(response) -> str:
    """The page's text as a person reads it: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def agency_form(**overrides):
    data = {"name": "Metro ICAC Task Force", "timezone": "America/Chicago", "warning_window_days": "45",
            "reminder_thresholds": "90,30,0", "monthly_training_target_hours": "16", "temperature_unit": "F"}
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- the agency's settings

def test_a_new_agency_holds_dogs_to_90_percent_and_a_60_day_window(db_session):
    agency = make_agency()
    db_session.commit()
    assert (agency.proficiency_standard, agency.readiness_window_days) == (90, 60)


def test_admin_sets_the_standard_and_the_window_and_the_change_is_audited(client, login_as, db_session):
    agency = make_agency(name="Metro ICAC Task Force")
    db_session.commit()
    login_as("admin")
    assert 'value="90"' in text(client.get(f"/admin/agencies/{agency.id}/edit"))
    response = client.post(f"/admin/agencies/{agency.id}/edit",
                           data=agency_form(proficiency_standard="85", readiness_window_days="30"))
    assert response.status_code == 302
    db_session.refresh(agency)
    assert (agency.proficiency_standard, agency.readiness_window_days) == (85, 30)
    update = db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "agency", AuditEntry.action == "update"))
    assert "proficiency_standard" in update.changes and "readiness_window_days" in update.changes


def test_left_blank_the_settings_keep_their_defaults(client, login_as, db_session):
    login_as("admin")
    assert client.post("/admin/agencies/new", data=agency_form(proficiency_standard="",
                                                               readiness_window_days="")).status_code == 302
    agency = db_session.scalar(select(Agency).where(Agency.name == "Metro ICAC Task Force"))
    assert (agency.proficiency_standard, agency.readiness_window_days) == (90, 60)


@pytest.mark.parametrize("overrides, message", [
    ({"proficiency_standard": "150"}, "A find rate is a percentage: use 1 to 100 (e.g. 90)."),
    ({"proficiency_standard": "0"}, "A find rate is a percentage: use 1 to 100 (e.g. 90)."),
    ({"proficiency_standard": "ninety"}, "Not a valid integer value."),
    ({"proficiency_standard": "99999999999999999999"}, "Use a number from"),
    ({"readiness_window_days": "-3"}, "Use 1 to 365 days (e.g. 60)."),
    ({"readiness_window_days": "400"}, "Use 1 to 365 days (e.g. 60)."),
])
def test_a_bad_standard_or_window_is_explained_beside_the_field(client, login_as, db_session, overrides, message):
    agency = make_agency(name="Metro ICAC Task Force")
    db_session.commit()
    login_as("admin")
    response = client.post(f"/admin/agencies/{agency.id}/edit", data=agency_form(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    db_session.refresh(agency)
    assert (agency.proficiency_standard, agency.readiness_window_days) == (90, 60)


# --------------------------------------------------------------------------- the matrix

from datetime import datetime, time, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from esd.proficiency.matrix import MIN_HIDES, build_matrix, verdict  # noqa: E402
from esd.rates import Rate  # noqa: E402
from esd.reports.metrics import Filters  # noqa: E402
from tests.helpers import make_dog, make_handler, make_session, make_team, make_user  # noqa: E402

TZ = "America/Chicago"


def hides(n, found, device, spot="Book", **more):
    return [{"device": device, "spot": spot, "outcome": "found" if i < found else "missed", **more} for i in range(n)]


def build_program():
    """Great Plains: Maverick (weak on microSD cards, proven on USB drives), Bolt (new), a retired dog, another agency."""
    agency = make_agency(name="Great Plains Task Force", timezone=TZ)
    handler = make_handler(agency)
    today = agency.today()

    def at(days_ago):
        return datetime.combine(today - timedelta(days=days_ago), time(12), ZoneInfo(TZ))

    maverick, bolt = make_dog(agency, name="Maverick"), make_dog(agency, name="Bolt")
    retired = make_dog(agency, name="Old Timer", status="retired")
    for dog in (maverick, bolt, retired):
        make_team(dog, handler)
    # microSD card: 9 of 20 in the period, 3 of the 10 blind ones; 10 more missed 100 days ago (outside 90 days).
    make_session(maverick, handler, started_at=at(10), hides=hides(10, 3, "microSD card", "Electrical outlet",
                                                                   blind=True, height="low"))
    make_session(maverick, handler, started_at=at(20), hides=hides(10, 6, "microSD card", "Electrical outlet"))
    make_session(maverick, handler, started_at=at(100), hides=hides(10, 0, "microSD card"))
    for days in (5, 15, 25):  # USB drive: 60 of 60
        make_session(maverick, handler, started_at=at(days), hides=hides(20, 20, "USB drive", height="floor"))
    make_session(maverick, handler, started_at=at(30), hides=hides(3, 0, "Phone"))  # 0 of 3: too few to judge
    make_session(maverick, handler, started_at=at(40), hides=hides(10, 8, "SD card"))  # 8 of 10: undecided
    make_session(bolt, handler, started_at=at(2), hides=hides(4, 4, "microSD card"))  # 4 of 4: too few
    make_session(bolt, handler, started_at=at(3), hides=hides(5, 0, "SIM card"))  # 0 of 5: below
    make_session(retired, handler, started_at=at(3), hides=hides(5, 0, "SIM card"))
    other = make_agency(name="Other Task Force")
    other_handler = make_handler(other)
    stranger = make_dog(other, name="Stranger")
    make_session(stranger, other_handler, started_at=at(3), hides=hides(7, 0, "microSD card"))
    db.session.commit()
    return agency, maverick, bolt, stranger


def matrix_of(agency, by="device_type", days=90, blind=False):
    from esd.proficiency.readiness import working_dogs
    today = agency.today()
    filters = Filters(agency_ids=(agency.id,), start=today - timedelta(days=days - 1), end=today, blind_only=blind,
                      tz=TZ)
    return build_matrix(filters, working_dogs(agency.id), by, agency.proficiency_standard, ZoneInfo(TZ))


def cells(matrix):
    return {(c.dog_name, c.label): (c.rate.found, c.rate.n, c.verdict) for row in matrix.rows for c in row.cells
            if c.rate.n}


@pytest.mark.parametrize("found, n, expected", [
    (9, 20, "below"),       # 45%, interval 25.8–65.8%: wholly under 90%
    (60, 60, "meets"),      # interval 94.0–100%: at or above 90%
    (8, 10, "undecided"),   # interval 49.0–94.3%: includes 90%
    (0, 3, "unknown"),      # would be "below" on its interval, but three hides say too little
    (4, 4, "unknown"),
    (0, 5, "below"),        # five hides: judged (interval 0–43.4%)
    (5, 5, "undecided"),    # interval 56.6–100%
    (0, 0, "none"),
])
def test_a_cell_is_judged_by_its_wilson_interval_against_the_standard(found, n, expected):
    assert MIN_HIDES == 5
    assert verdict(Rate(found, n), 90) == expected


def test_the_standard_moves_the_verdict():
    assert verdict(Rate(9, 20), 60) == "undecided"  # 65.8% upper bound is above 60%
    assert verdict(Rate(9, 20), 25) == "meets"      # 25.8% lower bound reaches 25%


def test_matrix_cells_match_hand_counted_hides_and_intervals(db_session):
    agency, maverick, bolt, _ = build_program()
    matrix = matrix_of(agency)
    assert cells(matrix) == {
        ("Maverick", "microSD card"): (9, 20, "below"),
        ("Maverick", "USB drive"): (60, 60, "meets"),
        ("Maverick", "Phone"): (0, 3, "unknown"),
        ("Maverick", "SD card"): (8, 10, "undecided"),
        ("Bolt", "microSD card"): (4, 4, "unknown"),
        ("Bolt", "SIM card"): (0, 5, "below"),
    }
    micro = next(c for row in matrix.rows for c in row.cells if (c.dog_name, c.label) == ("Maverick", "microSD card"))
    assert (round(micro.rate.low, 4), round(micro.rate.high, 4)) == (0.2582, 0.6579)
    # Weakest first: Bolt's 0 of 5 is the surest shortfall; the columns' pooled rates order them, too few last.
    assert [row.dog_name for row in matrix.rows] == ["Bolt", "Maverick"]
    assert [label for _, label, _ in matrix.columns] == ["SIM card", "microSD card", "SD card", "USB drive", "Phone"]
    assert [(c.dog_name, c.label) for c in matrix.weakest] == [
        ("Bolt", "SIM card"), ("Maverick", "microSD card"), ("Maverick", "SD card")]
    assert matrix.counts() == {"below": 2, "undecided": 1, "meets": 1, "unknown": 2, "none": 4}


def test_blind_only_and_a_longer_period_count_other_hides(db_session):
    agency, *_ = build_program()
    assert cells(matrix_of(agency, blind=True)) == {("Maverick", "microSD card"): (3, 10, "below")}
    assert cells(matrix_of(agency, days=200))[("Maverick", "microSD card")] == (9, 30, "below")
    heights = cells(matrix_of(agency, by="height"))
    assert heights == {("Maverick", "Low"): (3, 10, "below"), ("Maverick", "Floor"): (60, 60, "meets")}


def test_the_matrix_page_shows_each_cell_with_its_count_and_a_word(client, login_as, db_session):
    agency, maverick, *_ = build_program()
    login_as("manager", agency)
    response = client.get("/proficiency")
    assert response.status_code == 200
    page = words(response)
    assert "proficiency standard 90%" in page and "fewer than 5 hides" in page
    assert "9 of 20" in page and "95% CI 26–66%" in page and "Below standard" in page and "60 of 60" in page and "Meets standard" in page
    assert "Old Timer" not in page and "Stranger" not in page
    csv = client.get("/proficiency.csv?by=device_type&days=90").get_data(as_text=True)
    assert "Maverick,microSD card,20,9,45.0,25.8,65.8,Below standard," in csv


def test_a_cell_links_to_the_hides_behind_it(client, login_as, db_session):
    agency, maverick, *_ = build_program()
    login_as("handler", agency)
    micro = str(db_session.scalar(select(VocabularyTerm.id).where(VocabularyTerm.name == "microSD card")))
    page = text(client.get("/proficiency?by=device_type"))
    assert f"/proficiency/hides?dog={maverick.id}&amp;value={micro}" in client.get("/proficiency").get_data(as_text=True)
    response = client.get(f"/proficiency/hides?dog={maverick.id}&value={micro}&by=device_type&days=90")
    assert response.status_code == 200
    listing = text(response)
    assert "9 of 20 found" in listing and listing.count('data-outcome="missed"') == 11
    blind = text(client.get(f"/proficiency/hides?dog={maverick.id}&value={micro}&by=device_type&days=90&blind=y"))
    assert "3 of 10 found" in blind
    assert "Maverick" in page


@pytest.mark.parametrize("query, status, message", [
    ("days=-3", 400, "Use 1 to 1825 days (e.g. 90)."),
    ("days=99999999999999999999", 400, "Use a number from"),
    ("days=soon", 400, "Not a valid integer value."),
    ("by=colour", 400, "Not a valid choice."),
])
def test_a_bad_period_or_column_is_explained(client, login_as, db_session, query, status, message):
    agency, *_ = build_program()
    login_as("manager", agency)
    response = client.get(f"/proficiency?{query}")
    assert response.status_code == status
    assert message in text(response)
    assert client.get(f"/proficiency.csv?{query}").status_code == 400


def test_out_of_scope_is_404(client, login_as, db_session):
    agency, maverick, bolt, stranger = build_program()
    other_id = stranger.agency_id
    login_as("manager", agency)
    assert client.get(f"/proficiency?agency={other_id}").status_code == 404
    assert client.get(f"/proficiency/hides?dog={stranger.id}&value=floor&by=height").status_code == 404
    assert client.get(f"/proficiency/hides?dog={maverick.id}&value=attic&by=height").status_code == 404
    assert client.get(f"/proficiency/hides?dog={maverick.id}&value=99999999&by=device_type").status_code == 404
    assert client.get(f"/proficiency/hides?dog={maverick.id}&value=floor&by=height&agency={other_id}").status_code == 404
    assert client.get("/proficiency/hides?dog=abc").status_code == 404


def test_funders_never_see_dog_level_cells(client, db_session):
    agency, maverick, *_ = build_program()
    funder = make_user("funder")
    funder.granted_agencies.append(agency)
    db_session.commit()
    from tests.helpers import PASSWORD
    client.post("/login", data={"email": funder.email, "password": PASSWORD})
    for url in ("/proficiency", "/proficiency.csv", f"/proficiency/hides?dog={maverick.id}&value=floor&by=height",
                "/readiness", f"/readiness/dogs/{maverick.id}"):
        assert client.get(url).status_code == 404, url


def test_an_admin_picks_the_agency(client, login_as, db_session):
    agency, maverick, bolt, stranger = build_program()
    login_as("admin")
    page = text(client.get(f"/proficiency?agency={stranger.agency_id}"))
    assert "Stranger" in page and "Maverick" not in page
    assert client.get("/proficiency?agency=999999").status_code == 404


def test_a_manager_sets_the_own_agencys_standard_and_window(client, login_as, db_session):
    agency = make_agency(name="Great Plains Task Force")
    other = make_agency(name="Other Task Force")
    db_session.commit()
    login_as("manager", agency)
    assert 'value="90"' in text(client.get("/proficiency/standards"))
    response = client.post("/proficiency/standards", data={"proficiency_standard": "150", "readiness_window_days": "-3"})
    assert response.status_code == 400
    page = text(response)
    assert "A find rate is a percentage: use 1 to 100 (e.g. 90)." in page and "Use 1 to 365 days (e.g. 60)." in page
    assert client.post("/proficiency/standards", data={"proficiency_standard": "85",
                                                       "readiness_window_days": "30"}).status_code == 302
    db_session.refresh(agency)
    assert (agency.proficiency_standard, agency.readiness_window_days) == (85, 30)
    assert "proficiency standard 85%" in words(client.get("/proficiency"))  # a new standard, a new page
    update = db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "agency", AuditEntry.action == "update"))
    assert update.reason == "Training standards edited"
    assert client.get(f"/proficiency/standards?agency={other.id}").status_code == 404
    assert client.post(f"/proficiency/standards?agency={other.id}",
                       data={"proficiency_standard": "50", "readiness_window_days": "10"}).status_code == 404
    db_session.refresh(other)
    assert other.proficiency_standard == 90


def test_a_huge_agency_id_is_404_not_500(client, login_as, db_session):
    login_as("admin")
    assert client.get("/proficiency/standards?agency=99999999999999999999").status_code in (200, 404)
    assert client.get("/proficiency?agency=99999999999999999999").status_code in (400, 404)
