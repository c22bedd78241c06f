"""The supervision sweep: the periodic pass over time limits and 督办 orders (`run_sweep`, every 5 minutes).

Which limit runs in which state, and when one is coming due or has passed, is `cases.deadlines`; this
module acts on it: it reminds once before a limit, marks it overdue once, escalates after the grace day,
reminds the issuer of an overdue 督办 order, and archives finished cases (归档).

Escalation
    A case still overdue on its handling limit after a grace of one working day (past the close of office
    hours on the first workday after the deadline's date) is escalated by the system
    (`transition(actor=None, action=ESCALATE)`) to the next level's command centre, which must
    then accept it. A case held by the city's command centre has no level above: it stays marked overdue.

Idempotency
    Every step carries a `step_key` naming the case, the limit and the deadline value
    (`remind:handle:<epoch>`, `overdue:respond:<epoch>`, `escalate:handle:<epoch>`,
    `supervision:<order id>:overdue`); `CaseLog` is unique per (case, step_key). A doubled run therefore
    writes nothing, a missed run catches up (a reminder whose limit already passed is not sent late; the
    overdue mark is), and a new deadline (reopened, escalated and accepted again) starts its own steps.
    Reminders and overdue marks are written in bulk exactly as `transition` would write them (same seq rule,
    no status change, not public); only escalations change a status, and they go through `transition`.

Archiving (归档)
    A finished case that has been rated (已评价), or that was closed (结案, 不予受理, merged) longer ago than the
    rating window (`deadlines.rating_closed_before`), is archived: one `archive` log row (system, internal,
    step_key "archive") and `Case.archived_at`. It leaves the work lists (`selectors.cases_for`), keeps its
    page and number, and is listed under 已归档. A run archives at most `MAX_ARCHIVED_PER_RUN` cases, the
    longest closed first, in two set-based statements found through the partial index of finished cases not
    yet archived; a backlog (the first runs after an upgrade) spreads over the runs that follow.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models import Case as SqlCase
from django.db.models.constants import OnConflict
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.cases import deadlines, notices, policies
from gongzhi.cases.deadlines import HANDLE_PENDING, RESPOND_PENDING, Horizons, Limit
from gongzhi.cases.models import Assignment, Case, CaseLog, SupervisionOrder
from gongzhi.cases.services.transition import transition
from gongzhi.cases.workflow import FINAL_STATES, Action, Capacity, Status, transition_for
from gongzhi.core.errors import DomainError
from gongzhi.org.models import Level

logger = logging.getLogger(__name__)

# Escalations go through `transition` one case at a time; a catch-up after a long outage spreads over runs.
MAX_ESCALATIONS_PER_RUN = 500
# Rows per executemany call.
_INSERT_BATCH = 5000
# Cases archived per run, in one transaction: a backlog spreads over the runs that follow (the write lock is
# held for one bounded batch, ~0.1 s on SQLite).
MAX_ARCHIVED_PER_RUN = 2000
ARCHIVE_KEY = "archive"


@dataclass
class SweepReport:
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    escalations_left: int = 0  # over MAX_ESCALATIONS_PER_RUN; the next run takes them
    escalations_failed: int = 0
    supervision_overdue: int = 0
    archived: int = 0

    @property
    def written(self) -> int:
        """Log rows and status changes this run made (0 for a run right after another)."""
        return self.reminders + self.overdue + self.escalations + self.supervision_overdue + self.archived

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------------------
# Reminders and overdue marks, in bulk


@dataclass(frozen=True)
class _Step:
    prefix: str  # "remind" | "overdue"
    limit: str
    action: str
    note: str

    @property
    def key_prefix(self) -> str:
        return f"{self.prefix}:{self.limit}:"

    def key(self, due: datetime.datetime) -> str:
        return f"{self.key_prefix}{int(due.timestamp())}"


def _due_filter(step: _Step, h: Horizons) -> Q:
    statuses, field = ((RESPOND_PENDING, "respond_due") if step.limit == Limit.RESPOND
                       else (HANDLE_PENDING, "handle_due"))
    if step.prefix == "overdue":
        window = Q(**{f"{field}__lt": h.now})
    else:
        until = h.respond_warn_until if step.limit == Limit.RESPOND else h.handle_warn_until
        window = Q(**{f"{field}__gte": h.now, f"{field}__lte": until})
    return Q(status__in=statuses) & window


@dataclass(frozen=True)
class _Written:
    case_id: int
    unit_id: int  # the unit working on the case: its active lead unit, else the holding level
    is_lead: bool


def _insert_logs(rows: list[tuple[Any, ...]]) -> None:
    """INSERT the rows (in `_LOG_COLUMNS` order) skipping any that would break a unique constraint: a
    concurrent sweep wrote the step, or a concurrent transition took the seq; the next run retries those."""
    ops = connection.ops
    by_name = {field.name: field for field in CaseLog._meta.concrete_fields}
    fields = [by_name[name] for name in _LOG_COLUMNS]
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = (f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {ops.quote_name(CaseLog._meta.db_table)} "
           f"({columns}) VALUES ({marks}) {ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)}")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_BATCH):
            cursor.executemany(sql, rows[start:start + _INSERT_BATCH])


_LOG_COLUMNS = ("case", "seq", "action", "from_status", "to_status", "actor", "actor_unit", "note", "is_public",
                "deadlines", "step_key", "created_at")


def _write_steps(step: _Step, h: Horizons) -> list[_Written]:
    """Write the missing `step` rows for every case it is due on, as `transition` would write them.

    One query finds the cases with, for each, its last seq, its latest key of this kind (the key of the
    current deadline once written: deadlines only move forward) and the unit working on it; one INSERT
    writes the rows."""
    rule = transition_for(step.action)
    assert rule is not None and Capacity.SYSTEM in rule.capacities
    logs = CaseLog.objects.filter(case_id=OuterRef("pk")).order_by("-seq")
    lead = Assignment.objects.filter(case_id=OuterRef("pk"), is_active=True, role=Assignment.Role.LEAD)
    candidates = (
        Case.objects.filter(_due_filter(step, h)).order_by()
        .annotate(last_seq=Subquery(logs.values("seq")[:1]),
                  last_key=Subquery(logs.filter(step_key__startswith=step.key_prefix).values("step_key")[:1]),
                  lead_unit=Subquery(lead.values("unit_id")[:1]))
        .values_list("pk", "status", "respond_due", "handle_due", "last_seq", "last_key", "lead_unit", "holder_id"))
    deadlines_field = CaseLog._meta.get_field("deadlines")
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    rows: list[tuple[Any, ...]] = []
    written: list[_Written] = []
    for pk, status, respond_due, handle_due, last_seq, last_key, lead_unit, holder_id in candidates:
        due = respond_due if step.limit == Limit.RESPOND else handle_due
        assert due is not None  # the filter compared it with a moment
        key = step.key(due)
        if key == last_key:
            continue
        snapshot = deadlines.snapshot(respond_due, handle_due)
        rows.append((pk, (last_seq or 0) + 1, step.action, status, status, None, None, step.note, rule.public,
                     deadlines_field.get_db_prep_save(snapshot, connection), key, created_at))
        written.append(_Written(pk, lead_unit or holder_id, lead_unit is not None))
    _insert_logs(rows)
    return written


def _steps() -> list[_Step]:
    return [
        _Step("overdue", Limit.RESPOND, Action.MARK_OVERDUE, _("响应期限已过，尚未受理。")),
        _Step("overdue", Limit.HANDLE, Action.MARK_OVERDUE, _("办理期限已过，尚未办结。")),
        _Step("remind", Limit.RESPOND, Action.REMIND, _("响应期限即将到期，请及时受理。")),
        _Step("remind", Limit.HANDLE, Action.REMIND, _("办理期限即将到期，请及时办结。")),
    ]


# ---------------------------------------------------------------------------------------------------------
# Notifications to the units concerned


def _notify_limits(written: list[tuple[_Written, bool]], h: Horizons) -> None:
    """One digest per unit and run, only for steps this run wrote (so a doubled run notifies nobody).

    As `notices.handlers_of` says for one reminder: the staff of the lead unit working on a case
    (ASSIGNEE), else the dispatchers of the holding level (DISPATCHER). Who holds that capacity depends only
    on the unit, so one case of each unit stands for all of them in `policies.users_with_capacity_in`."""
    counts: dict[tuple[int, bool], list[int]] = defaultdict(lambda: [0, 0])
    sample: dict[tuple[int, bool], int] = {}
    for row, is_overdue in written:
        counts[row.unit_id, row.is_lead][1 if is_overdue else 0] += 1
        sample.setdefault((row.unit_id, row.is_lead), row.case_id)
    if not counts:
        return
    cases = Case.objects.select_related("holder").in_bulk(sample.values())
    people: dict[int, list[User]] = {}
    for is_lead, capacity in ((True, Capacity.ASSIGNEE), (False, Capacity.DISPATCHER)):
        group = [cases[case_id] for (_unit, lead), case_id in sample.items() if lead == is_lead and case_id in cases]
        people.update(policies.users_with_capacity_in(group, capacity))
    stamp = int(h.now.timestamp())
    with translation.override(settings.LANGUAGE_CODE):
        for (unit_id, is_lead), (coming, passed) in counts.items():
            recipients = people.get(sample[unit_id, is_lead], [])
            if recipients:
                notices.send(
                    notice="case.limits_due", recipients=recipients, title=_("事件办理时限提醒"),
                    body=_("即将到期%(coming)d件，已超期%(passed)d件，请及时处理。") % {
                        "coming": coming, "passed": passed},
                    dedupe_key=f"case-limits:{unit_id}:{stamp}")


# ---------------------------------------------------------------------------------------------------------
# Escalation after the grace period


def _escalate_overdue(h: Horizons, report: SweepReport) -> None:
    due = (Case.objects.filter(status__in=HANDLE_PENDING, handle_due__lt=h.escalate_before)
           .exclude(holder__level=Level.CITY).order_by("handle_due", "pk"))
    batch = list(due.values_list("pk", "handle_due")[:MAX_ESCALATIONS_PER_RUN + 1])
    if len(batch) > MAX_ESCALATIONS_PER_RUN:
        report.escalations_left = due.count() - MAX_ESCALATIONS_PER_RUN
    note = _("办理期限已过，宽限期内仍未办结，系统自动上报上级指挥中心。")
    for pk, handle_due in batch[:MAX_ESCALATIONS_PER_RUN]:
        assert handle_due is not None  # compared with a moment above
        key = f"escalate:{Limit.HANDLE}:{int(handle_due.timestamp())}"
        try:
            case = transition(actor=None, case=Case(pk=pk), action=Action.ESCALATE, note=note, step_key=key)
        except DomainError as exc:  # e.g. a tree without a level above; the case stays marked overdue
            logger.warning("case %s: automatic escalation refused (%s)", pk, exc.code)
            report.escalations_failed += 1
            continue
        if case.status == Status.ESCALATED:  # else a concurrent sweep escalated it first
            report.escalations += 1  # transition's notices tell the new holder's command centre


# ---------------------------------------------------------------------------------------------------------
# 督办 orders past their limit


def _sweep_supervision(h: Horizons, report: SweepReport) -> None:
    remindable = transition_for(Action.REMIND)
    assert remindable is not None
    key = Concat(Value("supervision:"), Cast("pk", CharField()), Value(":overdue"), output_field=CharField())
    # From the orders (few) to their cases, never the other way: a condition on the case's status here let
    # SQLite's planner walk a million cases to find no order at all (2 s per run, measured in issue 10). The
    # status is checked on the few orders found.
    orders: QuerySet[SupervisionOrder] = (
        SupervisionOrder.objects.filter(fulfilled_at__isnull=True, due_at__lt=h.now)
        .annotate(key=key)
        .filter(~Exists(CaseLog.objects.filter(case_id=OuterRef("case_id"), step_key=OuterRef("key"))))
        .select_related("case__holder", "issued_by", "issuing_unit").order_by("due_at", "pk"))
    for order in orders:
        if order.case.status not in remindable.sources:
            continue
        step_key = f"supervision:{order.pk}:overdue"
        with transaction.atomic():
            transition(actor=None, case=order.case, action=Action.REMIND, step_key=step_key,
                       note=_("督办期限已过，事件尚未办结。"))
            # The issuer, and whoever watches over the case from the issuing unit (its supervisors and
            # dispatchers, who hold it themselves once it was escalated to them).
            watchers = policies.users_with_capacity(order.case, {Capacity.SUPERVISOR, Capacity.DISPATCHER},
                                                    units=[order.issuing_unit])
            recipients = [order.issued_by, *watchers]
            with translation.override(settings.LANGUAGE_CODE):
                notices.send(
                    notice="case.supervision_overdue", recipients=list({u.pk: u for u in recipients}.values()),
                    title=_("督办事件已超期"),
                    body=_("您督办的事件%(number)s已超过督办期限，尚未办结。") % {"number": order.case.number},
                    target_id=order.case_id, dedupe_key=f"case:{order.case_id}:{step_key}")
        report.supervision_overdue += 1


# ---------------------------------------------------------------------------------------------------------
# Archiving finished cases


def _archive(h: Horizons, report: SweepReport) -> None:
    """Archive up to MAX_ARCHIVED_PER_RUN finished cases (see the module note): one SELECT of the batch, one
    INSERT of their `archive` rows, one UPDATE of `archived_at` for those whose row is there (a row skipped
    because a concurrent step took its seq is retried by the next run)."""
    rule = transition_for(Action.ARCHIVE)
    assert rule is not None and Capacity.SYSTEM in rule.capacities
    past_window = deadlines.rating_closed_before(h.now)
    # closed_at IS NOT NULL AND archived_at IS NULL: the partial index case_closed_not_archived, in closed_at
    # order, so the database reads the few unarchived finished cases and never the archived millions (a set
    # closed_at means a finished case: reopening clears it). "Rated" is asked as an expression, not as a plain
    # condition on the status: without statistics (nothing runs ANALYZE) SQLite answered `status = 'rated'`
    # from the status index, walking every rated case of past years (0.75 s a run over a million).
    rated = SqlCase(When(status=Status.RATED, then=Value(True)), default=Value(False), output_field=BooleanField())
    logs = CaseLog.objects.filter(case_id=OuterRef("pk")).order_by("-seq")
    due = (Case.objects.filter(closed_at__isnull=False, archived_at__isnull=True)
           .alias(rated=rated).filter(Q(rated=True) | Q(closed_at__lt=past_window))
           .order_by("closed_at", "pk")
           .annotate(last_seq=Subquery(logs.values("seq")[:1]))
           .values_list("pk", "status", "respond_due", "handle_due", "last_seq"))
    rated_note = _("群众已评价，自动归档。")
    window_note = _("结案已满%(days)d天，自动归档。") % {"days": settings.CASE_RATING_WINDOW_DAYS}
    deadlines_field = CaseLog._meta.get_field("deadlines")
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        rows: list[tuple[Any, ...]] = []
        for pk, status, respond_due, handle_due, last_seq in due[:MAX_ARCHIVED_PER_RUN]:
            if status not in FINAL_STATES:  # pragma: no cover - closed_at is cleared when a case reopens
                continue
            snapshot = deadlines.snapshot(respond_due, handle_due)
            rows.append((pk, (last_seq or 0) + 1, Action.ARCHIVE, status, status, None, None,
                         rated_note if status == Status.RATED else window_note, rule.public,
                         deadlines_field.get_db_prep_save(snapshot, connection), ARCHIVE_KEY, created_at))
        if not rows:
            return
        _insert_logs(rows)
        written = CaseLog.objects.filter(case_id=OuterRef("pk"), step_key=ARCHIVE_KEY)
        report.archived = (Case.objects.filter(pk__in=[row[0] for row in rows], archived_at__isnull=True)
                           .filter(Exists(written)).update(archived_at=h.now))


# ---------------------------------------------------------------------------------------------------------
# The sweep


def run_sweep(*, now: datetime.datetime | None = None) -> SweepReport:
    """One pass of the supervision sweep (Huey runs it every 5 minutes); see the module note.

    Each phase commits on its own, so a failure in a late phase keeps the earlier ones' work, and the next
    run redoes only what is missing."""
    h = deadlines.horizons(now)
    report = SweepReport()
    written: list[tuple[_Written, bool]] = []
    with transaction.atomic():
        for step in _steps():
            rows = _write_steps(step, h)
            written.extend((row, step.prefix == "overdue") for row in rows)
            if step.prefix == "overdue":
                report.overdue += len(rows)
            else:
                report.reminders += len(rows)
        _notify_limits(written, h)
    _escalate_overdue(h, report)
    _sweep_supervision(h, report)
    _archive(h, report)
    if report.written:
        logger.info("case sweep: %s", report.as_dict())
    return report
