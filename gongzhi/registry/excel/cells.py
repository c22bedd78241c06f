"""One cell of an import file as people really fill it in, turned into a clean value or a `CellError` that says
why in words they can act on.

What openpyxl hands over (read-only, data only) is a str, an int, a float, a datetime or None. Real files have ID
numbers stored as numbers (Excel keeps 15 significant digits, so an 18-digit number has lost its last digits),
full-width digits and letters typed with a Chinese input method, stray spaces, a lower-case x, dates as Excel
serial numbers, as dates or as text in half a dozen spellings, and trailing empty rows. Everything here is a pure
function of the cell's value.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError
from gongzhi.core.validators import normalize_id_number, normalize_phone


class CellError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_SPACES = re.compile(r"\s+")
# Control characters (a workbook cannot hold them; they come from pasted text), as openpyxl defines them.
_CONTROL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# Excel's day 0 of the 1900 date system (with its 1900-02-29 that never was, which this start absorbs).
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DATE_TEXT = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
# Separators of a list in one cell: semicolons and commas (half- or full-width, NFKC makes them half), 、 and
# line breaks.
_LIST_SPLIT = re.compile(r"[;,、\s]+")


def shown(value: Any) -> str:
    """The cell's value as the person sees it in Excel, for the error list."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return f"{value:%Y-%m-%d}" if value.time() == datetime.time() else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15G}"  # the 15 significant digits Excel keeps: 6.2110219680412E+17
    return str(value)


def text(value: Any) -> str:
    """Any cell as clean text: NFKC (full-width letters, digits and punctuation become ASCII), outer spaces
    removed, inner runs of spaces made one; a whole number stored as a number without its ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        if value.isascii():
            cleaned = value.strip()
        else:
            cleaned = unicodedata.normalize("NFKC", value).strip()
        if not cleaned.isprintable():
            cleaned = _CONTROL.sub("", cleaned)
        return _SPACES.sub(" ", cleaned) if "  " in cleaned or "\n" in cleaned or "\t" in cleaned else cleaned
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return shown(value)
    return str(value)


def limited(value: Any, max_length: int, *, required: bool = False) -> str:
    result = text(value)
    if required and not result:
        raise CellError(_("必填项不能为空。"))
    if len(result) > max_length:
        raise CellError(_("不能超过%(n)d个字。") % {"n": max_length})
    return result


def name(value: Any) -> str:
    """A person's name: spaces between Han characters are dropped (张 三 → 张三); other names keep theirs."""
    result = text(value)
    if not result:
        raise CellError(_("必填项不能为空。"))
    if " " in result and not result.isascii():
        result = "".join(part for part in result.split(" "))
    if len(result) > 50:
        raise CellError(_("不能超过%(n)d个字。") % {"n": 50})
    return result


def _digits_lost(value: float, what: str) -> CellError:
    return CellError(_("%(what)s被Excel存成了数字，末几位已丢失，请把该列设为文本后重新填写") % {"what": what})


def code(value: Any, what: str, max_length: int) -> str:
    """A number-like code (户号, 标准地址编码, 网格编码, licence number): digits and letters, upper-cased, spaces
    removed. A long one stored as a number in scientific notation has lost digits: refused."""
    if isinstance(value, float) and abs(value) >= 1e15:
        raise _digits_lost(value, what)
    result = text(value).replace(" ", "").upper()
    if len(result) > max_length:
        raise CellError(_("不能超过%(n)d个字。") % {"n": max_length})
    return result


def id_number(value: Any, what: str = "") -> str:
    """A resident ID number (18 characters, valid check digit), however Excel stored it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError(_("必填项不能为空。"))
    if isinstance(value, float):
        if abs(value) >= 1e15 or not value.is_integer():
            raise _digits_lost(value, what or _("身份证号"))
        value = str(int(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif not isinstance(value, str):
        raise CellError(_("身份证号码前17位应为数字，最后一位为数字或X。"))
    if "*" in value or "＊" in value:
        raise CellError(_("身份证号已隐藏部分数字（来自隐藏号码的导出文件），不能导入，请填写完整号码。"))
    try:
        return normalize_id_number(value)
    except DomainError as err:
        raise CellError(str(err.message)) from None


def phone(value: Any) -> str:
    """A mainland mobile number; empty stays empty (the caller decides whether it is required)."""
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("请填写有效的11位中国大陆手机号码。"))
        value = str(int(value))
    result = text(value)
    if not result:
        return ""
    if "*" in result:
        raise CellError(_("手机号已隐藏部分数字（来自隐藏号码的导出文件），不能导入，请填写完整号码。"))
    try:
        return normalize_phone(result)
    except DomainError as err:
        raise CellError(str(err.message)) from None


def _valid_date(year: int, month: int, day: int) -> datetime.date:
    try:
        result = datetime.date(year, month, day)
    except ValueError:
        raise CellError(_("日期无效。")) from None
    if result.year < 1900:
        raise CellError(_("日期无效。"))
    return result


def date(value: Any) -> datetime.date | None:
    """A date from a date cell, an Excel serial number, or text: 1968-04-12, 1968/4/12, 1968.4.12, 19680412,
    1968年4月12日. Empty: None."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            value = int(value)  # a time of day after the date
        number = int(value)
        if 19000101 <= number <= 29991231:  # 19680412 typed into a number cell
            return _valid_date(number // 10000, number // 100 % 100, number % 100)
        if 1 <= number <= 2958465:  # Excel's serial days, up to 9999-12-31
            return _EXCEL_EPOCH + datetime.timedelta(days=number)
        raise CellError(_("日期无效。"))
    result = text(value).replace(" ", "")
    if not result:
        return None
    for pattern in _DATE_TEXT:
        match = pattern.match(result)
        if match:
            return _valid_date(int(match[1]), int(match[2]), int(match[3]))
    raise CellError(_("日期格式无法识别，请填写如1968-04-12。"))


def choice(value: Any, labels: Mapping[str, str], offered: tuple[str, ...]) -> str | None:
    """The stored value of a choice given by its label (or a common synonym); empty: None."""
    result = text(value).replace(" ", "")
    if not result:
        return None
    found = labels.get(result)
    if found is None:
        raise CellError(_("“%(value)s”不是可选的值，可选：%(choices)s。") % {
            "value": result, "choices": "、".join(offered)})
    return found


def items(value: Any) -> list[str]:
    """The parts of a list typed into one cell (separated by ; ； , ， 、 or line breaks)."""
    return [part for part in _LIST_SPLIT.split(text(value)) if part]


def whole_number(value: Any, *, maximum: int = 10**9) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        result = text(value).replace(",", "").replace(" ", "")
        if not result:
            return None
        if not result.isdigit():
            raise CellError(_("请填写整数。"))
        number = int(result)
    if not 0 <= number <= maximum:
        raise CellError(_("数值超出范围。"))
    return number


def decimal(value: Any, *, places: int = 1, maximum: Decimal = Decimal("9999999")) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = Decimal(str(value))
    else:
        raw = text(value).replace(",", "").replace(" ", "")
        if not raw:
            return None
        try:
            result = Decimal(raw)
        except InvalidOperation:
            raise CellError(_("请填写数字。")) from None
    if not result.is_finite() or result < 0 or result > maximum:
        raise CellError(_("数值超出范围。"))
    return result.quantize(Decimal(1).scaleb(-places))


def coordinate(value: Any, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        raw = text(value).replace(" ", "")
        if not raw:
            return None
        try:
            number = float(raw)
        except ValueError:
            raise CellError(_("请填写数字。")) from None
    if not low <= number <= high:
        raise CellError(_("数值超出范围。"))
    return round(number, 7)
