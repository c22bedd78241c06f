"""公开事务 over JSON: what the caller may read as a resident (a county's or city's items without signing in; their
area's once verified), one item, its comments, and a comment of their own.

Reading needs no session; without one only public items are found. Commenting needs a session (401 without
one), its CSRF token in an `X-CSRFToken` header (403) and `Content-Type: application/json`. An item the caller
may not read — a draft, withdrawn, out of its period, another area's — answers 404, like one that does not exist.
Lists page without counting: `has_more` says whether another page follows.
"""

from datetime import datetime
from typing import Annotated, cast

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import StrictStr

from gongzhi.accounts.models import User
from gongzhi.api.schemas import ErrorOut, SignedIn, StrictIn, TextIn, UnparsableOut, ValidationErrorOut, require_json
from gongzhi.publications import kinds
from gongzhi.publications.models import Comment, Publication
from gongzhi.publications.selectors import core as selectors
from gongzhi.publications.services import core as services

router = Router()

MAX_ID = 2**63 - 1
MAX_OFFSET = 10_000
PublicationId = Annotated[int, Path(..., ge=1, le=MAX_ID, description="公开事项编号（id）")]


class ListQuery(TextIn):
    group: str = Field("", max_length=20, description="栏目：notices、disclosures、meetings、boards、library、"
                                                       "volunteers、suggestions；为空表示全部")
    kind: str = Field("", max_length=20, description="类别，如 news、policy、guide；为空表示全部")
    tag: str = Field("", max_length=20, description="标签")
    q: str = Field("", max_length=selectors.SEARCH_MAX, description="关键词（标题、正文、标签都包含每个词）")
    limit: int = Field(20, ge=1, le=100, description="每页条数")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数")


class AttachmentOut(Schema):
    name: str
    url: str = Field(description="下载地址（本站路径）")
    content_type: str
    size: int = Field(description="字节数")


class PublicationOut(Schema):
    id: int
    kind: str
    kind_label: str
    group: str
    title: str
    author_unit: str = Field(description="发布单位")
    audience_unit: str = Field(description="公开范围")
    tags: list[str]
    pinned: bool
    published_at: datetime | None
    publish_until: datetime | None = Field(description="公开截止时间；为空表示一直公开")
    comments: str = Field(description="评论：off 不开放、moderated 审核后显示、open 直接显示")
    link: str = Field(description="群众端页面（本站路径）")


class PublicationDetailOut(PublicationOut):
    body: str = Field(description="正文（纯文本，保留换行）")
    attachments: list[AttachmentOut]


class PageOut(Schema):
    limit: int
    offset: int
    has_more: bool
    items: list[PublicationOut]


class CommentOut(Schema):
    id: int
    author: str = Field(description="留言人（只显示姓氏，本人的显示“我”）")
    mine: bool
    body: str
    state: str = Field(description="pending 待审核（只有本人看到）、visible 已显示、hidden 已隐藏（只有本人看到）")
    answer: str = Field(description="发布单位的答复；为空表示尚未答复")
    answered_at: datetime | None
    created_at: datetime


class CommentIn(StrictIn):
    body: StrictStr = Field(min_length=1, max_length=services.COMMENT_MAX, description="留言内容")
    client_key: StrictStr = Field("", max_length=services.CLIENT_KEY_MAX,
                                  description="客户端生成的唯一键：同一键重发只留一条")


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment else None


def _out(item: Publication) -> dict:
    spec = kinds.KINDS[item.kind]
    return {
        "id": item.pk, "kind": item.kind, "kind_label": str(spec.label), "group": spec.group, "title": item.title,
        "author_unit": item.author_unit.name, "audience_unit": item.audience_unit.name, "tags": item.tag_list,
        "pinned": item.pinned, "published_at": _local(item.published_at), "publish_until": _local(item.publish_until),
        "comments": item.comments, "link": f"/public/{item.pk}/",
    }


def _comment_out(comment: Comment, user: User | AnonymousUser) -> dict:
    mine = comment.author_id == getattr(user, "pk", None)
    return {
        "id": comment.pk, "author": _("我") if mine else (comment.author.real_name[:1] or "?") + _("某"), "mine": mine,
        "body": comment.body, "state": comment.state, "answer": comment.answer,
        "answered_at": _local(comment.answered_at), "created_at": _local(comment.created_at),
    }


@router.get("", response={200: PageOut, 422: ValidationErrorOut}, summary="公开事项列表")
def publication_list(request: HttpRequest, query: Query[ListQuery]):
    """Live items the caller may read, pinned first, newest first. An unknown `group` or `kind` finds nothing."""
    group = query.group or None
    kind = query.kind or None
    if (group and group not in kinds.GROUPS) or (kind and kind not in kinds.KINDS):
        rows: list[Publication] = []
    else:
        qs = selectors.readable(request.user, kind=kind, group=group, tag=query.tag, search=query.q)
        rows = list(qs.select_related("audience_unit")[query.offset:query.offset + query.limit + 1])
    return {"limit": query.limit, "offset": query.offset, "has_more": len(rows) > query.limit,
            "items": [_out(item) for item in rows[:query.limit]]}


@router.get("/{publication_id}", response={200: PublicationDetailOut, 404: ErrorOut, 422: ValidationErrorOut},
            summary="公开事项")
def publication_detail(request: HttpRequest, publication_id: PublicationId):
    item = selectors.readable_one(request.user, publication_id)
    if request.user.is_authenticated:
        services.mark_read(user=request.user, publication=item)
    return {**_out(item), "body": item.body, "attachments": [
        {"name": a.name, "url": a.file.url, "content_type": a.content_type, "size": a.size}
        for a in item.attachments.all()]}


@router.get("/{publication_id}/comments", response={200: list[CommentOut], 404: ErrorOut, 422: ValidationErrorOut},
            summary="公开事项的留言")
def comment_list(request: HttpRequest, publication_id: PublicationId):
    """The shown comments with the unit's answers, and the caller's own whatever their state, oldest first."""
    item = selectors.readable_one(request.user, publication_id)
    return [_comment_out(c, request.user) for c in selectors.comments_for_reader(request.user, item)]


@router.post("/{publication_id}/comments",
             response={200: CommentOut, 201: CommentOut, 400: UnparsableOut, 401: ErrorOut, 403: ErrorOut,
                       404: ErrorOut, 415: ErrorOut, 422: ValidationErrorOut},
             auth=SignedIn(), summary="留言")
def comment_new(request: HttpRequest, publication_id: PublicationId, payload: CommentIn):
    """A verified resident of the item's area comments or asks. Shown at once or after review, as the item says
    (`state`); 201. The same `client_key` sent again answers with the first comment, 200. 403: the item is not open to
    comments, or the caller is not a verified resident of its area."""
    require_json(request)
    user = cast(User, request.auth)  # type: ignore[attr-defined]
    item = selectors.readable_one(user, publication_id)
    repeated = bool(payload.client_key) and Comment.objects.filter(author=user, client_key=payload.client_key).exists()
    comment = services.add_comment(actor=user, publication=item, body=payload.body, client_key=payload.client_key)
    return Status(200 if repeated else 201, _comment_out(comment, user))
