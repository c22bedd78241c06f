"""Domain errors raised by services and policies; interfaces map them to responses."""

import math
from typing import TYPE_CHECKING

from django.db import OperationalError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """Bad input or a refused operation: nothing was changed. `message` is shown to the user."""

    status = 422
    code = "invalid"

    def __init__(self, message: "StrOrPromise | None" = None, *, code: str | None = None,
                 field: str | None = None) -> None:
        self.message = message if message is not None else _("请求无效。")
        if code:
            self.code = code
        self.field = field
        super().__init__(str(self.message))


class NotFound(DomainError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    status = 404
    code = "not_found"

    def __init__(self, message: "StrOrPromise | None" = None, **kwargs: str | None) -> None:
        super().__init__(message if message is not None else _("未找到，或不在您的管辖范围内。"), **kwargs)


class Forbidden(DomainError):
    """Visible to the caller but not theirs to change."""

    status = 403
    code = "forbidden"

    def __init__(self, message: "StrOrPromise | None" = None, **kwargs: str | None) -> None:
        super().__init__(message if message is not None else _("您没有执行此操作的权限。"), **kwargs)


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """Asked again too soon or too often; the message says when to try again, `retry_after` in seconds
    (sent as Retry-After)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: "StrOrPromise | None" = None, *, retry_after: float | None = None,
                 **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, math.ceil(retry_after)) if retry_after else None


class ServiceUnavailable(DomainError):
    """An outside service (an SMS gateway, say) failed; nothing was changed and a retry may succeed."""

    status = 503
    code = "service_unavailable"


class DatabaseBusy(ServiceUnavailable):
    """Another writer held the database longer than a write may wait; nothing was changed."""

    code = "busy"
    retry_after = 2  # seconds, sent as Retry-After

    def __init__(self, message: "StrOrPromise | None" = None, **kwargs: str | None) -> None:
        super().__init__(message if message is not None else _("系统繁忙，请稍后重试。"), **kwargs)


# PostgreSQL's "try again" states: lock_timeout expired, deadlock detected, serialization failure.
_PG_BUSY_STATES = frozenset({"55P03", "40P01", "40001"})


def is_database_busy(exc: BaseException) -> bool:
    """True for contention that the same request may well not meet a moment later: SQLite's "database is
    locked" (a writer waited out its busy timeout), PostgreSQL's lock timeout, deadlock and serialization
    failures. The request answers 503 with Retry-After (`DatabaseBusy`) instead of 500."""
    if not isinstance(exc, OperationalError):
        return False
    if "database is locked" in str(exc):
        return True
    return getattr(exc.__cause__, "sqlstate", None) in _PG_BUSY_STATES
