"""Excel files (.xlsx) written with openpyxl's write-only mode: rows go to a temporary file as they come, so
memory stays flat however long the list."""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Sheet:
    """One sheet: an optional note line, the header in bold, then the rows."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()
    note: str = ""


def workbook(*sheets: Sheet) -> IO[bytes]:
    """The sheets in an anonymous temporary file, rewound for reading (it is gone once closed)."""
    book = Workbook(write_only=True)
    for part in sheets:
        sheet = book.create_sheet(title=part.title[:31])
        for column, width in enumerate(part.widths, start=1):
            sheet.column_dimensions[_letter(column)].width = width
        if part.note:
            sheet.append([_cell(sheet, part.note, bold=True)])
        sheet.append([_cell(sheet, name, bold=True) for name in part.header])
        for row in part.rows:
            sheet.append([_cell(sheet, value) for value in row])
    file = tempfile.TemporaryFile()
    book.save(file)
    file.seek(0)
    return file


def _cell(sheet: Any, value: Any, *, bold: bool = False) -> Any:  # a WriteOnlyCell
    if isinstance(value, datetime.datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))  # the caller's local time
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, int | float) and not isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)  # a figure stays a number, to sum and sort
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value)) if value is not None else ""
    cell = WriteOnlyCell(sheet, value=text)
    # Always text: a resident's "=HYPERLINK(…)" is shown as written, never run as a formula.
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# Long sheets (registry exports of 250,000 rows): a cell object per value costs about a third more than a
# plain value, so rows go in as plain values, and only text that would otherwise become a formula gets a cell.

def announce_size(sheet: Any, *, rows: int, columns: int) -> None:
    """Before a write-only sheet's first row: the size to write as its `<dimension>` (openpyxl writes none in
    write-only mode), so a reader learns the row count without reading the rows (progress bars)."""
    reference = f"A1:{_letter(max(columns, 1))}{max(rows, 1)}"
    sheet.calculate_dimension = lambda: reference


def text_cell(sheet: Any, value: str, *, bold: bool = False) -> Any:
    """A cell that stays text whatever it holds (an "=…" is shown, never run)."""
    return _cell(sheet, value, bold=bold)


def plain_row(sheet: Any, values: Sequence[Any]) -> list[Any]:
    """A row for `sheet.append`: text and numbers as they are (fast), None as an empty cell, text starting with
    "=" (openpyxl would store a formula) or holding characters a workbook cannot as a text cell."""
    return [_cell(sheet, v) if isinstance(v, str) and (
        v.startswith("=") or (not v.isprintable() and ILLEGAL_CHARACTERS_RE.search(v))) else v for v in values]
