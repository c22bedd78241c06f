"""analytics.selectors.fieldwork with registry.selectors.fieldwork: the daily work log (工作手册), the month, a
patrol's track and map, and the command centre's monthly figures per worker, under a frozen clock."""

import datetime
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.models import Role
from gongzhi.analytics.selectors import fieldwork
from gongzhi.cases import services as case_services
from gongzhi.cases.factories import make_categories, report
from gongzhi.core.errors import NotFound
from gongzhi.registry.models import Visit
from gongzhi.registry.selectors import fieldwork as registry_fieldwork
from gongzhi.registry.services import patrols
from gongzhi.registry.services.visits import VisitTarget, record_visit
from gongzhi.registry.tests.test_patrols import DEG_100M, LAT, LNG, ms

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 10)


def at(hour: int, minute: int = 0, day: datetime.date = DAY) -> datetime.datetime:
    """A local (Asia/Shanghai) time as UTC."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute,
                             tzinfo=datetime.timezone(datetime.timedelta(hours=8))).astimezone(datetime.UTC)


def track(start: datetime.datetime, n: int):
    return [{"at": ms(start + datetime.timedelta(seconds=15 * (i + 1))), "lat": LAT + DEG_100M * i, "lng": LNG,
             "accuracy": 8} for i in range(n)]


def patrol_of(actor, grid, start, end, points=11, note=""):
    with time_machine.travel(start, tick=False):
        patrol, _created = patrols.start_patrol(actor=actor, grid=grid)
    with time_machine.travel(end, tick=False):
        patrols.add_track_points(actor=actor, patrol=patrol, points=track(start, points))
        return patrols.end_patrol(actor=actor, patrol=patrol, note=note)


@pytest.fixture
def day_of_work(tree, worker, records, make_staff, people):
    """王网格's 10 March: a patrol 09:00–10:00 (1 km) with a case reported on it at 09:20 and a household visit at
    09:30, a case step at 11:00, a place visit at 14:00; a patrol the day before; a colleague's visit."""
    cats = make_categories()
    with time_machine.travel(at(8), tick=False):
        resident_case = report(people["resident"], cats["env"], description="路灯不亮")
    with time_machine.travel(at(9), tick=False):
        patrol, _created = patrols.start_patrol(actor=worker, grid=tree["grid"])
    with time_machine.travel(at(9, 20), tick=False):
        found, _created = case_services.submit_case(actor=worker, client_id=uuid.uuid4(), category=cats["env"],
                                                    description="河道有垃圾", lat=35.585, lng=104.606, patrol=patrol)
    with time_machine.travel(at(9, 30), tick=False):
        record_visit(actor=worker, kind=Visit.Kind.HOUSEHOLD, target=VisitTarget(household=records["household"]),
                     notes="入户核实人口信息", patrol=patrol, lat=35.5851, lng=104.6051)
    with time_machine.travel(at(10), tick=False):
        patrols.add_track_points(actor=worker, patrol=patrol, points=track(at(9), 11))
        patrols.end_patrol(actor=worker, patrol=patrol, note="巡查一社、二社")
    with time_machine.travel(at(11), tick=False):
        case_services.transition(actor=worker, case=resident_case, action="resolve_on_spot", note="已联系电工更换")
    with time_machine.travel(at(14), tick=False):
        record_visit(actor=worker, kind=Visit.Kind.PLACE, target=VisitTarget(establishment=records["shop"]),
                     notes="检查消防器材")
    patrol_of(worker, tree["grid"], at(15, day=DAY - datetime.timedelta(days=1)),
              at(17, day=DAY - datetime.timedelta(days=1)), points=21)
    colleague = people["grid_worker"]
    with time_machine.travel(at(10), tick=False):
        record_visit(actor=colleague, kind=Visit.Kind.HOUSEHOLD, target=VisitTarget(household=records["household"]),
                     notes="同事的走访")
    return {"patrol": patrol, "found": found, "resident_case": resident_case, "colleague": colleague}


@time_machine.travel(at(20), tick=False)
def test_the_work_log_of_a_day_is_one_timeline(worker, day_of_work):
    log = fieldwork.work_log(worker, worker.pk, DAY)
    assert [(e.kind, e.at) for e in log.entries] == [
        ("patrol", at(9)), ("case", at(9, 20)), ("visit", at(9, 30)), ("step", at(11)), ("visit", at(14))]
    patrol_entry, case_entry, visit_entry, step_entry, place_entry = log.entries
    assert patrol_entry.patrol.ended_at == at(10) and patrol_entry.patrol.visit_count == 1
    assert patrol_entry.patrol.distance_m == pytest.approx(1000, abs=1)
    assert case_entry.case == day_of_work["found"] and case_entry.case.patrol == day_of_work["patrol"]
    assert visit_entry.label == "H-001 小山村一社12号" and place_entry.label == "小山便民超市"
    assert step_entry.step.action == "resolve_on_spot" and step_entry.case == day_of_work["resident_case"]
    f = log.figures
    assert (f.patrols, f.patrol_hours, f.km, f.visits, f.cases, f.steps) == (1, 1.0, 1.0, 2, 1, 1)
    assert log.previous_day == DAY - datetime.timedelta(days=1) and log.next_day is None


@time_machine.travel(at(20), tick=False)
def test_other_days_and_other_workers_are_not_in_the_log(worker, day_of_work):
    yesterday = fieldwork.work_log(worker, worker.pk, DAY - datetime.timedelta(days=1))
    assert [e.kind for e in yesterday.entries] == ["patrol"] and yesterday.next_day == DAY
    assert yesterday.figures.km == 2.0 and yesterday.figures.patrol_hours == 2.0
    theirs = fieldwork.work_log(day_of_work["colleague"], day_of_work["colleague"].pk, DAY)
    assert [(e.kind, e.visit.notes) for e in theirs.entries] == [("visit", "同事的走访")]


@time_machine.travel(at(20), tick=False)
def test_the_month_sums_each_day(worker, day_of_work):
    summary = fieldwork.month_summary(worker, worker.pk, DAY)
    days = dict(summary.days)
    assert list(days) == [DAY - datetime.timedelta(days=1), DAY]
    assert (days[DAY].patrols, days[DAY].visits, days[DAY].cases, days[DAY].steps) == (1, 2, 1, 1)
    t = summary.total
    assert (t.patrols, t.patrol_hours, t.km, t.visits, t.cases, t.steps) == (2, 3.0, 3.0, 2, 1, 1)


@time_machine.travel(at(20), tick=False)
def test_a_workers_log_is_seen_by_staff_over_them_and_nobody_else(worker, day_of_work, people):
    log = fieldwork.work_log(people["dispatcher"], worker.pk, DAY)
    assert len(log.entries) == 5
    for outsider in (people["other_dispatcher"], people["justice"]):
        with pytest.raises(NotFound):
            fieldwork.work_log(outsider, worker.pk, DAY)
    with pytest.raises(NotFound):  # a colleague in the next grid does not see the grid's worker
        fieldwork.work_log(people["other_grid_worker"], worker.pk, DAY)


@time_machine.travel(at(20), tick=False)
def test_the_patrol_cases_and_map(worker, day_of_work, people):
    patrol = day_of_work["patrol"]
    assert fieldwork.patrol_cases(worker, patrol) == [day_of_work["found"]]
    data = fieldwork.patrol_map(people["dispatcher"], patrol.pk)
    assert data["track"]["geometry"]["type"] == "LineString" and len(data["track"]["geometry"]["coordinates"]) == 11
    assert data["track"]["geometry"]["coordinates"][0] == [LNG, LAT]
    assert data["track"]["properties"]["distance_m"] == 1000
    assert [c["number"] for c in data["cases"]] == [day_of_work["found"].number]
    assert [v["label"] for v in data["visits"]] == ["H-001 小山村一社12号"]
    assert data["outline"][0] == [35.58, 104.6]
    with pytest.raises(NotFound):
        fieldwork.patrol_map(people["other_dispatcher"], patrol.pk)


def test_a_long_track_is_thinned_to_2000_points_without_its_jumps(worker, tree):
    start = at(7)
    with time_machine.travel(start, tick=False):
        patrol, _created = patrols.start_patrol(actor=worker, grid=tree["grid"])
    points = [{"at": ms(start + datetime.timedelta(seconds=5 * (i + 1))), "lat": LAT + 1e-5 * i, "lng": LNG,
               "accuracy": 5} for i in range(3000)]
    points[1500] = {**points[1500], "lat": LAT + 0.5}  # a jump of 55 km
    with time_machine.travel(start + datetime.timedelta(hours=5), tick=False):
        for i in range(0, 3000, 500):
            patrols.add_track_points(actor=worker, patrol=patrol, points=points[i:i + 500])
        feature = registry_fieldwork.patrol_track(worker, patrol.pk)
    line = feature["geometry"]["coordinates"]
    assert len(line) == 2000 and feature["properties"]["point_count"] == 3000
    assert all(lat < LAT + 0.1 for _lng, lat in line)
    assert line[0] == [LNG, LAT] and line[-1][1] == pytest.approx(LAT + 1e-5 * 2999, abs=1e-6)


@time_machine.travel(at(20), tick=False)
def test_monthly_figures_per_worker(worker, day_of_work, people, tree):
    table = fieldwork.worker_month_table(people["dispatcher"], area_id=None, month=DAY)
    rows = {r.worker.username: r for r in table.rows}
    mine = rows["王网格"]
    assert (mine.patrols, mine.patrol_hours, mine.km, mine.cases) == (2, 3.0, 3.0, 1)
    assert (mine.visits_of("household"), mine.visits_of("place"), mine.visit_total) == (1, 1, 2)
    assert mine.posts == ["小山村第1网格"]
    assert rows["wgy"].visit_total == 1 and rows["wgy"].patrols == 0
    assert rows["wgy2"].visit_total == 0  # holds a patrol post in the area: listed with nothing
    assert table.rows[0].worker == worker  # most patrols first
    assert table.total.patrols == 2 and table.total.visit_total == 3
    by_name = fieldwork.worker_month_table(people["dispatcher"], area_id=None, month=DAY, sort="name")
    assert not by_name.descending
    grid2 = fieldwork.worker_month_table(people["dispatcher"], area_id=tree["grid2"].pk, month=DAY)
    assert [r.worker.username for r in grid2.rows] == ["wgy2"]
    with pytest.raises(NotFound):
        fieldwork.worker_month_table(people["other_dispatcher"], area_id=tree["town"].pk, month=DAY)
    elsewhere = fieldwork.worker_month_table(people["other_dispatcher"], area_id=None, month=DAY)
    assert elsewhere.rows == []
    february = fieldwork.worker_month_table(people["dispatcher"], area_id=None, month=datetime.date(2026, 2, 1))
    assert sum(r.patrols + r.visit_total for r in february.rows) == 0


@time_machine.travel(at(20), tick=False)
def test_monthly_figures_take_the_same_queries_for_more_workers(tree, make_staff, people):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fieldwork.worker_month_table(people["dispatcher"], area_id=None, month=DAY)
        return len(captured)

    def add_workers(first: int, n: int) -> None:
        for i in range(first, first + n):
            someone = make_staff(f"网格员{i}", tree["grid3"], Role.GRID_WORKER)
            patrol_of(someone, tree["grid3"], at(8), at(9), points=3)

    add_workers(0, 2)
    queries()  # the viewer's scope, once per request
    few = queries()
    add_workers(2, 6)
    assert queries() == few
