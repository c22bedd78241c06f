"""Writes of the analytics app: the map's grid states (民情地图 红/黄/蓝).

The colour rule (`RULE`, shown in words on the map's legend):
    red     the grid has an open case past a limit (flag red: a response or handling limit, or a 督办 order's),
            or an unresolved dispute at risk (重复纠纷 or 民转刑风险, `cases.selectors.dispute_at_risk_q`);
    yellow  otherwise, an open case whose limit is coming due (flag yellow, `cases.deadlines.horizons`);
    blue    anything else, with or without open cases.
A case counts in the grid it lies in (`Case.grid`), whoever holds it now.

`refresh_grid_states` recomputes every grid in two grouped queries over the open cases and writes only the
rows that changed; `tasks.refresh_grid_states` runs it every minute, so a page shows states at most about a
minute old and says when they were computed (`GridStateRun.refreshed_at`).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from gongzhi.analytics.models import Colour, GridState, GridStateRun
from gongzhi.cases.models import Case
from gongzhi.cases.selectors import UNRESOLVED_STATES, dispute_at_risk_q, with_flags
from gongzhi.cases.workflow import OPEN_STATES, Flag
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


def _counts(now: datetime.datetime) -> tuple[dict[int, dict[str, int]], dict[int, int]]:
    open_cases = with_flags(Case.objects.filter(status__in=OPEN_STATES, grid__isnull=False), now=now)
    counts = {row.pop("grid_id"): row for row in open_cases.values("grid_id").annotate(
        open_cases=Count("pk"), red_cases=Count("pk", filter=Q(flag=Flag.RED.value)),
        yellow_cases=Count("pk", filter=Q(flag=Flag.YELLOW.value))).order_by()}
    disputes = dict(Case.objects.filter(status__in=UNRESOLVED_STATES, grid__isnull=False)
                    .filter(dispute_at_risk_q(now)).values("grid_id").annotate(n=Count("pk"))
                    .order_by().values_list("grid_id", "n"))
    return counts, disputes


@transaction.atomic
def refresh_grid_states(*, now: datetime.datetime | None = None) -> RefreshResult:
    """Recompute every active grid's state as of `now`; system work, no actor. Idempotent: a doubled run
    writes nothing, a missed one is made good by the next."""
    started = time.perf_counter()
    now = now or timezone.now()
    counts, disputes = _counts(now)
    grids = dict(OrgUnit.objects.filter(level=Level.GRID, kind=UnitKind.AREA, is_active=True)
                 .values_list("pk", "path"))
    old = {state.pk: state for state in GridState.objects.all()}
    new_rows, changed_rows = [], []
    for grid_id, path in grids.items():
        figures = counts.get(grid_id, {})
        red, yellow, risky = figures.get("red_cases", 0), figures.get("yellow_cases", 0), disputes.get(grid_id, 0)
        values: dict[str, int | str] = {
            "path": path, "open_cases": figures.get("open_cases", 0), "red_cases": red, "yellow_cases": yellow,
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
    GridState.objects.bulk_create(new_rows, batch_size=1000)
    GridState.objects.bulk_update(changed_rows, [*_FIELDS, "changed_at"], batch_size=1000)
    GridState.objects.filter(pk__in=gone).delete()
    changed = len(new_rows) + len(changed_rows) + len(gone)
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
