"""CSV that a spreadsheet opens safely: the one writer behind every CSV download.

A text cell starting with = + - @ (or a tab or carriage return) gets an apostrophe in front, so
Excel, LibreOffice and Google Sheets show it and never run it as a formula (CSV injection: a
dog's name or a note typed as `=HYPERLINK(…)`). Numbers are data and are written as they are,
negative ones too. Header cells are treated like any other cell.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable, Iterator

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # first, so spreadsheets read the file as UTF-8 (accents in names)


def safe_cell(value):
    """Return a cell value a spreadsheet shows and never evaluates; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def read_cell(value: str) -> str:
    """Undo `safe_cell` on a cell read back (an import of our own export): `'=x` is the text `=x` again.

    Only the apostrophe `safe_cell` adds is removed; the text itself stays text and is never evaluated.
    """
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def csv_chunks(rows: Iterable[Iterable], bom: bool = False, every: int = 500) -> Iterator[str]:
    """Yield rows (the header first) as CSV text, a chunk every `every` rows, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        yield BOM
    for n, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(value) for value in row])
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(header: Iterable, rows: Iterable[Iterable], bom: bool = False) -> str:
    """Return a header and rows as one CSV text."""
    return "".join(csv_chunks([header, *rows], bom=bom))
