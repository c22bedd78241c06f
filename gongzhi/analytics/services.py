"""Writes of the analytics app: the map's grid states (民情地图 红/黄/蓝), the risk warnings and the task lists
(任务清单, at the end).

The colour rule (`RULE`, shown in words on the map's legend):
    red     the grid has an open case past a limit (flag red: a response or handling limit, or a 督办 order's),
            or an unresolved dispute at risk (重复纠纷 or 民转刑风险, `cases.selectors.dispute_at_risk_q`);
    yellow  otherwise, an open case whose limit is coming due (flag yellow, `cases.deadlines.horizons`);
    blue    anything else, with or without open cases.
A case counts in the grid it lies in (`Case.grid`), whoever holds it now.

`refresh_grid_states` recomputes every grid in three grouped queries (every open case once; the flags only of
those that can carry one; the disputes) and writes only the rows that changed; `tasks.refresh_grid_states`
runs it every minute, so a page shows states at most about a minute old and says when they were computed
(`GridStateRun.refreshed_at`).
"""

from __future__ import annotations

import datetime
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Membership, User
from gongzhi.analytics import notices, policies
from gongzhi.analytics.models import (
    OPEN_TASK_STATES,
    Colour,
    GridState,
    GridStateRun,
    Task,
    TaskAction,
    TaskAttachment,
    TaskCategory,
    TaskLog,
    TaskReport,
    TaskStatus,
    Warning,
    WarningKind,
)
from gongzhi.analytics.models.tasklists import CLIENT_KEY_MAX_LENGTH
from gongzhi.analytics.selectors.tasklists import due_soon_until
from gongzhi.cases.deadlines import HANDLE_PENDING, RESPOND_PENDING, horizons
from gongzhi.cases.models import Assignment, Case, CategoryKind, SupervisionOrder
from gongzhi.cases.selectors import UNRESOLVED_STATES, dispute_at_risk_q, flag_q, with_dispute_risks, with_flags
from gongzhi.cases.workflow import OPEN_STATES, Flag, Status
from gongzhi.core import uploads
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry.models import KeyPerson

_FIELDS = ("path", "open_cases", "red_cases", "yellow_cases", "risky_disputes", "colour")


def colour_of(*, red_cases: int, yellow_cases: int, risky_disputes: int) -> str:
    if red_cases or risky_disputes:
        return Colour.RED
    if yellow_cases:
        return Colour.YELLOW
    return Colour.BLUE


@dataclass(frozen=True)
class RefreshResult:
    grids: int
    changed: int
    took_ms: int


def _counts(now: datetime.datetime) -> tuple[dict[int, int], dict[int, dict[str, int]], dict[int, int]]:
    """Open cases, red and yellow ones, and disputes at risk, by grid. Only the first reads every open case;
    flags are computed only for the few that can carry one (a response limit running, a handling limit due
    by the warning horizon, an overdue 督办 order), found through the indexes on status and deadlines."""
    h = horizons(now)
    open_cases = Case.objects.filter(status__in=OPEN_STATES, grid__isnull=False)
    totals = dict(open_cases.values("grid_id").annotate(n=Count("pk")).order_by().values_list("grid_id", "n"))
    may_flag = (Q(status__in=RESPOND_PENDING)
                | Q(status__in=HANDLE_PENDING, handle_due__lte=h.handle_warn_until)
                | Q(pk__in=SupervisionOrder.objects.filter(fulfilled_at__isnull=True, due_at__lt=now)
                    .values("case_id")))
    flags = {row.pop("grid_id"): row for row in with_flags(open_cases.filter(may_flag), now=now)
             .values("grid_id").annotate(red_cases=Count("pk", filter=Q(flag=Flag.RED.value)),
                                         yellow_cases=Count("pk", filter=Q(flag=Flag.YELLOW.value))).order_by()}
    # NOT IN on status, so SQLite reads the category index (the disputes) rather than the status index (every
    # open case).
    settled = set(Status.values) - UNRESOLVED_STATES
    disputes = dict(Case.objects.filter(grid__isnull=False).exclude(status__in=settled)
                    .filter(dispute_at_risk_q(now)).values("grid_id").annotate(n=Count("pk"))
                    .order_by().values_list("grid_id", "n"))
    return totals, flags, disputes




def refresh_grid_states(*, now: datetime.datetime | None = None) -> RefreshResult:
    """Recompute every active grid's state as of `now`; system work, no actor. Idempotent: a doubled run
    writes nothing, a missed one is made good by the next. The counting reads outside any transaction (on
    SQLite a transaction takes the write lock, which submissions wait for); only the changed rows are written."""
    started = time.perf_counter()
    now = now or timezone.now()
    totals, flags, disputes = _counts(now)
    grids = dict(OrgUnit.objects.filter(level=Level.GRID, kind=UnitKind.AREA, is_active=True)
                 .values_list("pk", "path"))
    old = {state.pk: state for state in GridState.objects.all()}
    new_rows, changed_rows = [], []
    for grid_id, path in grids.items():
        figures = flags.get(grid_id, {})
        red, yellow, risky = figures.get("red_cases", 0), figures.get("yellow_cases", 0), disputes.get(grid_id, 0)
        values: dict[str, int | str] = {
            "path": path, "open_cases": totals.get(grid_id, 0), "red_cases": red, "yellow_cases": yellow,
            "risky_disputes": risky,
            "colour": colour_of(red_cases=red, yellow_cases=yellow, risky_disputes=risky)}
        state = old.get(grid_id)
        if state is None:
            new_rows.append(GridState(grid_id=grid_id, changed_at=now, **values))
        elif any(getattr(state, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(state, name, value)
            state.changed_at = now
            changed_rows.append(state)
    gone = [grid_id for grid_id in old if grid_id not in grids]
    changed = len(new_rows) + len(changed_rows) + len(gone)
    with transaction.atomic():
        GridState.objects.bulk_create(new_rows, batch_size=1000)
        GridState.objects.bulk_update(changed_rows, [*_FIELDS, "changed_at"], batch_size=1000)
        GridState.objects.filter(pk__in=gone).delete()
        took_ms = round((time.perf_counter() - started) * 1000)
        run = GridStateRun.objects.select_for_update().first()
        if run is None:
            GridStateRun.objects.create(refreshed_at=now, changed_at=now, took_ms=took_ms)
        else:
            run.refreshed_at, run.took_ms = now, took_ms
            if changed:
                run.changed_at = now
            run.save()
    return RefreshResult(grids=len(grids), changed=changed, took_ms=took_ms)


# ---------------------------------------------------------------------------------------------------------
# Risk warnings (风险预警). The rules (each in words on the page, command/warnings.html):
#   hotspot          a grid's cases reported in the last 7 days (k) against its baseline λ, the mean weekly count
#                    of the 8 weeks before (at least HOTSPOT_MIN_BASELINE, so a quiet grid is not flagged for
#                    2 cases): raised when k ≥ HOTSPOT_MIN_CASES and the one-sided Poisson test's
#                    P(X ≥ k | λ) < HOTSPOT_P. Duplicates merged into another case do not count.
#   overdue cluster  a village (the open cases placed in it) or a lead department (the open cases it leads)
#                    with ≥ OVERDUE_CLUSTER_MIN red (overdue) cases (`cases.selectors.flag_q(Flag.RED)`).
#   repeat dispute / 民转刑 risk   one per unresolved dispute case the rules of `cases.selectors.dispute_risks`
#                    flag; a settled dispute no longer warns (its open repeat would).
#   unvisited key person  one per listed key person (registry.KeyPerson) whose visit plan's date
#                    (`next_visit_due`) lies before today (Asia/Shanghai): raised the day after the due date,
#                    cleared once a visit moves the plan on or the listing ends. About the person's grid; the
#                    details hold the person's id, never the name (see `policies.warnings_visible_to`).

HOTSPOT_WINDOW = datetime.timedelta(days=7)
HOTSPOT_BASELINE_WEEKS = 8
HOTSPOT_MIN_BASELINE = 0.5
HOTSPOT_MIN_CASES = 3
HOTSPOT_P = 0.01
OVERDUE_CLUSTER_MIN = 5
NOTE_MAX = 500


def poisson_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam), summed upward from k (no cancellation for the small tails that matter)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_term = -lam + k * math.log(lam) - math.lgamma(k + 1)
    total, i = 0.0, k
    while True:
        term = math.exp(log_term)
        total += term
        i += 1
        if i > lam and term <= total * 1e-16:
            break
        log_term += math.log(lam) - math.log(i)
    return min(total, 1.0)


@dataclass(frozen=True)
class _Wanted:
    kind: str
    key: str
    unit_id: int
    case_ids: list[int]
    details: Mapping[str, int | float | str]


@dataclass(frozen=True)
class WarningsResult:
    raised: int
    updated: int
    cleared: int
    open: int


def _hotspots(now: datetime.datetime) -> list[_Wanted]:
    """One grouped query over the 9 weeks' cases by grid; then the ids of the few hot grids' recent cases."""
    recent_from = now - HOTSPOT_WINDOW
    start = recent_from - HOTSPOT_BASELINE_WEEKS * HOTSPOT_WINDOW
    counts = (Case.objects.filter(grid__isnull=False, merged_into__isnull=True, created_at__gte=start,
                                  created_at__lte=now)
              .values("grid_id").order_by()
              .annotate(k=Count("pk", filter=Q(created_at__gte=recent_from)),
                        before=Count("pk", filter=Q(created_at__lt=recent_from))))
    hot: dict[int, dict[str, int | float]] = {}
    for row in counts:
        k = row["k"]
        if k < HOTSPOT_MIN_CASES:
            continue
        baseline = max(row["before"] / HOTSPOT_BASELINE_WEEKS, HOTSPOT_MIN_BASELINE)
        p = poisson_tail(k, baseline)
        if p < HOTSPOT_P:
            hot[row["grid_id"]] = {"k": k, "baseline": round(baseline, 3), "weeks": HOTSPOT_BASELINE_WEEKS,
                                   "p": p}
    ids: dict[int, list[int]] = defaultdict(list)
    for case_id, grid_id in (Case.objects.filter(grid_id__in=list(hot), merged_into__isnull=True,
                                                 created_at__gte=recent_from, created_at__lte=now)
                             .order_by("pk").values_list("pk", "grid_id")):
        ids[grid_id].append(case_id)
    return [_Wanted(WarningKind.HOTSPOT, f"hotspot:{grid_id}", grid_id, ids[grid_id], details)
            for grid_id, details in hot.items()]


def _village_of(path: str, villages: dict[str, int]) -> int | None:
    prefix = ""
    for part in path.split("/")[:-1]:
        prefix += part + "/"
        if prefix in villages:
            return villages[prefix]
    return None


def _overdue_clusters(now: datetime.datetime) -> list[_Wanted]:
    """The red cases (few; read through the deadline indexes), grouped by village and by lead department."""
    red = dict(Case.objects.filter(flag_q(Flag.RED, now=now)).order_by("pk").values_list("pk", "area_path"))
    villages = dict(OrgUnit.objects.filter(level=Level.VILLAGE, kind=UnitKind.AREA, is_active=True)
                    .values_list("path", "pk"))
    by_unit: dict[int, list[int]] = defaultdict(list)
    for case_id, area_path in red.items():
        village = _village_of(area_path, villages)
        if village is not None:
            by_unit[village].append(case_id)
    for case_id, unit_id in (Assignment.objects.filter(case_id__in=list(red), is_active=True,
                                                       role=Assignment.Role.LEAD, unit__kind=UnitKind.DEPARTMENT)
                             .order_by("case_id").values_list("case_id", "unit_id")):
        by_unit[unit_id].append(case_id)
    return [_Wanted(WarningKind.OVERDUE_CLUSTER, f"overdue_cluster:{unit_id}", unit_id, sorted(ids),
                    {"red": len(ids)})
            for unit_id, ids in by_unit.items() if len(ids) >= OVERDUE_CLUSTER_MIN]


def _dispute_flags(now: datetime.datetime) -> list[_Wanted]:
    """One warning per unresolved dispute case per flag, about the unit the case lies in (its area)."""
    cases = list(with_dispute_risks(
        Case.objects.filter(category__kind=CategoryKind.DISPUTE, merged_into__isnull=True,
                            status__in=UNRESOLVED_STATES).filter(dispute_at_risk_q(now)), now=now)
                 .order_by("pk").values_list("pk", "area_path", F("risk_repeat"), F("risk_marriage_family")))
    units = dict(OrgUnit.objects.filter(path__in={row[1] for row in cases}).values_list("path", "pk"))
    wanted = []
    for case_id, area_path, repeat, marriage_family in cases:
        unit_id = units.get(area_path)
        if unit_id is None:
            continue
        if repeat:
            wanted.append(_Wanted(WarningKind.REPEAT_DISPUTE, f"repeat_dispute:{case_id}", unit_id, [case_id], {}))
        if marriage_family:
            wanted.append(_Wanted(WarningKind.MARRIAGE_FAMILY, f"marriage_family:{case_id}", unit_id, [case_id],
                                  {}))
    return wanted


def _unvisited_key_persons(now: datetime.datetime) -> list[_Wanted]:
    """Through the partial index on the due date of listed persons: only the overdue ones are read."""
    today = timezone.localdate(now)
    rows = (KeyPerson.objects.filter(ended_on__isnull=True, next_visit_due__lt=today).order_by("pk")
            .values_list("pk", "grid_id", "next_visit_due", "risk_level"))
    wanted = []
    for pk, grid_id, due, risk_level in rows:
        assert due is not None  # filtered on
        wanted.append(_Wanted(WarningKind.UNVISITED_KEY_PERSON, f"key_person:{pk}", grid_id, [],
                              {"key_person": pk, "due": due.isoformat(), "days_overdue": (today - due).days,
                               "risk_level": risk_level}))
    return wanted


def _apply(wanted: Iterable[_Wanted], now: datetime.datetime) -> WarningsResult:
    wanted_by_key = {w.key: w for w in wanted}
    paths = dict(OrgUnit.objects.filter(pk__in={w.unit_id for w in wanted_by_key.values()})
                 .values_list("pk", "path"))
    raised = updated = cleared = 0
    with transaction.atomic():
        open_rows = {row.key: row for row in Warning.objects.select_for_update().filter(cleared_at__isnull=True)}
        new_rows: list[Warning] = []
        changed_rows: list[Warning] = []
        gone: list[Warning] = []
        for key, open_row in open_rows.items():
            if key not in wanted_by_key:
                open_row.cleared_at = now
                gone.append(open_row)
        for key, w in wanted_by_key.items():
            row = open_rows.get(key)
            if row is None:
                new_rows.append(Warning(kind=w.kind, key=key, unit_id=w.unit_id, path=paths[w.unit_id],
                                        case_ids=w.case_ids, details=w.details, raised_at=now, updated_at=now))
            elif row.case_ids != w.case_ids or row.details != w.details or row.unit_id != w.unit_id:
                row.case_ids, row.details, row.unit_id, row.path = w.case_ids, w.details, w.unit_id, paths[w.unit_id]
                row.updated_at = now
                changed_rows.append(row)
        Warning.objects.bulk_update(gone, ["cleared_at"], batch_size=1000)
        Warning.objects.bulk_update(changed_rows, ["case_ids", "details", "unit", "path", "updated_at"],
                                    batch_size=1000)
        Warning.objects.bulk_create(new_rows, batch_size=1000)
        notices.announce_warnings(new_rows)
        raised, updated, cleared = len(new_rows), len(changed_rows), len(gone)
    return WarningsResult(raised=raised, updated=updated, cleared=cleared, open=len(wanted_by_key))


def refresh_warnings(*, now: datetime.datetime | None = None) -> WarningsResult:
    """Raise the warnings whose rules hold at `now`, update the figures and cases of those still open, clear
    those that no longer hold; system work, no actor. Idempotent: a doubled run writes nothing (one open
    warning per key, kept by a partial unique constraint too), a missed one is made good by the next. The rules
    read outside the transaction (SQLite's write lock); only the warnings are written inside it."""
    now = now or timezone.now()
    wanted = [*_hotspots(now), *_overdue_clusters(now), *_dispute_flags(now), *_unvisited_key_persons(now)]
    return _apply(wanted, now)


@transaction.atomic
def acknowledge_warning(*, actor: User | AnonymousUser, warning: Warning, note: str | None) -> Warning:
    """签收: the person answering for the warning's unit says they have taken it up, with a note. Refused
    (NotFound) outside the actor's scope, Forbidden without a command-centre post over the unit; a second
    acknowledgement answers with the first (the row keeps who, when and the note: the log of it)."""
    if not policies.can_view_warning(actor, warning):
        raise NotFound()
    if not policies.can_acknowledge_warning(actor, warning):
        raise Forbidden(_("只有指挥中心调度员或督查员可以签收风险预警。"))
    locked = Warning.objects.select_for_update().get(pk=warning.pk)
    if locked.acknowledged_at is not None:
        return locked
    text = clean_text(note, field="note", max_length=NOTE_MAX, required_message=_("请填写签收说明。"))
    assert isinstance(actor, User)
    locked.acknowledged_by, locked.acknowledged_at, locked.acknowledgement_note = actor, timezone.now(), text
    locked.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note"])
    return locked


# Task lists (任务清单, M16) -------------------------------------------------------------------------------------
#
# Every change of a task is one function here and writes one `TaskLog` row (who, when, what; the figures of the
# change in `details`); nothing else changes `Task.status`. Each checks visibility first (NotFound, so ids cannot
# be probed), then the policy (Forbidden), then the state and the input (DomainError, nothing changed). A
# client key makes a replayed form answer with its first result: the log is searched for it before anything else
# is checked (the same person's same step answers with the first log row; someone else's key is a Conflict).

TASK_TITLE_MAX = 100
TASK_TEXT_MAX = 2000
TASK_MAX_PHOTOS = 9
TASK_MAX_DOCUMENTS = 5


def _task_step_replayed(actor: User, task: Task, action: str, client_key: str | None) -> TaskLog | None:
    if not client_key:
        return None
    first = TaskLog.objects.filter(task=task, client_key=client_key).first()
    if first is None:
        return None
    if first.actor_id != actor.pk or first.action != action:
        raise Conflict(_("该操作已由他人提交。"), code="client_key_conflict")
    return first


def _visible_task(actor: User | AnonymousUser, task: Task) -> Task:
    if not policies.can_view_task(actor, task):
        raise NotFound()
    return Task.objects.select_for_update().select_related("owner_unit", "issuing_unit").get(pk=task.pk)


def _client_key(value: str | None) -> str:
    key = (value or "").strip()
    if len(key) > CLIENT_KEY_MAX_LENGTH:
        raise DomainError(_("请求无效。"), field="client_key")
    return key


def _write_task_log(task: Task, *, actor: User | None, action: str, note: str = "",
                    details: dict[str, Any] | None = None, client_key: str = "", step_key: str = "") -> TaskLog:
    now = timezone.now()
    log = TaskLog.objects.create(task=task, actor=actor, action=action, note=note, details=details or {},
                                 status=task.status, at=now, client_key=client_key, step_key=step_key)
    if actor is not None:
        task.updated_at = now
        task.save(update_fields=["status", "progress", "deadline", "owner_person", "submitted_at", "completed_at",
                                 "on_time", "cancelled_at", "updated_at"])
    notices.announce(task=task, log=log)
    return log


def _deadline(value: datetime.date | None, *, field: str = "deadline") -> datetime.date:
    if value is None:
        raise DomainError(_("请填写完成时限。"), field=field)
    if value < timezone.localdate():
        raise DomainError(_("完成时限不能早于今天。"), field=field)
    return value


def _owner_person(owner_unit: OrgUnit, person: User | None) -> User | None:
    if person is None:
        return None
    if not Membership.objects.staff().filter(user=person, unit=owner_unit).exists():
        raise DomainError(_("责任人须是责任单位的在岗工作人员。"), field="owner_person")
    return person


@transaction.atomic
def create_task(*, actor: User | AnonymousUser, issuing_unit: OrgUnit, owner_unit: OrgUnit, title: str | None,
                deadline: datetime.date | None, description: str | None = "", category: str = TaskCategory.KEY_WORK,
                owner_person: User | None = None, parent: Task | None = None, client_key: str | None = "") -> Task:
    """下达任务: from a unit where the actor holds a command-centre post to a unit below it. A sub-task
    (`parent`) breaks down a task given to the issuing unit and is due no later than it. A retry with the same
    client key answers with the task made the first time."""
    key = _client_key(client_key)
    if not isinstance(actor, User) or not policies.issuing_units(actor):
        raise Forbidden(_("只有指挥中心调度员或督查员可以下达任务。"))
    if key:
        first = Task.objects.filter(created_by=actor, client_key=key).first()
        if first is not None:
            return first
    if not account_policies.can_view_unit(actor, owner_unit):
        raise NotFound()
    if not policies.can_issue(actor, issuing_unit, owner_unit):
        raise DomainError(_("只能向本级以下的单位下达任务。"), field="owner_unit")
    text_title = clean_text(title, field="title", max_length=TASK_TITLE_MAX, required_message=_("请填写任务名称。"))
    text = clean_text(description, field="description", max_length=TASK_TEXT_MAX)
    if category not in TaskCategory.values:
        raise DomainError(_("请选择任务类别。"), field="category")
    due = _deadline(deadline)
    if parent is not None:
        if not policies.can_view_task(actor, parent) or parent.owner_unit_id != issuing_unit.pk:
            raise DomainError(_("上级任务须是下达给本单位的任务。"), field="parent")
        if parent.status not in OPEN_TASK_STATES:
            raise DomainError(_("上级任务已结束，不能再分解。"), field="parent")
        if due > parent.deadline:
            raise DomainError(_("分解任务的完成时限不能晚于上级任务（%(date)s）。")
                              % {"date": f"{parent.deadline:%Y-%m-%d}"}, field="deadline")
    person = _owner_person(owner_unit, owner_person)
    now = timezone.now()
    task = Task.objects.create(title=text_title, description=text, category=category, issuing_unit=issuing_unit,
                               issuer_path=issuing_unit.path, owner_unit=owner_unit, owner_path=owner_unit.path,
                               owner_person=person, parent=parent, deadline=due, created_by=actor,
                               client_key=key, created_at=now, updated_at=now)
    _write_task_log(task, actor=actor, action=TaskAction.CREATE, note=text,
                    details={"deadline": due.isoformat(), "person": person.pk if person else None})
    return task


@transaction.atomic
def assign_task_person(*, actor: User | AnonymousUser, task: Task, person: User | None,
                       client_key: str | None = "") -> TaskLog:
    """指定责任人: a staff member of the owner unit (or nobody: the whole unit), by either side."""
    key = _client_key(client_key)
    locked = _visible_task(actor, task)
    assert isinstance(actor, User)
    if (replay := _task_step_replayed(actor, locked, TaskAction.ASSIGN, key)) is not None:
        return replay
    _check_step(actor, locked, TaskAction.ASSIGN)
    locked.owner_person = _owner_person(locked.owner_unit, person)
    name = (person.real_name or person.username) if person else ""
    return _write_task_log(locked, actor=actor, action=TaskAction.ASSIGN, note=name,
                           details={"person": person.pk if person else None}, client_key=key)


def _refused(actor: User, task: Task) -> DomainError:
    """A finished task takes no more steps."""
    return DomainError(_("该任务%(status)s，不能再操作。") % {"status": task.get_status_display()}, code="state")


def _percent(value: int | None) -> int:
    if value is None:
        raise DomainError(_("请填写完成进度。"), field="percent")
    if not 0 <= value <= 100:
        raise DomainError(_("完成进度须在0到100之间。"), field="percent")
    return value


@dataclass(frozen=True)
class _StoredFile:
    kind: str
    file: str
    thumbnail: str
    name: str
    content_type: str
    sha256: str


def _store_files(photos: Sequence[UploadedFile], documents: Sequence[UploadedFile]) -> list[_StoredFile]:
    """Check and store the report's files (outside the report's transaction: decoding photos takes a while).
    Photos are re-encoded without metadata (`core.uploads.process_photo`), documents checked as PDF."""
    if len(photos) > TASK_MAX_PHOTOS:
        raise DomainError(_("最多上传%(n)d张照片。") % {"n": TASK_MAX_PHOTOS}, field="photos")
    if len(documents) > TASK_MAX_DOCUMENTS:
        raise DomainError(_("最多上传%(n)d个文件。") % {"n": TASK_MAX_DOCUMENTS}, field="documents")
    processed_photos = [uploads.process_photo(upload, index=i) for i, upload in enumerate(photos, start=1)]
    processed_documents = [uploads.process_document(upload) for upload in documents]
    folder = f"tasks/{timezone.localdate():%Y/%m}"
    stored: list[_StoredFile] = []
    for photo in processed_photos:
        stem = uuid.uuid4().hex
        name = default_storage.save(f"{folder}/{stem}.{photo.extension}", ContentFile(photo.content))
        thumb = default_storage.save(f"{folder}/thumbs/{stem}-thumb.{photo.extension}", ContentFile(photo.thumbnail))
        stored.append(_StoredFile(TaskAttachment.Kind.PHOTO, name, thumb, "", photo.content_type, photo.sha256))
    for document in processed_documents:
        name = default_storage.save(f"{folder}/{uuid.uuid4().hex}.{document.extension}",
                                    ContentFile(document.content))
        stored.append(_StoredFile(TaskAttachment.Kind.DOCUMENT, name, "", document.name, document.content_type,
                                  document.sha256))
    return stored


def _delete_stored(stored: Sequence[_StoredFile]) -> None:
    for item in stored:
        for name in (item.file, item.thumbnail):
            if name:
                default_storage.delete(name)


def report_task_progress(*, actor: User | AnonymousUser, task: Task, note: str | None, percent: int | None,
                         photos: Sequence[UploadedFile] = (), documents: Sequence[UploadedFile] = (),
                         client_key: str | None = "") -> TaskReport:
    """报告进展: the owner unit's staff report what was done (a note, the percent done, photos and PDF
    documents). The first report starts the task (未开始 → 进行中). Everything is checked before the files are
    processed, and the files before the transaction that writes the report (it holds the database's write lock,
    which decoding photos must not); should the transaction fail, the stored files are deleted again."""
    key = _client_key(client_key)
    if not policies.can_view_task(actor, task):
        raise NotFound()
    assert isinstance(actor, User)
    if (replay := _task_step_replayed(actor, task, TaskAction.REPORT, key)) is not None:
        return replay.report
    _check_step(actor, task, TaskAction.REPORT)
    text = clean_text(note, field="note", max_length=TASK_TEXT_MAX, required_message=_("请填写进展情况。"))
    value = _percent(percent)
    stored = _store_files(list(photos), list(documents))
    try:
        return _record_report(actor=actor, task=task, note=text, percent=value, stored=stored, client_key=key)
    except IntegrityError:
        _delete_stored(stored)
        # The same form sent twice at once: the other request wrote the report with this key first.
        if (replay := _task_step_replayed(actor, task, TaskAction.REPORT, key)) is not None:
            return replay.report
        raise
    except BaseException:
        _delete_stored(stored)
        raise


@transaction.atomic
def _record_report(*, actor: User, task: Task, note: str, percent: int, stored: Sequence[_StoredFile],
                   client_key: str) -> TaskReport:
    locked = _visible_task(actor, task)
    _check_step(actor, locked, TaskAction.REPORT)  # the task may have moved on meanwhile
    locked.progress = percent
    if locked.status == TaskStatus.NOT_STARTED:
        locked.status = TaskStatus.IN_PROGRESS
    log = _write_task_log(locked, actor=actor, action=TaskAction.REPORT, note=note, details={"percent": percent},
                          client_key=client_key)
    report = TaskReport.objects.create(task=locked, log=log, author=actor, note=note, percent=percent,
                                       created_at=log.at)
    TaskAttachment.objects.bulk_create([
        TaskAttachment(task=locked, log=log, kind=item.kind, file=item.file, thumbnail=item.thumbnail, name=item.name,
                       content_type=item.content_type, sha256=item.sha256, uploaded_by=actor) for item in stored])
    return report


def _check_step(actor: User, task: Task, step: str) -> None:
    """The step's side first (Forbidden: not the actor's to take), then the task's state (a DomainError saying
    what the task is now), from the one table `policies.TASK_STEPS`."""
    side, states = policies.TASK_STEPS[step]
    if not side(actor, task):
        raise Forbidden()
    if task.status not in states:
        if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
            raise _refused(actor, task)
        raise DomainError(_("任务当前为“%(status)s”，不能%(action)s。") % {
            "status": task.get_status_display(), "action": TaskAction(step).label}, code="state")


def _task_step(*, actor: User | AnonymousUser, task: Task, action: str,
               client_key: str | None) -> tuple[Task, TaskLog | None, str]:
    key = _client_key(client_key)
    locked = _visible_task(actor, task)
    assert isinstance(actor, User)
    replay = _task_step_replayed(actor, locked, action, key)
    if replay is None:
        _check_step(actor, locked, action)
    return locked, replay, key


@transaction.atomic
def submit_task(*, actor: User | AnonymousUser, task: Task, note: str | None, client_key: str | None = "") -> TaskLog:
    """提交完成: the owner unit says the task is done (a note on what was done); the issuer then confirms it or
    sends it back."""
    locked, replay, key = _task_step(actor=actor, task=task, action=TaskAction.SUBMIT, client_key=client_key)
    if replay is not None:
        return replay
    text = clean_text(note, field="note", max_length=TASK_TEXT_MAX, required_message=_("请填写完成情况。"))
    assert isinstance(actor, User)
    locked.status, locked.progress, locked.submitted_at = TaskStatus.SUBMITTED, 100, timezone.now()
    return _write_task_log(locked, actor=actor, action=TaskAction.SUBMIT, note=text, client_key=key)


@transaction.atomic
def confirm_task(*, actor: User | AnonymousUser, task: Task, note: str | None = "",
                 client_key: str | None = "") -> TaskLog:
    """确认完成 (the issuer): the task is done, on time when it was submitted on or before its deadline."""
    locked, replay, key = _task_step(actor=actor, task=task, action=TaskAction.CONFIRM, client_key=client_key)
    if replay is not None:
        return replay
    text = clean_text(note, field="note", max_length=TASK_TEXT_MAX)
    assert isinstance(actor, User) and locked.submitted_at is not None
    locked.status, locked.completed_at = TaskStatus.DONE, timezone.now()
    locked.on_time = timezone.localtime(locked.submitted_at).date() <= locked.deadline
    return _write_task_log(locked, actor=actor, action=TaskAction.CONFIRM, note=text,
                           details={"on_time": locked.on_time}, client_key=key)


@transaction.atomic
def send_back_task(*, actor: User | AnonymousUser, task: Task, reason: str | None,
                   client_key: str | None = "") -> TaskLog:
    """退回 (the issuer): not done yet, with the reason; the task is in progress again."""
    locked, replay, key = _task_step(actor=actor, task=task, action=TaskAction.SEND_BACK, client_key=client_key)
    if replay is not None:
        return replay
    text = clean_text(reason, field="reason", max_length=TASK_TEXT_MAX, required_message=_("请填写退回的理由。"))
    assert isinstance(actor, User)
    locked.status, locked.submitted_at = TaskStatus.IN_PROGRESS, None
    return _write_task_log(locked, actor=actor, action=TaskAction.SEND_BACK, note=text, client_key=key)


@transaction.atomic
def cancel_task(*, actor: User | AnonymousUser, task: Task, reason: str | None,
                client_key: str | None = "") -> TaskLog:
    """撤销 (the issuer), with the reason. A cancelled task counts in no figure."""
    locked, replay, key = _task_step(actor=actor, task=task, action=TaskAction.CANCEL, client_key=client_key)
    if replay is not None:
        return replay
    text = clean_text(reason, field="reason", max_length=TASK_TEXT_MAX, required_message=_("请填写撤销的理由。"))
    assert isinstance(actor, User)
    locked.status, locked.cancelled_at = TaskStatus.CANCELLED, timezone.now()
    return _write_task_log(locked, actor=actor, action=TaskAction.CANCEL, note=text, client_key=key)


@transaction.atomic
def extend_task_deadline(*, actor: User | AnonymousUser, task: Task, deadline: datetime.date | None,
                         reason: str | None, client_key: str | None = "") -> TaskLog:
    """延长时限 (the issuer): a later deadline, with the reason; the log keeps the old and the new date, and the
    sweep's reminders start again for the new one."""
    locked, replay, key = _task_step(actor=actor, task=task, action=TaskAction.EXTEND, client_key=client_key)
    if replay is not None:
        return replay
    due = _deadline(deadline)
    if due <= locked.deadline:
        raise DomainError(_("新的完成时限须晚于原时限（%(date)s）。") % {"date": f"{locked.deadline:%Y-%m-%d}"},
                          field="deadline")
    text = clean_text(reason, field="reason", max_length=TASK_TEXT_MAX, required_message=_("请填写延期的理由。"))
    assert isinstance(actor, User)
    old = locked.deadline
    locked.deadline = due
    return _write_task_log(locked, actor=actor, action=TaskAction.EXTEND, note=text,
                           details={"from": old.isoformat(), "to": due.isoformat()}, client_key=key)


@dataclass(frozen=True)
class TaskSweepResult:
    due_soon: int
    overdue: int


def sweep_tasks(*, now: datetime.datetime | None = None) -> TaskSweepResult:
    """The task lists' part of the periodic sweep: reminds the owner unit once when an open task's deadline
    comes within `selectors.DUE_SOON_WORKING_DAYS` working days (即将到期, the yellow flag), and once when it
    has passed (已超期). Each reminder is a log row unique per task × step key ("due_soon:<date>",
    "overdue:<date>"), so a doubled run writes nothing and a missed one catches up; an extended deadline gets its
    own reminders. Only open tasks (未开始, 进行中) are reminded: a submitted one waits for its issuer. A task
    already overdue when first swept gets only the overdue reminder."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    soon = due_soon_until(now)
    open_tasks = Task.objects.filter(status__in=OPEN_TASK_STATES, deadline__lte=soon).order_by("deadline", "pk")
    counts = {TaskAction.DUE_SOON: 0, TaskAction.OVERDUE: 0}
    for task in open_tasks.iterator(chunk_size=500):
        action = TaskAction.OVERDUE if task.deadline < today else TaskAction.DUE_SOON
        step_key = f"{action}:{task.deadline.isoformat()}"
        if TaskLog.objects.filter(task=task, step_key=step_key).exists():
            continue
        try:
            with transaction.atomic():
                _write_task_log(task, actor=None, action=action, step_key=step_key,
                                details={"deadline": task.deadline.isoformat()})
        except IntegrityError:  # another run wrote it meanwhile
            continue
        counts[action] += 1
    return TaskSweepResult(due_soon=counts[TaskAction.DUE_SOON], overdue=counts[TaskAction.OVERDUE])
