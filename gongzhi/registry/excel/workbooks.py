"""The workbooks the registry hands out: a template per record type, an export, the list of an import's errors.

The template is small, so it is an ordinary workbook with what helps people fill it in: a note row above the
header, the header (required columns in red), text-formatted columns for numbers Excel would spoil (ID numbers,
phones, codes), drop-down lists for choice columns, and a second sheet explaining every column. Exports and
error lists can be long, so they are written in openpyxl's write-only mode, each with its `<dimension>` so that
an exported file imported again shows its progress from the first row.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from gongzhi.core import excel
from gongzhi.core.jobs import Progress
from gongzhi.registry.excel.columns import RecordType, offered
from gongzhi.registry.models import SpecialGroup

LAST_ROW = 1_048_576  # Excel's last row: drop-down lists and text format reach it
MASKED_NOTE = "本文件中的身份证号、手机号已隐藏部分数字，仅供查看，不能用于重新导入。"


def _rewound(file: IO[bytes]) -> IO[bytes]:
    file.seek(0)
    return file


def template(record_type: RecordType) -> IO[bytes]:
    """The empty template of a record type, in an anonymous temporary file."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = record_type.sheet
    columns = record_type.columns
    last = get_column_letter(len(columns))
    sheet.append([_("请从第3行起每行填写一条记录；列名带*的为必填；各列的填写说明见“填写说明”工作表。") + " "
                  + str(record_type.note)])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[1].height = 48
    sheet.append(record_type.headers)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=2, column=index)
        header.font = Font(bold=True, color="C00000" if column.required else None)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        if column.as_text:
            dimension.number_format = "@"
        choices = offered(record_type.key, column.key)
        if choices:
            validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                        showErrorMessage=True, errorTitle=_("请从列表中选择"),
                                        error=_("可选：%(choices)s") % {"choices": "、".join(choices)})
            validation.add(f"{letter}3:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
        elif column.key == "groups":
            names = "、".join(SpecialGroup.objects.filter(is_active=True).values_list("name", flat=True))
            validation = DataValidation(type=None, allow_blank=True, showInputMessage=True,
                                        promptTitle=_("特殊人群"),
                                        prompt=(_("多个用分号隔开，可选：%(names)s") % {"names": names})[:255])
            validation.add(f"{letter}3:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A3"
    guide = book.create_sheet(_("填写说明"))
    guide.append([_("列名"), _("是否必填"), _("说明")])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in columns:
        choices = offered(record_type.key, column.key)
        hint = str(column.hint)
        if choices:
            hint = (hint + " " if hint else "") + _("可选：%(choices)s。") % {"choices": "、".join(choices)}
        if column.key == "groups":
            names = "、".join(SpecialGroup.objects.filter(is_active=True).values_list("name", flat=True))
            hint = _("可填多个，用分号隔开。可选：%(names)s。") % {"names": names}
        guide.append([column.header.rstrip("*"), _("必填") if column.required else "", hint])
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 90
    file = tempfile.TemporaryFile()
    book.save(file)
    return _rewound(file)


def write_records(file: IO[bytes], record_type: RecordType, rows: Iterable[Sequence[Any]], *, count: int,
                  masked: bool, progress: Progress) -> None:
    """An export: the template's header (after a warning line when numbers are masked), then the rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=record_type.sheet)
    for index, column in enumerate(record_type.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    excel.announce_size(sheet, rows=count + 1 + (1 if masked else 0), columns=len(record_type.columns))
    if masked:
        sheet.append([excel.text_cell(sheet, MASKED_NOTE, bold=True)])
    sheet.append([excel.text_cell(sheet, header, bold=True) for header in record_type.headers])
    done = 0
    for row in rows:
        sheet.append(excel.plain_row(sheet, row))
        done += 1
        if done % 500 == 0:
            progress.set(done)
    progress.set(done)
    book.save(file)
    _rewound(file)


def error_list(errors: Sequence[tuple[int, str, str, str]], *, truncated: bool, total: int) -> IO[bytes]:
    """Every row error as one line: row number (as Excel shows it), column, the value as written, why."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("错误清单"))
    for letter, width in zip("ABCD", (8, 16, 24, 70), strict=True):
        sheet.column_dimensions[letter].width = width
    excel.announce_size(sheet, rows=len(errors) + 2, columns=4)
    note = _("共%(n)d处错误。改正原文件后重新上传；或在任务页选择只导入无误的行。") % {"n": total}
    if truncated:
        note += " " + _("错误过多，这里只列出前%(n)d处。") % {"n": len(errors)}
    sheet.append([excel.text_cell(sheet, note, bold=True)])
    sheet.append([excel.text_cell(sheet, h, bold=True) for h in (_("行号"), _("列"), _("填写的值"), _("错误原因"))])
    for row, header, value, why in errors:
        sheet.append([row, excel.text_cell(sheet, header), excel.text_cell(sheet, value), excel.text_cell(sheet, why)])
    file = tempfile.TemporaryFile()
    book.save(file)
    return _rewound(file)
