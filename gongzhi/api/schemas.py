"""What every router shares: the error shapes, strict input, JSON-only bodies and the session auth."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.security import SessionAuth
from ninja.utils import check_csrf
from pydantic import ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from gongzhi.core.errors import DomainError
from gongzhi.core.text import CONTROL_CHARACTERS_CODE, has_control_characters, normalize_newlines


class ErrorOut(Schema):
    detail: str
    code: str
    field: str | None = None


class ValidationErrorOut(ErrorOut):
    errors: list[dict] | None = None


class UnparsableOut(Schema):
    """Ninja's own answer to a body that is not JSON at all."""

    detail: str


class TextIn(Schema):
    """Input whose text follows `core.text`'s rule, every field of it: a control character other than newline
    and tab is refused (422 naming the field, see `api.main`), CRLF becomes LF. Checked before the field's
    own type and constraints, so a pattern (an ID number's, say) does not hide which rule was broken. Query
    schemas use it as it is; bodies through `StrictIn`."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            return normalize_newlines(_checked(value, info))
        if isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, str):
                    _checked(item, info)
            return type(value)(normalize_newlines(v) if isinstance(v, str) else v for v in value)
        return value


def _checked(value: str, info: ValidationInfo) -> str:
    if has_control_characters(value):
        # The field's name travels in the error's context; api.main answers with it.
        raise PydanticCustomError(CONTROL_CHARACTERS_CODE, "control characters other than newline and tab",
                                  {"field": info.field_name})
    return value


class StrictIn(TextIn):
    """Input that refuses unknown fields instead of ignoring them (and control characters, see TextIn)."""

    model_config = ConfigDict(extra="forbid")


class NotSignedIn(DomainError):
    status = 401
    code = "not_authenticated"


class CsrfFailed(DomainError):
    status = 403
    code = "csrf_failed"


class JsonRequired(DomainError):
    status = 415
    code = "unsupported_media_type"


def require_json(request: HttpRequest) -> None:
    """Only JSON bodies: a cross-site form cannot send one without a CORS preflight."""
    if request.content_type != "application/json":
        raise JsonRequired(_("请以 application/json 格式提交。"))


class SignedIn(SessionAuth):
    """django_auth that answers in the house error shape: 401 first when not signed in (or the account was
    deactivated), then 403 when an unsafe request lacks the session's CSRF token."""

    reads_body = True

    def __call__(self, request: HttpRequest) -> Any:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            raise NotSignedIn(_("请先登录。"))
        # Read the body first: the CSRF check parses a form body, after which Ninja could no longer read the
        # raw body and a multipart request would fail with a server error instead of a clean 415/422.
        if self.reads_body:
            request.body  # noqa: B018
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed(_("安全校验失败，请刷新页面后重试。"))
        # The user itself, not the lazy wrapper: services read a dozen of its attributes, and every read
        # through the wrapper costs a call (measured in issue 10).
        return getattr(user, "_wrapped", user)


class SignedInUpload(SignedIn):
    """SignedIn for an endpoint that takes a file (multipart): the body is left to Django's multipart parser,
    which puts a large file on disk, instead of being read whole into memory (and refused above
    DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB)."""

    reads_body = False
