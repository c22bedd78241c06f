"""The analytics app's notice types, registered with the notifications app (`notifications.types`) when the app
is ready: the steps of a task (任务清单) and new risk warnings (风险预警).

A new risk warning goes to those who answer for it (`RESPONSIBLE`: the command-centre staff of the nearest
level at or above the warning's unit that has any — for a grid's hotspot, its township's dispatchers and
supervisors), once per warning ("warning:<id>:raised"); it opens 风险预警. An unvisited key person is told to
the person's responsible worker (else the grid's grid workers) instead, once per warning, and opens the
person's record; the command centres see it on 风险预警.

Every task message opens the task (a "task" target; each portal shows its own page of it, `web.targets`).

- the owner unit (`OWNER`: the person named responsible while they still hold a post there, else the unit's
  staff) hears of a new task, of the issuer's decisions (confirmed, sent back, cancelled, a new deadline) and of
  the sweep's reminders (coming due, overdue);
- the issuing unit (`ISSUER`: the command-centre staff of the issuing unit) hears that a task was submitted as
  done and waits for its confirmation.

Each notification carries the dedupe key "task:<id>:<log id>:<kind>", so announcing a log row twice notifies
nobody twice; the sweep's rows are themselves unique per task × deadline.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import COMMAND_ROLES, Membership, Role, User
from gongzhi.analytics.models import Task, TaskAction, TaskLog, Warning, WarningKind
from gongzhi.notifications import services as notifications
from gongzhi.notifications import types
from gongzhi.org.models import DepartmentType
from gongzhi.registry import policies as registry_policies
from gongzhi.registry.models import KeyPerson, RiskLevel

OWNER = "task_owner"
ISSUER = "task_issuer"
_BODY_MAX = 2000


def owners_of(task: Task) -> list[User]:
    """The person named responsible while they hold a staff post in the owner unit, else the unit's staff."""
    posts = Membership.objects.staff().filter(unit_id=task.owner_unit_id).select_related("user")
    staff = list({post.user.pk: post.user for post in posts}.values())
    named = [user for user in staff if user.pk == task.owner_person_id]
    return named or staff


def issuers_of(task: Task) -> list[User]:
    """The command-centre staff of the issuing unit (or of its 综治中心 department)."""
    posts = (Membership.objects.active().filter(role__in=COMMAND_ROLES)
             .filter(Q(unit_id=task.issuing_unit_id)
                     | Q(unit__parent_id=task.issuing_unit_id, unit__department_type=DepartmentType.COMMAND_CENTRE))
             .select_related("user"))
    return list({post.user.pk: post.user for post in posts}.values())


AUDIENCES: dict[str, Callable[[Task], list[User]]] = {OWNER: owners_of, ISSUER: issuers_of}


def _text(title: Promise, template: Promise) -> Callable[[Task, TaskLog], tuple[str, str]]:
    def build(task: Task, log: TaskLog) -> tuple[str, str]:
        values = {"title": task.title, "deadline": f"{task.deadline:%Y-%m-%d}", "note": log.note.strip()}
        return str(title), str(template) % values

    return build


NOTICES: tuple[tuple[types.NoticeType, frozenset[str]], ...] = tuple(
    (types.NoticeType(kind, label, target="task", audience=audience, build=build), frozenset(on))
    for kind, label, audience, build, on in (
        ("task.assigned", _("新的任务"), OWNER,
         _text(_("新的任务"), _("%(title)s，完成时限%(deadline)s。")), {TaskAction.CREATE, TaskAction.ASSIGN}),
        ("task.submitted", _("任务待确认"), ISSUER,
         _text(_("任务已提交完成，请确认"), _("%(title)s：%(note)s")), {TaskAction.SUBMIT}),
        ("task.confirmed", _("任务已确认完成"), OWNER,
         _text(_("任务已确认完成"), _("%(title)s已确认完成。")), {TaskAction.CONFIRM}),
        ("task.sent_back", _("任务被退回"), OWNER,
         _text(_("任务被退回"), _("%(title)s被退回：%(note)s")), {TaskAction.SEND_BACK}),
        ("task.cancelled", _("任务已撤销"), OWNER,
         _text(_("任务已撤销"), _("%(title)s已撤销：%(note)s")), {TaskAction.CANCEL}),
        ("task.extended", _("任务时限已延长"), OWNER,
         _text(_("任务时限已延长"), _("%(title)s的完成时限延长至%(deadline)s：%(note)s")), {TaskAction.EXTEND}),
        ("task.due_soon", _("任务即将到期"), OWNER,
         _text(_("任务即将到期"), _("%(title)s将于%(deadline)s到期，请抓紧办理。")), {TaskAction.DUE_SOON}),
        ("task.overdue", _("任务已超期"), OWNER,
         _text(_("任务已超期"), _("%(title)s的完成时限%(deadline)s已过，请尽快办理并报告进展。")),
         {TaskAction.OVERDUE}),
    ))


RESPONSIBLE = "warning_responsible"
WARNING_RAISED = types.NoticeType("warning.raised", _("新的风险预警"), target="warnings", audience=RESPONSIBLE)


def responsible_for(warning: Warning) -> list[User]:
    """The command-centre staff (or those of its 综治中心 department) of the nearest unit at or above the warning's
    unit that has any: those who may acknowledge it (`policies.can_acknowledge_warning`) and are closest to it."""
    parts = warning.path.rstrip("/").split("/")
    paths = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    posts = (Membership.objects.active().filter(role__in=COMMAND_ROLES)
             .filter(Q(unit__path__in=paths)
                     | Q(unit__parent__path__in=paths, unit__department_type=DepartmentType.COMMAND_CENTRE))
             .select_related("user", "unit__parent"))
    by_path: dict[str, dict[int, User]] = {}
    for post in posts:
        level = post.unit.path if post.unit.path in paths else post.unit.parent.path  # type: ignore[union-attr]
        by_path.setdefault(level, {})[post.user.pk] = post.user
    nearest = max(by_path, key=len, default=None)
    return list(by_path[nearest].values()) if nearest else []


KEY_PERSON_RESPONSIBLE = "key_person_responsible"
KEY_PERSON_UNVISITED = types.NoticeType("warning.key_person", _("重点人员未按期走访"), target="key_person",
                                        audience=KEY_PERSON_RESPONSIBLE)


def key_person_recipients(warning: Warning) -> list[User]:
    """Who hears of an unvisited key person: the person's responsible worker while they may still answer for the
    grid (`registry.policies.can_be_responsible`), else the grid's grid workers."""
    person = (KeyPerson.objects.select_related("grid", "responsible")
              .filter(pk=warning.details.get("key_person")).first())
    if person is None:
        return []
    named = person.responsible
    if named is not None and named.is_active and registry_policies.can_be_responsible(named, person.grid):
        return [named]
    posts = (Membership.objects.active().filter(unit_id=person.grid_id, role=Role.GRID_WORKER,
                                                user__is_active=True).select_related("user"))
    return list({post.user.pk: post.user for post in posts}.values())


def _announce_key_person(warning: Warning) -> None:
    """The notice names the grid, the risk level and the dates, never the person (a copy may leave the site by
    SMS or WeChat); it opens the person's record, where the name is shown to those who may see it."""
    people = key_person_recipients(warning)
    if not people:
        return
    details = warning.details
    risk = RiskLevel(details["risk_level"]).label if details.get("risk_level") in RiskLevel.values else ""
    body = _("%(grid)s有一名%(risk)s重点人员应于%(due)s前走访，已逾期%(n)s天。请尽快走访并登记。") % {
        "grid": warning.unit.name, "risk": risk, "due": details.get("due", ""), "n": details.get("days_overdue", 0)}
    notifications.notify(recipients=people, kind=KEY_PERSON_UNVISITED.kind, title=str(KEY_PERSON_UNVISITED.label),
                         body=str(body), target_id=details.get("key_person"),
                         dedupe_key=f"warning:{warning.pk}:raised")


def announce_warnings(warnings: list[Warning]) -> None:
    """Tell those responsible about each new warning (an unvisited key person: the person's responsible worker,
    `key_person_recipients`). Idempotent per warning."""
    with translation.override(settings.LANGUAGE_CODE):
        for warning in warnings:
            if warning.kind == WarningKind.UNVISITED_KEY_PERSON:
                _announce_key_person(warning)
                continue
            people = responsible_for(warning)
            if not people:
                continue
            kind = warning.get_kind_display()
            body = _("%(unit)s：%(kind)s，涉及%(n)s件事件。请到风险预警查看并签收。") % {
                "unit": warning.unit.name, "kind": kind, "n": len(warning.case_ids)}
            notifications.notify(recipients=people, kind=WARNING_RAISED.kind,
                                 title=str(_("新的风险预警：%(kind)s") % {"kind": kind}), body=str(body),
                                 dedupe_key=f"warning:{warning.pk}:raised")


def register() -> None:
    types.register(*(notice for notice, _on in NOTICES), WARNING_RAISED, KEY_PERSON_UNVISITED)


def announce(*, task: Task, log: TaskLog) -> None:
    """Tell the people concerned about the step `log` records (the actor excepted). Idempotent per log row."""
    with translation.override(settings.LANGUAGE_CODE):
        for notice, on in NOTICES:
            if log.action not in on:
                continue
            people = [user for user in AUDIENCES[notice.audience](task) if user.pk != log.actor_id]
            if not people:
                continue
            assert notice.build is not None
            title, body = notice.build(task, log)
            if len(body) > _BODY_MAX:
                body = body[:_BODY_MAX - 1] + "…"
            notifications.notify(recipients=people, kind=notice.kind, title=title, body=body, target_id=task.pk,
                                 dedupe_key=f"task:{task.pk}:{log.pk}:{notice.kind}")
