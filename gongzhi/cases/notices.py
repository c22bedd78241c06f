"""Who hears of which step of a case: the case workflow's notice types, registered with the notifications
app (`notifications.types`). `services.transition` calls `announce` after it writes a log row; the sweep and
督办 send their own types with `send`.

Each type says on which workflow actions it is sent, to whom (its audience) and with what words:

- the residents (`REPORTER`: the reporter and every follower, including the reporters of duplicates merged
  into the case) hear of acceptance, rejection (with the reason), dispatch, completion and closing (both
  asking them to rate), and of answers to their questions; the reporters of a case merged into another
  hear where it went, and the message opens that case;
- the lead unit (`ASSIGNEE`) hears of a new task; whoever works on the case now (`HANDLERS`: the lead unit,
  else the holding command centre) hears of a question, a reminder or a 督办 order;
- the holding command centre (`DISPATCHER`) hears of an escalation to it, a return, a reopening, and of a
  request for more time (申请延期), which it decides; the lead unit hears of the decision, and the residents
  of the new limit when it is approved (not of the reasons, which are internal).

Every notification carries the dedupe key "case:<id>:<log seq>:<kind>", so announcing the same log row
twice (a retried task, a doubled call) notifies nobody twice. Only acceptance, rejection and completion go
out by SMS as well (each text costs money); everything reaches the inbox. Messages open the case (a
"case" target), each portal showing its own page of it.

This module must not import `cases.services` at module level: services imports it.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import User
from gongzhi.cases import policies
from gongzhi.cases.models import Assignment, Case, CaseLog
from gongzhi.cases.selectors import lead_unit
from gongzhi.cases.workflow import Action, Capacity
from gongzhi.notifications import services as notifications
from gongzhi.notifications import types

# notify() refuses longer bodies; notes may be up to 2000 characters themselves.
_BODY_MAX = 2000
# Whoever works on the case now: the lead unit's staff, else the holding level's dispatchers.
HANDLERS = "handlers"
# The issuer of a 督办 order and the staff of the issuing unit.
ISSUER = "issuer"


def residents_of(case: Case) -> list[User]:
    """The reporter and the followers of a case (anonymous or not: it is their own case)."""
    return policies.users_with_capacity(case, Capacity.REPORTER)


def assignees_of(case: Case) -> list[User]:
    """The staff of the unit leading the work on the case (none before it is dispatched); only the person
    named in the dispatch (派单到人) while they still hold a post there."""
    staff = policies.users_with_capacity(case, Capacity.ASSIGNEE)
    person_id = (case.assignments.filter(is_active=True, role=Assignment.Role.LEAD)
                 .values_list("person_id", flat=True).first())
    named = [user for user in staff if user.pk == person_id]
    return named or staff


def dispatchers_of(case: Case) -> list[User]:
    """The command centre of the level holding the case: its dispatchers."""
    return policies.users_with_capacity(case, Capacity.DISPATCHER)


def handlers_of(case: Case) -> list[User]:
    """Whoever works on the case now: the lead unit's staff once it is dispatched, else the holding level's
    dispatchers."""
    return assignees_of(case) if lead_unit(case) is not None else dispatchers_of(case)


AUDIENCES: dict[str, Callable[[Case], list[User]]] = {
    Capacity.REPORTER: residents_of,
    Capacity.ASSIGNEE: assignees_of,
    Capacity.DISPATCHER: dispatchers_of,
    HANDLERS: handlers_of,
}


def _when(value: str | None) -> str:
    """A deadline from a log row's snapshot, in local time."""
    if not value:
        return ""
    return f"{timezone.localtime(datetime.datetime.fromisoformat(value)):%Y-%m-%d %H:%M}"


@dataclasses.dataclass(frozen=True)
class CaseNotice(types.NoticeType):
    """A notice about one case; it opens the case, or what `target_of` names (a merged case: the one it went
    into)."""

    target: str = "case"
    target_of: Callable[[Case], int | None] = dataclasses.field(default=lambda case: case.pk, compare=False)


def _accepted(case: Case, log: CaseLog) -> tuple[str, str]:
    due = _when(log.deadlines.get("handle_due"))
    body = (_("您反映的事件（编号%(number)s）已受理，将在%(due)s前办理。") % {"number": case.number, "due": due}
            if due else _("您反映的事件（编号%(number)s）已受理。") % {"number": case.number})
    return _("您反映的事件已受理"), body


def _dispatched(case: Case, log: CaseLog) -> tuple[str, str]:
    unit = lead_unit(case)
    return _("您反映的事件已派单办理"), _("编号%(number)s，已交由%(unit)s办理。") % {
        "number": case.number, "unit": unit.name if unit is not None else ""}


def _task(case: Case, log: CaseLog) -> tuple[str, str]:
    due = _when(log.deadlines.get("handle_due"))
    return _("新的办理任务"), _("事件%(number)s（%(category)s）已派给本单位主办，办理期限：%(due)s。") % {
        "number": case.number, "category": case.category.name, "due": due or _("未设定")}


def _merged(case: Case, log: CaseLog) -> tuple[str, str]:
    parent = case.merged_into
    assert parent is not None  # only sent for a case merged into another
    return _("您反映的事件已并入同类事件办理"), _(
        "编号%(number)s与编号%(parent)s反映的是同一问题，已合并办理，办结后请您评价。") % {
        "number": case.number, "parent": parent.number}


def _reminder(case: Case, log: CaseLog) -> tuple[str, str]:
    due = _when(log.deadlines.get("handle_due") or log.deadlines.get("respond_due"))
    body = (_("事件%(number)s将于%(due)s到期，请抓紧办理。") % {"number": case.number, "due": due}
            if due else _("事件%(number)s请抓紧办理。") % {"number": case.number})
    return _("办理时限提醒"), f"{body}{log.note.strip()}"


def _extension_requested(case: Case, log: CaseLog) -> tuple[str, str]:
    request = log.extension_request  # kept by transition before it announces the step
    return _("延期申请待审批"), _("事件%(number)s的承办单位%(unit)s申请延期至%(due)s，理由：%(reason)s") % {
        "number": case.number, "unit": request.requesting_unit.name,
        "due": f"{timezone.localtime(request.proposed_due):%Y-%m-%d %H:%M}", "reason": log.note.strip()}


def _extension_decided(case: Case, log: CaseLog) -> tuple[str, str]:
    due = _when(log.deadlines.get("handle_due"))
    if log.action == Action.APPROVE_EXTENSION:
        title = _("延期申请已批准")
        body = _("事件%(number)s的延期申请已批准，办理期限延至%(due)s。") % {"number": case.number, "due": due}
    else:
        title = _("延期申请已驳回")
        body = _("事件%(number)s的延期申请已驳回，办理期限仍为%(due)s。") % {"number": case.number, "due": due}
    note = log.note.strip()
    if note:  # one sentence to translate, so a language that needs a space between them gets one
        body = _("%(decision)s审批意见：%(note)s") % {"decision": body, "note": note}
    return title, body


def _extended(case: Case, log: CaseLog) -> tuple[str, str]:
    return _("您反映的事件办理期限已延长"), _("编号%(number)s的办理期限已延长至%(due)s。") % {
        "number": case.number, "due": _when(log.deadlines.get("handle_due"))}


def _text(title: Promise, template: Promise, field: str = "note") -> Callable[[Case, CaseLog], tuple[str, str]]:
    """A notice whose text is one template with the case number and the log row's note (both lazy, so they
    are translated when sent)."""
    def build(case: Case, log: CaseLog) -> tuple[str, str]:
        return str(title), str(template) % {"number": case.number, field: log.note.strip()}

    return build


R, A, D = Capacity.REPORTER, Capacity.ASSIGNEE, Capacity.DISPATCHER
NOTICES: tuple[CaseNotice, ...] = (
    CaseNotice("case.accepted", gettext_lazy("事件已受理"), audience=R, sms=True, build=_accepted,
               on=frozenset({Action.ACCEPT})),
    CaseNotice("case.rejected", gettext_lazy("事件不予受理"), audience=R, sms=True,
               build=_text(gettext_lazy("您反映的事件不予受理"),
                           gettext_lazy("编号%(number)s，原因：%(reason)s"), "reason"),
               on=frozenset({Action.REJECT})),
    CaseNotice("case.dispatched", gettext_lazy("事件已派单"), audience=R, build=_dispatched,
               on=frozenset({Action.DISPATCH})),
    CaseNotice("case.task", gettext_lazy("新的办理任务"), audience=A, build=_task,
               on=frozenset({Action.DISPATCH})),
    CaseNotice("case.completed", gettext_lazy("事件已办结"), audience=R, sms=True,
               build=_text(gettext_lazy("您反映的事件已办结，请评价"),
                           gettext_lazy("编号%(number)s已办结，请对办理结果进行评价。")),
               on=frozenset({Action.COMPLETE, Action.RESOLVE_ON_SPOT})),
    CaseNotice("case.closed", gettext_lazy("事件已结案"), audience=R,
               build=_text(gettext_lazy("您反映的事件已结案，请评价"),
                           gettext_lazy("编号%(number)s已结案，请对办理结果进行评价。")),
               on=frozenset({Action.CLOSE})),
    CaseNotice("case.reply", gettext_lazy("追问的答复"), audience=R,
               build=_text(gettext_lazy("您的追问有了答复"), gettext_lazy("编号%(number)s：%(answer)s"), "answer"),
               on=frozenset({Action.REPLY})),
    CaseNotice("case.merged", gettext_lazy("事件已合并"), audience=R, build=_merged, on=frozenset({Action.MERGE}),
               target_of=lambda case: case.merged_into_id),
    CaseNotice("case.follow_up", gettext_lazy("群众追问"), audience=HANDLERS,
               build=_text(gettext_lazy("群众追问"), gettext_lazy("事件%(number)s：%(question)s"), "question"),
               on=frozenset({Action.FOLLOW_UP})),
    CaseNotice("case.escalated", gettext_lazy("下级上报的事件"), audience=D,
               build=_text(gettext_lazy("下级上报的事件待受理"),
                           gettext_lazy("事件%(number)s已上报到本级：%(reason)s"), "reason"),
               on=frozenset({Action.ESCALATE})),
    CaseNotice("case.returned", gettext_lazy("事件被退回"), audience=D,
               build=_text(gettext_lazy("事件被退回"),
                           gettext_lazy("事件%(number)s被承办单位退回：%(reason)s"), "reason"),
               on=frozenset({Action.RETURN})),
    CaseNotice("case.reopened", gettext_lazy("事件重新办理"), audience=D,
               build=_text(gettext_lazy("事件重新办理"),
                           gettext_lazy("事件%(number)s回访未通过或群众不满意，需要重新派单：%(reason)s"), "reason"),
               on=frozenset({Action.VISIT_FAILED, Action.RATE_UNSATISFIED})),
    CaseNotice("case.reminder", gettext_lazy("办理时限提醒"), audience=HANDLERS, build=_reminder,
               on=frozenset({Action.REMIND})),
    CaseNotice("case.extension_requested", gettext_lazy("延期申请待审批"), audience=D, build=_extension_requested,
               on=frozenset({Action.REQUEST_EXTENSION})),
    CaseNotice("case.extension_decided", gettext_lazy("延期申请的审批结果"), audience=A, build=_extension_decided,
               on=frozenset({Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION})),
    CaseNotice("case.extended", gettext_lazy("办理期限已延长"), audience=R, build=_extended,
               on=frozenset({Action.APPROVE_EXTENSION})),
    # Sent by 督办 and by the sweep themselves (they need the order or a whole run), not by a log row.
    CaseNotice("case.supervised", gettext_lazy("事件被督办"), audience=HANDLERS),
    CaseNotice("case.supervision_overdue", gettext_lazy("督办事件已超期"), audience=ISSUER),
    CaseNotice("case.limits_due", gettext_lazy("事件办理时限提醒"), target="cases.due", audience=HANDLERS),
)
types.register(*NOTICES)


def send(*, notice: str, recipients: Iterable[User], title: str, body: str, dedupe_key: str,
         target_id: int | None = None, actor_id: int | None = None) -> None:
    """Notify `recipients` (the actor excepted) with one of the types above; the body is cut to fit."""
    kind = types.get(notice)
    assert kind is not None and kind in NOTICES, notice
    people = [user for user in recipients if user.pk != actor_id]
    if not people:
        return
    if len(body) > _BODY_MAX:
        body = body[:_BODY_MAX - 1] + "…"
    notifications.notify(recipients=people, kind=kind.kind, title=title, body=body, target_id=target_id,
                         dedupe_key=dedupe_key, channels=("sms",) if kind.sms else ())


def announce(*, case: Case, log: CaseLog) -> None:
    """Tell the people concerned about the step `log` records. Idempotent per log row."""
    with translation.override(settings.LANGUAGE_CODE):
        for notice in NOTICES:
            if log.action not in notice.on:
                continue
            target_id = notice.target_of(case)
            if target_id is None:
                continue
            assert notice.build is not None
            title, body = notice.build(case, log)
            send(notice=notice.kind, recipients=AUDIENCES[notice.audience](case), title=title, body=body,
                 dedupe_key=f"case:{case.pk}:{log.seq}:{notice.kind}", target_id=target_id,
                 actor_id=log.actor_id)
