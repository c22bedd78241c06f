"""The publishing core's writes: drafts, review, publishing, withdrawal, attachments, comments, read marks.

Every step checks `policies` first, locks the publication row, changes its status only along
draft → in_review → published → withdrawn (in_review → draft when returned, draft → published for a reviewer
of a kind without four eyes), writes one `PublicationEvent`, and runs the kind's hooks
(`kinds.on("published", …)`) in the same transaction: a hook that refuses undoes the whole step.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core import uploads
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.org.models import OrgUnit
from gongzhi.publications import kinds, notices, policies
from gongzhi.publications.models import (
    Attachment,
    Comment,
    CommentMode,
    Publication,
    PublicationEvent,
    ReadMark,
    Status,
)

TITLE_MAX = 100
BODY_MAX = 20000
NOTE_MAX = 500
COMMENT_MAX = 1000
ANSWER_MAX = 2000
TAGS_MAX = 10
TAG_MAX = 20
ATTACHMENTS_MAX = 10
CLIENT_KEY_MAX = 64


# Checking input -------------------------------------------------------------------------------------------

def clean_tags(value: str | Sequence[str]) -> str:
    """Tags typed as "低保，医保 养老" (commas, Chinese commas, spaces) → ",低保,医保,养老," (see the model)."""
    raw = value if isinstance(value, str) else ",".join(value)
    raw = clean_text(raw, field="tags", max_length=400)
    for sep in "，、;；\n\t ":
        raw = raw.replace(sep, ",")
    tags = list(dict.fromkeys(tag.strip() for tag in raw.split(",") if tag.strip()))
    if len(tags) > TAGS_MAX:
        raise DomainError(_("标签最多%(n)d个。") % {"n": TAGS_MAX}, code="publication_invalid", field="tags")
    if any(len(tag) > TAG_MAX for tag in tags):
        raise DomainError(_("每个标签不能超过%(n)d个字。") % {"n": TAG_MAX}, code="publication_invalid",
                          field="tags")
    return f",{','.join(tags)}," if tags else ""


def _clean_fields(*, title: str, body: str, tags: str | Sequence[str], comments: str | None,
                  publish_from: datetime.datetime | None, publish_until: datetime.datetime | None,
                  spec: kinds.KindSpec) -> dict[str, object]:
    if publish_from and publish_until and publish_until <= publish_from:
        raise DomainError(_("公开截止时间必须晚于开始时间。"), code="publication_invalid", field="publish_until")
    if comments is None:
        comments = spec.comments
    if comments not in CommentMode.values:
        raise DomainError(_("评论设置无效。"), code="publication_invalid", field="comments")
    return {
        "title": clean_text(title, field="title", max_length=TITLE_MAX, required_message=_("请填写标题。"),
                            code="publication_invalid"),
        "body": clean_text(body, field="body", max_length=BODY_MAX, code="publication_invalid"),
        "tags": clean_tags(tags),
        "comments": comments,
        "publish_from": publish_from,
        "publish_until": publish_until,
    }


def _check_audience(author_unit: OrgUnit, audience_unit: OrgUnit) -> None:
    if not audience_unit.path.startswith(author_unit.path) or audience_unit.is_department:
        raise DomainError(_("公开范围只能是发布单位本级或所辖的村(社区)、网格。"), code="publication_invalid",
                          field="audience_unit")
    if not audience_unit.is_active:
        raise DomainError(_("该单位已停用。"), code="publication_invalid", field="audience_unit")


def _log(publication: Publication, actor: User, action: str, *, before: str = "", note: str = "") -> None:
    PublicationEvent.objects.create(publication=publication, actor=actor, action=action, from_status=before,
                                    to_status=publication.status, note=note[:NOTE_MAX])


def log_step(*, publication: Publication, actor: User, note: str) -> None:
    """For a kind's own steps (an appeal decided, a meeting's stage recorded): one event row in the item's
    history, in the caller's transaction."""
    _log(publication, actor, PublicationEvent.Action.STEP, before=publication.status, note=note)


def _locked(publication: Publication) -> Publication:
    return (Publication.objects.select_for_update(of=("self",)).select_related("author_unit", "audience_unit")
            .get(pk=publication.pk))


# Drafts -----------------------------------------------------------------------------------------------------

@transaction.atomic
def create_draft(*, actor: User, kind: str, author_unit: OrgUnit, audience_unit: OrgUnit | None = None,
                 title: str, body: str = "", tags: str | Sequence[str] = "", pinned: bool = False,
                 comments: str | None = None, publish_from: datetime.datetime | None = None,
                 publish_until: datetime.datetime | None = None, client_key: str = "") -> Publication:
    """A new draft of `kind` in `author_unit`'s name for the residents under `audience_unit` (default: the
    author unit's own). The same `client_key` from the same person returns the first draft."""
    spec = kinds.get(kind)
    if spec is None:
        raise DomainError(_("公开事项类别无效。"), code="publication_invalid", field="kind")
    if not policies.can_author(actor, kind, author_unit):
        raise Forbidden(_("您不能以该单位名义发布%(kind)s。") % {"kind": spec.label})
    client_key = (client_key or "")[:CLIENT_KEY_MAX]
    if client_key:
        existing = Publication.objects.filter(created_by=actor, client_key=client_key).first()
        if existing is not None:
            return existing
    audience_unit = audience_unit or author_unit
    _check_audience(author_unit, audience_unit)
    fields = _clean_fields(title=title, body=body, tags=tags, comments=comments, publish_from=publish_from,
                           publish_until=publish_until, spec=spec)
    now = timezone.now()
    try:
        with transaction.atomic():
            publication = Publication.objects.create(
                kind=kind, author_unit=author_unit, audience_unit=audience_unit, audience_path=audience_unit.path,
                pinned=pinned, created_by=actor, client_key=client_key, created_at=now, updated_at=now, **fields)
    except IntegrityError:  # the same form sent twice at once: the other request's draft
        existing = Publication.objects.filter(created_by=actor, client_key=client_key).first()
        if existing is None or not client_key:
            raise
        return existing
    _log(publication, actor, PublicationEvent.Action.CREATE)
    return publication


@transaction.atomic
def update_draft(*, actor: User, publication: Publication, title: str, body: str = "",
                 audience_unit: OrgUnit | None = None, tags: str | Sequence[str] = "", pinned: bool = False,
                 comments: str | None = None, publish_from: datetime.datetime | None = None,
                 publish_until: datetime.datetime | None = None) -> Publication:
    publication = _locked(publication)
    if not policies.can_edit(actor, publication):
        raise Conflict(_("只有草稿可以修改。")) if publication.status != Status.DRAFT else Forbidden()
    audience_unit = audience_unit or publication.audience_unit
    _check_audience(publication.author_unit, audience_unit)
    fields = _clean_fields(title=title, body=body, tags=tags, comments=comments, publish_from=publish_from,
                           publish_until=publish_until, spec=kinds.KINDS[publication.kind])
    for name, value in fields.items():
        setattr(publication, name, value)
    publication.audience_unit = audience_unit
    publication.audience_path = audience_unit.path
    publication.pinned = pinned
    publication.updated_at = timezone.now()
    publication.save()
    _log(publication, actor, PublicationEvent.Action.EDIT, before=Status.DRAFT)
    return publication


# The lifecycle ------------------------------------------------------------------------------------------------

def _require(allowed: bool, publication: Publication, expected: str) -> None:
    if allowed:
        return
    if publication.status != expected:
        raise Conflict(_("该事项当前状态为“%(status)s”，不能这样操作。") % {"status": publication.get_status_display()})
    raise Forbidden()


@transaction.atomic
def submit(*, actor: User, publication: Publication) -> Publication:
    """Draft → waiting for review; the reviewers are told."""
    publication = _locked(publication)
    _require(policies.can_edit(actor, publication), publication, Status.DRAFT)
    publication.status = Status.IN_REVIEW
    publication.updated_at = timezone.now()
    publication.save(update_fields=["status", "updated_at"])
    _log(publication, actor, PublicationEvent.Action.SUBMIT, before=Status.DRAFT)
    with translation.override(settings.LANGUAGE_CODE):
        notices.submitted(publication)
    return publication


def _go_live(actor: User, publication: Publication, before: str, action: str, note: str = "") -> Publication:
    now = timezone.now()
    publication.status = Status.PUBLISHED
    publication.published_at = max(now, publication.publish_from) if publication.publish_from else now
    publication.updated_at = now
    publication.save(update_fields=["status", "published_at", "updated_at"])
    _log(publication, actor, action, before=before, note=note)
    kinds.run_hooks("published", actor, publication)
    return publication


@transaction.atomic
def approve(*, actor: User, publication: Publication, note: str = "") -> Publication:
    """Waiting for review → published (the author is told)."""
    publication = _locked(publication)
    _require(policies.can_review(actor, publication), publication, Status.IN_REVIEW)
    note = clean_text(note, field="note", max_length=NOTE_MAX)
    _go_live(actor, publication, Status.IN_REVIEW, PublicationEvent.Action.APPROVE, note)
    if publication.created_by_id != actor.pk:
        with translation.override(settings.LANGUAGE_CODE):
            notices.reviewed(publication, approved=True, note=note)
    return publication


@transaction.atomic
def return_for_changes(*, actor: User, publication: Publication, reason: str) -> Publication:
    """Waiting for review → draft, with the reason the author must act on."""
    publication = _locked(publication)
    _require(policies.can_review(actor, publication), publication, Status.IN_REVIEW)
    reason = clean_text(reason, field="reason", max_length=NOTE_MAX, required_message=_("请填写退回原因。"))
    publication.status = Status.DRAFT
    publication.updated_at = timezone.now()
    publication.save(update_fields=["status", "updated_at"])
    _log(publication, actor, PublicationEvent.Action.RETURN, before=Status.IN_REVIEW, note=reason)
    with translation.override(settings.LANGUAGE_CODE):
        notices.reviewed(publication, approved=False, note=reason)
    return publication


@transaction.atomic
def publish_now(*, actor: User, publication: Publication) -> Publication:
    """Draft → published by a reviewer of a kind without four eyes."""
    publication = _locked(publication)
    _require(policies.can_publish_directly(actor, publication), publication, Status.DRAFT)
    return _go_live(actor, publication, Status.DRAFT, PublicationEvent.Action.PUBLISH)


@transaction.atomic
def withdraw(*, actor: User, publication: Publication, reason: str) -> Publication:
    """Published → withdrawn: no resident sees it any more. The reason is kept in its history."""
    publication = _locked(publication)
    _require(policies.can_withdraw(actor, publication), publication, Status.PUBLISHED)
    reason = clean_text(reason, field="reason", max_length=NOTE_MAX, required_message=_("请填写撤回原因。"))
    now = timezone.now()
    publication.status = Status.WITHDRAWN
    publication.withdrawn_at = now
    publication.updated_at = now
    publication.save(update_fields=["status", "withdrawn_at", "updated_at"])
    _log(publication, actor, PublicationEvent.Action.WITHDRAW, before=Status.PUBLISHED, note=reason)
    kinds.run_hooks("withdrawn", actor, publication)
    return publication


# Attachments ------------------------------------------------------------------------------------------------

def _processed(upload: uploads.UploadLike) -> tuple[bytes, str, str, bytes | None]:
    """(content, display name, content type, thumbnail) of a photo or a PDF document."""
    head = upload.read(8)
    upload.seek(0)  # type: ignore[attr-defined]  # Django's uploads and open files can seek
    if head.startswith(uploads.PDF_MAGIC):
        document = uploads.process_document(upload)
        return document.content, document.name, document.content_type, None
    photo = uploads.process_photo(upload)
    name = (getattr(upload, "name", "") or "").replace("\\", "/").rpartition("/")[2][:100] or _("照片")
    return photo.content, name, photo.content_type, photo.thumbnail


def add_attachments(*, actor: User, publication: Publication,
                    files: Sequence[uploads.UploadLike]) -> list[Attachment]:
    """Attach photos and PDF documents to a draft. Each is checked (and photos cleaned) before anything is
    stored; a bad one refuses them all."""
    if not policies.can_edit(actor, publication):
        raise Conflict(_("只有草稿可以修改。")) if publication.status != Status.DRAFT else Forbidden()
    if publication.attachments.count() + len(files) > ATTACHMENTS_MAX:
        raise DomainError(_("每条最多%(n)d个附件。") % {"n": ATTACHMENTS_MAX}, code="publication_invalid",
                          field="files")
    processed = [_processed(upload) for upload in files]
    where = f"publications/{timezone.localdate():%Y/%m}"
    stored: list[str] = []
    rows = []
    try:
        for content, name, content_type, thumbnail in processed:
            ext = "pdf" if content_type == "application/pdf" else "jpg"
            stem = default_storage.save(f"{where}/{uuid.uuid4().hex}.{ext}", ContentFile(content))
            stored.append(stem)
            thumb = ""
            if thumbnail is not None:
                thumb = default_storage.save(f"{where}/thumbs/{stem.rpartition('/')[2]}", ContentFile(thumbnail))
                stored.append(thumb)
            rows.append(Attachment(publication=publication, file=stem, thumbnail=thumb, name=name,
                                   content_type=content_type, size=len(content)))
        with transaction.atomic():
            start = publication.attachments.count()
            for i, row in enumerate(rows):
                row.position = start + i
            created = Attachment.objects.bulk_create(rows)
            _log(publication, actor, PublicationEvent.Action.EDIT, before=publication.status,
                 note=_("添加附件%(n)d个") % {"n": len(rows)})
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
    return created


@transaction.atomic
def remove_attachment(*, actor: User, attachment: Attachment) -> None:
    publication = attachment.publication
    if not policies.can_edit(actor, publication):
        raise Conflict(_("只有草稿可以修改。")) if publication.status != Status.DRAFT else Forbidden()
    names = [attachment.file.name, attachment.thumbnail.name]
    attachment.delete()
    _log(publication, actor, PublicationEvent.Action.EDIT, before=publication.status,
         note=_("删除附件“%(name)s”") % {"name": attachment.name})
    def delete_files() -> None:
        for name in names:
            if name:
                default_storage.delete(name)

    transaction.on_commit(delete_files)


# Comments ---------------------------------------------------------------------------------------------------

@transaction.atomic
def add_comment(*, actor: User, publication: Publication, body: str, client_key: str = "") -> Comment:
    """A resident of the item's area comments or asks; shown at once or after moderation, as the item says."""
    if not policies.can_view(actor, publication):
        raise NotFound()
    if not policies.can_comment(actor, publication):
        raise Forbidden(_("该事项不开放评论，或您不是本地核验居民。"))
    body = clean_text(body, field="body", max_length=COMMENT_MAX, required_message=_("请填写内容。"),
                      code="comment_invalid")
    client_key = (client_key or "")[:CLIENT_KEY_MAX]
    if client_key and (existing := Comment.objects.filter(author=actor, client_key=client_key).first()):
        return existing
    state = Comment.State.VISIBLE if publication.comments == CommentMode.OPEN else Comment.State.PENDING
    return Comment.objects.create(publication=publication, author=actor, body=body, state=state,
                                  client_key=client_key)


def _manageable_comment(actor: User, comment: Comment) -> Comment:
    comment = Comment.objects.select_for_update(of=("self",)).select_related(
        "publication__author_unit", "publication__audience_unit").get(pk=comment.pk)
    if not policies.can_manage(actor, comment.publication):
        raise NotFound()
    return comment


@transaction.atomic
def moderate_comment(*, actor: User, comment: Comment, show: bool, reason: str = "") -> Comment:
    """Show a waiting comment, or hide one (with the reason, kept for the record)."""
    comment = _manageable_comment(actor, comment)
    if show:
        comment.state, comment.hidden_reason = Comment.State.VISIBLE, ""
    else:
        comment.hidden_reason = clean_text(reason, field="reason", max_length=200,
                                           required_message=_("请填写隐藏原因。"))
        comment.state = Comment.State.HIDDEN
    comment.moderated_by, comment.moderated_at = actor, timezone.now()
    comment.save(update_fields=["state", "hidden_reason", "moderated_by", "moderated_at"])
    return comment


@transaction.atomic
def answer_comment(*, actor: User, comment: Comment, answer: str) -> Comment:
    """The publishing unit answers a comment or question; an answered comment is shown."""
    comment = _manageable_comment(actor, comment)
    comment.answer = clean_text(answer, field="answer", max_length=ANSWER_MAX, required_message=_("请填写答复。"))
    now = timezone.now()
    comment.answered_by, comment.answered_at = actor, now
    if comment.state == Comment.State.PENDING:
        comment.state, comment.moderated_by, comment.moderated_at = Comment.State.VISIBLE, actor, now
    comment.save(update_fields=["answer", "answered_by", "answered_at", "state", "moderated_by", "moderated_at"])
    return comment


# Reading ----------------------------------------------------------------------------------------------------

def mark_read(*, user: User, publication: Publication) -> None:
    """The user opened the item: one row, the first time only (a repeat or a race writes nothing more)."""
    if not user.is_authenticated:
        return
    try:
        with transaction.atomic():
            ReadMark.objects.get_or_create(user=user, publication=publication)
    except IntegrityError:  # the same item opened twice at once: the other request's mark stands
        pass
