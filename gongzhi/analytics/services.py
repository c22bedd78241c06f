"""Writes of the analytics app: the map's grid states (民情地图 红/黄/蓝).

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
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from gongzhi.analytics.models import Colour, GridState, GridStateRun
from gongzhi.cases.deadlines import HANDLE_PENDING, RESPOND_PENDING, horizons
from gongzhi.cases.models import Case, SupervisionOrder
from gongzhi.cases.selectors import UNRESOLVED_STATES, dispute_at_risk_q, with_flags
from gongzhi.cases.workflow import OPEN_STATES, Flag, Status
from gongzhi.org.models import Level, OrgUnit, UnitKind

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
