"""Templates to fill in for an import: one CSV per kind, or one workbook with a sheet per kind.

Both come from the kinds' definitions (kinds.py), so a template has the export's columns (a
timestamp as the agency reads it, without the `_local`/`_utc` pair) and the import reads it back as
it is. The workbook's "Read me" sheet explains each column and lists its allowed values, the
vocabulary terms included; the import skips that sheet.
"""
from __future__ import annotations

import io

from ..models.vocab import terms
from ..spreadsheets import csv_text
from .kinds import KINDS, ORDER, Column
from .readers import README_SHEET

# The sheets of the workbook, in the order a program fills them (each refers only to those before it),
# the vocabulary last: kinds.py's order, so a kind added there has its template at once.
TEMPLATE_KINDS = tuple(k for k in ORDER if k != "vocabulary") + ("vocabulary",)


def header(kind: str) -> list[str]:
    """The columns of a kind's template: the names the import matches first."""
    return [c.name for c in KINDS[kind].columns]


def template_csv(kind: str) -> str:
    """An empty CSV of one kind: its header, with a byte-order mark so spreadsheets read it as UTF-8."""
    return csv_text(header(kind), [], bom=True)


def allowed_values(column: Column) -> str:
    """What a column accepts, in words; a vocabulary column lists the installation's active terms."""
    if column.type == "term":
        names = [t.name for t in terms(column.vocab)]
        return "; ".join(names) + " (another term is matched to one of these, or created, in the mapping step)"
    return column.allowed


def readme_rows() -> list[list[str]]:
    """The "Read me" sheet: for each kind and column, whether it is required, its allowed values and meaning."""
    rows = [["Sheet", "Column", "Required", "Allowed values", "What it holds"]]
    for kind_name in TEMPLATE_KINDS:
        kind = KINDS[kind_name]
        rows.append([kind_name, "", "", "", f"{kind.title}: a row is matched to a record here by {kind.key_help}."])
        for column in kind.columns:
            rows.append([kind_name, column.name, "yes" if column.required else "",
                         allowed_values(column), column.help])
    rows.append(["", "", "", "", "Fill the sheets you need and leave the others empty; the import reads each "
                 "sheet by its name. A sheet or file from another system is matched column by column in the "
                 "mapping step, and nothing is written before you confirm the preview."])
    return rows


def template_workbook() -> bytes:
    """The XLSX template: the "Read me" sheet, then an empty sheet with the header of each kind."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    readme = book.active
    readme.title = README_SHEET
    bold = Font(bold=True)
    for row in readme_rows():
        readme.append(row)
    for cell in readme[1]:
        cell.font = bold
    for letter, width in zip("ABCDE", (16, 26, 10, 60, 70)):
        readme.column_dimensions[letter].width = width
        for cell in readme[letter]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    readme.freeze_panes = "A2"
    for kind in TEMPLATE_KINDS:
        sheet = book.create_sheet(kind)
        sheet.append(header(kind))
        for cell in sheet[1]:
            cell.font = bold
            sheet.column_dimensions[cell.column_letter].width = max(12, len(cell.value) + 4)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
