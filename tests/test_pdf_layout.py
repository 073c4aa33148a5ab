"""The reliability record PDF: a heading is never left alone at the foot of a page."""
from __future__ import annotations

import io

import pypdf
import pytest

from esd.exports.pdf import Document, Facts, Grid, Heading, Text, render_pdf

FILLER = "Training note: the dog searched the room in a methodical pattern and indicated at the source. "


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("paragraphs", range(10, 22))
def test_a_heading_starts_on_the_same_page_as_its_table(paragraphs):
    """Whatever fills the page before it, the heading's page also holds the table's header and first row."""
    doc = Document(title="Reliability record: Rex", subtitle="as of 2026-11-30", footer="Rex", blocks=[
        Heading("The dog"), Facts([("Name", "Rex")]),
        *[Text(FILLER * 3) for _ in range(paragraphs)],
        Heading("Training hours per month", 2),
        Grid(["Month", "Hours", "Target"], [[f"2026-{m:02d}", "16.0", "met"] for m in range(1, 12)]),
    ])
    pages = pages_of(render_pdf(doc))
    assert len(pages) >= 2
    heading_page = next(text for text in pages if "Training hours per month" in text)
    assert "Month" in heading_page and "2026-01" in heading_page


def test_a_table_longer_than_a_page_still_runs_over_pages_with_its_header():
    doc = Document(title="Reliability record: Rex", subtitle="as of 2026-11-30", footer="Rex", blocks=[
        Heading("Field record"),
        Grid(["Date", "Case"], [[f"2026-01-{d % 28 + 1:02d}", f"CASE-{d}"] for d in range(120)]),
    ])
    pages = pages_of(render_pdf(doc))
    assert len(pages) >= 2 and "Field record" in pages[0] and "CASE-0" in pages[0]
    assert all("Date" in text for text in pages) and "CASE-119" in pages[-1]
