"""Free text people type (a note, a question, a name of a party): one cleaner for every service."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def clean_text(value: str | None, *, field: str, max_length: int, required_message: "StrOrPromise | None" = None,
               too_long_message: "StrOrPromise | None" = None, code: str | None = None) -> str:
    """`value` without surrounding whitespace ("" for None).

    With `required_message` the text is required: an empty one raises DomainError(required_message). Longer
    than `max_length` raises DomainError(too_long_message, or "内容不能超过n个字。"). Both name `field` (and
    carry `code`, when given).
    """
    value = (value or "").strip()
    if required_message is not None and not value:
        raise DomainError(required_message, field=field, code=code)
    if len(value) > max_length:
        raise DomainError(too_long_message or _("内容不能超过%(n)d个字。") % {"n": max_length}, field=field,
                          code=code)
    return value
