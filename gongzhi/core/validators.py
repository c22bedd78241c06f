"""Validation of Chinese resident ID numbers (GB 11643-1999) and mainland mobile numbers."""

import datetime
import re
import unicodedata

from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

from gongzhi.core.errors import DomainError

# Province-level prefixes of GB/T 2260 (11 北京 … 82 澳门). The finer birthplace table is deliberately not
# checked: codes are re-issued and old IDs keep superseded ones.
PROVINCE_PREFIXES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
}
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def normalize_id_number(value: str) -> str:
    """Return the canonical 18-character ID number or raise DomainError with a precise message."""
    # NFKC turns full-width digits and letters typed with a Chinese input method into ASCII.
    value = unicodedata.normalize("NFKC", value or "").strip().upper().replace(" ", "")
    if not value:
        raise DomainError(_("请填写身份证号码。"), field="id_number")
    if len(value) != 18:
        raise DomainError(_("身份证号码应为18位，您填写了%(n)d位。") % {"n": len(value)}, field="id_number")
    if not _ID_RE.match(value):
        raise DomainError(_("身份证号码前17位应为数字，最后一位为数字或X。"), field="id_number")
    if value[:2] not in PROVINCE_PREFIXES:
        raise DomainError(_("身份证号码开头的地区代码无效。"), field="id_number")
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise DomainError(_("身份证号码中的出生日期无效。"), field="id_number") from None
    if birth.year < 1900 or birth > timezone.localdate():
        raise DomainError(_("身份证号码中的出生日期无效。"), field="id_number")
    if id_check_digit(value[:17]) != value[17]:
        raise DomainError(_("身份证号码校验位不正确，请核对后重新输入。"), field="id_number")
    return value


def id_check_digit(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given (ISO 7064 MOD 11-2)."""
    # stdnum's calc_check_digit takes the whole number and ignores its last character: passing the 17 digits
    # alone checked only 16 of them, and refused most real ID numbers.
    return ric.calc_check_digit(first17 + "0")


def birth_date_from_id(value: str) -> datetime.date:
    return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender_from_id(value: str) -> str:
    return "M" if int(value[16]) % 2 else "F"


def normalize_phone(value: str) -> str:
    """Return an 11-digit mainland mobile number or raise DomainError."""
    value = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", value or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value:
        raise DomainError(_("请填写手机号码。"), field="phone")
    if not _PHONE_RE.match(value):
        raise DomainError(_("请填写有效的11位中国大陆手机号码。"), field="phone")
    return value
