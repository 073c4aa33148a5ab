"""Certification status and reminder rules as plain functions with an explicit `today`."""
from datetime import date, datetime, timezone

import pytest

from esd.certifications.services import days_left, sniff_type, status_of
from esd.dates import one_year_after
from esd.models import Agency, Certification
from esd.certifications.reminders import Recipient, due_threshold, notices_due, when_phrase

EXPIRES = date(2026, 6, 30)
DEFAULT = [90, 60, 30, 14, 7, 1, 0]


def cert(expires_on=EXPIRES, result="pass"):
    return Certification(issued_on=date(2025, 6, 30), expires_on=expires_on, result=result)


@pytest.mark.parametrize("today, expected", [
    (date(2026, 1, 1), "valid"),
    (date(2026, 4, 30), "valid"),      # 61 days left: outside a 60-day window
    (date(2026, 5, 1), "expiring"),    # 60 days left
    (date(2026, 6, 30), "expiring"),   # the last valid day
    (date(2026, 7, 1), "expired"),
])
def test_status_follows_the_warning_window(today, expected):
    assert status_of(cert(), today, warning_days=60) == expected


def test_a_dog_without_a_certification_has_status_none_and_no_days_left():
    assert status_of(None, date(2026, 1, 1), 60) == "none"
    assert days_left(None, date(2026, 1, 1)) is None


def test_a_failed_certification_never_counts_as_valid():
    assert status_of(cert(result="fail"), date(2026, 1, 1), 60) == "expired"


def test_days_left_go_negative_after_expiry():
    assert days_left(cert(), date(2026, 6, 20)) == 10
    assert days_left(cert(), date(2026, 7, 3)) == -3


@pytest.mark.parametrize("issued, expires", [
    (date(2026, 3, 15), date(2027, 3, 15)),
    (date(2028, 2, 29), date(2029, 2, 28)),
])
def test_default_expiry_is_one_year_after_issue(issued, expires):
    assert one_year_after(issued) == expires


def test_today_is_the_agencys_local_date():
    late_evening_in_new_york = datetime(2026, 3, 2, 3, 30, tzinfo=timezone.utc)
    assert Agency(timezone="America/New_York").today(late_evening_in_new_york) == date(2026, 3, 1)
    assert Agency(timezone="Europe/Berlin").today(late_evening_in_new_york) == date(2026, 3, 2)


@pytest.mark.parametrize("today, expected", [
    (date(2026, 3, 1), None),            # 121 days left: no threshold crossed yet
    (date(2026, 4, 1), 90),              # 90 days left exactly
    (date(2026, 4, 15), 90),             # crossed 90 and not 60: still the 90-day notice
    (date(2026, 5, 20), 60),             # the app was down across the 60-day mark: sent late
    (date(2026, 6, 25), 7),              # entered 5 days before expiry: only the most urgent
    (date(2026, 6, 29), 1),
    (date(2026, 6, 30), 0),              # on the day it expires
    (date(2026, 9, 1), 0),               # long expired: the expiry notice, never the old ones
])
def test_due_threshold_is_the_most_urgent_crossed(today, expected):
    assert due_threshold(EXPIRES, DEFAULT, today) == expected


def test_agency_thresholds_are_its_own():
    assert due_threshold(EXPIRES, [45, 10], date(2026, 5, 1)) is None
    assert due_threshold(EXPIRES, [45, 10], date(2026, 5, 16)) == 45
    assert Agency(reminder_thresholds="7, 30,30,0").thresholds() == [30, 7, 0]


def test_notices_go_to_each_recipient_on_each_channel_they_take():
    recipients = [Recipient(1, wants_email=True), Recipient(2, wants_email=False)]
    notices = notices_due(5, EXPIRES, DEFAULT, date(2026, 6, 1), recipients, settled=set())
    assert {(n.recipient_id, n.channel, n.threshold_days) for n in notices} == {
        (1, "in_app", 30), (1, "email", 30), (2, "in_app", 30)}


def test_settled_notices_are_not_sent_again():
    recipients = [Recipient(1, wants_email=True)]
    notices = notices_due(5, EXPIRES, DEFAULT, date(2026, 6, 1), recipients, settled={(1, "in_app")})
    assert [(n.recipient_id, n.channel) for n in notices] == [(1, "email")]


def test_nothing_is_due_before_the_first_threshold():
    assert notices_due(5, EXPIRES, DEFAULT, date(2026, 1, 1), [Recipient(1, True)], set()) == []


@pytest.mark.parametrize("today, phrase", [
    (date(2026, 6, 1), "expires in 29 days"), (date(2026, 6, 29), "expires tomorrow"),
    (date(2026, 6, 30), "expires today"), (date(2026, 7, 1), "expired 1 day ago"),
    (date(2026, 7, 5), "expired 5 days ago"),
])
def test_how_the_expiry_reads(today, phrase):
    assert when_phrase(EXPIRES, today) == phrase


@pytest.mark.parametrize("head, expected", [
    (b"%PDF-1.7\n", "application/pdf"), (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"), (b"GIF89a", None), (b"PK\x03\x04", None),
    (b"hello, I am a PDF", None), (b"", None),
])
def test_file_type_comes_from_the_content(head, expected):
    found = sniff_type(head)
    assert (found[0] if found else None) == expected
