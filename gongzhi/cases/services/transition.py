"""Every write to a case. `transition` is the only way a case's status changes; each call writes one
CaseLog row with the actor, the note and a snapshot of the deadlines."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.cases import categories, notices, policies
from gongzhi.cases.models import Assignment, Attachment, Case, CaseLog, Category, Source, SupervisionOrder
from gongzhi.cases.workflow import SUPERVISION_DONE, Action, Capacity, Status, transition_for
from gongzhi.core import uploads, workcalendar
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.org import selectors as org_selectors
from gongzhi.org.models import LEVEL_ORDER, Level, OrgUnit, UnitKind
from gongzhi.registry import services as registry_services

NOTE_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 2000
MAX_PHOTOS = 9
# Actions a complaint's subject unit may not take on it (B5).
_NOT_BY_SUBJECT = frozenset({Action.ACCEPT, Action.REJECT, Action.CLOSE, Action.MERGE})


def _area_ancestor(unit: OrgUnit, level: str) -> OrgUnit:
    if unit.level == level and unit.kind == UnitKind.AREA:
        return unit
    found = unit.ancestors().filter(level=level, kind=UnitKind.AREA).first()
    if found is None:
        raise DomainError(_("该网格不属于任何乡镇，无法受理。"))
    return found


def _deadline_snapshot(case: Case) -> dict[str, str | None]:
    return {"respond_due": case.respond_due.isoformat() if case.respond_due else None,
            "handle_due": case.handle_due.isoformat() if case.handle_due else None}


def _write_log(*, case: Case, action: str, from_status: str, actor: User | None, note: str, public: bool,
               step_key: str = "", first: bool = False) -> CaseLog:
    """`first`: the case was created in this transaction and has no log yet, so the lookup is skipped."""
    last = 0 if first else case.logs.order_by("-seq").values_list("seq", flat=True).first() or 0
    return CaseLog.objects.create(
        case=case, seq=last + 1, action=action, from_status=from_status, to_status=case.status, actor=actor,
        note=note, is_public=public, deadlines=_deadline_snapshot(case), step_key=step_key)


def _clean_text(value: str, *, field: str, required: bool, max_length: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("请填写说明。") if field == "note" else _("请填写反映的内容。"), field=field)
    if len(value) > max_length:
        raise DomainError(_("内容不能超过%(n)d个字。") % {"n": max_length}, field=field)
    return value


def _process_uploads(photos: Sequence[UploadedFile], voice: UploadedFile | None,
                     ) -> tuple[list[uploads.ProcessedPhoto], uploads.ProcessedVoice | None]:
    """Check and normalise every file before anything is written; a refusal names the photo."""
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS}, code="too_many_photos",
                          field="photos")
    processed = [uploads.process_photo(photo, index=i) for i, photo in enumerate(photos, start=1)]
    return processed, uploads.process_voice(voice) if voice is not None else None


def _save_attachments(*, case: Case, log: CaseLog, actor: User, photos: list[uploads.ProcessedPhoto],
                      voice: uploads.ProcessedVoice | None) -> None:
    stem = case.client_id.hex if case.client_id else uuid.uuid4().hex
    for i, photo in enumerate(photos, start=1):
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
                voice: UploadedFile | None = None) -> tuple[Case, bool]:
    """Report a case at a point, with up to 9 photos and one voice note. Returns (case, created); a retried
    submission returns the first case and stores nothing new. Every file is checked before anything is
    written, so a refused photo leaves no case behind."""
    reporter = on_behalf_of or actor
    if on_behalf_of is not None:  # 代为登记; an ordinary submission pays for none of these checks
        _check_on_behalf(actor=actor, resident=on_behalf_of)
    if photos or voice:  # a retried upload is answered before its files are processed again
        existing = Case.objects.filter(client_id=client_id).first()
        if existing is not None:
            return _resubmitted(existing, actor=actor, reporter=reporter), False
    processed_photos, processed_voice = _process_uploads(photos, voice)
    if not category.is_active or category.parent_id is None:
        raise DomainError(_("请选择一个具体的事件分类。"), field="category")
    description = _clean_text(description, field="description", required=True,
                              max_length=DESCRIPTION_MAX_LENGTH)
    place = org_selectors.locate_place(lat, lng)
    if on_behalf_of is not None and not any(place.path.startswith(p)
                                            for p in account_policies.on_behalf_paths(actor)):
        raise NotFound()
    if place.township_id is None:
        raise DomainError(_("该网格不属于任何乡镇，无法受理。"))
    source = Source.RESIDENT if actor.kind == User.Kind.RESIDENT else Source.GRID_WORKER
    if on_behalf_of is not None:
        source = Source.ON_BEHALF
    now = timezone.now()
    limits = categories.limits_for(category, Level.GRID)
    case = Case(
        client_id=client_id, category=category, category_version=category.version,
        description=description, lat=lat, lng=lng, address=(address or "").strip()[:200], grid_id=place.grid_id,
        area_path=place.path, holder_id=place.township_id, source=source, reporter=reporter,
        entered_by=actor if on_behalf_of else None, is_anonymous=is_anonymous,
        is_public=category.is_public and category.kind != "dispute",
        respond_due=now + datetime.timedelta(hours=limits.respond_hours),
    )
    try:
        with transaction.atomic():
            case.save(force_insert=True)
            log = _write_log(case=case, action=Action.REPORT, from_status=Status.REPORTED, actor=actor, note="",
                             public=True, first=True)
            _save_attachments(case=case, log=log, actor=actor, photos=processed_photos, voice=processed_voice)
    except IntegrityError:
        # The insert comes first and a retry is told apart by the client_id's unique constraint: one query
        # fewer on every submission than looking first.
        existing = Case.objects.filter(client_id=client_id).first()
        if existing is None:
            raise
        return _resubmitted(existing, actor=actor, reporter=reporter), False
    return case, True


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


def suggest_handler(*, category: Category, grid: OrgUnit) -> OrgUnit | None:
    """Who should normally handle a case of `category` in `grid`: the department of the category's handler
    type (the nearest ancestor category that names one) attached to the grid's township, else its county;
    a category naming none is handled by the grid's village. None when no such unit exists."""
    handler_type = categories.handler_type_of(category)
    ancestors = {unit.level: unit for unit in grid.ancestors().filter(kind=UnitKind.AREA)}
    if not handler_type:
        village = ancestors.get(Level.VILLAGE)
        return village if village is not None and village.is_active else None
    for level in (Level.TOWNSHIP, Level.COUNTY):
        area = ancestors.get(level)
        if area is None:
            continue
        found = (OrgUnit.objects.filter(parent=area, kind=UnitKind.DEPARTMENT, department_type=handler_type,
                                        is_active=True).order_by("path").first())
        if found is not None:
            return found
    return None


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("holder", "subject_unit").get(pk=case.pk)


@transaction.atomic
def transition(*, actor: User | None, case: Case, action: str, note: str = "", step_key: str = "",
               lead_unit: OrgUnit | None = None, assist_units: tuple[OrgUnit, ...] = (),
               review_on: datetime.date | None = None, merge_into: Case | None = None) -> Case:
    """Take `action` on `case` as `actor` (None: the system sweep). Refusals change nothing."""
    rule = transition_for(action)
    if rule is None:
        raise DomainError(_("未知的操作。"), field="action")
    case = _lock(case)
    if actor is not None and not policies.cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotFound()
    held = policies.capacities(actor, case) if actor is not None else {Capacity.SYSTEM}
    if not held & rule.capacities:
        raise Forbidden(_("您不能对该事件执行“%(action)s”。") % {"action": Action(action).label})
    if case.status not in rule.sources:
        raise DomainError(_("事件当前为“%(status)s”，不能执行“%(action)s”。") % {
            "status": Status(case.status).label, "action": Action(action).label}, code="invalid_state")
    if actor is not None and action in _NOT_BY_SUBJECT and policies.is_subject_of_complaint(actor, case):
        raise Forbidden(_("该事件投诉的是您所在的单位，须由其他单位处理。"))
    note = _clean_text(note, field="note", required=rule.note_required, max_length=NOTE_MAX_LENGTH)
    if step_key and case.logs.filter(step_key=step_key).exists():
        return case  # this sweep step already ran
    from_status = case.status
    _apply(case, action, actor=actor, lead_unit=lead_unit, assist_units=assist_units, review_on=review_on,
           merge_into=merge_into)
    if rule.to is not None:
        case.status = rule.to
    case.save()
    if case.status in SUPERVISION_DONE and from_status not in SUPERVISION_DONE:
        SupervisionOrder.objects.filter(case=case, fulfilled_at__isnull=True).update(fulfilled_at=timezone.now())
    log = _write_log(case=case, action=action, from_status=from_status, actor=actor, note=note,
                     public=rule.public, step_key=step_key)
    notices.announce(case=case, log=log)
    return case


def _apply(case: Case, action: str, *, actor: User | None, lead_unit: OrgUnit | None,
           assist_units: tuple[OrgUnit, ...], review_on: datetime.date | None, merge_into: Case | None) -> None:
    """The side effects of an action beyond the status change."""
    now = timezone.now()
    if action in {Action.ACCEPT, Action.RESOLVE_ON_SPOT, Action.REJECT} and case.responded_at is None:
        case.responded_at = now
    if action == Action.ACCEPT:
        limits = categories.limits_for(case.category, case.holder.level)
        case.handle_due = workcalendar.add_working_days(now, limits.handle_working_days)
    elif action == Action.DISPATCH:
        _dispatch(case, lead_unit=lead_unit, assist_units=assist_units)
    elif action == Action.SIGN:
        case.assignments.filter(is_active=True, role=Assignment.Role.LEAD).update(signed_at=now)
    elif action == Action.ESCALATE:
        _escalate(case, now=now)
    elif action == Action.DEFER:
        if review_on is None or review_on <= timezone.localdate():
            raise DomainError(_("请填写今天以后的复查日期。"), field="review_on")
        case.review_on = review_on
    elif action in {Action.CLOSE, Action.REJECT}:
        case.closed_at = now
    elif action == Action.MERGE:
        _merge(case, into=merge_into)
    elif action in {Action.VISIT_FAILED, Action.RATE_UNSATISFIED}:
        case.closed_at = None
        case.handle_due = workcalendar.add_working_days(
            now, categories.limits_for(case.category, case.holder.level).handle_working_days)


def _dispatch(case: Case, *, lead_unit: OrgUnit | None, assist_units: tuple[OrgUnit, ...]) -> None:
    if lead_unit is None:
        raise DomainError(_("请选择主办单位。"), field="lead_unit")
    units = [lead_unit, *assist_units]
    if len({u.pk for u in units}) != len(units):
        raise DomainError(_("主办单位和协办单位不能重复。"), field="assist_units")
    for unit in units:
        # The holder dispatches within its own area: its departments, villages and grids.
        if not unit.path.startswith(case.holder.path) or not unit.is_active:
            raise DomainError(_("“%(unit)s”不在本级的派单范围内。") % {"unit": unit.name}, field="lead_unit")
    case.assignments.filter(is_active=True).update(is_active=False)
    Assignment.objects.create(case=case, unit=lead_unit, role=Assignment.Role.LEAD)
    for unit in assist_units:
        Assignment.objects.create(case=case, unit=unit, role=Assignment.Role.ASSIST)


def _escalate(case: Case, *, now: datetime.datetime) -> None:
    index = LEVEL_ORDER.index(Level(case.holder.level))
    if index == 0:
        raise DomainError(_("市级指挥中心已是最高层级，不能再上报。"), code="top_level")
    case.holder = _area_ancestor(case.holder, LEVEL_ORDER[index - 1])
    case.assignments.filter(is_active=True).update(is_active=False)
    limits = categories.limits_for(case.category, case.holder.level)
    case.respond_due = now + datetime.timedelta(hours=limits.respond_hours)
    case.handle_due = None


def _merge(case: Case, *, into: Case | None) -> None:
    if into is None or into.pk == case.pk:
        raise DomainError(_("请选择要并入的另一个事件。"), field="merge_into")
    if into.merged_into_id is not None or into.status not in {
            Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED,
            Status.ESCALATED, Status.REOPENED}:
        raise DomainError(_("只能并入仍在办理中的事件。"), field="merge_into")
    case.merged_into = into
    case.closed_at = timezone.now()
