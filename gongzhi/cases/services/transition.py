"""Workflow steps: `transition` is the only code that changes a case's status. Each call checks scope (404),
capacity (403), the state and the note, applies the side effects (deadlines, assignments, escalation to the
next level, merging, 延期) and writes exactly one CaseLog row with the actor, the note and a snapshot of the
deadlines; then `notices.announce` tells the people concerned.

延期 (extensions)
    申请延期 (`extend_to`: the date asked for; the note is the reason) keeps an `ExtensionRequest`; 批准延期
    moves `handle_due` to the date asked for before the log row is written, so the row's snapshot holds the
    new limit; 驳回延期 leaves it. The rules beyond the table (one request at a time, not decided by the unit
    that asked) are `policies.extension_refusal`. A step that takes the case out of 正在办理 makes a waiting
    request lapse. Flags and sweep steps need nothing more: both follow `handle_due`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Membership, User
from gongzhi.cases import categories, deadlines, notices, policies
from gongzhi.cases.models import (
    Assignment,
    Attachment,
    Case,
    CaseLog,
    ExtensionRequest,
    PendingUpload,
    SupervisionOrder,
)
from gongzhi.cases.policies import EXTENSION_ACTIONS, ExtensionRefusal
from gongzhi.cases.services import pending_uploads
from gongzhi.cases.workflow import OPEN_STATES, SUPERVISION_DONE, Action, Capacity, Status, transition_for
from gongzhi.core import workcalendar
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.rows import insert_row
from gongzhi.core.text import clean_text
from gongzhi.org.models import LEVEL_ORDER, Level, OrgUnit, UnitKind
from gongzhi.points.models import Trigger
from gongzhi.points.services import awards

MAX_STEP_PHOTOS = 9
MAX_STEP_DOCUMENTS = 5
NOTE_MAX_LENGTH = 2000
# Actions a complaint's subject unit may not take on it (B5).


def write_log(*, case: Case, action: str, from_status: str, actor: User | None, note: str, public: bool,
              step_key: str = "", first: bool = False, actor_unit_id: int | None = None) -> CaseLog:
    """The one CaseLog row of a step, with the unit the actor acted for. `first`: the case was created in
    this transaction and has no log yet, so the lookup of the last seq is skipped."""
    last = 0 if first else case.logs.order_by("-seq").values_list("seq", flat=True).first() or 0
    return insert_row(CaseLog(
        case=case, seq=last + 1, action=action, from_status=from_status, to_status=case.status, actor=actor,
        actor_unit_id=actor_unit_id, note=note, is_public=public,
        deadlines=deadlines.snapshot(case.respond_due, case.handle_due), step_key=step_key))


def last_log(case: Case) -> CaseLog:
    """The row `transition` has just written (the case is locked until the transaction ends)."""
    return CaseLog.objects.filter(case=case).latest("seq")


def _area_ancestor(unit: OrgUnit, level: str) -> OrgUnit:
    if unit.level == level and unit.kind == UnitKind.AREA:
        return unit
    found = unit.ancestors().filter(level=level, kind=UnitKind.AREA).first()
    if found is None:
        raise DomainError(_("该网格不属于任何乡镇，无法受理。"))
    return found


def _step_uploads(case: Case, action: str, actor: User | None, photo_tokens: Sequence[tuple[str, str]],
                  document_tokens: Sequence[str]) -> list[tuple[str, list[PendingUpload]]]:
    """The actor's pending uploads for the step, as (photo stage, uploads) pairs — documents have none —
    checked before anything is written."""
    if any(stage not in Attachment.Stage.values for stage, _token in photo_tokens):
        raise DomainError(_("未知的照片类型。"), field="photos")
    if len(photo_tokens) > MAX_STEP_PHOTOS:
        raise DomainError(_("每一步最多上传%(n)d张照片。") % {"n": MAX_STEP_PHOTOS}, field="photos")
    if len(document_tokens) > MAX_STEP_DOCUMENTS:
        raise DomainError(_("每一步最多上传%(n)d个文件。") % {"n": MAX_STEP_DOCUMENTS}, field="documents")
    found: list[tuple[str, list[PendingUpload]]] = []
    if (photo_tokens or document_tokens) and actor is None:
        raise DomainError(_("系统步骤不带附件。"))
    if actor is not None:
        for stage in Attachment.Stage.values:
            tokens = [token for s, token in photo_tokens if s == stage]
            if tokens:
                found.append((stage, pending_uploads.pending_for(actor=actor, tokens=tokens)))
        if document_tokens:
            found.append(("", pending_uploads.pending_for(actor=actor, tokens=document_tokens,
                                                          kind=Attachment.Kind.DOCUMENT)))
    after_photo = any(stage == Attachment.Stage.AFTER for stage, _uploads in found)
    if (action in {Action.COMPLETE, Action.RESOLVE_ON_SPOT} and categories.after_photo_required(case.category)
            and not after_photo):
        raise DomainError(_("此类事件办结时须上传处置后照片。"), code="after_photo_required", field="after_photos")
    return found


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("holder", "subject_unit").get(pk=case.pk)


def _extension_refused(code: str) -> DomainError:
    if code == ExtensionRefusal.OWN_REQUEST:
        return Forbidden(_("您的单位正在承办该事件，不能审批本事件的延期申请。"))
    if code == ExtensionRefusal.PENDING:
        return Conflict(_("该事件已有延期申请等待审批，请等待审批结果。"), code=code)
    if code == ExtensionRefusal.USED_UP:
        return DomainError(_("该事件已延期%(n)d次，不能再申请延期；确实无法按期办结的，请上报上级或申请挂账。")
                           % {"n": settings.CASE_EXTENSIONS_MAX}, code=code)
    return DomainError(_("该事件没有待审批的延期申请。"), code=code)


@transaction.atomic
def transition(*, actor: User | None, case: Case, action: str, note: str = "", step_key: str = "",
               lead_unit: OrgUnit | None = None, lead_person: User | None = None,
               assist_units: Iterable[OrgUnit] = (),
               review_on: datetime.date | None = None, extend_to: datetime.date | None = None,
               merge_into: Case | None = None, photo_tokens: Sequence[tuple[str, str]] = (),
               document_tokens: Sequence[str] = ()) -> Case:
    """Take `action` on `case` as `actor` (None: the system sweep). Refusals change nothing.

    `photo_tokens` are (stage, token) pairs of photos the actor uploaded for this step beforehand
    (`services.upload_photo`: decoded and checked outside this transaction), shown with the step as
    处置前/处置后 or plain photos. A category that asks for them refuses 办结 without a 处置后 photo.
    `document_tokens` name PDF documents uploaded the same way (`services.upload_document`)."""
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
    refusal = policies.barred(actor, case, action) if actor is not None else None
    if refusal is not None:
        raise Forbidden(refusal)
    pending = None
    if action in EXTENSION_ACTIONS:
        state = policies.extension_state(case)
        pending = state.pending
        extension_refusal = policies.extension_refusal(action, held, state)
        if extension_refusal:
            raise _extension_refused(extension_refusal)
    required = (rule.note_prompt or _("请填写说明。")) if rule.note_required else None
    note = clean_text(note, field="note", max_length=NOTE_MAX_LENGTH, required_message=required)
    uploaded = _step_uploads(case, action, actor, photo_tokens, document_tokens)
    if step_key and case.logs.filter(step_key=step_key).exists():
        return case  # this sweep step already ran
    from_status = case.status
    # Before the step moves the case (an escalation changes its holder): whom the actor acts for now.
    acting_unit = policies.acting_unit_id(actor, case, held & rule.capacities) if actor is not None else None
    proposed = _extension_due(case, extend_to) if action == Action.REQUEST_EXTENSION else None
    _apply(case, action, actor=actor, lead_unit=lead_unit, lead_person=lead_person,
           assist_units=tuple(assist_units), review_on=review_on, merge_into=merge_into, extension=pending)
    if rule.to is not None:
        case.status = rule.to
    if case.archived_at is not None and case.status in OPEN_STATES:
        case.archived_at = None  # open again (no step allows it today): back on the work lists
    case.save()
    if case.status in SUPERVISION_DONE and from_status not in SUPERVISION_DONE:
        SupervisionOrder.objects.filter(case=case, fulfilled_at__isnull=True).update(fulfilled_at=timezone.now())
    log = write_log(case=case, action=action, from_status=from_status, actor=actor, note=note,
                     public=rule.public, step_key=step_key, actor_unit_id=acting_unit)
    for stage, uploads in uploaded:
        assert actor is not None  # the sweep sends no files
        pending_uploads.take_pending(case=case, log=log, actor=actor, pending=uploads, stage=stage)
    _record_extension(case, action, actor=actor, log=log, from_status=from_status, pending=pending,
                      proposed=proposed)
    notices.announce(case=case, log=log)
    if action == Action.CLOSE:
        # 随手拍 rewarded by rule (积分制): the reporter's household earns the township's item for it, once.
        awards.award_for_event(trigger=Trigger.REPORT_CLOSED, resident_user=case.reporter,
                               source_key=f"case:{case.pk}", memo=_("事件%(number)s已办结") % {"number": case.number})
    return case


def _apply(case: Case, action: str, *, actor: User | None, lead_unit: OrgUnit | None, lead_person: User | None,
           assist_units: tuple[OrgUnit, ...], review_on: datetime.date | None, merge_into: Case | None,
           extension: ExtensionRequest | None) -> None:
    """The side effects of an action beyond the status change."""
    now = timezone.now()
    if action == Action.APPROVE_EXTENSION:
        assert extension is not None  # policies.extension_refusal has checked that one waits
        if extension.proposed_due <= now:
            raise DomainError(_("申请延期至的期限（%(due)s）已过，不能批准。") % {
                "due": _local(extension.proposed_due)}, code="extension_expired")
        case.handle_due = extension.proposed_due
    if action in {Action.ACCEPT, Action.RESOLVE_ON_SPOT, Action.REJECT} and case.responded_at is None:
        case.responded_at = now
    if action == Action.ACCEPT:
        case.handle_due = deadlines.handle_due(case.category, case.holder.level, start=now)
    elif action == Action.DISPATCH:
        _dispatch(case, lead_unit=lead_unit, lead_person=lead_person, assist_units=assist_units, now=now)
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
        case.handle_due = deadlines.handle_due(case.category, case.holder.level, start=now)


def _local(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _extension_due(case: Case, extend_to: datetime.date | None) -> datetime.datetime:
    """The handling limit a request for `extend_to` asks for: the close of office hours on that workday,
    after the current limit (which has not passed yet: an overdue case is not extended after the event) and
    at most CASE_EXTENSION_MAX_WORKING_DAYS working days after it. Refusals name the field `extend_to`."""
    if extend_to is None:
        raise DomainError(_("请选择申请延期至的日期。"), field="extend_to")
    if case.handle_due is None:  # pragma: no cover - a case in progress always has a handling limit
        raise DomainError(_("该事件没有办理期限，不需要延期。"), field="extend_to")
    now = timezone.now()
    if case.handle_due <= now:
        raise DomainError(_("办理期限（%(due)s）已过，不能再申请延期。") % {"due": _local(case.handle_due)},
                          code="limit_passed", field="extend_to")
    if extend_to <= timezone.localdate(now):
        raise DomainError(_("请选择今天以后的日期。"), field="extend_to")
    proposed = deadlines.close_of_office(extend_to)
    current, latest = deadlines.extension_bounds(case.handle_due)
    if proposed <= current:
        raise DomainError(_("申请延期至的日期须晚于现在的办理期限（%(due)s）。") % {"due": _local(current)},
                          field="extend_to")
    if proposed > latest:
        raise DomainError(_("最多可延期%(n)d个工作日，即不晚于%(latest)s。") % {
            "n": settings.CASE_EXTENSION_MAX_WORKING_DAYS, "latest": f"{timezone.localtime(latest):%Y-%m-%d}"},
            code="extension_too_long", field="extend_to")
    if not workcalendar.is_workday(extend_to):
        raise DomainError(_("%(day)s不是工作日，请选择一个工作日。") % {"day": f"{extend_to:%Y-%m-%d}"},
                          field="extend_to")
    return proposed


def _record_extension(case: Case, action: str, *, actor: User | None, log: CaseLog, from_status: str,
                      pending: ExtensionRequest | None, proposed: datetime.datetime | None) -> None:
    """Keep the 延期 record of the step `log` wrote: a new request, the decision on the waiting one, or a
    waiting one lapsing as the case leaves 正在办理."""
    if action == Action.REQUEST_EXTENSION:
        assert actor is not None and proposed is not None and case.handle_due is not None
        unit_id = (case.assignments.filter(is_active=True, role=Assignment.Role.LEAD)
                   .values_list("unit_id", flat=True).first())
        assert unit_id is not None  # ASSIGNEE: an active lead unit
        ExtensionRequest.objects.create(case=case, log=log, requested_by=actor, requesting_unit_id=unit_id,
                                        previous_due=case.handle_due, proposed_due=proposed,
                                        requested_at=log.created_at)
    elif action in {Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION}:
        assert pending is not None
        pending.decision = (ExtensionRequest.Decision.APPROVED if action == Action.APPROVE_EXTENSION
                            else ExtensionRequest.Decision.REFUSED)
        pending.decided_by, pending.decision_log, pending.decided_at = actor, log, log.created_at
        pending.save(update_fields=["decision", "decided_by", "decision_log", "decided_at"])
    elif from_status == Status.IN_PROGRESS and case.status != Status.IN_PROGRESS:
        ExtensionRequest.objects.filter(case=case, decision=ExtensionRequest.Decision.PENDING).update(
            decision=ExtensionRequest.Decision.LAPSED, decision_log=log, decided_at=log.created_at)




def unit_refused(field: str) -> DomainError:
    """A unit that does not exist, or lies outside where the case's holder may dispatch: one answer for both
    and no name, so a caller cannot learn which units exist outside their area."""
    return DomainError(_("所选单位不存在，或不在本级的派单范围内。"), field=field)


def person_refused(field: str) -> DomainError:
    """A person who does not exist or holds no post in the chosen lead unit: one answer, no name."""
    return DomainError(_("所选人员不存在，或不在所选主办单位任职。"), field=field)


def _dispatch(case: Case, *, lead_unit: OrgUnit | None, lead_person: User | None,
              assist_units: tuple[OrgUnit, ...], now: datetime.datetime) -> None:
    if lead_unit is None:
        raise DomainError(_("请选择主办单位。"), field="lead_unit")
    units = [lead_unit, *assist_units]
    if len({u.pk for u in units}) != len(units):
        raise DomainError(_("主办单位和协办单位不能重复。"), field="assist_units")
    for unit in units:
        # The holder dispatches within its own area: its departments, villages and grids.
        if not unit.path.startswith(case.holder.path) or not unit.is_active:
            raise unit_refused("lead_unit" if unit is lead_unit else "assist_units")
    if lead_person is not None and not Membership.objects.staff().filter(user=lead_person, unit=lead_unit).exists():
        raise person_refused("lead_person")
    case.assignments.filter(is_active=True).update(is_active=False)
    Assignment.objects.create(case=case, unit=lead_unit, person=lead_person, role=Assignment.Role.LEAD)
    for unit in assist_units:
        Assignment.objects.create(case=case, unit=unit, role=Assignment.Role.ASSIST)
    # The limit follows the level that does the work: handed down to a village (or a grid), the case gets that
    # level's limit from now (a village's 5 working days, not the township's 10), but never later than the
    # limit it had, which the resident was told when it was accepted.
    if LEVEL_ORDER.index(Level(lead_unit.level)) > LEVEL_ORDER.index(Level(case.holder.level)):
        level_due = deadlines.handle_due(case.category, lead_unit.level, start=now)
        case.handle_due = min(case.handle_due, level_due) if case.handle_due else level_due


def _escalate(case: Case, *, now: datetime.datetime) -> None:
    index = LEVEL_ORDER.index(Level(case.holder.level))
    if index == 0:
        raise DomainError(_("市级指挥中心已是最高层级，不能再上报。"), code="top_level")
    case.holder = _area_ancestor(case.holder, LEVEL_ORDER[index - 1])
    case.assignments.filter(is_active=True).update(is_active=False)
    case.respond_due = deadlines.respond_due(case.category, case.holder.level, start=now)
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
