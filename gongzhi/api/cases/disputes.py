"""A dispute's records over JSON (on the cases router): parties, mediation sessions, agreements and their
performance follow-ups, the parties' full names (logged), the mediators to choose from, and the lists of
disputes at risk and of follow-ups due.

For the staff who see the dispute as staff; never public. A case outside the caller's scope answers 404, like
one that does not exist or is no dispute; its reporter gets 403 (they see the case, not its parties). Writes
go through `cases.services.disputes`, the services the case pages use: the same checks (403 without the
capacity, 422 with code "invalid_state" once the case is finished, 422 naming the `field` on bad input) and
one internal log row each. Each takes an optional `client_key`: the same key again answers with the first
result (200 instead of 201) and writes nothing. Parties are shown masked (张**). JSON bodies, except the
agreement uploads: `multipart/form-data` with the file as `agreement` and the other fields as form fields.
"""

from typing import Annotated, cast

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Path, Query, Status, UploadedFile

from gongzhi.accounts.models import User
from gongzhi.api.cases.dispute_schemas import (
    AgreementIn,
    AgreementReplaceIn,
    AtRiskListOut,
    AtRiskQuery,
    ClientKeyIn,
    DisputeOut,
    FollowUpDueOut,
    MediationIn,
    MediatorOut,
    PartyEditIn,
    PartyIn,
    PartyNameOut,
    PerformanceIn,
    RemovedOut,
    RevealIn,
)
from gongzhi.api.cases.endpoints import _READ, _WRITE, router
from gongzhi.api.cases.schemas import MAX_ID, CaseId
from gongzhi.api.schemas import ErrorOut, SignedInUpload, ValidationErrorOut, require_json
from gongzhi.cases import selectors, services
from gongzhi.cases.models import Case, CategoryKind, MediationAgreement, MediationSession
from gongzhi.cases.selectors import AgreementView, PartyView, SessionView
from gongzhi.cases.workflow import Status as CaseStatus
from gongzhi.core.errors import DomainError, NotFound

RecordId = Annotated[int, Path(..., ge=1, le=MAX_ID)]
_GET = {**_READ, 403: ErrorOut}


def _me(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


def _dispute(request: HttpRequest, case_id: int) -> Case:
    case = selectors.case_for(request.user, case_id)
    if case.category.kind != CategoryKind.DISPUTE:
        raise NotFound()
    return case


def _session(session_id: int) -> SessionView:
    found = (MediationSession.objects.select_related("recorded_by", "agreement")
             .prefetch_related("mediators").get(pk=session_id))
    return selectors.session_view(found, today=timezone.localdate())


def _agreement(agreement: MediationAgreement) -> AgreementView:
    return selectors.agreement_view(agreement, today=timezone.localdate())


def _created(view: object, created: bool) -> Status:
    return Status(201 if created else 200, view)


@router.get("/disputes/at-risk", response={200: AtRiskListOut, 422: ValidationErrorOut, 401: ErrorOut},
            summary="风险纠纷")
def at_risk(request: HttpRequest, query: Query[AtRiskQuery]):
    """The disputes the caller sees as staff carrying a risk flag (重复纠纷, 民转刑风险), newest first; one kind
    (`risk`) or one township (`township_id`, among those in the caller's scope) if asked."""
    township = None
    if query.township_id is not None:
        township = selectors.townships_for(request.user).filter(pk=query.township_id).first()
        if township is None:
            raise DomainError(_("未找到该乡镇（街道），或不在您的管辖范围内。"), field="township_id")
    qs = selectors.dispute_cases_at_risk(request.user, risk=query.risk, within=township).select_related(
        "category", "grid")
    return {"count": qs.count(), "limit": query.limit, "offset": query.offset, "items": [{
        "id": c.pk, "number": c.number, "status": c.status, "status_label": str(CaseStatus(c.status).label),
        "category": c.category.code, "category_name": c.category.name, "description": c.description,
        "grid_name": c.grid.name if c.grid else None, "created_at": timezone.localtime(c.created_at),
        "risk_repeat": getattr(c, "risk_repeat", False),
        "risk_marriage_family": getattr(c, "risk_marriage_family", False),
    } for c in qs[query.offset:query.offset + query.limit]]}


@router.get("/disputes/follow-ups-due", response={200: list[FollowUpDueOut], 401: ErrorOut},
            summary="履行回访到期")
def follow_ups_due(request: HttpRequest):
    """Mediation agreements whose performance follow-up (履行回访) is due, earliest first (at most 200);
    closed disputes included."""
    return [{"agreement_id": a.pk, "case_id": a.case_id, "case_number": a.case.number, "session_id": a.session_id,
             "signed_on": a.signed_on, "follow_up_on": a.follow_up_on, "performance": a.performance}
            for a in selectors.agreements_due(request.user)[:200]]


@router.get("/{case_id}/dispute", response={200: DisputeOut, **_GET}, summary="纠纷信息")
def dispute_detail(request: HttpRequest, case_id: CaseId):
    """Parties (names masked), mediation sessions with their agreements and follow-ups, risk flags, and what
    the caller may do now."""
    case = _dispute(request, case_id)
    view = selectors.dispute_of(request.user, case)
    return {"case_id": case.pk, **{name: getattr(view, name) for name in (
        "parties", "sessions", "risks", "may_record", "may_record_performance", "may_unmask")}}


@router.get("/{case_id}/dispute/mediators", response={200: list[MediatorOut], **_GET}, summary="可选调解员")
def mediators(request: HttpRequest, case_id: CaseId):
    """The staff who may be named as mediators of this dispute (`mediator_ids`): the holding command centre
    and its departments, the case's village and grid, the units assigned to it."""
    case = _dispute(request, case_id)
    selectors.dispute_of(request.user, case)  # 403 for anyone who may not see the records
    return [{"id": c.user.pk, "label": c.label} for c in selectors.mediator_candidates(case)]


@router.post("/{case_id}/dispute/names", response={200: list[PartyNameOut], **_WRITE}, summary="查看当事人完整姓名")
def party_names(request: HttpRequest, case_id: CaseId, payload: RevealIn):
    """The parties' full names, for staff allowed to unmask personal data (403 otherwise); a `reason` is
    required, and each party's viewing is logged with it."""
    require_json(request)
    case = _dispute(request, case_id)
    names = services.reveal_party_names(actor=_me(request), case=case, reason=payload.reason)
    parties = {p.pk: p for p in case.parties.filter(pk__in=names)}
    return [{"id": pk, "role": parties[pk].role, "role_label": parties[pk].get_role_display(), "name": name}
            for pk, name in names.items()]


@router.post("/{case_id}/dispute/parties", response={201: PartyView, 200: PartyView, **_WRITE},
             summary="登记当事人")
def party_add(request: HttpRequest, case_id: CaseId, payload: PartyIn):
    """Records a party (201); the ID number is kept only as a keyed hash, the household linked by 户号 when it
    lies in the caller's scope (404 on `household_number` otherwise)."""
    require_json(request)
    result = services.add_party(actor=_me(request), case=_dispute(request, case_id), name=payload.name,
                                role=payload.role, id_number=payload.id_number,
                                household_number=payload.household_number, client_key=payload.client_key)
    return _created(selectors.party_view(result.record), result.created)


@router.post("/{case_id}/dispute/parties/{party_id}/edit", response={200: PartyView, **_WRITE},
             summary="修改当事人")
def party_edit(request: HttpRequest, case_id: CaseId, party_id: RecordId, payload: PartyEditIn):
    """Changes the fields sent (422 "no_change" when nothing would change)."""
    require_json(request)
    case = _dispute(request, case_id)
    result = services.edit_party(actor=_me(request), case=case, party=selectors.party_of(case, party_id),
                                 name=payload.name, role=payload.role, id_number=payload.id_number,
                                 household_number=payload.household_number, client_key=payload.client_key)
    return selectors.party_view(result.record)


@router.post("/{case_id}/dispute/parties/{party_id}/remove", response={200: RemovedOut, **_WRITE},
             summary="删除当事人")
def party_remove(request: HttpRequest, case_id: CaseId, party_id: RecordId, payload: ClientKeyIn):
    """Removes a party recorded by mistake. The same `client_key` again answers 200 with `created` false,
    though the party is gone."""
    require_json(request)
    result = services.remove_party(actor=_me(request), case=_dispute(request, case_id), party_id=party_id,
                                   client_key=payload.client_key)
    return {"party_id": party_id, "created": result.created}


@router.post("/{case_id}/dispute/mediations", response={201: SessionView, 200: SessionView, **_WRITE},
             summary="登记调解")
def mediation_add(request: HttpRequest, case_id: CaseId, payload: MediationIn):
    """Records a mediation session (201): at least one mediator, staff (`mediator_ids`) or by name
    (`other_mediators`). Its signed agreement is uploaded next (…/mediations/{id}/agreement)."""
    require_json(request)
    case = _dispute(request, case_id)
    wanted = set(payload.mediator_ids)
    staff = list(User.objects.filter(pk__in=wanted))
    if len(staff) != len(wanted):
        raise DomainError(_("所选调解员不是办理该纠纷的单位的工作人员。"), field="mediators")
    result = services.record_mediation(
        actor=_me(request), case=case, kind=payload.kind, held_on=payload.held_on, outcome=payload.outcome,
        mediators=staff, other_mediators=payload.other_mediators, summary=payload.summary,
        client_key=payload.client_key)
    return _created(_session(result.record.pk), result.created)


@router.post("/{case_id}/dispute/mediations/{session_id}/agreement", auth=SignedInUpload(),
             response={201: AgreementView, 200: AgreementView, **_WRITE}, summary="上传调解协议书")
def agreement_attach(request: HttpRequest, case_id: CaseId, session_id: RecordId, agreement: File[UploadedFile],
                     details: Form[AgreementIn]):
    """`multipart/form-data`: the signed 调解协议书 (`agreement`: PDF up to 10 MB, or a JPEG/PNG photo,
    checked by content) of a session that reached one (调解成功 or 部分达成) and has none yet, with
    `signed_on` and `follow_up_on`."""
    case = _dispute(request, case_id)
    result = services.attach_agreement(actor=_me(request), case=case, session=selectors.session_of(case, session_id),
                                       agreement=agreement, signed_on=details.signed_on,
                                       follow_up_on=details.follow_up_on, client_key=details.client_key)
    return _created(_agreement(result.record), result.created)


@router.post("/{case_id}/dispute/agreements/{agreement_id}/replace", auth=SignedInUpload(),
             response={200: AgreementView, **_WRITE}, summary="更换调解协议书")
def agreement_replace(request: HttpRequest, case_id: CaseId, agreement_id: RecordId,
                      agreement: File[UploadedFile], details: Form[AgreementReplaceIn]):
    """`multipart/form-data`: a new file for the agreement (the old one is deleted), and its dates if sent."""
    case = _dispute(request, case_id)
    result = services.replace_agreement(
        actor=_me(request), case=case, agreement=selectors.agreement_of(case, agreement_id), file=agreement,
        signed_on=details.signed_on, follow_up_on=details.follow_up_on, client_key=details.client_key)
    return _agreement(result.record)


@router.post("/{case_id}/dispute/agreements/{agreement_id}/performance", response={200: AgreementView, **_WRITE},
             summary="协议履行回访")
def performance(request: HttpRequest, case_id: CaseId, agreement_id: RecordId, payload: PerformanceIn):
    """Records a performance follow-up (履行回访); also once the case is closed, not once it was rejected."""
    require_json(request)
    case = _dispute(request, case_id)
    result = services.record_performance(
        actor=_me(request), case=case, agreement=selectors.agreement_of(case, agreement_id),
        performance=payload.performance, checked_on=payload.checked_on, note=payload.note,
        next_follow_up_on=payload.next_follow_up_on, client_key=payload.client_key)
    return _agreement(result.record)
