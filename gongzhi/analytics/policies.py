"""Who may see and acknowledge risk warnings (风险预警), and see and act on task lists (任务清单, below).

See: staff whose scope holds the warning's unit (`accounts.policies.scope_q` on the copied path); a warning
about an unvisited key person, only the posts with key-person access there. Acknowledge
(签收): staff holding a command-centre post (dispatcher, supervisor; a system administrator or superuser) on the
unit or above it, the people who answer for the warnings there (`accounts.policies.on_behalf_paths`: the same
posts and subtrees). Field staff and department handlers see the warnings of their scope but do not sign for
them; residents see none.
"""

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import COMMAND_ROLES, Membership, User
from gongzhi.analytics.models import OPEN_TASK_STATES, Task, TaskAttachment, TaskStatus, Warning, WarningKind
from gongzhi.org.models import DepartmentType, Level, OrgUnit, UnitKind
from gongzhi.registry import policies as registry_policies


def warnings_visible_to(user: User | AnonymousUser) -> QuerySet[Warning]:
    # A resident's or merchant's scope is empty (scope_paths counts staff posts only), so they see none. A
    # warning about an unvisited key person only those see who may see key persons there (not a department
    # handler, a village station or a part-time member, `registry.policies.key_persons_q`).
    if not user.is_authenticated:
        return Warning.objects.none()
    key_person_posts = registry_policies.key_persons_q(user, "path")
    return Warning.objects.filter(account_policies.scope_q(user, "path")).filter(
        ~Q(kind=WarningKind.UNVISITED_KEY_PERSON) | key_person_posts)


def can_view_warning(user: User | AnonymousUser, warning: Warning) -> bool:
    return warnings_visible_to(user).filter(pk=warning.pk).exists()


def can_acknowledge_warning(user: User | AnonymousUser, warning: Warning) -> bool:
    return any(warning.path.startswith(p) for p in account_policies.on_behalf_paths(user))


# Task lists (任务清单) -----------------------------------------------------------------------------------------
#
# See: staff whose scope holds the task's owner unit or its issuing unit (the issuing level and everyone above
# it, the owner unit and everyone above it). Issue: a command-centre post (dispatcher, supervisor, system
# administrator) on the issuing unit, to a unit below it (`can_issue`). Act as the issuer (confirm, send back,
# cancel, extend): a command-centre post on the issuing unit or above it (`on_behalf_paths`, as for 签收).
# Act as the owner (report progress, submit as done): an active staff post on the owner unit itself. Name the
# person responsible: either side.


def tasks_visible_to(user: User | AnonymousUser) -> QuerySet[Task]:
    return Task.objects.filter(account_policies.scope_q(user, "owner_path")
                               | account_policies.scope_q(user, "issuer_path"))


def can_view_task(user: User | AnonymousUser, task: Task) -> bool:
    return account_policies.in_scope(user, task.owner_path) or account_policies.in_scope(user, task.issuer_path)


def issuing_units(user: User | AnonymousUser) -> list[OrgUnit]:
    """The units `user` may issue tasks from: those of their command-centre posts (a post in a 综治中心
    department issues for the level it belongs to); every city, county and township for a superuser."""
    if not user.is_authenticated or not user.is_active or user.kind != User.Kind.STAFF:
        return []
    if user.is_superuser:
        return list(OrgUnit.objects.filter(is_active=True, kind=UnitKind.AREA,
                                           level__in=[Level.CITY, Level.COUNTY, Level.TOWNSHIP]))
    units: dict[int, OrgUnit] = {}
    posts = Membership.objects.active().filter(user=user, role__in=COMMAND_ROLES).select_related("unit__parent")
    for post in posts:
        unit = post.unit
        if unit.is_department and unit.department_type == DepartmentType.COMMAND_CENTRE and unit.parent:
            unit = unit.parent
        if not unit.is_department and unit.level != Level.GRID:
            units[unit.pk] = unit
    return sorted(units.values(), key=lambda u: u.path)


def can_issue(user: User | AnonymousUser, issuing_unit: OrgUnit, owner_unit: OrgUnit) -> bool:
    """A task goes from a unit where the user holds a command-centre post to a unit strictly below it (a
    township to its villages and departments, a county to its townships and departments)."""
    return (any(u.pk == issuing_unit.pk for u in issuing_units(user))
            and owner_unit.path.startswith(issuing_unit.path) and owner_unit.pk != issuing_unit.pk)


def acts_as_issuer(user: User | AnonymousUser, task: Task) -> bool:
    return any(task.issuer_path.startswith(p) for p in account_policies.on_behalf_paths(user))


def acts_as_owner(user: User | AnonymousUser, task: Task) -> bool:
    if not user.is_authenticated or not user.is_active or user.kind != User.Kind.STAFF:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.staff().filter(user=user, unit_id=task.owner_unit_id).exists()


def acts_on_either_side(user: User | AnonymousUser, task: Task) -> bool:
    return acts_as_issuer(user, task) or acts_as_owner(user, task)


# Each step of a task: which side takes it (the owner unit or the issuing level) and from which states. The checks
# below, the services and the page's forms all read this one table.
_OPEN = frozenset(OPEN_TASK_STATES)
_UNFINISHED = _OPEN | {TaskStatus.SUBMITTED}
TASK_STEPS: dict[str, tuple[Callable[[User | AnonymousUser, Task], bool], frozenset[str]]] = {
    "report": (acts_as_owner, _OPEN),
    "submit": (acts_as_owner, _OPEN),
    "confirm": (acts_as_issuer, frozenset({TaskStatus.SUBMITTED})),
    "send_back": (acts_as_issuer, frozenset({TaskStatus.SUBMITTED})),
    "assign": (acts_on_either_side, _OPEN),
    "extend": (acts_as_issuer, _UNFINISHED),
    "cancel": (acts_as_issuer, _UNFINISHED),
}


def can_take_task_step(user: User | AnonymousUser, task: Task, step: str) -> bool:
    side, states = TASK_STEPS[step]
    return task.status in states and side(user, task)


def can_assign_task(user: User | AnonymousUser, task: Task) -> bool:
    return can_take_task_step(user, task, "assign")


def can_report_task(user: User | AnonymousUser, task: Task) -> bool:
    return can_take_task_step(user, task, "report")


def can_submit_task(user: User | AnonymousUser, task: Task) -> bool:
    return can_take_task_step(user, task, "submit")


def can_confirm_task(user: User | AnonymousUser, task: Task) -> bool:
    return can_take_task_step(user, task, "confirm")


def can_send_back_task(user: User | AnonymousUser, task: Task) -> bool:
    return can_take_task_step(user, task, "send_back")


def can_cancel_task(user: User | AnonymousUser, task: Task) -> bool:
    return can_take_task_step(user, task, "cancel")


def can_extend_task(user: User | AnonymousUser, task: Task) -> bool:
    return can_take_task_step(user, task, "extend")


def task_attachments_visible_to(user: User | AnonymousUser) -> QuerySet[TaskAttachment]:
    return TaskAttachment.objects.filter(task__in=tasks_visible_to(user))


def can_view_task_attachment(user: User | AnonymousUser, attachment: TaskAttachment) -> bool:
    return can_view_task(user, attachment.task)
