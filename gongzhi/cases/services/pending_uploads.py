"""Photos and documents uploaded before their report or handling step is sent (upload first, reference by
token).

A phone on a weak signal sends each photo as soon as it is chosen (shrunk in the browser first), one per
request, and the report form then carries tokens instead of files: a refused form keeps its photos, and a
lost signal costs one photo's retry, not the whole report's. The API's clients do the same for a step's
photos and PDF documents. The server's processing stays the authority: every upload goes through
`core.uploads.process_photo` or `process_document` exactly like a file sent with a form.

- `upload_photo`, `upload_document`: one file → a `PendingUpload` owned by the uploader, with a token. The
  same bytes sent again by the same person (a retry after a lost answer) answer with the first token and
  store nothing.
- `take_pending`: inside the report's or step's transaction, the uploader's own tokens become the case's
  attachments (the files stay where they are); any unknown or foreign token, or one of the other kind,
  refuses the whole report or step.
- `expire_pending_uploads`: the periodic task's work; uploads unused for PENDING_UPLOAD_HOURS go, files
  and all.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import User
from gongzhi.cases import policies
from gongzhi.cases.models import Attachment, Case, CaseLog, PendingUpload
from gongzhi.core import uploads
from gongzhi.core.errors import DomainError, NotFound

PENDING_UPLOAD_HOURS = 24
# A person's photos waiting for a report at once: three full reports' worth; more is not a resident.
MAX_PENDING_PER_OWNER = 27
TOKEN_MAX_LENGTH = 32


def _digest(upload: UploadedFile, limit: int) -> str | None:
    """sha256 of the bytes as sent, or None when they are over the limit (processing refuses them)."""
    digest, seen = hashlib.sha256(), 0
    try:
        for chunk in upload.chunks():
            seen += len(chunk)
            if seen > limit:
                return None
            digest.update(chunk)
    finally:
        upload.seek(0)
    return digest.hexdigest()


def _existing(actor: User, digest: str | None, kind: str) -> PendingUpload | None:
    if digest is None:
        return None
    return PendingUpload.objects.filter(owner=actor, upload_sha256=digest, kind=kind).first()


def _too_many(actor: User, field: str) -> None:
    if PendingUpload.objects.filter(owner=actor).count() >= MAX_PENDING_PER_OWNER:
        raise DomainError(_("待提交的照片和文件太多了，请先提交，或稍后再试。"), code="too_many_pending", field=field)


def _keep(pending: PendingUpload, actor: User, digest: str | None) -> tuple[PendingUpload, bool]:
    """Save the row whose files were just stored; the same upload arriving twice at once (a retry overtaking a
    slow first try) keeps the first."""
    try:
        with transaction.atomic():
            pending.save()
    except IntegrityError:
        _delete_files([pending])
        first = PendingUpload.objects.filter(owner=actor, upload_sha256=digest).first()
        if first is None:
            raise
        return first, False
    return pending, True


def upload_photo(*, actor: User, upload: UploadedFile) -> tuple[PendingUpload, bool]:
    """Check and keep one photo for a report or step the actor is writing. Returns (pending upload,
    created); the same bytes again answer with the first one. Refused (422 on `photos`): not a photo we
    take, too large, or too many waiting."""
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    digest = _digest(upload, settings.UPLOAD_PHOTO_MAX_BYTES)
    existing = _existing(actor, digest, Attachment.Kind.PHOTO)
    if existing is not None:
        return existing, False
    _too_many(actor, "photos")
    processed = uploads.process_photo(upload)  # refuses what it does not take, digest None included
    stem = uuid.uuid4().hex
    pending = PendingUpload(token=secrets.token_urlsafe(18), owner=actor, kind=Attachment.Kind.PHOTO,
                            content_type=processed.content_type, sha256=processed.sha256,
                            upload_sha256=digest or "")
    pending.file.save(f"{stem}.{processed.extension}", ContentFile(processed.content), save=False)
    pending.thumbnail.save(f"{stem}-thumb.{processed.extension}", ContentFile(processed.thumbnail), save=False)
    return _keep(pending, actor, digest)


def upload_document(*, actor: User, upload: UploadedFile) -> tuple[PendingUpload, bool]:
    """Check and keep one PDF document for a handling step the actor is writing (staff only: residents'
    reports carry photos and a voice note). Returns (pending upload, created) as `upload_photo` does.
    Refused (422 on `documents`): not a PDF, cut short, too large, or too many waiting."""
    if not actor.is_authenticated or not actor.is_active or actor.kind != User.Kind.STAFF:
        raise NotFound()
    digest = _digest(upload, settings.UPLOAD_DOCUMENT_MAX_BYTES)
    existing = _existing(actor, digest, Attachment.Kind.DOCUMENT)
    if existing is not None:
        return existing, False
    _too_many(actor, "documents")
    processed = uploads.process_document(upload)
    pending = PendingUpload(token=secrets.token_urlsafe(18), owner=actor, kind=Attachment.Kind.DOCUMENT,
                            content_type=processed.content_type, sha256=processed.sha256,
                            upload_sha256=digest or "", name=processed.name)
    pending.file.save(f"{uuid.uuid4().hex}.{processed.extension}", ContentFile(processed.content), save=False)
    return _keep(pending, actor, digest)


_EXPIRED = {Attachment.Kind.PHOTO: ("photos", "photo_token", gettext_lazy("有照片已失效，请重新选择照片后再提交。")),
            Attachment.Kind.DOCUMENT: ("documents", "document_token",
                                       gettext_lazy("有文件已失效，请重新选择文件后再提交。"))}


def _expired(kind: str) -> DomainError:
    field, code, message = _EXPIRED[Attachment.Kind(kind)]
    return DomainError(str(message), code=code, field=field)


def pending_for(*, actor: User, tokens: Sequence[str], kind: str = Attachment.Kind.PHOTO) -> list[PendingUpload]:
    """The actor's own pending uploads of `kind` for these tokens, in their order (repeats dropped); a
    refusal on `photos` or `documents` if any is unknown, expired and swept, someone else's or of the other
    kind — told apart by nobody."""
    wanted = list(dict.fromkeys(tokens))
    if not wanted:
        return []
    found = {p.token: p for p in policies.pending_uploads_visible_to(actor).filter(token__in=wanted, kind=kind)}
    if len(found) != len(wanted):
        raise _expired(kind)
    return [found[token] for token in wanted]


def take_pending(*, case: Case, log: CaseLog, actor: User, pending: Sequence[PendingUpload],
                 stage: str = "") -> None:
    """Turn the pending uploads into the case's photos or documents of the step `log` (photos showing
    `stage`: 处置前/处置后), in the caller's transaction. Each row is deleted first: one taken meanwhile (the
    same tokens sent twice at once, or the sweep) refuses the step."""
    for item in pending:
        deleted, _count = PendingUpload.objects.filter(pk=item.pk, owner=actor).delete()
        if not deleted:
            raise _expired(item.kind)
        Attachment.objects.create(case=case, log=log, kind=item.kind, file=item.file.name,
                                  thumbnail=item.thumbnail.name or "", content_type=item.content_type,
                                  sha256=item.sha256, uploaded_by=actor, stage=stage, name=item.name)


def expire_pending_uploads(*, now: datetime.datetime | None = None) -> int:
    """Delete the pending uploads older than PENDING_UPLOAD_HOURS, with their files once the deletion has
    committed (a report taking one at the same moment wins or loses as a whole). Returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=PENDING_UPLOAD_HOURS)
    with transaction.atomic():
        stale = list(PendingUpload.objects.select_for_update().filter(created_at__lt=cutoff))
        PendingUpload.objects.filter(pk__in=[p.pk for p in stale]).delete()
        transaction.on_commit(lambda: _delete_files(stale))
    return len(stale)


def _delete_files(items: Sequence[PendingUpload]) -> None:
    for item in items:
        for field in (item.file, item.thumbnail):
            if field.name:
                field.storage.delete(field.name)
