"""Reading an uploaded file as sheets of rows: CSV (any common encoding and separator), XLSX, ZIP.

Every reader streams: a CSV through `csv.reader` over a decoding text stream, a workbook through
openpyxl's read-only mode, a ZIP member by member. A sheet can be read again from the start (the
mapping step and the dry run each read it). A formula in a cell is read as its text (`=SUM(A1:A3)`),
never evaluated; the apostrophe our own CSV export puts before such text is removed again.

A file that cannot be read as a whole (not a spreadsheet, a ZIP with a path outside its folder, a
ZIP bomb) raises `Refused` with the reason a person reads.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import posixpath
import zipfile
from dataclasses import dataclass
from typing import Callable, Iterator

from ..spreadsheets import read_cell

# A ZIP (or a workbook, which is one) may expand to at most this much, and no member by more than RATIO.
MAX_EXPANDED_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 100
MAX_COLUMNS = 200
SNIFF_BYTES = 64 * 1024
# The sheet of a template that explains the columns: read by people, skipped by the import.
README_SHEET = "Read me"


class Refused(Exception):
    """The whole file is refused, with the reason."""


@dataclass
class Sheet:
    """One table of the upload: a CSV file, a workbook's sheet or a ZIP's CSV member."""

    file: str  # the name the user knows: "records.zip/hides.csv", "history.xlsx"
    name: str  # the sheet's name, or the CSV's name without its extension
    open_rows: Callable[[], Iterator[list]]
    encoding: str | None = None  # how a CSV was decoded, shown in the preview
    _header: list[str] | None = None

    def rows(self) -> Iterator[tuple[int, list]]:
        """(row number as a spreadsheet shows it, cells) of every row after the header."""
        started = False
        for number, cells in enumerate(self.open_rows(), start=1):
            if not started:
                if _blank(cells):
                    continue
                started = True
                continue
            yield number, cells

    @property
    def header(self) -> list[str]:
        if self._header is None:
            self._header = []
            for cells in self.open_rows():
                if not _blank(cells):
                    if len(cells) > MAX_COLUMNS:
                        raise Refused(f"{self.file}: more than {MAX_COLUMNS} columns.")
                    self._header = [str(c).strip() if c is not None else "" for c in cells]
                    break
        return self._header


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# --------------------------------------------------------------------------- CSV

def detect_encoding(head: bytes) -> str:
    """The encoding of a CSV from its first bytes: a BOM decides; else UTF-16 by its NULs, UTF-8, Windows-1252."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4:
        return "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4:
        return "utf-16-be"
    return "utf-8"


def _all_utf8(open_bytes: Callable[[], io.BufferedIOBase]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_bytes() as raw:
        try:
            while chunk := raw.read(1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of outside quotes."""
    counts = {d: 0 for d in ",;\t"}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_sheet(file: str, name: str, open_bytes: Callable[[], io.BufferedIOBase]) -> Sheet:
    """A CSV as a sheet: its encoding and separator found once, then read as often as needed."""
    with open_bytes() as raw:
        head = raw.read(SNIFF_BYTES)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and detect_encoding(head) == "utf-8":
        raise Refused(f"{file} is not a text file (it holds binary data): save it as CSV or XLSX.")
    encoding = detect_encoding(head)
    if encoding == "utf-8" and not _all_utf8(open_bytes):
        encoding = "cp1252"  # Excel's "CSV" on Windows; each of its bytes is a character (undefined ones as Latin-1)
    errors = "strict" if encoding != "cp1252" else "latin1_fallback"
    text = head.decode(encoding, errors="replace" if encoding != "cp1252" else "ignore")
    delimiter = _delimiter(text.lstrip("\ufeff").splitlines()[0] if text.strip() else "")

    def open_rows() -> Iterator[list]:
        with open_bytes() as raw:
            stream = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
            try:
                for cells in csv.reader(stream, delimiter=delimiter):
                    yield [read_cell(c.strip()) if c.strip() else None for c in cells]
            except UnicodeDecodeError:
                raise Refused(f"{file} is not valid {encoding} text: save it as UTF-8 CSV.") from None
            except csv.Error as error:
                raise Refused(f"{file} cannot be read as CSV: {error}.") from None

    label = {"utf-8-sig": "UTF-8 (with BOM)", "utf-8": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16",
             "utf-16-be": "UTF-16", "cp1252": "Windows-1252 (Latin-1)"}[encoding]
    sep = {",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter]
    return Sheet(file, name, open_rows, encoding=f"{label}, separated by {sep}")


def _latin1_fallback(error: UnicodeDecodeError):
    """Bytes Windows-1252 leaves undefined (0x81, 0x8D …) read as Latin-1, as Excel does."""
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("latin1_fallback", _latin1_fallback)


# --------------------------------------------------------------------------- ZIP and XLSX

def check_zip(archive: zipfile.ZipFile, label: str) -> None:
    """Refuse a ZIP with paths outside its folder, too many members, or that expands too far."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS * 50:
        raise Refused(f"{label} holds {len(members)} files: too many for an import.")
    total = 0
    for info in members:
        name = info.filename
        normal = posixpath.normpath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or normal.startswith("..") or ":" in name.split("/")[0]:
            raise Refused(f"{label} holds a path outside its folder ({name[:80]}): refused as a whole.")
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1024 * 1024:
            raise Refused(f"{label} looks like a ZIP bomb: {name[:80]} expands {info.file_size // info.compress_size}"
                          f" times (at most {MAX_RATIO}).")
    if total > MAX_EXPANDED_BYTES:
        raise Refused(f"{label} expands to {total // (1024 * 1024)} MB (at most {MAX_EXPANDED_BYTES // (1024 * 1024)} MB).")


def xlsx_sheets(file: str, open_bytes: Callable[[], io.BufferedIOBase]) -> list[Sheet]:
    """Each sheet of a workbook (the template's "Read me" sheet left out), read in read-only mode."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with open_bytes() as raw, zipfile.ZipFile(raw) as archive:
            check_zip(archive, file)
    except zipfile.BadZipFile:
        raise Refused(f"{file} is not an XLSX workbook (save it from Excel as .xlsx, or as CSV).") from None

    def load(raw):
        try:
            return openpyxl.load_workbook(raw, read_only=True, data_only=False)
        except (InvalidFileException, KeyError, ValueError, zipfile.BadZipFile, OSError) as error:
            raise Refused(f"{file} cannot be read as an XLSX workbook ({type(error).__name__}).") from None

    with open_bytes() as raw:
        workbook = load(raw)
        names = [ws.title for ws in workbook.worksheets]
        workbook.close()

    def reader(title: str):
        def open_rows() -> Iterator[list]:
            with open_bytes() as raw:
                book = load(raw)
                try:
                    for cells in book[title].iter_rows(values_only=True):
                        yield [_xlsx_cell(c) for c in cells[:MAX_COLUMNS + 1]]
                finally:
                    book.close()
        return open_rows

    return [Sheet(file, title, reader(title)) for title in names if title.strip().lower() != README_SHEET.lower()]


def _xlsx_cell(value):
    if isinstance(value, str):
        value = value.strip()
        return read_cell(value) if value else None
    return value


def read_upload(path: str, filename: str) -> list[Sheet]:
    """The sheets of an uploaded file at `path` (named `filename` by the user); Refused when unreadable."""
    ext = os.path.splitext(filename.lower())[1]

    def opener():
        return open(path, "rb")

    with open(path, "rb") as raw:
        magic = raw.read(4)
    if ext == ".zip" or (magic == b"PK\x03\x04" and ext not in (".xlsx", ".xlsm")):
        return _zip_sheets(path, filename)
    if ext in (".xlsx", ".xlsm"):
        return xlsx_sheets(filename, opener)
    if ext in (".csv", ".txt", ".tsv", ""):
        return [csv_sheet(filename, os.path.splitext(filename)[0], opener)]
    raise Refused(f"{filename}: upload a CSV, an XLSX workbook or the ZIP from Exports (not {ext}).")


def _zip_sheets(path: str, filename: str) -> list[Sheet]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise Refused(f"{filename} is not a valid ZIP file.") from None
    with archive:
        check_zip(archive, filename)
        infos = [i for i in archive.infolist() if not i.is_dir()]
    sheets: list[Sheet] = []
    for info in infos:
        base = posixpath.basename(info.filename)
        stem, ext = posixpath.splitext(base.lower())
        if base.startswith(".") or info.filename.startswith("__MACOSX"):
            continue

        def opener(member=info.filename):
            archive = zipfile.ZipFile(path)
            raw = archive.open(member)
            return _Closing(raw, archive)

        label = f"{filename}/{info.filename}"
        if ext in (".csv", ".txt", ".tsv"):
            sheets.append(csv_sheet(label, posixpath.splitext(base)[0], opener))
        elif ext == ".xlsx":
            sheets.extend(xlsx_sheets(label, opener))
        else:
            sheets.append(Sheet(label, base, lambda: iter(()), encoding="not a CSV or XLSX file: not read"))
    if not sheets:
        raise Refused(f"{filename} holds no CSV or XLSX file.")
    return sheets


class _Closing(io.BufferedIOBase):
    """A ZIP member that closes its archive with it, and is seekable enough for openpyxl."""

    def __init__(self, raw, archive):
        self._raw, self._archive = raw, archive

    def read(self, size=-1):
        return self._raw.read(size)

    def read1(self, size=-1):
        return self._raw.read(size)

    def readable(self):
        return True

    def seekable(self):
        return self._raw.seekable()

    def seek(self, offset, whence=0):
        return self._raw.seek(offset, whence)

    def tell(self):
        return self._raw.tell()

    def close(self):
        self._raw.close()
        self._archive.close()
        super().close()
