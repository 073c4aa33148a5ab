"""A small document model rendered to PDF with ReportLab.

ReportLab (not matplotlib's PDF backend) because court packets need real document layout:
tables that run over several pages with their header row repeated, wrapped text, page numbers.
The packet is described as a list of blocks so the same content feeds the HTML page and the PDF.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import (CondPageBreak, Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer,
                                Table, TableStyle)
from xml.sax.saxutils import escape

# Streams stored binary, not ASCII85-encoded: without ReportLab's optional C accelerator the
# encoding runs in pure Python and took a third of a packet's rendering (its charts are images).
rl_config.useA85 = 0


@dataclass
class Heading:
    text: str
    level: int = 1


@dataclass
class Text:
    text: str


@dataclass
class Facts:
    """Label/value pairs shown as a two-column table."""
    pairs: list[tuple[str, str]]


@dataclass
class Grid:
    """A table with a header row; long ones break across pages and repeat the header."""
    header: list[str]
    rows: list[list]
    empty: str = "None."
    caption: str | None = None


@dataclass
class Picture:
    png: bytes
    alt: str
    width_in: float = 6.5


@dataclass
class Document:
    title: str
    subtitle: str
    footer: str
    blocks: list = field(default_factory=list)


MARGINS = {"leftMargin": 0.75 * inch, "rightMargin": 0.75 * inch, "topMargin": 0.75 * inch,
           "bottomMargin": 0.8 * inch}
FRAME = (LETTER[0] - 1.5 * inch, LETTER[1] - 1.55 * inch)  # the page less its margins
LEAD_MARGIN = 12  # points: a later row may wrap one line more than the measured first row


def _cell(value, style):
    return Paragraph(escape("" if value is None else str(value)), style)


def _grid_table(header: list, rows: list, styles) -> Table:
    data = [[_cell(h, styles["head"]) for h in header]] + [[_cell(v, styles["small"]) for v in row] for row in rows]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _height(flowables: list) -> float:
    """The height the flowables take in the page's frame, spacing included."""
    return sum(f.wrap(FRAME[0], FRAME[1])[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in flowables)


def _flowables(block, styles) -> list:
    """The ReportLab flowables of one block (not a heading)."""
    small, head = styles["small"], styles["head"]
    if isinstance(block, Text):
        return [Paragraph(escape(block.text), styles["BodyText"])]
    if isinstance(block, Facts):
        table = Table([[_cell(k, head), _cell(v, small)] for k, v in block.pairs],
                      colWidths=[2.2 * inch, 4.8 * inch], hAlign="LEFT")
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
        return [table]
    if isinstance(block, Grid):
        caption = [Paragraph(escape(block.caption), small)] if block.caption else []
        if not block.rows:
            return caption + [Paragraph(escape(block.empty), small)]
        return caption + [_grid_table(block.header, block.rows, styles)]
    if isinstance(block, Picture):
        image = Image(io.BytesIO(block.png))
        ratio = image.imageHeight / image.imageWidth
        image.drawWidth, image.drawHeight = block.width_in * inch, block.width_in * inch * ratio
        return [KeepTogether([image, Paragraph(escape(block.alt), small)])]
    raise TypeError(f"not a document block: {block!r}")


def render_pdf(doc: Document) -> bytes:
    """The document as PDF bytes."""
    styles = getSampleStyleSheet()
    styles.add(styles["BodyText"].clone("small", fontSize=8, leading=10))
    styles.add(styles["BodyText"].clone("head", fontSize=8, leading=10, fontName="Helvetica-Bold"))
    story = [Paragraph(escape(doc.title), styles["Title"]), Paragraph(escape(doc.subtitle), styles["Normal"]),
             Spacer(1, 0.2 * inch)]
    headings: list = []  # headings waiting for the block they introduce
    for block in doc.blocks:
        if isinstance(block, Heading):
            headings.append(Paragraph(escape(block.text), styles["Heading2" if block.level == 1 else "Heading3"]))
            continue
        flowables = _flowables(block, styles)
        if headings and isinstance(block, Grid) and block.rows:
            # Never a heading alone at a page's foot: it starts a new page unless there is room for
            # it, the caption, the table's header row and first row; the table then runs on over
            # the pages it needs, its header row repeated (moving a long table whole would leave
            # most of a page blank).
            lead = headings + flowables[:-1] + [_grid_table(block.header, block.rows[:1], styles)]
            flowables = [CondPageBreak(_height(lead) + LEAD_MARGIN)] + headings + flowables
            headings = []
        elif headings:  # a short block: kept whole with its heading
            flowables = [KeepTogether(headings + flowables)]
            headings = []
        story += flowables + [Spacer(1, 0.12 * inch)]
    story += headings

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(0.75 * inch, 0.5 * inch, doc.footer)
        canvas.drawRightString(LETTER[0] - 0.75 * inch, 0.5 * inch, f"Page {document.page}")
        canvas.restoreState()

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=LETTER, title=doc.title, author="ESD K9 Tracker",
                      **MARGINS).build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
