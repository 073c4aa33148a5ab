"""Every CSV download is written by one writer that a spreadsheet opens safely."""
import csv
import io

import pytest

from esd.spreadsheets import BOM, csv_chunks, csv_text, safe_cell


@pytest.mark.parametrize("typed", ["=1+2", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x")'])
def test_text_a_spreadsheet_would_run_is_shown_with_an_apostrophe(typed):
    assert safe_cell(typed) == "'" + typed


@pytest.mark.parametrize("value, written", [(None, ""), ("Rex", "Rex"), (-3, -3), (0.25, 0.25), ("a=b", "a=b")])
def test_other_cells_are_written_as_they_are(value, written):
    assert safe_cell(value) == written


def test_header_and_rows_are_neutralised_and_read_back_by_a_csv_reader():
    text = csv_text(["dog", "=days"], [["=Rex", -3], ["Nova", None]])
    assert list(csv.reader(io.StringIO(text))) == [["dog", "'=days"], ["'=Rex", "-3"], ["Nova", ""]]
    assert text.endswith("\r\n")


def test_a_stream_in_chunks_is_the_same_text_with_the_byte_order_mark_first():
    rows = [["n"]] + [[i] for i in range(1200)]
    chunks = list(csv_chunks(rows, bom=True, every=500))
    assert chunks[0] == BOM and len(chunks) > 3
    assert "".join(chunks[1:]) == csv_text(rows[0], rows[1:])
