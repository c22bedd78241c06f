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
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.analytics import policies
from gongzhi.analytics.models import Colour, GridState, GridStateRun, Warning, WarningKind
from gongzhi.cases.deadlines import HANDLE_PENDING, RESPOND_PENDING, horizons
from gongzhi.cases.models import Assignment, Case, CategoryKind, SupervisionOrder
from gongzhi.cases.selectors import UNRESOLVED_STATES, dispute_at_risk_q, flag_q, with_dispute_risks, with_flags
from gongzhi.cases.workflow import OPEN_STATES, Flag, Status
from gongzhi.core.errors import Forbidden, NotFound
from gongzhi.core.text import clean_text
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
    details: dict[str, int | float]


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
        raised, updated, cleared = len(new_rows), len(changed_rows), len(gone)
    return WarningsResult(raised=raised, updated=updated, cleared=cleared, open=len(wanted_by_key))


def refresh_warnings(*, now: datetime.datetime | None = None) -> WarningsResult:
    """Raise the warnings whose rules hold at `now`, update the figures and cases of those still open, clear
    those that no longer hold; system work, no actor. Idempotent: a doubled run writes nothing (one open
    warning per key, kept by a partial unique constraint too), a missed one is made good by the next. The rules
    read outside the transaction (SQLite's write lock); only the warnings are written inside it."""
    now = now or timezone.now()
    wanted = [*_hotspots(now), *_overdue_clusters(now), *_dispute_flags(now)]
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
