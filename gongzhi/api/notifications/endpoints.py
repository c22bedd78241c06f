"""The signed-in user's notification inbox over JSON.

Every endpoint needs a session (see gongzhi.api.accounts for how a non-browser client keeps one); without
one the answer is 401. The POSTs also need the session's CSRF token in an `X-CSRFToken` header (403 without
it), and `read` takes `Content-Type: application/json` only.
"""

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import StrictInt

from gongzhi.accounts.selectors import primary_portal
from gongzhi.api.schemas import ErrorOut, SignedIn, StrictIn, UnparsableOut, ValidationErrorOut, require_json
from gongzhi.notifications import selectors, services
from gongzhi.notifications.models import Notification
from gongzhi.web import targets

_MAX_ID = 2**63 - 1
_MAX_OFFSET = 1_000_000


router = Router(auth=SignedIn())

_AUTH_ERRORS = {401: ErrorOut}


class InboxQuery(Schema):
    unread_only: bool = Field(False, description="只看未读")
    limit: int = Field(20, ge=1, le=100, description="每页条数")
    offset: int = Field(0, ge=0, le=_MAX_OFFSET, description="跳过条数")


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="类型，如 case.accepted")
    title: str
    body: str
    target_type: str = Field(description="打开的对象类型，如 case；为空表示没有")
    target_id: int | None = Field(description="打开的对象编号")
    link: str = Field(description="在本人所用门户中打开的本站路径，如 /cases/12/；可为空")
    created_at: datetime
    read_at: datetime | None
    is_read: bool


class InboxOut(Schema):
    count: int = Field(description="符合条件的通知总数")
    unread_count: int
    limit: int
    offset: int
    items: list[NotificationOut]


class CountOut(Schema):
    count: int


class ReadIn(StrictIn):
    ids: list[Annotated[StrictInt, Field(ge=1, le=_MAX_ID)]] = Field(
        min_length=1, max_length=services.MAX_READ_IDS, description="要标为已读的通知编号")


class MarkedOut(Schema):
    marked: int = Field(description="本次由未读变为已读的条数")


def _out(notification: Notification, portal: str) -> dict:
    read_at = notification.read_at
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "target_type": notification.target_type,
        "target_id": notification.target_id,
        "link": targets.url_for(notification, portal=portal) or "",
        "created_at": timezone.localtime(notification.created_at),
        "read_at": timezone.localtime(read_at) if read_at else None,
        "is_read": read_at is not None,
    }


@router.get("", response={200: InboxOut, 422: ValidationErrorOut, **_AUTH_ERRORS}, summary="我的通知")
def inbox(request: HttpRequest, query: Query[InboxQuery]):
    """The signed-in user's notifications, newest first, `limit` at a time from `offset`."""
    qs = selectors.inbox_for(request.user, unread_only=query.unread_only)
    portal = primary_portal(request.auth)  # type: ignore[attr-defined]  # SignedIn set it; links open where they work
    return {
        "count": qs.count(),
        "unread_count": selectors.unread_count(request.user),
        "limit": query.limit,
        "offset": query.offset,
        "items": [_out(n, portal) for n in qs[query.offset:query.offset + query.limit]],
    }


@router.get("/unread-count", response={200: CountOut, **_AUTH_ERRORS}, summary="未读通知数")
def unread_count(request: HttpRequest):
    return {"count": selectors.unread_count(request.user)}


@router.post("/read", response={200: MarkedOut, 400: UnparsableOut, 403: ErrorOut, 404: ErrorOut,
                                415: ErrorOut, 422: ValidationErrorOut, **_AUTH_ERRORS},
             summary="标为已读")
def read(request: HttpRequest, payload: ReadIn):
    """Marks the given notifications read. All or nothing: an id that is missing or not the caller's
    answers 404 and marks none. 403: no CSRF token."""
    require_json(request)
    return {"marked": services.mark_read(user=request.user, notification_ids=payload.ids)}


@router.post("/read-all", response={200: MarkedOut, 403: ErrorOut, **_AUTH_ERRORS}, summary="全部标为已读")
def read_all(request: HttpRequest):
    """Marks all the caller's notifications read. 403: no CSRF token."""
    return {"marked": services.mark_all_read(user=request.user)}
