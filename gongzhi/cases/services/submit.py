"""Reporting a case: a resident's or a grid worker's own report, and 代为登记 by command-centre staff.

A submission is one transaction of two inserts, the case and its first log row; a retry with the same
`client_id` is told apart by that column's unique constraint.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts import stations
from gongzhi.accounts.models import User
from gongzhi.cases import categories, deadlines, selectors
from gongzhi.cases.models import Attachment, Case, CaseLog, Category, CategoryKind, Source
from gongzhi.cases.services import pending_uploads
from gongzhi.cases.services.transition import write_log
from gongzhi.cases.workflow import Action, Status
from gongzhi.core import uploads
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.rows import insert_row
from gongzhi.core.text import check_text, clean_text
from gongzhi.org import selectors as org_selectors
from gongzhi.org.models import Level, OrgUnit
from gongzhi.org.selectors import GridPlace
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import Patrol

DESCRIPTION_MAX_LENGTH = 2000
MAX_PHOTOS = 9


def _process_uploads(photos: Sequence[UploadedFile], voice: UploadedFile | None, *, first_index: int = 1,
                     ) -> tuple[list[uploads.ProcessedPhoto], uploads.ProcessedVoice | None]:
    """Check and normalise every file before anything is written; a refusal names the photo (counted after
    the photos uploaded before, which come first)."""
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS}, code="too_many_photos",
                          field="photos")
    processed = [uploads.process_photo(photo, index=i) for i, photo in enumerate(photos, start=first_index)]
    return processed, uploads.process_voice(voice) if voice is not None else None


def _save_attachments(*, case: Case, log: CaseLog, actor: User, photos: list[uploads.ProcessedPhoto],
                      voice: uploads.ProcessedVoice | None, first_index: int = 1) -> None:
    stem = case.client_id.hex if case.client_id else uuid.uuid4().hex
    for i, photo in enumerate(photos, start=first_index):
        attachment = Attachment(case=case, log=log, kind=Attachment.Kind.PHOTO, content_type=photo.content_type,
                                sha256=photo.sha256, uploaded_by=actor)
        attachment.file.save(f"{stem}-{i}.{photo.extension}", ContentFile(photo.content), save=False)
        attachment.thumbnail.save(f"{stem}-{i}-thumb.{photo.extension}", ContentFile(photo.thumbnail),
                                  save=False)
        attachment.save()
    if voice is not None:
        attachment = Attachment(case=case, log=log, kind=Attachment.Kind.VOICE, content_type=voice.content_type,
                                sha256=voice.sha256, duration_seconds=voice.duration_seconds, uploaded_by=actor)
        attachment.file.save(f"{stem}-voice.{voice.extension}", ContentFile(voice.content), save=False)
        attachment.save()


def submit_case(*, actor: User, client_id: uuid.UUID, category: Category, description: str,
                lat: float, lng: float, address: str = "", is_anonymous: bool = False,
                on_behalf_of: User | None = None, photos: Sequence[UploadedFile] = (),
                photo_tokens: Sequence[str] = (), voice: UploadedFile | None = None,
                subject_unit: OrgUnit | None = None, patrol: Patrol | None = None) -> tuple[Case, bool]:
    """Report a case at a point, with up to 9 photos and one voice note. Returns (case, created); a retried
    submission returns the first case and stores nothing new. Every file is checked before anything is
    written, so a refused photo leaves no case behind.

    Photos come as files, as tokens of photos the actor uploaded before (`services.pending_uploads.upload_photo`),
    or both (a form sent without JavaScript after some were uploaded with it): tokens first, in their order.
    An unknown or someone else's token refuses the report on `photos`.

    A 投诉举报 names the unit it is about (`subject_unit`, one of `selectors.complaint_targets` of its grid)
    and is held a level above that unit (`selectors.complaint_holder`), whose staff never see it.

    A grid worker's report from the patrol page names the patrol (巡查) it was found on: linked when it is the
    actor's own open patrol, otherwise left out (the report itself is what matters)."""
    reporter = on_behalf_of or actor
    if on_behalf_of is not None:  # 代为登记; an ordinary submission pays for none of these checks
        _check_on_behalf(actor=actor, resident=on_behalf_of)
    if photos or voice or photo_tokens:  # a retried upload is answered before its files are processed again
        existing = Case.objects.filter(client_id=client_id).first()
        if existing is not None:
            return _resubmitted(existing, actor=actor, reporter=reporter), False
    if len(dict.fromkeys(photo_tokens)) + len(photos) > MAX_PHOTOS:
        raise DomainError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS}, code="too_many_photos",
                          field="photos")
    pending = pending_uploads.pending_for(actor=actor, tokens=photo_tokens)
    processed_photos, processed_voice = _process_uploads(photos, voice, first_index=len(pending) + 1)
    if not category.is_active or category.parent_id is None:
        raise DomainError(_("请选择一个具体的事件分类。"), field="category")
    description = clean_text(description, field="description", max_length=DESCRIPTION_MAX_LENGTH,
                             required_message=_("请填写反映的内容。"))
    address = check_text(address or "", field="address").strip()[:200]
    place = org_selectors.locate_place(lat, lng)
    if on_behalf_of is not None and not any(place.path.startswith(p)
                                            for p in account_policies.on_behalf_paths(actor)):
        raise NotFound()
    if place.township_id is None:
        raise DomainError(_("该网格不属于任何乡镇，无法受理。"))
    holder_id = place.township_id
    if place.village_id is not None and _village_takes_it(category, place):
        holder_id = place.village_id
    elif category.kind == CategoryKind.COMPLAINT:
        holder_id = _complaint_holder(subject_unit, place, township_id=holder_id).pk
    elif subject_unit is not None:
        raise DomainError(_("只有投诉举报需要选择被投诉单位。"), field="subject_unit")
    source = Source.RESIDENT if actor.kind == User.Kind.RESIDENT else Source.GRID_WORKER
    if on_behalf_of is not None:
        source = Source.ON_BEHALF
    case = Case(
        client_id=client_id, category=category, category_version=category.version,
        description=description, lat=lat, lng=lng, address=address, grid_id=place.grid_id,
        area_path=place.path, holder_id=holder_id, subject_unit=subject_unit, source=source, reporter=reporter,
        entered_by=actor if on_behalf_of else None, is_anonymous=is_anonymous,
        is_public=category.is_public and category.kind != "dispute",
        respond_due=deadlines.respond_due(category, Level.GRID, start=timezone.now()),
        patrol=patrol if patrol is not None and Patrol.objects.filter(
            pk=patrol.pk, worker=actor, ended_at__isnull=True).exists() else None,
    )
    try:
        with transaction.atomic():
            insert_row(case)
            log = write_log(case=case, action=Action.REPORT, from_status=Status.REPORTED, actor=actor, note="",
                            public=True, first=True)
            pending_uploads.take_pending(case=case, log=log, actor=actor, pending=pending)
            _save_attachments(case=case, log=log, actor=actor, photos=processed_photos, voice=processed_voice,
                              first_index=len(pending) + 1)
    except IntegrityError:
        # The insert comes first and a retry is told apart by the client_id's unique constraint: one query
        # fewer on every submission than looking first.
        existing = Case.objects.filter(client_id=client_id).first()
        if existing is None:
            raise
        return _resubmitted(existing, actor=actor, reporter=reporter), False
    return case, True


def _village_takes_it(category: Category, place: GridPlace) -> bool:
    """Seed 001's levels: a general matter, one the village team handles (a category naming no department),
    goes first to the village's 工作站, where there is one; everything else to the township's command
    centre. A complaint never: it goes above the unit it is about."""
    return (place.village_id is not None and category.kind != CategoryKind.COMPLAINT
            and not categories.handler_type_of(category)
            and place.village_id in stations.village_ids())


def _complaint_holder(subject: OrgUnit | None, place: GridPlace, *, township_id: int) -> OrgUnit:
    if subject is None:
        raise DomainError(_("请选择被投诉的单位。"), field="subject_unit")
    grid = OrgUnit.objects.get(pk=place.grid_id)
    if subject not in selectors.complaint_targets(grid):
        raise DomainError(_("所选单位不是负责该地点的单位，请重新选择。"), field="subject_unit")
    return selectors.complaint_holder(subject, OrgUnit.objects.get(pk=township_id))


@transaction.atomic
def report_on_behalf(*, actor: User, name: str, id_number: str, phone: str, **case: Any) -> tuple[Case, bool]:
    """代为登记: find the resident's account by ID number, or open one for them (identity checked in person
    by `actor`), and report the case in their name: one transaction, so a refusal of either leaves neither.
    `case` takes the keyword arguments of `submit_case`."""
    resident = registry_services.resident_for_report(actor=actor, name=name, id_number=id_number, phone=phone)
    return submit_case(actor=actor, on_behalf_of=resident, **case)


def _check_on_behalf(*, actor: User, resident: User) -> None:
    """代为登记 is for command-centre staff, for a resident's account; the place is checked once located."""
    if not account_policies.can_report_on_behalf(actor):
        raise Forbidden(_("只有指挥中心工作人员可以代为登记。"))
    if resident.kind != User.Kind.RESIDENT:
        raise DomainError(_("只能为居民代为登记。"), code="not_resident", field="on_behalf_of")


def _resubmitted(case: Case, *, actor: User, reporter: User) -> Case:
    """The case a retried submission made, or NotFound when the client_id is someone else's."""
    if case.reporter_id != reporter.pk and case.entered_by_id != actor.pk:
        raise NotFound()
    return case
