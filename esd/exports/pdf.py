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
from reportlab.platypus import (Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table,
                                TableStyle)
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


def _cell(value, style):
    return Paragraph(escape("" if value is None else str(value)), style)


def render_pdf(doc: Document) -> bytes:
    """The document as PDF bytes."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    head = styles["BodyText"].clone("head", fontSize=8, leading=10, fontName="Helvetica-Bold")
    story = [Paragraph(escape(doc.title), styles["Title"]), Paragraph(escape(doc.subtitle), styles["Normal"]),
             Spacer(1, 0.2 * inch)]
    for block in doc.blocks:
        if isinstance(block, Heading):
            story.append(Paragraph(escape(block.text), styles["Heading2" if block.level == 1 else "Heading3"]))
        elif isinstance(block, Text):
            story.append(Paragraph(escape(block.text), styles["BodyText"]))
        elif isinstance(block, Facts):
            table = Table([[_cell(k, head), _cell(v, small)] for k, v in block.pairs],
                          colWidths=[2.2 * inch, 4.8 * inch], hAlign="LEFT")
            table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
            story.append(table)
        elif isinstance(block, Grid):
            if block.caption:
                story.append(Paragraph(escape(block.caption), small))
            if not block.rows:
                story.append(Paragraph(escape(block.empty), small))
            else:
                data = [[_cell(h, head) for h in block.header]] + \
                       [[_cell(v, small) for v in row] for row in block.rows]
                table = Table(data, repeatRows=1, hAlign="LEFT")
                table.setStyle(TableStyle([
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP")]))
                story.append(table)
        elif isinstance(block, Picture):
            image = Image(io.BytesIO(block.png))
            ratio = image.imageHeight / image.imageWidth
            image.drawWidth, image.drawHeight = block.width_in * inch, block.width_in * inch * ratio
            story.append(KeepTogether([image, Paragraph(escape(block.alt), small)]))
        story.append(Spacer(1, 0.12 * inch))

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(0.75 * inch, 0.5 * inch, doc.footer)
        canvas.drawRightString(LETTER[0] - 0.75 * inch, 0.5 * inch, f"Page {document.page}")
        canvas.restoreState()

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=LETTER, title=doc.title, author="ESD K9 Tracker",
                      leftMargin=0.75 * inch, rightMargin=0.75 * inch, topMargin=0.75 * inch,
                      bottomMargin=0.8 * inch).build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
