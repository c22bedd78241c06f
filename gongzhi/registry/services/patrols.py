"""Patrols (巡查): a grid worker starts one in a grid, the phone sends the track in batches while the page is
open, and the worker ends it with a note. A patrol forgotten open is ended by a periodic sweep."""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import Conflict, DomainError, NotFound
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry import policies, tracks
from gongzhi.registry.models import Patrol, TrackPoint

# A point every 15 s is 240 a minute at most if a phone saved up an hour offline and sends it in one go: a batch
# of more is not ours (the page sends at most 100 at a time).
MAX_BATCH = 500
NOTE_MAX = 2000
# The page sends what it buffered before it ends the patrol, so points normally never come after the end. One
# batch may still be on its way when 结束巡查 is pressed (sent just before, on a weak signal): it is taken for a
# short while, and only its points from within the patrol. Later, the patrol's record is closed: its distance
# and the day's work log do not change behind the worker's back, and a swept patrol stays as swept.
LATE_GRACE = datetime.timedelta(minutes=2)
# The page corrects the phone's clock by the server's (patrol.js), so a point "from the future" is a bad one.
CLOCK_SLACK = datetime.timedelta(minutes=1)
# An open patrol started longer ago than this was forgotten: the sweep ends it at its last point.
STALE_AFTER = datetime.timedelta(hours=12)


@dataclass(frozen=True)
class TrackBatch:
    """What became of a batch: how many points were new (a re-sent point is stored once), how many were
    dropped as invalid, and the patrol's figures after it."""

    stored: int
    dropped: int
    point_count: int
    distance_m: float


def _client_key(value: str | None) -> str | None:
    key = (value or "").strip()
    return key[:64] or None


@transaction.atomic
def start_patrol(*, actor: User, grid: OrgUnit, client_key: str | None = None) -> tuple[Patrol, bool]:
    """开始巡查 in `grid` (a grid where `actor` holds a patrol post, else NotFound). Returns (patrol, created).
    A worker has at most one open patrol: starting another answers with the open one; a start retried with
    the same `client_key` answers with the patrol it started, even once ended."""
    key = _client_key(client_key)
    if key and (done := Patrol.objects.filter(client_key=key, worker=actor).first()) is not None:
        return done, False
    if grid.level != Level.GRID or grid.kind != UnitKind.AREA or not grid.is_active \
            or not policies.can_patrol(actor, grid):
        raise NotFound()
    if (running := Patrol.objects.filter(worker=actor, ended_at__isnull=True).first()) is not None:
        return running, False
    try:
        with transaction.atomic():
            return Patrol.objects.create(worker=actor, grid=grid, started_at=timezone.now(), client_key=key), True
    except IntegrityError:  # a start at the same moment (a double tap), or a key someone else sent
        running = (Patrol.objects.filter(worker=actor, ended_at__isnull=True).first()
                   or (Patrol.objects.filter(client_key=key, worker=actor).first() if key else None))
        if running is None:
            raise DomainError(_("请刷新页面后重新开始巡查。"), code="client_key_taken") from None
        return running, False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _moment(value: Any) -> datetime.datetime | None:
    """A point's time: milliseconds since 1970 (what the browser's Position.timestamp is) or an ISO 8601 time
    with its offset."""
    if isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None
    ms = _number(value)
    if ms is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _track_point(patrol: Patrol, raw: Any, earliest: datetime.datetime,
                 latest: datetime.datetime) -> TrackPoint | None:
    """The point, or None when it is not one: not a position on earth (or exactly 0, 0: a phone that has no
    fix yet), no time, or a time outside the patrol."""
    if not isinstance(raw, Mapping):
        return None
    lat, lng, at = _number(raw.get("lat")), _number(raw.get("lng")), _moment(raw.get("at"))
    accuracy = raw.get("accuracy")
    accuracy_m = _number(accuracy) if accuracy is not None else None
    if lat is None or lng is None or at is None or (accuracy is not None and accuracy_m is None):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    if accuracy_m is not None and accuracy_m < 0:
        return None
    if not earliest <= at <= latest:
        return None
    return TrackPoint(patrol=patrol, at=at, lat=lat, lng=lng, accuracy_m=accuracy_m)


@transaction.atomic
def add_track_points(*, actor: User, patrol: Patrol, points: Sequence[Any]) -> TrackBatch:
    """A batch of track points from the phone: [{"at", "lat", "lng", "accuracy"}, …], at most MAX_BATCH.

    Only the patrol's own worker (NotFound for anyone else), while it is open (and for LATE_GRACE after its
    end, points from before the end only; later a Conflict). Points that are invalid, in the future or from
    before the start are dropped; a point sent again (the same time) is stored once. The patrol's
    `point_count` and `distance_m` (`tracks.track_length_m`) are current when this returns."""
    if patrol.worker_id != actor.pk:
        raise NotFound()
    if not isinstance(points, list | tuple):
        raise DomainError(_("轨迹数据格式不正确。"), code="bad_track")
    if len(points) > MAX_BATCH:
        raise DomainError(_("每次最多上传%(n)d个轨迹点，请分批上传。") % {"n": MAX_BATCH}, code="too_many_points")
    # One batch at a time per patrol: two at once must not each measure the track without the other's points.
    locked = Patrol.objects.select_for_update().get(pk=patrol.pk)
    now = timezone.now()
    if locked.ended_at is not None and now > locked.ended_at + LATE_GRACE:
        raise Conflict(_("这次巡查已经结束。"), code="patrol_ended")
    latest = min(now + CLOCK_SLACK, locked.ended_at) if locked.ended_at is not None else now + CLOCK_SLACK
    rows = [p for raw in points if (p := _track_point(locked, raw, locked.started_at, latest)) is not None]
    dropped = len(points) - len(rows)
    stored = 0
    if rows:
        TrackPoint.objects.bulk_create(rows, ignore_conflicts=True)
        stored = TrackPoint.objects.filter(patrol=locked).count() - locked.point_count
        if stored:  # a batch sent again adds nothing and needs no measuring
            _measure(locked)
    patrol.point_count, patrol.distance_m = locked.point_count, locked.distance_m
    return TrackBatch(stored=stored, dropped=dropped, point_count=locked.point_count, distance_m=locked.distance_m)


def _measure(patrol: Patrol) -> None:
    """Count and measure the whole track again (a late batch may fall between points already stored): about
    3,000 rows of four numbers for a 12-hour patrol."""
    fixes = [tracks.Fix(*row) for row in TrackPoint.objects.filter(patrol=patrol).order_by("at")
             .values_list("at", "lat", "lng", "accuracy_m")]
    patrol.point_count = len(fixes)
    patrol.distance_m = round(tracks.track_length_m(fixes), 1)
    patrol.save(update_fields=["point_count", "distance_m"])


@transaction.atomic
def end_patrol(*, actor: User, patrol: Patrol, note: str = "") -> Patrol:
    """结束巡查 with a note of what was found (optional). Only the patrol's worker (else NotFound). Ending an
    ended patrol (a form sent twice) changes nothing and answers with it."""
    if patrol.worker_id != actor.pk:
        raise NotFound()
    text = clean_text(note, field="note", max_length=NOTE_MAX,
                      too_long_message=_("巡查情况不能超过%(n)d个字。") % {"n": NOTE_MAX})
    locked = Patrol.objects.select_for_update().get(pk=patrol.pk)
    if locked.ended_at is None:
        locked.ended_at = timezone.now()
        locked.note = text
        locked.save(update_fields=["ended_at", "note"])
    patrol.ended_at, patrol.note = locked.ended_at, locked.note
    return locked


def end_stale_patrols(*, now: datetime.datetime | None = None) -> int:
    """The sweep: every patrol open longer than STALE_AFTER ends at its last point (at its start when none came),
    noted as ended by the system. Idempotent: a patrol ended meanwhile (by its worker or another run) is left."""
    now = now or timezone.now()
    ended = 0
    for patrol in Patrol.objects.filter(ended_at__isnull=True, started_at__lt=now - STALE_AFTER).order_by("pk"):
        ended += _end_stale(patrol)
    return ended


@transaction.atomic
def _end_stale(patrol: Patrol) -> int:
    last = TrackPoint.objects.filter(patrol=patrol).order_by("-at").values_list("at", flat=True).first()
    note = patrol.note or _("超过%(hours)d小时未结束，系统已按最后一个轨迹点自动结束。") % {
        "hours": int(STALE_AFTER.total_seconds() // 3600)}
    return Patrol.objects.filter(pk=patrol.pk, ended_at__isnull=True).update(
        ended_at=last or patrol.started_at, note=note)
