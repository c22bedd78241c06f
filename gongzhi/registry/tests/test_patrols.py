"""registry.services.patrols: starting, the track the phone sends, ending, and the sweep of forgotten patrols."""

import datetime
import math

import pytest
import time_machine

from gongzhi.accounts.models import Membership, Role
from gongzhi.core.errors import Conflict, DomainError, NotFound
from gongzhi.registry import tracks
from gongzhi.registry.models import Patrol, TrackPoint
from gongzhi.registry.services import patrols

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 10, 1, 0, tzinfo=datetime.UTC)  # 09:00 in Shanghai
LAT, LNG = 35.585, 104.605
# Metres per degree of latitude: 100 m north is this many degrees.
DEG_100M = 100 / (tracks.EARTH_RADIUS_M * math.pi / 180)


def ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def walk(n: int, *, every: int = 15, start: datetime.datetime = START, step: float = DEG_100M, first: int = 0):
    """n points 100 m apart northwards, `every` seconds apart (24 km/h at 15 s), from START + every seconds."""
    return [{"at": ms(start + datetime.timedelta(seconds=every * (i + 1))), "lat": LAT + step * i, "lng": LNG,
             "accuracy": 10} for i in range(first, first + n)]


@pytest.fixture
def patrol(worker, tree):
    with time_machine.travel(START, tick=False):
        started, _created = patrols.start_patrol(actor=worker, grid=tree["grid"], client_key="start-1")
    return started


def send(worker, patrol, points, *, at=None):
    with time_machine.travel(at or START + datetime.timedelta(hours=1), tick=False):
        return patrols.add_track_points(actor=worker, patrol=patrol, points=points)


# Starting -------------------------------------------------------------------------------------------------------

def test_a_grid_worker_starts_a_patrol_in_their_grid(worker, tree):
    with time_machine.travel(START, tick=False):
        patrol, created = patrols.start_patrol(actor=worker, grid=tree["grid"], client_key="k1")
    assert created and (patrol.worker, patrol.grid, patrol.started_at) == (worker, tree["grid"], START)
    assert patrol.ended_at is None and patrol.point_count == 0 and patrol.distance_m == 0


@pytest.mark.parametrize("role, unit, grid", [
    (Role.GRID_WORKER, "grid", "grid2"),          # the neighbouring grid
    (Role.VILLAGE_ADMIN, "village", "grid"),      # not a patrol post
    (Role.DISPATCHER, "town", "grid"),
    (Role.DEPT_HANDLER, "justice", "grid"),
    (Role.GRID_WORKER, "grid", "village"),        # a village is not a grid
])
def test_only_the_grids_patrol_posts_start_patrols(tree, make_staff, role, unit, grid):
    with pytest.raises(NotFound):
        patrols.start_patrol(actor=make_staff("x", tree[unit], role), grid=tree[grid])
    assert not Patrol.objects.exists()


@pytest.mark.parametrize("role, unit", [(Role.GRID_PART_TIME, "grid"), (Role.GRID_LEADER, "village"),
                                        (Role.GENERAL_GRID_LEADER, "town")])
def test_other_patrol_posts_over_the_grid_may_patrol(tree, make_staff, role, unit):
    assert patrols.start_patrol(actor=make_staff("x", tree[unit], role), grid=tree["grid"])[1]


def test_a_second_start_answers_with_the_open_patrol(worker, tree, patrol):
    Membership.objects.create(user=worker, unit=tree["grid2"], role=Role.GRID_WORKER)
    again, created = patrols.start_patrol(actor=worker, grid=tree["grid2"], client_key="start-2")
    assert again.pk == patrol.pk and not created and Patrol.objects.count() == 1


def test_a_retried_start_answers_with_its_patrol_even_once_ended(worker, tree, patrol):
    assert patrols.start_patrol(actor=worker, grid=tree["grid"], client_key="start-1") == (patrol, False)
    patrols.end_patrol(actor=worker, patrol=patrol)
    again, created = patrols.start_patrol(actor=worker, grid=tree["grid"], client_key="start-1")
    assert again.pk == patrol.pk and not created
    fresh, created = patrols.start_patrol(actor=worker, grid=tree["grid"], client_key="start-3")
    assert created and fresh.pk != patrol.pk


def test_a_key_another_worker_used_is_refused(worker, tree, make_staff, patrol):
    colleague = make_staff("李网格", tree["grid"], Role.GRID_WORKER)
    with pytest.raises(DomainError):
        patrols.start_patrol(actor=colleague, grid=tree["grid"], client_key="start-1")
    assert not Patrol.objects.filter(worker=colleague).exists()


# The track ------------------------------------------------------------------------------------------------------

def test_points_are_stored_and_measured(worker, patrol):
    batch = send(worker, patrol, walk(11))
    assert (batch.stored, batch.dropped, batch.point_count) == (11, 0, 11)
    assert batch.distance_m == pytest.approx(1000, abs=1)
    patrol.refresh_from_db()
    assert patrol.point_count == 11 and patrol.distance_m == pytest.approx(1000, abs=1)


def test_a_batch_sent_again_counts_once(worker, patrol):
    points = walk(5)
    send(worker, patrol, points)
    again = send(worker, patrol, points + walk(2, first=5))  # the lost answer's batch, with two new points
    assert (again.stored, again.point_count) == (2, 7)
    assert again.distance_m == pytest.approx(600, abs=1)
    assert TrackPoint.objects.filter(patrol=patrol).count() == 7
    replay = send(worker, patrol, points)
    assert (replay.stored, replay.point_count) == (0, 7)


def test_a_late_batch_between_stored_points_is_measured_in_place(worker, patrol):
    points = walk(9)
    send(worker, patrol, points[:3] + points[6:])  # 0–2 and 6–8; 2 → 6 measured straight
    assert send(worker, patrol, points[3:6]).distance_m == pytest.approx(800, abs=1)


@pytest.mark.parametrize("bad", [
    {"lat": 91, "lng": LNG}, {"lat": LAT, "lng": -181}, {"lat": "35.5", "lng": LNG}, {"lat": True, "lng": LNG},
    {"lat": float("nan"), "lng": LNG}, {"lat": 0, "lng": 0}, {"lat": LAT}, {"lat": LAT, "lng": LNG, "accuracy": -1},
    {"lat": LAT, "lng": LNG, "accuracy": "good"},
])
def test_invalid_points_are_dropped(worker, patrol, bad):
    point = {"at": ms(START + datetime.timedelta(minutes=5)), **bad}
    batch = send(worker, patrol, [point, *walk(2)])
    assert (batch.stored, batch.dropped) == (2, 1)


def test_points_without_a_time_in_the_patrol_are_dropped(worker, patrol):
    now = START + datetime.timedelta(hours=1)
    points = [
        {"at": ms(START - datetime.timedelta(seconds=1)), "lat": LAT, "lng": LNG},       # before the start
        {"at": ms(now + datetime.timedelta(minutes=2)), "lat": LAT, "lng": LNG},         # in the future
        {"at": "yesterday", "lat": LAT, "lng": LNG},
        {"at": "2026-03-10T09:30:00", "lat": LAT, "lng": LNG},                           # no offset
        {"lat": LAT, "lng": LNG},
        "not a point",
        {"at": "2026-03-10T09:30:00+08:00", "lat": LAT, "lng": LNG},                     # kept
        {"at": ms(now + datetime.timedelta(seconds=30)), "lat": LAT, "lng": LNG},         # a phone slightly ahead
    ]
    batch = send(worker, patrol, points, at=now)
    assert (batch.stored, batch.dropped) == (2, 6)
    assert set(TrackPoint.objects.values_list("at", flat=True)) == {
        datetime.datetime(2026, 3, 10, 1, 30, tzinfo=datetime.UTC), now + datetime.timedelta(seconds=30)}


def test_poor_fixes_and_jumps_do_not_add_to_the_distance(worker, patrol):
    points = walk(5)
    blurry = {**walk(1, first=5)[0], "lat": LAT + DEG_100M * 8, "accuracy": 80}  # 400 m off, accuracy 80 m
    jump = {"at": ms(START + datetime.timedelta(seconds=15 * 6 + 5)), "lat": LAT + 0.1, "lng": LNG, "accuracy": 5}
    later = walk(2, first=5, start=START + datetime.timedelta(seconds=30))  # on from the last good point
    batch = send(worker, patrol, points + [blurry, jump] + later)
    assert batch.point_count == 9  # every point is kept, for the record
    assert batch.distance_m == pytest.approx(600, abs=1)  # 4 × 100 m, then 2 × 100 m; no 11 km jump


def test_only_the_patrols_worker_sends_points(worker, patrol, tree, make_staff):
    colleague = make_staff("李网格", tree["grid"], Role.GRID_WORKER)
    with pytest.raises(NotFound):
        send(colleague, patrol, walk(2))
    assert not TrackPoint.objects.exists()


def test_a_batch_must_be_a_list_of_at_most_max_batch_points(worker, patrol):
    with pytest.raises(DomainError) as refused:
        send(worker, patrol, walk(patrols.MAX_BATCH + 1, every=1))
    assert refused.value.code == "too_many_points"
    with pytest.raises(DomainError) as refused:
        send(worker, patrol, {"at": 1})
    assert refused.value.code == "bad_track"
    assert not TrackPoint.objects.exists()
    assert send(worker, patrol, walk(patrols.MAX_BATCH, every=1)).stored == patrols.MAX_BATCH


def test_a_batch_in_flight_at_the_end_is_taken_for_a_short_while(worker, patrol):
    end = START + datetime.timedelta(minutes=10)
    with time_machine.travel(end, tick=False):
        patrols.end_patrol(actor=worker, patrol=patrol)
    late = walk(3, every=250)  # at 250, 500 and 750 s: the last is after the end (600 s)
    batch = send(worker, patrol, late, at=end + datetime.timedelta(minutes=1))
    assert (batch.stored, batch.dropped) == (2, 1)
    with pytest.raises(Conflict):
        send(worker, patrol, walk(1), at=end + patrols.LATE_GRACE + datetime.timedelta(seconds=1))


# Ending ---------------------------------------------------------------------------------------------------------

def test_ending_is_idempotent(worker, patrol):
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        ended = patrols.end_patrol(actor=worker, patrol=patrol, note="  巡查3个组，发现1处垃圾堆放  ")
    assert ended.ended_at == START + datetime.timedelta(hours=2) and ended.note == "巡查3个组，发现1处垃圾堆放"
    with time_machine.travel(START + datetime.timedelta(hours=3), tick=False):
        again = patrols.end_patrol(actor=worker, patrol=patrol, note="另一条")
    assert again.ended_at == ended.ended_at and again.note == ended.note


def test_only_the_worker_ends_their_patrol_and_the_note_has_a_limit(worker, patrol, tree, make_staff):
    with pytest.raises(NotFound):
        patrols.end_patrol(actor=make_staff("李网格", tree["grid"], Role.GRID_WORKER), patrol=patrol)
    with pytest.raises(DomainError) as refused:
        patrols.end_patrol(actor=worker, patrol=patrol, note="字" * (patrols.NOTE_MAX + 1))
    assert refused.value.field == "note"
    patrol.refresh_from_db()
    assert patrol.ended_at is None


# The sweep ------------------------------------------------------------------------------------------------------

def test_the_sweep_ends_patrols_forgotten_for_12_hours_at_their_last_point(worker, patrol, tree, make_staff):
    send(worker, patrol, walk(4))
    colleague = make_staff("李网格", tree["grid"], Role.GRID_WORKER)
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        recent, _created = patrols.start_patrol(actor=colleague, grid=tree["grid"])
    silent = Patrol.objects.create(worker=make_staff("赵网格", tree["grid"], Role.GRID_WORKER), grid=tree["grid"],
                                   started_at=START)
    now = START + patrols.STALE_AFTER + datetime.timedelta(minutes=1)
    assert patrols.end_stale_patrols(now=now) == 2
    patrol.refresh_from_db()
    silent.refresh_from_db()
    recent.refresh_from_db()
    assert patrol.ended_at == START + datetime.timedelta(seconds=60)  # its 4th point
    assert silent.ended_at == START
    assert "系统已按最后一个轨迹点自动结束" in patrol.note
    assert recent.ended_at is None
    assert patrols.end_stale_patrols(now=now) == 0  # a second run finds nothing


def test_the_sweep_task_runs(worker, patrol):
    from gongzhi.registry.tasks import end_stale_patrols

    with time_machine.travel(START + datetime.timedelta(hours=13), tick=False):
        end_stale_patrols.call_local()
    patrol.refresh_from_db()
    assert patrol.ended_at == START


# Geometry -------------------------------------------------------------------------------------------------------

def test_haversine_and_thinning():
    assert tracks.haversine_m(35.0, 104.0, 36.0, 104.0) == pytest.approx(111_195, rel=1e-3)
    fixes = [tracks.Fix(START + datetime.timedelta(seconds=i), LAT, LNG + i * 1e-5, None) for i in range(5001)]
    shown = tracks.thinned(fixes, 2000)
    assert len(shown) == 2000 and shown[0] == fixes[0] and shown[-1] == fixes[-1]
    assert tracks.thinned(fixes[:10], 2000) == fixes[:10]
