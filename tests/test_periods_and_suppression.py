"""Reporting periods (presets, fiscal years, the period before, a year earlier) and small-number suppression."""
from datetime import date
from itertools import product

import pytest

from esd.periods import Period, preset, quarter_start, year_name, year_start
from esd.suppression import FEWER, WITHHELD, Group, change_words, shown, suppress


@pytest.mark.parametrize("start, end, previous, year_earlier", [
    # A quarter against the quarter before (90 days against 92) and the same quarter a year earlier.
    (date(2026, 1, 1), date(2026, 3, 31), (date(2025, 10, 1), date(2025, 12, 31)), (date(2025, 1, 1), date(2025, 3, 31))),
    # February of a leap year: against January, and against February 2023 (28 days, whole month).
    (date(2024, 2, 1), date(2024, 2, 29), (date(2024, 1, 1), date(2024, 1, 31)), (date(2023, 2, 1), date(2023, 2, 28))),
    # A quarter ending with a leap February's month: the year before ends on 28 February... of a whole month.
    (date(2024, 12, 1), date(2025, 2, 28), (date(2024, 9, 1), date(2024, 11, 30)), (date(2023, 12, 1), date(2024, 2, 29))),
    # 15 days with the leap day in them: the 15 days before, and the same days a year back (29 Feb → 28 Feb).
    (date(2024, 2, 20), date(2024, 3, 5), (date(2024, 2, 5), date(2024, 2, 19)), (date(2023, 2, 20), date(2023, 3, 5))),
    (date(2024, 2, 29), date(2024, 3, 10), (date(2024, 2, 18), date(2024, 2, 28)), (date(2023, 2, 28), date(2023, 3, 10))),
    # A period crossing the new year: 31 days, against the 31 days before.
    (date(2025, 12, 15), date(2026, 1, 14), (date(2025, 11, 14), date(2025, 12, 14)), (date(2024, 12, 15), date(2025, 1, 14))),
    # A fiscal year July–June against the one before.
    (date(2025, 7, 1), date(2026, 6, 30), (date(2024, 7, 1), date(2025, 6, 30)), (date(2024, 7, 1), date(2025, 6, 30))),
])
def test_previous_period_and_a_year_earlier_are_the_hand_computed_ones(start, end, previous, year_earlier):
    period = Period(start, end)
    assert (period.previous().start, period.previous().end) == previous
    assert (period.year_earlier().start, period.year_earlier().end) == year_earlier


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before the start"):
        Period(date(2026, 3, 1), date(2026, 2, 28))


@pytest.mark.parametrize("name, fiscal, expected", [
    ("this_quarter", 1, (date(2026, 10, 1), date(2026, 11, 20))),
    ("last_quarter", 1, (date(2026, 7, 1), date(2026, 9, 30))),
    ("this_year", 1, (date(2026, 1, 1), date(2026, 11, 20))),
    ("last_year", 1, (date(2025, 1, 1), date(2025, 12, 31))),
    # Fiscal year from July: quarters Jul-Sep, Oct-Dec, Jan-Mar, Apr-Jun.
    ("this_quarter", 7, (date(2026, 10, 1), date(2026, 11, 20))),
    ("this_year", 7, (date(2026, 7, 1), date(2026, 11, 20))),
    ("last_year", 7, (date(2025, 7, 1), date(2026, 6, 30))),
    # Fiscal year from October (US federal): 20 November is in the first quarter of FY 2026-27.
    ("this_quarter", 10, (date(2026, 10, 1), date(2026, 11, 20))),
    ("last_quarter", 10, (date(2026, 7, 1), date(2026, 9, 30))),
    ("last_year", 10, (date(2025, 10, 1), date(2026, 9, 30))),
    # From February: quarters Feb-Apr, May-Jul, Aug-Oct, Nov-Jan.
    ("this_quarter", 2, (date(2026, 11, 1), date(2026, 11, 20))),
    ("last_quarter", 2, (date(2026, 8, 1), date(2026, 10, 31))),
])
def test_quarterly_and_yearly_presets_calendar_and_fiscal(name, fiscal, expected):
    period = preset(name, date(2026, 11, 20), fiscal)
    assert (period.start, period.end) == expected


def test_fiscal_quarters_cross_the_calendar_year():
    assert quarter_start(date(2027, 1, 15), 11) == date(2026, 11, 1)
    assert year_start(date(2026, 3, 1), 4) == date(2025, 4, 1)
    assert year_name(date(2025, 7, 1), 7) == "FY 2025–26" and year_name(date(2025, 1, 1)) == "2025"


@pytest.mark.parametrize("month", [0, 13, -1])
def test_a_fiscal_start_outside_january_to_december_is_refused(month):
    with pytest.raises(ValueError, match="from 1 \\(January\\) to 12"):
        preset("this_year", date(2026, 11, 20), month)


# --------------------------------------------------------------------------- suppression

@pytest.mark.parametrize("value, text", [(0, "0"), (1, FEWER), (4, FEWER), (5, "5"), (1234, "1,234"),
                                         (None, "none recorded")])
def test_one_count_from_1_to_4_reads_fewer_than_5(value, text):
    assert shown(value).text == text


def test_a_total_beside_its_parts_never_gives_a_suppressed_part_away():
    # Agencies A 6, B 3, C 12, total 21: showing A, C and the total would give B = 3.
    cells = suppress({"A": 6, "B": 3, "C": 12, "total": 21}, [Group("total", ("A", "B", "C"))])
    assert cells["B"].text == FEWER
    assert cells["A"].text == WITHHELD  # the next smallest part, withheld to protect B
    assert cells["C"].text == "12" and cells["total"].text == "21"
    assert not _derivable({"A": 6, "B": 3, "C": 12, "total": 21}, cells, ("A", "B", "C"), "total")


def test_two_small_parts_that_only_add_up_one_way_are_protected_too():
    # 4 + 4 = 8: "fewer than 5" twice beside a total of 8 says both are 4.
    values = {"A": 4, "B": 4, "total": 8}
    cells = suppress(values, [Group("total", ("A", "B"))])
    assert cells["total"].text == WITHHELD
    values = {"A": 1, "B": 0, "total": 1}
    cells = suppress(values, [Group("total", ("A", "B"))])
    assert cells["A"].text == FEWER and cells["total"].text == FEWER


def test_nested_groups_agency_region_nation_are_protected_together():
    values = {"a1": 3, "a2": 20, "a3": 7, "a4": 9, "west": 23, "east": 16, "nation": 39}
    groups = [Group("west", ("a1", "a2")), Group("east", ("a3", "a4")), Group("nation", ("west", "east")),
              Group("nation", ("a1", "a2", "a3", "a4"))]
    cells = suppress(values, groups)
    assert cells["a1"].text == FEWER
    for group in groups:
        assert not _derivable(values, cells, group.parts, group.total), group


def _derivable(values, cells, parts, total) -> bool:
    """Brute force: does exactly one assignment of the suppressed parts fit what is shown?"""
    if cells[total].suppressed:
        return False
    secret = [p for p in parts if cells[p].suppressed]
    rest = values[total] - sum(values[p] for p in parts if not cells[p].suppressed)
    ranges = [range(1, 5) if cells[p].text == FEWER else range(0, values[total] + 1) for p in secret]
    fits = [combo for combo in product(*ranges) if sum(combo) == rest]
    return any(len({combo[i] for combo in fits}) == 1 for i in range(len(secret)))


@pytest.mark.parametrize("now, before, words", [
    (29, 17, "up 12 from last year"), (5, 9, "down 4 from last year"), (7, 7, "the same as last year"),
    (3, 17, "not compared with last year: a count under 5 is not shown"),
])
def test_changes_in_words(now, before, words):
    assert change_words(shown(now), shown(before), "last year") == words
