"""The case workflow as data: which action moves a case from which states to which, and who may take it.

`services.take_action` is how a person takes an action (every portal and the API; the API's action names
are `PERSON_ACTIONS`); `services.transition` is the only code that changes `Case.status`: it looks the action
up here, checks the actor's capacity (`policies.capacities`), and writes exactly one `CaseLog` row. Actions
whose `to` is None record something on the case (a reminder, a supervision order, a follow-up) without
moving it. A new action is a member of `Action` and a row of `TRANSITIONS`; it needs code elsewhere only
for side effects (`services.transition._apply`) or input beyond a note (a staff form, an API field).
Two kinds of log row have an action but no row here: the report itself (`services.submit_case`) and the
records of a dispute (`DISPUTE_ACTIONS`, written by `services.disputes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Status(models.TextChoices):
    REPORTED = "reported", _("已上报")
    ACCEPTED = "accepted", _("已受理")
    REJECTED = "rejected", _("不予受理")
    DISPATCHED = "dispatched", _("已派单")
    IN_PROGRESS = "in_progress", _("正在办理")
    HANDLED = "handled", _("已办结")
    CONFIRMED = "confirmed", _("已回访")
    CLOSED = "closed", _("已完成")
    RATED = "rated", _("已评价")
    RETURNED = "returned", _("已退回")
    ESCALATED = "escalated", _("已上报上级")
    DEFERRED = "deferred", _("已挂账")
    REOPENED = "reopened", _("重新办理")


# Cases in these states count as open: they are swept for time limits and shown on work lists.
OPEN_STATES = frozenset({
    Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED,
    Status.ESCALATED, Status.REOPENED, Status.HANDLED,
})
FINAL_STATES = frozenset({Status.REJECTED, Status.CLOSED, Status.RATED})
# A 督办 order is fulfilled when its case first reaches one of these (services.transition stamps it).
SUPERVISION_DONE = frozenset({Status.HANDLED, Status.CONFIRMED, Status.CLOSED, Status.RATED, Status.REJECTED})


class Capacity(models.TextChoices):
    """In what capacity someone acts on a case; `policies.capacities(user, case)` says which they hold."""

    DISPATCHER = "dispatcher", _("承办层级的指挥中心")
    ASSIGNEE = "assignee", _("承办单位")
    GRID_STAFF = "grid_staff", _("所在网格的网格力量")
    REPORTER = "reporter", _("反映人")
    SUPERVISOR = "supervisor", _("上级督查")
    SYSTEM = "system", _("系统")


class Action(models.TextChoices):
    REPORT = "report", _("上报")
    ACCEPT = "accept", _("受理")
    REJECT = "reject", _("不予受理")
    RESOLVE_ON_SPOT = "resolve_on_spot", _("现场答复办结")
    DISPATCH = "dispatch", _("派单")
    SIGN = "sign", _("签收")
    RETURN = "return", _("退回")
    COMPLETE = "complete", _("办结")
    DEFER = "defer", _("挂账")
    RESUME = "resume", _("恢复办理")
    ESCALATE = "escalate", _("上报上级")
    CONFIRM = "confirm", _("回访确认")
    VISIT_FAILED = "visit_failed", _("回访未通过")
    CLOSE = "close", _("结案")
    RATE = "rate", _("评价")
    RATE_UNSATISFIED = "rate_unsatisfied", _("不满意评价")
    MERGE = "merge", _("合并")
    REMIND = "remind", _("催办")
    MARK_OVERDUE = "mark_overdue", _("超期")
    SUPERVISE = "supervise", _("督办")
    FOLLOW_UP = "follow_up", _("追问")
    REPLY = "reply", _("答复")
    # 延期: the handling unit asks for a later handling limit; the command centre holding the case (or the
    # level above) approves, which moves the limit, or refuses (see `cases.services.transition`).
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    APPROVE_EXTENSION = "approve_extension", _("批准延期")
    REFUSE_EXTENSION = "refuse_extension", _("驳回延期")
    ANONYMISE = "anonymise", _("删除个人信息")
    # A dispute's records (DISPUTE_ACTIONS below).
    ADD_PARTY = "add_party", _("登记当事人")
    EDIT_PARTY = "edit_party", _("修改当事人")
    REMOVE_PARTY = "remove_party", _("删除当事人")
    RECORD_MEDIATION = "record_mediation", _("登记调解")
    ATTACH_AGREEMENT = "attach_agreement", _("上传调解协议书")
    REPLACE_AGREEMENT = "replace_agreement", _("更换调解协议书")
    RECORD_PERFORMANCE = "record_performance", _("协议履行回访")
    ARCHIVE = "archive", _("归档")


def action_choices() -> Sequence[tuple[str, StrOrPromise]]:
    """`CaseLog.action`'s choices, read when needed (so adding an action needs no migration)."""
    return Action.choices


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    to: str | None
    capacities: frozenset[str]
    note_required: bool = False
    # Shown on the resident's timeline; internal steps (returns, reminders) are not.
    public: bool = True
    # What a refusal for a missing note says, when "请填写说明。" says too little (the note is a reason).
    note_prompt: StrOrPromise | None = None


def _t(action: str, sources: Iterable[str], to: str | None, capacities: Iterable[str], *,
       note: bool | StrOrPromise = False, public: bool = True) -> Transition:
    """One row; `note` is True for a required note, or the message that asks for it."""
    prompt = None if isinstance(note, bool) else note
    return Transition(action, frozenset(sources), to, frozenset(capacities), bool(note), public, prompt)


S, C = Status, Capacity
_WORKING = {S.REPORTED, S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS, S.REOPENED}

TRANSITIONS: tuple[Transition, ...] = (
    _t(Action.ACCEPT, {S.REPORTED, S.ESCALATED}, S.ACCEPTED, {C.DISPATCHER}),
    _t(Action.REJECT, {S.REPORTED, S.ESCALATED, S.RETURNED}, S.REJECTED, {C.DISPATCHER}, note=True),
    _t(Action.RESOLVE_ON_SPOT, {S.REPORTED}, S.HANDLED, {C.GRID_STAFF}, note=True),
    _t(Action.DISPATCH, {S.ACCEPTED, S.RETURNED, S.REOPENED}, S.DISPATCHED, {C.DISPATCHER}),
    _t(Action.SIGN, {S.DISPATCHED}, S.IN_PROGRESS, {C.ASSIGNEE}),
    _t(Action.RETURN, {S.DISPATCHED, S.IN_PROGRESS}, S.RETURNED, {C.ASSIGNEE}, note=True, public=False),
    _t(Action.COMPLETE, {S.IN_PROGRESS}, S.HANDLED, {C.ASSIGNEE}, note=True),
    _t(Action.DEFER, {S.IN_PROGRESS}, S.DEFERRED, {C.DISPATCHER}, note=True),
    _t(Action.RESUME, {S.DEFERRED}, S.IN_PROGRESS, {C.DISPATCHER, C.ASSIGNEE}),
    _t(Action.ESCALATE, _WORKING, S.ESCALATED, {C.DISPATCHER, C.ASSIGNEE, C.SYSTEM}, note=True),
    _t(Action.CONFIRM, {S.HANDLED}, S.CONFIRMED, {C.GRID_STAFF, C.DISPATCHER}, note=True),
    _t(Action.VISIT_FAILED, {S.HANDLED}, S.REOPENED, {C.GRID_STAFF, C.DISPATCHER}, note=True),
    _t(Action.CLOSE, {S.CONFIRMED}, S.CLOSED, {C.DISPATCHER}),
    # Every follower (the reporter, and those of merged duplicates) may rate; one rating each per round.
    _t(Action.RATE, {S.CLOSED, S.RATED}, S.RATED, {C.REPORTER}),
    _t(Action.RATE_UNSATISFIED, {S.HANDLED, S.CONFIRMED, S.CLOSED}, S.REOPENED, {C.REPORTER}, note=True),
    _t(Action.MERGE, _WORKING | {S.ESCALATED}, S.CLOSED, {C.DISPATCHER}, note=True),
    _t(Action.REMIND, _WORKING | {S.ESCALATED, S.HANDLED}, None, {C.SYSTEM, C.DISPATCHER, C.SUPERVISOR},
       public=False),
    _t(Action.MARK_OVERDUE, _WORKING | {S.ESCALATED}, None, {C.SYSTEM}, public=False),
    _t(Action.SUPERVISE, _WORKING | {S.ESCALATED, S.DEFERRED}, None, {C.SUPERVISOR}, note=True, public=False),
    _t(Action.FOLLOW_UP, _WORKING | {S.ESCALATED, S.DEFERRED, S.HANDLED, S.CONFIRMED}, None, {C.REPORTER},
       note=True),
    _t(Action.REPLY, _WORKING | {S.ESCALATED, S.DEFERRED, S.HANDLED, S.CONFIRMED}, None,
       {C.DISPATCHER, C.ASSIGNEE}, note=True),
    # 延期 while the lead unit works on the case: one request at a time, with a reason and a date (input
    # `extend_to`); decided by the holding command centre or the level above it, never by the unit that
    # asked (`policies.extension_refusal`). The request and a refusal are internal; an approval is public,
    # and residents see the new limit, not the reasons (`selectors.public_timeline`). A request still
    # waiting when the case leaves 正在办理 lapses (`models.ExtensionRequest`).
    _t(Action.REQUEST_EXTENSION, {S.IN_PROGRESS}, None, {C.ASSIGNEE}, note=_("请填写申请延期的理由。"),
       public=False),
    _t(Action.APPROVE_EXTENSION, {S.IN_PROGRESS}, None, {C.DISPATCHER, C.SUPERVISOR}),
    _t(Action.REFUSE_EXTENSION, {S.IN_PROGRESS}, None, {C.DISPATCHER, C.SUPERVISOR}, note=_("请填写驳回的理由。"),
       public=False),
    # The retention period after closing has passed: the residents' personal data is removed
    # (services.anonymise_closed_cases); the status, and so every statistic, stays.
    _t(Action.ANONYMISE, FINAL_STATES, None, {C.SYSTEM}, public=False),
    # 归档: a finished case rated, or closed longer than the rating window, leaves the work lists (the sweep
    # sets `Case.archived_at`, cases.sweep); its status, page and statistics stay.
    _t(Action.ARCHIVE, FINAL_STATES, None, {C.SYSTEM}, public=False),
)
_BY_ACTION = {t.action: t for t in TRANSITIONS}


def transition_for(action: str) -> Transition | None:
    return _BY_ACTION.get(action)


def actions_available(status: str, capacities: set[str]) -> list[Transition]:
    """The actions someone with these capacities may take on a case in this status (for buttons)."""
    return [t for t in TRANSITIONS if status in t.sources and t.capacities & capacities]


# The records of a dispute (parties, mediation sessions, agreements, performance follow-ups): each change writes one
# CaseLog row under its own action, never public, status unchanged. They are not rows of TRANSITIONS, since they
# are not steps of the case: each has its own service and input (`services.disputes`, which checks who may,
# `policies.DISPUTE_RECORDERS`, and in which states), so take_action, the case page's action forms and the API's
# action list do not offer them.
DISPUTE_ACTIONS = frozenset({
    Action.ADD_PARTY, Action.EDIT_PARTY, Action.REMOVE_PARTY, Action.RECORD_MEDIATION, Action.ATTACH_AGREEMENT,
    Action.REPLACE_AGREEMENT, Action.RECORD_PERFORMANCE,
})

# The actions a person may take (every one a capacity other than the sweep's allows): `services.take_action`
# takes them, and the API's action names are these.
PERSON_ACTIONS: tuple[str, ...] = tuple(t.action for t in TRANSITIONS if t.capacities - {Capacity.SYSTEM})


class Flag(models.TextChoices):
    """How a case stands against its limits on a work list (`selectors.with_flags` annotates it; see
    `deadlines`)."""

    RED = "red", _("已超期")
    YELLOW = "yellow", _("即将到期")
    GREEN = "green", _("正常")


# The flag of a case that runs against no limit (deferred, finished).
NO_FLAG = ""
