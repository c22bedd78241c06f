"""Opening an import file: openpyxl in read-only mode (rows stream from the zip, memory stays flat), values only
(a formula's last computed value), the header row found among the first rows by its column names.

Real files carry a title row (often merged across the columns), a note or two, then the header; the header row
is the first of the first HEADER_SCAN_ROWS that names every required column. The row count for the progress
bar is the sheet's `<dimension>` when the file has one (Excel and WPS write it; reading it costs nothing);
the rows are read once, without trusting it (some writers get it wrong, and openpyxl would stop there).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from gongzhi.core.errors import DomainError
from gongzhi.registry.excel.columns import RecordType, header_key

HEADER_SCAN_ROWS = 10
Row = tuple[Any, ...]


class FileProblem(DomainError):
    """The file as a whole cannot be imported (not a workbook, no header): nothing was checked row by row."""

    code = "import_file"


@dataclass
class OpenedSheet:
    header_row: int
    positions: tuple[tuple[int, str], ...]  # (index in the row, column key)
    headers: dict[str, str]  # column key → the header as the file writes it
    unknown: list[str]  # headers of columns no record field reads
    total: int | None  # data rows by the sheet's dimension (an estimate: trailing empty rows count)
    rows: Iterator[tuple[int, Row]] = field(repr=False)  # (row number as Excel shows it, values), blank rows left out
    _book: Any = field(repr=False, default=None)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None


def _blank(row: Row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _match(row: Row, record_type: RecordType) -> dict[int, str]:
    """{index in the row: column key} of the cells naming a column (the first naming it wins)."""
    names = {name: column.key for column in record_type.columns for name in column.names}
    found: dict[int, str] = {}
    taken: set[str] = set()
    for index, value in enumerate(row):
        if not isinstance(value, str):
            continue
        key = names.get(header_key(value))
        if key is not None and key not in taken:
            found[index] = key
            taken.add(key)
    return found


def open_sheet(file: IO[bytes], record_type: RecordType) -> OpenedSheet:
    """The data rows of the record type's sheet (titled as the type, else the first one), past its header."""
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise FileProblem(_("无法读取该文件。请上传Excel工作簿（.xlsx）；.xls或WPS格式请先“另存为”.xlsx。")) from None
    try:
        sheet = book[record_type.sheet] if record_type.sheet in book.sheetnames else book.worksheets[0]
        size = sheet.max_row
        sheet.reset_dimensions()  # read every row, whatever the dimension claims
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        best: dict[int, str] = {}
        header_row = 0
        header_cells: Row = ()
        required = {c.key for c in record_type.columns if c.required}
        for number, row in rows:
            found = _match(row, record_type)
            if required <= set(found.values()) and found:
                header_row, best, header_cells = number, found, row
                break
            if len(found) > len(best):
                best = found
            if number >= HEADER_SCAN_ROWS:
                break
        if not header_row:
            missing = [c.header.rstrip("*") for c in record_type.columns
                       if c.required and c.key not in best.values()]
            message = _("在前%(n)d行中没有找到表头：缺少必填列“%(columns)s”。请使用下载的模板，或检查列名。")
            raise FileProblem(message % {"n": HEADER_SCAN_ROWS, "columns": "、".join(missing)})
    except BaseException:
        book.close()
        raise
    headers = {key: str(header_cells[index]).strip() for index, key in best.items()}
    unknown = [str(v).strip() for i, v in enumerate(header_cells)
               if i not in best and v is not None and str(v).strip()]
    data = ((number, row) for number, row in rows if not _blank(row))
    total = size - header_row if size is not None and size > header_row else None
    return OpenedSheet(header_row=header_row, positions=tuple(sorted(best.items())), headers=headers,
                       unknown=unknown, total=total, rows=data, _book=book)
