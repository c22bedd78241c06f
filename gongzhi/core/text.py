"""Free text people type (a note, a question, a name of a party): one cleaner for every service, and the one
rule on which characters text may hold, which the API's input schemas and the portals' forms apply too.

Text may hold newlines and tabs but no other control character: NUL is refused by PostgreSQL (a server
error there, stored silently by SQLite), and the others (bell, escape, C1 codes) are never typed, only
injected. Lone surrogates (from a JSON "\\ud800") cannot be stored as UTF-8 either. A browser sends a
textarea's line breaks as CRLF: "\\r\\n" (and a lone "\\r") is a newline and becomes "\\n".
"""

import re
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# C0 controls but tab (\x09) and newline (\x0a); carriage return (\x0d) is left to normalize_newlines. DEL,
# the C1 controls, and lone surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL_CHARACTERS_CODE = "control_characters"


def normalize_newlines(value: str) -> str:
    """CRLF and lone CR become LF."""
    if "\r" not in value:
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def has_control_characters(value: str) -> bool:
    """True when `value` holds a character text may not hold (see the module's docstring)."""
    return _FORBIDDEN.search(value) is not None


def control_characters_message(field: "StrOrPromise") -> str:
    """The refusal naming the field (its label on a page, its name in the API)."""
    return _("“%(field)s”中含有不允许的控制字符（换行和制表符以外），请删除后重新提交。") % {"field": field}


def check_text(value: str, *, field: str, label: "StrOrPromise | None" = None) -> str:
    """`value` with its newlines normalized, or DomainError(code="control_characters", field=field) naming
    the field (by `label` if given)."""
    if has_control_characters(value):
        raise DomainError(control_characters_message(label or field), code=CONTROL_CHARACTERS_CODE, field=field)
    return normalize_newlines(value)


def clean_text(value: str | None, *, field: str, max_length: int, required_message: "StrOrPromise | None" = None,
               too_long_message: "StrOrPromise | None" = None, code: str | None = None) -> str:
    """`value` without surrounding whitespace ("" for None), its newlines normalized.

    A control character other than newline and tab raises DomainError (code "control_characters"). With
    `required_message` the text is required: an empty one raises DomainError(required_message). Longer
    than `max_length` raises DomainError(too_long_message, or "内容不能超过n个字。"). All name `field` (and
    the last two carry `code`, when given).
    """
    value = check_text(value or "", field=field).strip()
    if required_message is not None and not value:
        raise DomainError(required_message, field=field, code=code)
    if len(value) > max_length:
        raise DomainError(too_long_message or _("内容不能超过%(n)d个字。") % {"n": max_length}, field=field,
                          code=code)
    return value
