"""The KPI rollups as a fold over the case log and the ratings (the tables: `analytics.models.rollups`).

`catch_up()` (a periodic task, every minute) reads the case log rows and ratings written since its last run,
in batches, each batch in its own short transaction: it updates the cases' `CaseTrack` rows and adds the
effects to `KpiCount`. What a log row counts for (`_Fold.log_row`):

- 上报 (the first row): `reported`, in the month it was reported.
- A first response to a reported or escalated case (受理, 不予受理, 现场答复办结): `responded`, and
  `responded_on_time` when it came by the response limit in force (the row's deadline snapshot); for the
  area and for the unit that responded.
- 受理 or 现场答复办结, the first time: the case joins its report month's `cohort_accepted`.
- 办结 (现场答复办结 or 办结): `handled`; `handled_on_time` by the handling limit in force (a case answered on
  the spot has none: by its response limit); `handled_at_village` when a village or a grid did it;
  `handling_days`, the office days from the report; for the area, the unit that did it and the person. The
  case counts in its cohort's `cohort_done` until it is reopened.
- 回访未解决 or 不满意 (reopened): `reopened`, for the area and for the unit and person who handled it last.
- 合并 or 不予受理 of an accepted case that is not 办结: it leaves its cohort (`cohort_accepted` − 1).
A rating counts in the month it was given: `rated` and `satisfied` / `basic` / `unsatisfied`, for the case's
area and the unit that handled it (`Rating.handling_unit`).

Every area count goes to the case's area and every area above it, so a level is read from one row.

The dashboard's compact tables are folded in the same batch and transaction: `DayCount` (上报 on its day as
`reported`, each step into 办结 on its day as `handled`) and `CategoryCount` (上报 in its month by the case's
大类, `mix_category_id`), both for the areas above the case's grid only (city, county, township, village; see
`DayCount` for why not grids).

Only rows older than ROLLUP_SETTLE_SECONDS are read: on PostgreSQL a row's id is drawn before its
transaction commits, so a later id can become visible first; a cursor that waited for every transaction to
settle cannot step over one. `check()` (nightly) compares the rows the cursor passed with the log; should one
have been skipped after all, `rebuild()` folds everything again.
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gongzhi.analytics.models import FIELDS, CaseTrack, CategoryCount, DayCount, KpiCount, RollupCursor, Subject
from gongzhi.cases import categories
from gongzhi.cases.models import CaseLog, Rating
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.workcalendar import OfficeClock
from gongzhi.org.models import Level

BATCH = 2000
CURSOR = "kpi"
RESPONSES = frozenset({Action.ACCEPT, Action.REJECT, Action.RESOLVE_ON_SPOT})
AWAITING_RESPONSE = frozenset({Status.REPORTED, Status.ESCALATED})
ACCEPTING = frozenset({Action.ACCEPT, Action.RESOLVE_ON_SPOT})
LEAVING_COHORT = frozenset({Action.MERGE, Action.REJECT})
VILLAGE_LEVELS = frozenset({Level.VILLAGE, Level.GRID})
_LOG_FIELDS = ("pk", "case_id", "action", "from_status", "to_status", "actor_id", "actor_unit__path",
               "actor_unit__level", "deadlines", "created_at", "case__created_at", "case__area_path",
               "case__grid_id", "case__category_id")

Key = tuple[str, datetime.date, str, int]  # subject, month, path, worker id (0: none)


def month_of(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date().replace(day=1)


def area_paths(path: str) -> list[str]:
    """The path of an area and of every area above it: "a/b/c/" → ["a/", "a/b/", "a/b/c/"]."""
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))] if path else []


def day_paths(area_path: str, *, in_grid: bool) -> list[str]:
    """The areas a case's daily and category counts go to: every area above its grid, not the grid itself (a
    case placed in no grid: its area and those above)."""
    paths = area_paths(area_path)
    return paths[:-1] if in_grid else paths


def mix_category_id(category_id: int) -> int:
    """The category a case counts under in the category mix: its 大类, the one below the top of its lineage
    (环境卫生类, 治安隐患类, 婚姻家庭纠纷 …). The top level is only the four kinds (村民说事, 网格事项, 矛盾纠纷,
    投诉举报), which says little as a mix; the kinds are the sums of their 大类 (`selectors.category_mix`)."""
    category = categories.by_id(category_id)
    if category is None:
        return category_id
    lineage = categories.lineage(category)
    return lineage[-2].pk if len(lineage) >= 2 else lineage[-1].pk


def _moment(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


@dataclass
class _Fold:
    """The effects of one batch: count deltas by key, and the cases' tracks as they are after it."""

    tracks: dict[int, CaseTrack]
    clock: OfficeClock
    deltas: dict[Key, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    changed: set[int] = field(default_factory=set)
    days: dict[tuple[str, datetime.date], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    mix: dict[tuple[str, datetime.date, int], int] = field(default_factory=lambda: defaultdict(int))
    tops: dict[int, int] = field(default_factory=dict)  # category → its 大类 (`mix_category_id`), this batch

    def add(self, subject: str, month: datetime.date, path: str, counts: Mapping[str, float], worker: int = 0) -> None:
        if not path:
            return
        row = self.deltas[(subject, month, path, worker)]
        for name, value in counts.items():
            row[name] += value

    def area(self, track: CaseTrack, month: datetime.date, counts: Mapping[str, float]) -> None:
        for path in area_paths(track.area_path):
            self.add(Subject.AREA, month, path, counts)

    def daily(self, row: Mapping[str, Any], name: str) -> None:
        day = timezone.localtime(row["created_at"]).date()
        for path in day_paths(row["case__area_path"], in_grid=row["case__grid_id"] is not None):
            self.days[(path, day)][name] += 1

    def log_row(self, row: Mapping[str, Any]) -> None:
        track = self.tracks[row["case_id"]]
        action, at = row["action"], row["created_at"]
        month = month_of(at)
        unit_path = row["actor_unit__path"] or ""
        snapshot = row["deadlines"] or {}
        if action == Action.REPORT:
            self.area(track, month, {"reported": 1})
            self.daily(row, "reported")
            category_id = row["case__category_id"]
            if category_id not in self.tops:
                self.tops[category_id] = mix_category_id(category_id)
            category = self.tops[category_id]
            for path in day_paths(row["case__area_path"], in_grid=row["case__grid_id"] is not None):
                self.mix[(path, month, category)] += 1
        if action in RESPONSES and row["from_status"] in AWAITING_RESPONSE:
            respond_due = _moment(snapshot.get("respond_due"))
            counts = {"responded": 1, "responded_on_time": int(respond_due is None or at <= respond_due)}
            self.area(track, month, counts)
            self.add(Subject.UNIT, month, unit_path, counts)
        if action in ACCEPTING and not track.accepted:
            track.accepted = True
            self.area(track, track.cohort, {"cohort_accepted": 1})
        if row["to_status"] == Status.HANDLED and row["from_status"] != Status.HANDLED:
            self._handled(track, row, month, unit_path, snapshot)
            self.daily(row, "handled")
        elif row["to_status"] == Status.REOPENED and row["from_status"] != Status.REOPENED:
            self.area(track, month, {"reopened": 1})
            self.add(Subject.UNIT, month, track.handler_path, {"reopened": 1})
            if track.handler_id:
                self.add(Subject.WORKER, month, track.handler_path, {"reopened": 1}, worker=track.handler_id)
            if track.done:
                track.done = False
                self.area(track, track.cohort, {"cohort_done": -1})
        if action in LEAVING_COHORT and track.accepted and not track.done:
            track.accepted = False
            self.area(track, track.cohort, {"cohort_accepted": -1})
        self.changed.add(track.case_id)

    def _handled(self, track: CaseTrack, row: Mapping[str, Any], month: datetime.date, unit_path: str,
                 snapshot: Mapping[str, str | None]) -> None:
        at = row["created_at"]
        due = _moment(snapshot.get("handle_due")) or _moment(snapshot.get("respond_due"))
        counts = {"handled": 1, "handled_on_time": int(due is None or at <= due),
                  "handled_at_village": int(row["actor_unit__level"] in VILLAGE_LEVELS),
                  "handling_days": self.clock.days_between(track.reported_at, at)}
        self.area(track, month, counts)
        self.add(Subject.UNIT, month, unit_path, counts)
        if row["actor_id"]:
            self.add(Subject.WORKER, month, unit_path, counts, worker=row["actor_id"])
        track.handler_path, track.handler_id = unit_path, row["actor_id"]
        if track.accepted and not track.done:
            track.done = True
            self.area(track, track.cohort, {"cohort_done": 1})

    def rating(self, rating: Mapping[str, Any]) -> None:
        month = month_of(rating["created_at"])
        score = rating["score"]
        counts = {"rated": 1, "satisfied": int(score == Rating.Score.SATISFIED),
                  "basic": int(score == Rating.Score.BASIC), "unsatisfied": int(score == Rating.Score.UNSATISFIED)}
        for path in area_paths(rating["case__area_path"]):
            self.add(Subject.AREA, month, path, counts)
        self.add(Subject.UNIT, month, rating["handling_unit__path"] or "", counts)


def _tracks_for(rows: list[Mapping[str, Any]]) -> dict[int, CaseTrack]:
    """The batch's cases' tracks, new ones made from the case row (its report month and area)."""
    ids = {row["case_id"] for row in rows}
    tracks = CaseTrack.objects.in_bulk(ids)
    for row in rows:
        if row["case_id"] not in tracks:
            reported = row["case__created_at"]
            tracks[row["case_id"]] = CaseTrack(case_id=row["case_id"], cohort=month_of(reported),
                                               area_path=row["case__area_path"], reported_at=reported)
    return tracks


_KEYS_PER_QUERY = 200  # paths OR-ed in one statement (SQLite limits an expression's depth to 1,000)


def _stored(model: type[DayCount] | type[CategoryCount], keys: Iterable[tuple[Any, ...]], date_field: str
            ) -> list[Any]:
    """The stored rows of these (path, date, …) keys: for each path its dates, not every path × every date."""
    by_path: dict[str, set[datetime.date]] = defaultdict(set)
    for key in keys:
        by_path[key[0]].add(key[1])
    paths, found = sorted(by_path), list[Any]()
    for start in range(0, len(paths), _KEYS_PER_QUERY):
        wanted = Q(pk__in=[])
        for path in paths[start:start + _KEYS_PER_QUERY]:
            wanted |= Q(path=path, **{f"{date_field}__in": sorted(by_path[path])})
        found.extend(model.objects.filter(wanted))
    return found


def _write(fold: _Fold) -> None:
    """Add the batch's deltas to the stored counts (one read and one upsert per table) and save the changed
    tracks."""
    if fold.deltas:
        months = {key[1] for key in fold.deltas}
        paths = {key[2] for key in fold.deltas}
        stored = {(r.subject, r.month, r.path, r.worker_id): r
                  for r in KpiCount.objects.filter(month__in=months, path__in=paths)}
        rows = []
        for key, delta in fold.deltas.items():
            row = stored.get(key) or KpiCount(subject=key[0], month=key[1], path=key[2], worker_id=key[3])
            for name, value in delta.items():
                setattr(row, name, getattr(row, name) + (value if name == "handling_days" else int(value)))
            rows.append(row)
        KpiCount.objects.bulk_create(rows, update_conflicts=True, update_fields=list(FIELDS),
                                     unique_fields=["subject", "month", "path", "worker_id"])
    if fold.days:
        stored_days = {(r.path, r.day): r for r in _stored(DayCount, fold.days, "day")}
        day_rows = []
        for (path, day), counts in fold.days.items():
            day_row = stored_days.get((path, day)) or DayCount(path=path, day=day)
            day_row.reported += counts["reported"]
            day_row.handled += counts["handled"]
            day_rows.append(day_row)
        DayCount.objects.bulk_create(day_rows, update_conflicts=True, update_fields=["reported", "handled"],
                                     unique_fields=["path", "day"])
    if fold.mix:
        stored_mix = {(r.path, r.month, r.category_id): r for r in _stored(CategoryCount, fold.mix, "month")}
        mix_rows = []
        for (path, month, category_id), reported in fold.mix.items():
            mix_row = stored_mix.get((path, month, category_id)) or CategoryCount(
                path=path, month=month, category_id=category_id)
            mix_row.reported += reported
            mix_rows.append(mix_row)
        CategoryCount.objects.bulk_create(mix_rows, update_conflicts=True, update_fields=["reported"],
                                          unique_fields=["path", "month", "category_id"])
    if fold.changed:
        CaseTrack.objects.bulk_create(
            [fold.tracks[case_id] for case_id in fold.changed], update_conflicts=True, unique_fields=["case_id"],
            update_fields=["accepted", "done", "handler_path", "handler_id"])


@dataclass
class Progress:
    logs: int = 0
    ratings: int = 0


def _cursor() -> RollupCursor:
    RollupCursor.objects.get_or_create(name=CURSOR)
    return RollupCursor.objects.select_for_update().get(name=CURSOR)


def _step(cutoff: datetime.datetime, clock: OfficeClock) -> Progress:
    """One batch of log rows, then one of ratings, in one transaction."""
    with transaction.atomic():
        cursor = _cursor()
        logs = list(CaseLog.objects.filter(pk__gt=cursor.last_log_id, created_at__lte=cutoff)
                    .order_by("pk").values(*_LOG_FIELDS)[:BATCH])
        fold = _Fold(tracks=_tracks_for(logs), clock=clock)
        for row in logs:
            fold.log_row(row)
        ratings = list(Rating.objects.filter(pk__gt=cursor.last_rating_id, created_at__lte=cutoff)
                       .order_by("pk").values("pk", "score", "created_at", "case__area_path",
                                              "handling_unit__path")[:BATCH])
        for rating in ratings:
            fold.rating(rating)
        _write(fold)
        if logs:
            cursor.last_log_id, cursor.logs_seen = logs[-1]["pk"], cursor.logs_seen + len(logs)
        if ratings:
            cursor.last_rating_id = ratings[-1]["pk"]
        cursor.updated_at = timezone.now()
        cursor.save()
    return Progress(len(logs), len(ratings))


def catch_up(*, now: datetime.datetime | None = None, budget_seconds: float = 50.0) -> Progress:
    """Fold what was written until ROLLUP_SETTLE_SECONDS ago, batch by batch, for at most `budget_seconds`
    (the next run goes on). Returns how many log rows and ratings were taken."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.ROLLUP_SETTLE_SECONDS)
    clock, total, started = OfficeClock(), Progress(), time.monotonic()
    while True:
        step = _step(cutoff, clock)
        total.logs, total.ratings = total.logs + step.logs, total.ratings + step.ratings
        if (step.logs < BATCH and step.ratings < BATCH) or time.monotonic() - started > budget_seconds:
            return total


def rebuild(*, now: datetime.datetime | None = None) -> Progress:
    """Forget every count and fold the whole log again."""
    with transaction.atomic():
        KpiCount.objects.all().delete()
        DayCount.objects.all().delete()
        CategoryCount.objects.all().delete()
        CaseTrack.objects.all().delete()
        RollupCursor.objects.filter(name=CURSOR).delete()
    return catch_up(now=now, budget_seconds=float("inf"))


def check() -> bool:
    """Whether the cursor passed exactly the log rows there are up to it (False: one committed late was
    skipped, and the counts need a rebuild)."""
    cursor = RollupCursor.objects.filter(name=CURSOR).first()
    if cursor is None:
        return True
    return CaseLog.objects.filter(pk__lte=cursor.last_log_id).count() == cursor.logs_seen


def lag(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Until when the counts are complete (None: never folded)."""
    cursor = RollupCursor.objects.filter(name=CURSOR).first()
    if cursor is None or cursor.updated_at is None:
        return None
    return cursor.updated_at - datetime.timedelta(seconds=settings.ROLLUP_SETTLE_SECONDS)

