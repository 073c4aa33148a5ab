"""The one-page impact report as PDF (A4 or US Letter); a second page only for the per-agency table.

ReportLab, like the packets (esd/exports/pdf.py), but a fixed two-frame layout of its own: each
page's content is kept in its frame and shrunk to fit when it would run over, so the report is
one page, or two with the per-agency table, whatever the figures.
"""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch, mm
from reportlab.platypus import Image, KeepInFrame, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .impact import OUTCOMES, ImpactReport

rl_config.useA85 = 0  # see esd/exports/pdf.py
PAPER = {"a4": A4, "letter": LETTER}
MARGIN = 12 * mm


def _styles():
    base = getSampleStyleSheet()
    body = base["BodyText"]
    return {
        "title": base["Title"].clone("t", fontSize=16, leading=19, spaceAfter=2, alignment=0),
        "sub": body.clone("s", fontSize=8, leading=10, textColor=colors.HexColor("#444444")),
        "h": base["Heading3"].clone("h", fontSize=9.5, leading=12, spaceBefore=5, spaceAfter=2),
        "body": body.clone("b", fontSize=8, leading=10, spaceAfter=1),
        "cell": body.clone("c", fontSize=7, leading=8.5),
        "head": body.clone("hd", fontSize=7, leading=8.5, fontName="Helvetica-Bold"),
        "small": body.clone("sm", fontSize=6, leading=7.2, textColor=colors.HexColor("#333333")),
    }


def _p(text: str, style) -> Paragraph:
    return Paragraph(escape(text), style)


def _table(header: list[str], rows: list[list[str]], st, widths=None) -> Table:
    data = [[_p(h, st["head"]) for h in header]] + [[_p(str(v), st["cell"]) for v in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return table


def render(report: ImpactReport, chart_png: bytes, paper: str, generated_on: str, generated_by: str,
           zone: str = "") -> bytes:
    """The report as PDF bytes on `paper` ("a4" or "letter")."""
    size = PAPER[paper]
    width, height = size[0] - 2 * MARGIN, size[1] - 2 * MARGIN - 10  # the footer line below the frame
    st = _styles()
    first = _first_page(report, chart_png, st, width, generated_on, generated_by, zone)
    story = [KeepInFrame(width, height, first, mode="shrink")]
    if report.agency_count > 1:
        story += [PageBreak(), KeepInFrame(width, height, _agency_page(report, st, width), mode="shrink")]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica", 6.5)
        canvas.drawString(MARGIN, MARGIN - 2, f"ESD K9 Tracker impact report · {report.period.label()} · "
                                              f"generated {generated_on} by {generated_by}")
        canvas.drawRightString(size[0] - MARGIN, MARGIN - 2, f"Page {document.page}")
        canvas.restoreState()

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                      bottomMargin=MARGIN + 10, title="Impact of the detection dogs", author="ESD K9 Tracker",
                      subject=report.period.label()).build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _first_page(report: ImpactReport, chart_png: bytes, st, width: float, generated_on: str, generated_by: str,
                zone: str) -> list:
    agencies = f"{report.agency_count} {'agency' if report.agency_count == 1 else 'agencies'}"
    story = [
        _p("Impact of the detection dogs", st["title"]),
        _p(f"{agencies} · {report.period.label()} · compared with the previous period ({report.previous.label()}) "
           f"and a year earlier ({report.year_earlier.label()}). {zone}", st["sub"]),
        _p("In plain words", st["h"]),
        *[_p(f"• {f.sentence}", st["body"]) for f in report.headline + report.outcomes + report.training],
        _p(report.outcome_coverage, st["body"]),
        _p("The figures, period against period", st["h"]),
        _table(["Figure", "This period", "Previous period", "Change", "A year earlier", "Change"],
               [[f.label, f.now, f.previous, f.vs_previous, f.year_ago, f.vs_year] for f in report.figures], st,
               widths=[w * width for w in (0.25, 0.1, 0.1, 0.2, 0.1, 0.25)]),
        Spacer(1, 4),
    ]
    image = Image(io.BytesIO(chart_png))
    image.drawWidth = width
    image.drawHeight = width * image.imageHeight / image.imageWidth
    story += [_p("Searches and devices found per month", st["h"]), image]
    if report.regions:
        story += [_p("Across the country", st["h"]), _p(report.certified_share + ".", st["body"]),
                  _table(["Region", "Agencies", "With a certified dog", "Searches", "Devices found",
                          *[OUTCOMES[k][0] for k in ("arrests", "charges", "children_safeguarded")]],
                         [[r.region, r.agencies, r.with_certified_dog, r.searches, r.devices_found,
                           r.outcomes["arrests"], r.outcomes["charges"], r.outcomes["children_safeguarded"]]
                          for r in report.regions], st)]
    story += [_p("What each figure counts", st["h"])]
    story += [_p(f"{f.label}: {f.definition}", st["small"]) for f in report.figures]
    story += [_p(note, st["small"]) for note in (report.training[0].note, *report.notes)]
    story += [Spacer(1, 3), _p(
        f"Generated on {generated_on} by {generated_by}. Verification: the SHA-256 digest of the figures above "
        f"is {report.digest()}; the same report generated again from unchanged records gives the same digest, "
        "and every generation is recorded in the audit log.", st["small"])]
    return story


def _agency_page(report: ImpactReport, st, width: float) -> list:
    header = ["Agency", "Region", "Searches", "Devices found", "Missed by officers", "Held evidence", "Arrests",
              "Charges", "Children", "Certified dog today"]
    rows = [[a.name, a.region, a.searches, a.devices_found, a.found_after_missed, a.held_evidence,
             a.outcomes["arrests"], a.outcomes["charges"], a.outcomes["children_safeguarded"],
             "yes" if a.certified_dog else "no"] for a in report.agencies]
    widths = [w * width for w in (0.22, 0.1, 0.07, 0.08, 0.09, 0.08, 0.09, 0.09, 0.09, 0.09)]
    return [_p(f"By agency · {report.period.label()}", st["h"]),
            _p(report.notes[0], st["small"]), Spacer(1, 3), _table(header, rows, st, widths)]
