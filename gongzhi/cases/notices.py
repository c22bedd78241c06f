"""Who hears of which step of a case. `services.transition` calls `announce` after it writes the log row.

Residents (the reporter and every follower, including the reporters of duplicates merged into the case)
hear of acceptance, rejection (with the reason), dispatch, completion and closing (both asking them to
rate), and of answers to follow-up questions; the reporters of a case merged into another hear where it
went. Staff hear of work: the lead unit of a new task or a follow-up question, the holding command centre
of an escalation to it, a return, a reopening; a sweep reminder reaches the lead unit, else the holder.

Every notification carries the dedupe key "case:<id>:<log seq>:<audience>", so announcing the same log row
twice (a retried task, a doubled call) notifies nobody twice. Only acceptance, rejection and completion go
out by SMS as well (each text costs money); everything reaches the inbox.

This module must not import `cases.services` at module level: services imports it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.cases import policies
from gongzhi.cases.models import Case, CaseLog
from gongzhi.cases.selectors import lead_unit
from gongzhi.cases.workflow import Action, Capacity
from gongzhi.notifications import services as notifications

# notify() refuses longer bodies; notes may be up to 2000 characters themselves.
_BODY_MAX = 2000
_SMS = ("sms",)


def resident_link(case: Case) -> str:
    """The resident portal's page of a case (for reporters and followers)."""
    return f"/cases/{case.pk}/"


def staff_link(case: Case) -> str:
    """The command centre's page of a case (for handlers and dispatchers)."""
    return f"/command/cases/{case.pk}/"


def dedupe_key(case: Case, log: CaseLog, audience: str) -> str:
    return f"case:{case.pk}:{log.seq}:{audience}"


def residents_of(case: Case) -> list[User]:
    """The reporter and the followers of a case (anonymous or not: it is their own case)."""
    return policies.users_with_capacity(case, Capacity.REPORTER)


def assignees_of(case: Case) -> list[User]:
    """The staff of the unit leading the work on the case (none before it is dispatched)."""
    return policies.users_with_capacity(case, Capacity.ASSIGNEE)


def dispatchers_of(case: Case) -> list[User]:
    """The command centre of the level holding the case: its dispatchers."""
    return policies.users_with_capacity(case, Capacity.DISPATCHER)


def handlers_of(case: Case) -> list[User]:
    """Whoever works on the case now: the lead unit's staff once it is dispatched, else the holding level's
    dispatchers."""
    return assignees_of(case) if lead_unit(case) is not None else dispatchers_of(case)


def _when(value: str | None) -> str:
    """A deadline from a log row's snapshot, in local time."""
    if not value:
        return ""
    return f"{timezone.localtime(datetime.datetime.fromisoformat(value)):%Y-%m-%d %H:%M}"


def _send(*, recipients: Iterable[User], case: Case, log: CaseLog, audience: str, kind: str, title: str,
          body: str, sms: bool = False, link_to: Case | None = None) -> None:
    people = [user for user in recipients if user.pk != log.actor_id]
    if not people:
        return
    if len(body) > _BODY_MAX:
        body = body[:_BODY_MAX - 1] + "…"
    key = dedupe_key(case, log, audience)
    target = link_to or case
    if audience == "resident":
        # A staff member who reported something still gets a link they can open in their own portal.
        groups = {resident_link(target): [u for u in people if u.kind == User.Kind.RESIDENT],
                  staff_link(target): [u for u in people if u.kind != User.Kind.RESIDENT]}
    else:
        groups = {staff_link(target): people}
    for link, users in groups.items():
        if users:
            notifications.notify(recipients=users, kind=kind, title=title, body=body, link=link,
                                 dedupe_key=key, channels=_SMS if sms else ())


def announce(*, case: Case, log: CaseLog) -> None:
    """Tell the people concerned about the step `log` records. Idempotent per log row."""
    with translation.override(settings.LANGUAGE_CODE):
        _announce(case, log)


def _announce(case: Case, log: CaseLog) -> None:
    action = log.action
    number = case.number
    note = log.note.strip()

    def to_residents(kind: str, title: str, body: str, *, sms: bool = False) -> None:
        _send(recipients=residents_of(case), case=case, log=log, audience="resident", kind=kind,
              title=title, body=body, sms=sms)

    def to_staff(recipients: Iterable[User], kind: str, title: str, body: str) -> None:
        _send(recipients=recipients, case=case, log=log, audience="staff", kind=kind, title=title, body=body)

    if action == Action.ACCEPT:
        due = _when(log.deadlines.get("handle_due"))
        body = (_("您反映的事件（编号%(number)s）已受理，将在%(due)s前办理。") % {"number": number, "due": due}
                if due else _("您反映的事件（编号%(number)s）已受理。") % {"number": number})
        to_residents("case.accepted", _("您反映的事件已受理"), body, sms=True)
    elif action == Action.REJECT:
        to_residents("case.rejected", _("您反映的事件不予受理"),
                     _("编号%(number)s，原因：%(reason)s") % {"number": number, "reason": note}, sms=True)
    elif action == Action.DISPATCH:
        unit = lead_unit(case)
        unit_name = unit.name if unit is not None else ""
        to_residents("case.dispatched", _("您反映的事件已派单办理"),
                     _("编号%(number)s，已交由%(unit)s办理。") % {"number": number, "unit": unit_name})
        if unit is not None:
            due = _when(log.deadlines.get("handle_due"))
            to_staff(assignees_of(case), "case.task", _("新的办理任务"),
                     _("事件%(number)s（%(category)s）已派给本单位主办，办理期限：%(due)s。") % {
                         "number": number, "category": case.category.name, "due": due or _("未设定")})
    elif action in {Action.COMPLETE, Action.RESOLVE_ON_SPOT}:
        to_residents("case.completed", _("您反映的事件已办结，请评价"),
                     _("编号%(number)s已办结，请对办理结果进行评价。") % {"number": number}, sms=True)
    elif action == Action.CLOSE:
        to_residents("case.closed", _("您反映的事件已结案，请评价"),
                     _("编号%(number)s已结案，请对办理结果进行评价。") % {"number": number})
    elif action == Action.REPLY:
        to_residents("case.reply", _("您的追问有了答复"),
                     _("编号%(number)s：%(answer)s") % {"number": number, "answer": note})
    elif action == Action.MERGE and case.merged_into_id is not None:
        # The link leads to the case that is worked on now, which the reporters follow from here on.
        parent = Case.objects.get(pk=case.merged_into_id)
        _send(recipients=residents_of(case), case=case, log=log, audience="resident", kind="case.merged",
              title=_("您反映的事件已并入同类事件办理"),
              body=_("编号%(number)s与编号%(parent)s反映的是同一问题，已合并办理，办结后请您评价。") % {
                  "number": number, "parent": parent.number}, link_to=parent)
    elif action == Action.FOLLOW_UP:
        to_staff(handlers_of(case), "case.follow_up", _("群众追问"),
                 _("事件%(number)s：%(question)s") % {"number": number, "question": note})
    elif action == Action.ESCALATE:
        to_staff(dispatchers_of(case), "case.escalated", _("下级上报的事件待受理"),
                 _("事件%(number)s已上报到本级：%(reason)s") % {"number": number, "reason": note})
    elif action == Action.RETURN:
        to_staff(dispatchers_of(case), "case.returned", _("事件被退回"),
                 _("事件%(number)s被承办单位退回：%(reason)s") % {"number": number, "reason": note})
    elif action in {Action.VISIT_FAILED, Action.RATE_UNSATISFIED}:
        to_staff(dispatchers_of(case), "case.reopened", _("事件重新办理"),
                 _("事件%(number)s回访未通过或群众不满意，需要重新派单：%(reason)s") % {
                     "number": number, "reason": note})
    elif action == Action.REMIND:
        recipients = handlers_of(case)
        due = _when(log.deadlines.get("handle_due") or log.deadlines.get("respond_due"))
        body = (_("事件%(number)s将于%(due)s到期，请抓紧办理。") % {"number": number, "due": due}
                if due else _("事件%(number)s请抓紧办理。") % {"number": number})
        if note:
            body = f"{body}{note}"
        to_staff(recipients, "case.reminder", _("办理时限提醒"), body)

