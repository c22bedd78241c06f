"""Cases over JSON: report, list (with red/yellow/green flags), detail with the timeline, workflow
actions, follow-up questions, return visits, ratings, duplicate suggestions and the category tree.

Every action goes through `services.take_action`: `POST /api/cases/{id}/actions` takes any action a person
may take (its names come from the workflow table), and the older endpoints for follow-ups, answers, 督办,
return visits and ratings remain, answering with the record they made. Each takes an optional `client_key`:
sending the same key again (an offline phone syncing twice) answers with the first result and writes nothing.

Every endpoint needs a session (401 without one; see gongzhi.api.accounts); unsafe requests also need the
session's CSRF token in `X-CSRFToken` (403) and `Content-Type: application/json` (415). A case outside the
caller's scope answers 404, exactly like one that does not exist. Refused input answers 422 with `field`
naming what to correct, and nothing is changed.
"""

import datetime
from typing import Annotated, Any, cast

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Path, Query, Router, Status, UploadedFile

from gongzhi.accounts.models import User
from gongzhi.api.cases.schemas import (
    MAX_ID,
    ActionIn,
    AnswerIn,
    AnswerOut,
    CaseAckOut,
    CaseId,
    CaseIn,
    CaseListOut,
    CaseListQuery,
    CaseOut,
    CategoryOut,
    DocumentOut,
    DuplicateOut,
    DuplicateQuery,
    FollowUpIn,
    FollowUpOut,
    OnBehalfIn,
    PhotoOut,
    RatingIn,
    RatingOut,
    ReturnVisitIn,
    ReturnVisitOut,
    SupervisionIn,
    SupervisionOut,
)
from gongzhi.api.schemas import ErrorOut, SignedIn, SignedInUpload, UnparsableOut, ValidationErrorOut, require_json
from gongzhi.cases import categories, selectors, services
from gongzhi.cases.models import (
    Attachment,
    Case,
    Category,
    ExtensionRequest,
    FollowUp,
    Rating,
    ReturnVisit,
    SupervisionOrder,
)
from gongzhi.cases.workflow import Action
from gongzhi.cases.workflow import Status as CaseStatus
from gongzhi.core.errors import DomainError
from gongzhi.org.models import OrgUnit

router = Router(auth=SignedIn())

_AUTH = {401: ErrorOut}
_READ = {404: ErrorOut, 422: ValidationErrorOut, **_AUTH}
_WRITE = {400: UnparsableOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut,
          422: ValidationErrorOut, **_AUTH}


# --------------------------------------------------------------------------------------------- helpers


def _me(request: HttpRequest) -> User:
    """The signed-in user (SignedIn has already refused anyone else)."""
    return cast(User, request.auth)  # type: ignore[attr-defined]


def _local(value: datetime.datetime | None) -> datetime.datetime | None:
    return timezone.localtime(value) if value is not None else None


def _summary(case: Case) -> dict:
    return {
        "id": case.pk, "number": case.number, "status": case.status,
        "status_label": str(CaseStatus(case.status).label), "category": case.category.code,
        "category_name": case.category.name, "description": case.description, "address": case.address,
        "created_at": _local(case.created_at), "flag": getattr(case, "flag", ""),
        "due": _local(getattr(case, "due", None)), "archived_at": _local(case.archived_at),
    }


def _attachment(item: Attachment) -> dict:
    return {"id": item.pk, "kind": item.kind, "stage": item.stage, "step": item.log.seq if item.log else None,
            "content_type": item.content_type, "url": item.file.url,
            "thumbnail_url": item.thumbnail.url if item.thumbnail else None,
            "duration_seconds": item.duration_seconds, "name": item.name}


def _detail(request: HttpRequest, case: Case) -> dict:
    timeline = selectors.timeline_for(request.user, case)
    return {
        "id": case.pk, "number": case.number, "status": case.status,
        "status_label": str(CaseStatus(case.status).label), "category": case.category.code,
        "category_name": case.category.name, "description": case.description, "lat": case.lat,
        "lng": case.lng, "address": case.address, "is_anonymous": case.is_anonymous,
        "holder_name": case.holder.name, "grid_name": case.grid.name if case.grid else None,
        "respond_due": _local(case.respond_due), "handle_due": _local(case.handle_due),
        "review_on": case.review_on, "merged_into_id": case.merged_into_id,
        "created_at": _local(case.created_at), "closed_at": _local(case.closed_at),
        "archived_at": _local(case.archived_at),
        "attachments": [_attachment(a) for a in selectors.attachments_of(request.user, case)],
        "timeline": timeline,
        "extensions": [_extension(x) for x in selectors.extensions_of(request.user, case)],
    }


def _name(user: User | None) -> str | None:
    return (user.real_name or user.username) if user is not None else None


def _extension(item: ExtensionRequest) -> dict:
    return {"id": item.pk, "decision": item.decision, "requesting_unit": item.requesting_unit.name,
            "requested_by": _name(item.requested_by), "requested_at": _local(item.requested_at),
            "reason": item.reason, "previous_due": _local(item.previous_due),
            "proposed_due": _local(item.proposed_due), "decided_by": _name(item.decided_by),
            "decided_at": _local(item.decided_at), "decision_note": item.decision_note}


def _category(code: str) -> Category:
    found = categories.by_code(code)
    if found is None:
        raise DomainError(_("请选择一个具体的事件分类。"), field="category")
    return found


def _parent_code(category: Category) -> str | None:
    parent = categories.by_id(category.parent_id) if category.parent_id is not None else None
    return parent.code if parent is not None else None


def _subject(unit_id: int | None) -> OrgUnit | None:
    return None if unit_id is None else _unit(unit_id, "subject_unit")


def _unit(unit_id: int, field: str) -> OrgUnit:
    found = OrgUnit.objects.filter(pk=unit_id).first()
    if found is None:
        raise services.unit_refused(field)
    return found


# --------------------------------------------------------------------------------------------- endpoints


@router.get("", response={200: CaseListOut, 422: ValidationErrorOut, **_AUTH}, summary="事件列表")
def case_list(request: HttpRequest, query: Query[CaseListQuery]):
    """The cases the caller may see, red first, then yellow, then green, each by the nearest limit; or one
    work queue of them (`queue`), filtered the same way. Archived cases (归档) are left out unless `archived`
    asks for them; the work queues never hold any."""
    qs = selectors.cases_for(request.user, status=query.status, flag=query.flag, archived=query.archived)
    if query.queue is not None:
        queue = {"intake": selectors.intake_for, "tasks": selectors.tasks_for,
                 "questions": selectors.cases_with_questions,
                 "extensions": selectors.extensions_to_decide}[query.queue](request.user)
        qs = queue.filter(pk__in=qs.values("pk"))
    qs = qs.select_related("category")
    return {"count": qs.count(), "limit": query.limit, "offset": query.offset,
            "items": [_summary(c) for c in qs[query.offset:query.offset + query.limit]]}


@router.post("", response={201: CaseAckOut, 200: CaseAckOut, **_WRITE}, summary="反映事件")
def case_create(request: HttpRequest, payload: CaseIn):
    """Reports a case at a point (201) and answers with a short acknowledgement; the detail is at
    `GET /api/cases/{id}`. Sending the same `client_id` again returns the case already made (200) and
    creates nothing. 404: the point lies in no grid, or the `client_id` was used by someone
    else. Photos are uploaded first, one by one (`POST /api/cases/photos`), and named here by their
    `photo_tokens`; a token that is not the caller's answers 422 on `photos` and nothing is stored."""
    require_json(request)
    case, created = services.submit_case(
        actor=_me(request), client_id=payload.client_id, category=_category(payload.category),
        description=payload.description, lat=payload.lat, lng=payload.lng, address=payload.address,
        is_anonymous=payload.is_anonymous, photo_tokens=payload.photo_tokens,
        subject_unit=_subject(payload.subject_unit_id))
    return _ack(case, created)


@router.post("/photos", auth=SignedInUpload(), response={201: PhotoOut, 200: PhotoOut, **_WRITE},
             summary="上传照片")
def photo_upload(request: HttpRequest, photo: File[UploadedFile]):
    """One photo (`multipart/form-data`, field `photo`; JPEG, PNG, WebP or HEIC) for a report not sent yet:
    checked and re-encoded by the server (EXIF removed), kept for 24 hours for the caller alone, and
    answered with a `token` to put in the report's `photo_tokens` (201). The same photo sent again (a
    retry after a lost answer) answers with the same token (200). 422: not a photo we take, too large,
    or too many waiting."""
    pending, created = services.upload_photo(actor=_me(request), upload=photo)
    return Status(201 if created else 200, {"token": pending.token, "thumbnail_url": pending.thumbnail.url,
                                            "created": created})


@router.post("/documents", auth=SignedInUpload(), response={201: DocumentOut, 200: DocumentOut, **_WRITE},
             summary="上传文件")
def document_upload(request: HttpRequest, document: File[UploadedFile]):
    """One PDF document (`multipart/form-data`, field `document`; at most 10 MB) for a handling step not
    sent yet — 整改通知书, 现场检查记录, a scanned receipt: checked by the server, kept for 24 hours for the
    caller alone, and answered with a `token` to put in the step's `document_tokens` (201). The same file
    sent again answers with the same token (200). Staff only (404 for residents). 422: not a PDF (a Word
    or Excel file gets a hint to save it as PDF), cut short, too large, or too many waiting."""
    pending, created = services.upload_document(actor=_me(request), upload=document)
    return Status(201 if created else 200, {"token": pending.token, "name": pending.name, "created": created})


@router.post("/on-behalf", response={201: CaseAckOut, 200: CaseAckOut, **_WRITE}, summary="代为登记")
def case_create_on_behalf(request: HttpRequest, payload: OnBehalfIn):
    """Command-centre staff report a case for a resident who came in or phoned: the resident's account is
    found by ID number (the name must match) or opened for them, in one transaction with the case.
    403: not command-centre staff. 404: the point lies outside the caller's scope or in no grid.
    A retry with the same `client_id` returns the case already made (200)."""
    require_json(request)
    case, created = services.report_on_behalf(
        actor=_me(request), name=payload.name, id_number=payload.id_number, phone=payload.phone,
        client_id=payload.client_id, category=_category(payload.category), description=payload.description,
        lat=payload.lat, lng=payload.lng, address=payload.address, is_anonymous=payload.is_anonymous,
        photo_tokens=payload.photo_tokens, subject_unit=_subject(payload.subject_unit_id))
    return _ack(case, created)


def _ack(case: Case, created: bool) -> Status:
    return Status(201 if created else 200, {
        "id": case.pk, "number": case.number, "status": case.status,
        "status_label": str(CaseStatus(case.status).label), "created": created,
        "created_at": _local(case.created_at)})


@router.get("/categories", response={200: list[CategoryOut], **_AUTH}, summary="事件分类")
def category_list(request: HttpRequest):
    """The active category tree, parents before children; only non-top-level categories are selectable."""
    rows = sorted(categories.active(), key=lambda c: (c.parent_id is not None, c.parent_id or 0, c.sort, c.pk))
    return [{"id": c.pk, "code": c.code, "name": c.name, "kind": c.kind, "parent": _parent_code(c),
             "selectable": c.parent_id is not None, "handler_type": c.handler_type} for c in rows]



@router.get("/duplicates", response={200: list[DuplicateOut], 422: ValidationErrorOut, **_AUTH},
            summary="疑似重复事件")
def duplicates(request: HttpRequest, query: Query[DuplicateQuery]):
    """Open cases of the last 30 days that the caller may see and that may be the matter being reported, best
    first (at most 5): the same category within 250 m and, when `description` is given, cases within 1 km
    whose text is similar, of any category; ranked by text similarity, distance, recency and category
    (`score`; the formula is in `cases.selectors.suggest_duplicates`)."""
    found = selectors.suggest_duplicates(category=_category(query.category), lat=query.lat, lng=query.lng,
                                        text=query.description, user=_me(request))
    return [{"id": d.case.pk, "number": d.case.number, "status": d.case.status,
             "status_label": str(CaseStatus(d.case.status).label), "description": d.case.description,
             "distance_m": round(d.distance_m, 1), "created_at": _local(d.case.created_at),
             "category": d.case.category.code, "score": d.score, "text_similarity": d.text_similarity,
             "similar_text": d.similar_text} for d in found]


@router.get("/{case_id}", response={200: CaseOut, **_READ}, summary="事件详情")
def case_detail(request: HttpRequest, case_id: CaseId):
    """One case with its attachments and timeline: the full log for staff in scope, the public steps for
    its reporter and followers."""
    return _detail(request, selectors.case_for(request.user, case_id))


# ActionIn's photo fields and what their photos show (Attachment.Stage): one payload, `photo_tokens`.
_PHOTO_FIELDS = {"photo_tokens": "", "before_photo_tokens": "before", "after_photo_tokens": "after"}

# ActionIn's fields that name a row by id, and the payload name of that row.
_REFERENCES = {"lead_unit_id": "lead_unit", "lead_person_id": "lead_person", "assist_unit_ids": "assist_units",
               "merge_into_id": "merge_into", "follow_up_id": "follow_up"}


def _payload(request: HttpRequest, case: Case, payload: ActionIn) -> dict[str, Any]:
    """take_action's payload: the fields the action takes (`services.payload_names`), ids made rows. A case
    or question outside the caller's reach answers 404, exactly like a missing one."""
    names = services.payload_names(payload.action)
    found: dict[str, Any] = {}
    photos = [(stage, token) for field, stage in _PHOTO_FIELDS.items() for token in getattr(payload, field)]
    if photos and "photo_tokens" in names:
        found["photo_tokens"] = photos
    for field, value in payload:
        if field in _PHOTO_FIELDS:
            continue
        name = _REFERENCES.get(field, field)
        if name not in names or value is None:
            continue
        if field == "lead_unit_id":
            value = _unit(value, "lead_unit")
        elif field == "lead_person_id":
            value = User.objects.filter(pk=value, kind=User.Kind.STAFF).first()
            if value is None:
                raise services.person_refused("lead_person")
        elif field == "assist_unit_ids":
            value = tuple(_unit(unit_id, "assist_units") for unit_id in value)
        elif field == "merge_into_id":
            value = selectors.case_for(request.user, value)
        elif field == "follow_up_id":
            value = selectors.follow_up_of(case, value)
        found[name] = value
    return found


def _act(request: HttpRequest, case: Case, action: str, client_key: str, **payload: Any) -> services.ActionResult:
    return services.take_action(actor=_me(request), case=case, action=action, client_key=client_key, **payload)


@router.post("/{case_id}/actions", response={200: CaseOut, **_WRITE}, summary="办理操作")
def case_action(request: HttpRequest, case_id: CaseId, payload: ActionIn):
    """Takes one action by its workflow name: accept, reject (note required), resolve_on_spot, dispatch
    (lead_unit_id, lead_person_id, assist_unit_ids), sign, return, complete, defer (review_on), resume,
    escalate, confirm and visit_failed (the return visit: method, note), close, rate (score) and
    rate_unsatisfied (comment), merge (merge_into_id), remind, supervise (due_at, note), follow_up
    (question), reply (follow_up_id, answer), request_extension (extend_to, note: the reason; the lead unit,
    while in progress), approve_extension and refuse_extension (note, required to refuse; the holding
    command centre or the level above). Answers with the case. 403: not the caller's step to take; 422 with
    code "invalid_state": not in this state. A `client_key` sent again answers with the case as it is now
    and changes nothing."""
    require_json(request)
    case = selectors.case_for(request.user, case_id)
    _act(request, case, payload.action, payload.client_key, **_payload(request, case, payload))
    return _detail(request, selectors.case_for(request.user, case_id))


@router.post("/{case_id}/follow-ups", response={201: FollowUpOut, 200: FollowUpOut, **_WRITE}, summary="追问")
def follow_up(request: HttpRequest, case_id: CaseId, payload: FollowUpIn):
    """The reporter or a follower asks whoever works on the case now. 422: too many unanswered. The same
    `client_key` again answers 200 with the question first asked."""
    require_json(request)
    result = _act(request, selectors.case_for(request.user, case_id), Action.FOLLOW_UP, payload.client_key,
                  question=payload.question)
    item = cast(FollowUp, result.record)
    return Status(201 if result.created else 200,
                  {"id": item.pk, "case_id": item.case_id, "addressed_to": item.addressed_to.name})


@router.post("/{case_id}/follow-ups/{follow_up_id}/answer", response={200: AnswerOut, **_WRITE},
             summary="答复追问")
def answer(request: HttpRequest, case_id: CaseId,
           follow_up_id: Annotated[int, Path(..., ge=1, le=MAX_ID)], payload: AnswerIn):
    """The unit the question was addressed to answers it; the reporter and followers are told.
    404: no such question on this case. 409: already answered (unless it is a replay of the same
    `client_key`, which answers with the first answer)."""
    require_json(request)
    case = selectors.case_for(request.user, case_id)
    item = selectors.follow_up_of(case, follow_up_id)
    result = _act(request, case, Action.REPLY, payload.client_key, follow_up=item, answer=payload.answer)
    return {"id": item.pk, "case_id": item.case_id, "answered_at": _local(result.log.created_at)}


@router.post("/{case_id}/supervision", response={201: SupervisionOut, 200: SupervisionOut, **_WRITE},
             summary="督办")
def supervise(request: HttpRequest, case_id: CaseId, payload: SupervisionIn):
    """An upper level's command centre or supervisor orders the case handled by `due_at` (a note is
    required); the handling unit is told, and the sweep reminds the issuer if the limit passes first."""
    require_json(request)
    result = _act(request, selectors.case_for(request.user, case_id), Action.SUPERVISE, payload.client_key,
                  note=payload.note, due_at=payload.due_at)
    order = cast(SupervisionOrder, result.record)
    return Status(201 if result.created else 200, {
        "id": order.pk, "case_id": order.case_id, "issuing_unit": order.issuing_unit.name,
        "due_at": _local(order.due_at)})


@router.post("/{case_id}/return-visit", response={201: ReturnVisitOut, 200: ReturnVisitOut, **_WRITE},
             summary="回访")
def return_visit(request: HttpRequest, case_id: CaseId, payload: ReturnVisitIn):
    """A grid worker or dispatcher records the return visit; not settled reopens the case. 403: the
    handling unit may not visit its own case."""
    require_json(request)
    action = Action.CONFIRM if payload.settled else Action.VISIT_FAILED
    result = _act(request, selectors.case_for(request.user, case_id), action, payload.client_key,
                  method=payload.method, note=payload.note)
    visit = cast(ReturnVisit, result.record)
    return Status(201 if result.created else 200, {"id": visit.pk, "case_id": visit.case_id,
                                                   "method": visit.method, "settled": visit.settled})


@router.post("/{case_id}/rating", response={201: RatingOut, 200: RatingOut, **_WRITE}, summary="评价")
def rating(request: HttpRequest, case_id: CaseId, payload: RatingIn):
    """满意/基本满意 once the case is closed; 不满意 (comment required) reopens it. 409: already rated (a
    replay of the same `client_key` answers 200 with the first rating)."""
    require_json(request)
    action = Action.RATE_UNSATISFIED if payload.score == Rating.Score.UNSATISFIED else Action.RATE
    result = _act(request, selectors.case_for(request.user, case_id), action, payload.client_key,
                  score=payload.score, comment=payload.comment)
    item = cast(Rating, result.record)
    return Status(201 if result.created else 200, {"id": item.pk, "case_id": item.case_id, "score": item.score,
                                                   "comment": item.comment, "round": item.round})
