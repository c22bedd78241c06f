"""Task lists (任务清单, 挂图作战) as a viewer sees them: the tasks in their scope with their colour flags, one
task with its timeline of steps, reports and files, what the viewer may do on it, the supervision figures per
owner unit (督查) and the files of the reports (only for those who see the task).

Flags (挂图作战), by the date: **red** 已超期, an open task (未开始, 进行中) whose deadline has passed; **yellow**
即将到期, an open task due within `DUE_SOON_WORKING_DAYS` working days; **green** 已完成. A task
waiting for its issuer's confirmation, or cancelled, has no colour.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Membership, User
from gongzhi.analytics import policies
from gongzhi.analytics.models import (
    OPEN_TASK_STATES,
    Task,
    TaskAttachment,
    TaskLog,
    TaskReport,
    TaskStatus,
)
from gongzhi.core import files
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.workcalendar import add_working_days
from gongzhi.org.models import Level, OrgUnit

DUE_SOON_WORKING_DAYS = 3  # 即将到期: due within this many working days (the flag and the sweep's reminder)
RED, YELLOW, GREEN = "red", "yellow", "green"
TASK_FLAGS = ((RED, _("已超期")), (YELLOW, _("即将到期")), (GREEN, _("已完成")))
SIDES = (("owned", _("本单位承担的任务")), ("issued", _("本单位下达的任务")))


def due_soon_until(now: datetime.datetime) -> datetime.date:
    return timezone.localtime(add_working_days(now, DUE_SOON_WORKING_DAYS)).date()


def flag_of(task: Task, *, today: datetime.date, soon: datetime.date) -> str:
    if task.status == TaskStatus.DONE:
        return GREEN
    if task.status in OPEN_TASK_STATES:
        if task.deadline < today:
            return RED
        if task.deadline <= soon:
            return YELLOW
    return ""


def with_task_flags(queryset: QuerySet[Task], *, now: datetime.datetime | None = None) -> QuerySet[Task]:
    """Each task with `flag` (red, yellow, green or "") computed in the query, so a list can filter on it."""
    now = now or timezone.now()
    today, soon = timezone.localtime(now).date(), due_soon_until(now)
    open_q = Q(status__in=OPEN_TASK_STATES)
    return queryset.annotate(flag=Case(
        When(status=TaskStatus.DONE, then=Value(GREEN)),
        When(open_q & Q(deadline__lt=today), then=Value(RED)),
        When(open_q & Q(deadline__lte=soon), then=Value(YELLOW)),
        default=Value(""), output_field=CharField()))


def _post_unit_ids(user: User | AnonymousUser) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(Membership.objects.staff().filter(user=user).values_list("unit_id", flat=True))


def task_list(user: User | AnonymousUser, *, status: str | None = None, owner_unit_id: int | None = None,
              flag: str | None = None, side: str | None = None,
              now: datetime.datetime | None = None) -> QuerySet[Task]:
    """The tasks in the viewer's scope, nearest deadline first (finished ones last), with their flags; filtered
    by status, owner unit (and the units below it), flag and side: "owned" (tasks of the units where the viewer
    holds a post) or "issued" (tasks the viewer's command-centre units gave)."""
    if status and status not in TaskStatus.values:
        raise DomainError(_("未知的任务状态。"), field="status")
    if flag and flag not in (RED, YELLOW, GREEN):
        raise DomainError(_("未知的标识。"), field="flag")
    if side and side not in ("owned", "issued"):
        raise DomainError(_("请求无效。"), field="side")
    queryset = with_task_flags(policies.tasks_visible_to(user), now=now)
    if status:
        queryset = queryset.filter(status=status)
    if owner_unit_id is not None:
        unit = OrgUnit.objects.filter(pk=owner_unit_id).first()
        if unit is None or not account_policies.can_view_unit(user, unit):
            raise DomainError(_("未找到该单位。"), field="owner_unit")
        queryset = queryset.filter(owner_path__startswith=unit.path)
    if flag:
        queryset = queryset.filter(Q(("flag", flag)))  # the annotation above
    if side == "owned":
        queryset = queryset.filter(owner_unit_id__in=_post_unit_ids(user))
    elif side == "issued":
        queryset = queryset.filter(issuing_unit_id__in=[u.pk for u in policies.issuing_units(user)])
    finished = Case(When(status__in=[TaskStatus.DONE, TaskStatus.CANCELLED], then=Value(1)), default=Value(0))
    return (queryset.select_related("owner_unit", "issuing_unit", "owner_person")
            .order_by(finished, "deadline", "pk"))


def task_owner_units(user: User | AnonymousUser) -> list[OrgUnit]:
    """The units owning tasks the viewer sees (the list's unit filter)."""
    return list(OrgUnit.objects.filter(pk__in=policies.tasks_visible_to(user).values("owner_unit_id"))
                .order_by("path"))


def open_tasks_of_my_units(user: User | AnonymousUser, *, now: datetime.datetime | None = None) -> list[Task]:
    """本单位待办任务: the open and submitted tasks of the units where the viewer holds a post (the worker
    portal's home and the command portal's list both use it), nearest deadline first."""
    units = _post_unit_ids(user)
    if not units:
        return []
    queryset = (with_task_flags(policies.tasks_visible_to(user), now=now)
                .filter(owner_unit_id__in=units, status__in=OPEN_TASK_STATES | {TaskStatus.SUBMITTED})
                .select_related("owner_unit", "issuing_unit").order_by("deadline", "pk"))
    return list(queryset[:50])


def task_for(user: User | AnonymousUser, task_id: int, *, now: datetime.datetime | None = None) -> Task:
    """One task in the viewer's scope, with its flag; NotFound otherwise (missing and not yours alike)."""
    found = (with_task_flags(policies.tasks_visible_to(user), now=now)
             .select_related("owner_unit", "issuing_unit", "owner_person", "created_by", "parent").filter(pk=task_id)
             .first())
    if found is None:
        raise NotFound()
    return found


@dataclass
class TimelineStep:
    log: TaskLog
    report: TaskReport | None = None
    photos: list[TaskAttachment] = field(default_factory=list)
    documents: list[TaskAttachment] = field(default_factory=list)


def task_timeline(user: User | AnonymousUser, task: Task) -> list[TimelineStep]:
    """Every step of the task, oldest first, with its report and files (three queries)."""
    if not policies.can_view_task(user, task):
        raise NotFound()
    steps = {log.pk: TimelineStep(log) for log in task.logs.select_related("actor").order_by("at", "pk")}
    for report in TaskReport.objects.filter(task=task):
        steps[report.log_id].report = report
    for attachment in TaskAttachment.objects.filter(task=task).order_by("pk"):
        step = steps[attachment.log_id]
        (step.photos if attachment.kind == TaskAttachment.Kind.PHOTO else step.documents).append(attachment)
    return list(steps.values())


def subtasks_of(user: User | AnonymousUser, task: Task, *, now: datetime.datetime | None = None) -> list[Task]:
    """The sub-tasks the task was broken down into that the viewer sees, with their flags."""
    return list(with_task_flags(policies.tasks_visible_to(user).filter(parent=task), now=now)
                .select_related("owner_unit").order_by("deadline", "pk"))


def task_actions(user: User | AnonymousUser, task: Task) -> list[str]:
    """The steps the viewer may take on the task now, in the order the page offers them."""
    checks = (("report", policies.can_report_task), ("submit", policies.can_submit_task),
              ("confirm", policies.can_confirm_task), ("send_back", policies.can_send_back_task),
              ("assign", policies.can_assign_task), ("extend", policies.can_extend_task),
              ("cancel", policies.can_cancel_task))
    return [name for name, check in checks if check(user, task)]


def task_owner_staff(task: Task) -> list[User]:
    """Whom the task may be given to (指定责任人): the owner unit's staff."""
    posts = Membership.objects.staff().filter(unit_id=task.owner_unit_id).select_related("user").order_by("user_id")
    return list({post.user.pk: post.user for post in posts}.values())


def issuing_units(user: User | AnonymousUser) -> list[OrgUnit]:
    return policies.issuing_units(user)


def owner_choices(user: User | AnonymousUser, issuing_unit: OrgUnit) -> list[OrgUnit]:
    """The units a task from `issuing_unit` may go to on the form: those one level below it (villages and
    departments of a township; townships and departments of a county), never grids."""
    if not any(u.pk == issuing_unit.pk for u in policies.issuing_units(user)):
        return []
    return list(OrgUnit.objects.filter(is_active=True, path__startswith=issuing_unit.path,
                                       depth=issuing_unit.depth + 1).exclude(level=Level.GRID)
                .order_by("kind", "path"))


def parent_choices(user: User | AnonymousUser) -> list[Task]:
    """Open tasks given to a unit the viewer issues from, which they may break down into sub-tasks."""
    units = [u.pk for u in policies.issuing_units(user)]
    return list(policies.tasks_visible_to(user).filter(owner_unit_id__in=units, status__in=OPEN_TASK_STATES)
                .order_by("deadline", "pk"))


# Supervision (督查) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupervisionRow:
    unit: OrgUnit
    total: int     # tasks given to the unit (cancelled ones not counted)
    done: int      # confirmed as done
    on_time: int   # of those, submitted on or before the deadline
    overdue: int   # open (未开始, 进行中) past the deadline
    open: int      # not done yet: open or waiting for confirmation

    @property
    def done_percent(self) -> float | None:
        return round(100 * self.done / self.total, 1) if self.total else None

    @property
    def on_time_percent(self) -> float | None:
        return round(100 * self.on_time / self.done, 1) if self.done else None


@dataclass(frozen=True)
class Supervision:
    root: OrgUnit | None
    month: datetime.date | None
    rows: list[SupervisionRow]
    total: SupervisionRow | None


def _child_path(path: str, root: OrgUnit) -> str:
    """The path of the unit one level below `root` that `path` lies under (`root.path` for root itself)."""
    if path == root.path:
        return path
    return root.path + path[len(root.path):].split("/", 1)[0] + "/"


def supervision(user: User | AnonymousUser, *, root_id: int | None = None, month: datetime.date | None = None,
                now: datetime.datetime | None = None) -> Supervision:
    """督查, level by level: for the units one level below `root_id` (else below the top of the viewer's scope),
    the tasks given to each unit and to every unit under it — done, done on time, overdue — and a row for the
    tasks of the level itself; a row drills down (its unit as `root_id`). A viewer whose scope is several
    subtrees gets a row per owner unit. With `month` (its first day), only the tasks due in that month. One
    grouped query."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    root: OrgUnit | None = None
    queryset = policies.tasks_visible_to(user).exclude(status=TaskStatus.CANCELLED)
    if root_id is not None:
        root = OrgUnit.objects.filter(pk=root_id).first()
        if root is None or not account_policies.can_view_unit(user, root):
            raise NotFound()
        queryset = queryset.filter(owner_path__startswith=root.path)
    else:
        queryset = queryset.filter(account_policies.scope_q(user, "owner_path"))
        scope = account_policies.scope_paths(user)
        if len(scope) == 1 and scope[0]:
            root = OrgUnit.objects.filter(path=scope[0]).first()
    if month is not None:
        queryset = queryset.filter(deadline__year=month.year, deadline__month=month.month)
    open_q = Q(status__in=OPEN_TASK_STATES)
    grouped = (queryset.values("owner_path").order_by()
               .annotate(total=Count("pk"), done=Count("pk", filter=Q(status=TaskStatus.DONE)),
                         on_time=Count("pk", filter=Q(status=TaskStatus.DONE, on_time=True)),
                         overdue=Count("pk", filter=open_q & Q(deadline__lt=today)),
                         open=Count("pk", filter=~Q(status=TaskStatus.DONE))))
    fields = ("total", "done", "on_time", "overdue", "open")
    figures: dict[str, dict[str, int]] = {}
    for row in grouped:
        path = _child_path(row["owner_path"], root) if root is not None else row["owner_path"]
        sums = figures.setdefault(path, dict.fromkeys(fields, 0))
        for name in fields:
            sums[name] += row[name]
    units = {unit.path: unit for unit in OrgUnit.objects.filter(path__in=list(figures))}
    rows = sorted((SupervisionRow(units[path], **counts) for path, counts in figures.items() if path in units),
                  key=lambda r: (r.unit != root, r.unit.path))
    total = SupervisionRow(root or rows[0].unit, *(sum(getattr(r, f) for r in rows) for f in fields)
                           ) if rows else None
    return Supervision(root=root, month=month, rows=rows, total=total)


# Files -------------------------------------------------------------------------------------------------------


def stored_task_file(user: User | AnonymousUser, name: str) -> files.ServedFile | None:
    """A progress report's photo, thumbnail or document stored under `name`, for those who see the task; None
    for a name nobody owns and for one they may not see alike."""
    if not user.is_authenticated or not name.startswith("tasks/"):
        return None
    field_name = "thumbnail" if "/thumbs/" in name else "file"
    attachment = TaskAttachment.objects.filter(**{field_name: name}).select_related("task").first()
    if attachment is None or not policies.can_view_task_attachment(user, attachment):
        return None
    if field_name == "thumbnail":
        return files.served(attachment.thumbnail)
    if attachment.kind == TaskAttachment.Kind.DOCUMENT:
        return files.served(attachment.file, document=True, download_name=attachment.name or None)
    return files.served(attachment.file, content_type=attachment.content_type)


__all__ = [
    "DUE_SOON_WORKING_DAYS", "GREEN", "RED", "SIDES", "TASK_FLAGS", "YELLOW", "Supervision", "SupervisionRow",
    "TimelineStep", "due_soon_until", "flag_of", "issuing_units", "open_tasks_of_my_units",
    "owner_choices", "parent_choices", "stored_task_file", "subtasks_of", "supervision", "task_actions",
    "task_for", "task_list", "task_owner_staff", "task_owner_units", "task_timeline", "with_task_flags",
]
