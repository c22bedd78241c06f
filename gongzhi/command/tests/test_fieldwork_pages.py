"""巡查走访 in the command centre: the monthly table per worker (sortable, by area, as Excel), a worker's month
with a patrol on the map, and the scope of each."""

import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.registry.models import Visit
from gongzhi.registry.services import patrols
from gongzhi.registry.services.visits import VisitTarget, record_visit
from gongzhi.registry.tests.test_patrols import DEG_100M, LAT, LNG, ms

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 8, 0, tzinfo=datetime.UTC)  # 16:00 in Shanghai


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def month_of_work(people, tree, records):
    """wgy: two patrols this month (2 km, 1 km), a visit on the first; wgy2: one household visit elsewhere."""
    worker = people["grid_worker"]
    made = []
    for hours_ago, n in ((30, 21), (5, 11)):
        start = NOW - datetime.timedelta(hours=hours_ago)
        with time_machine.travel(start, tick=False):
            patrol, _created = patrols.start_patrol(actor=worker, grid=tree["grid"])
        with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
            patrols.add_track_points(actor=worker, patrol=patrol, points=[
                {"at": ms(start + datetime.timedelta(seconds=15 * (i + 1))), "lat": LAT + DEG_100M * i, "lng": LNG}
                for i in range(n)])
            if hours_ago == 30:
                record_visit(actor=worker, kind=Visit.Kind.HOUSEHOLD, patrol=patrol, notes="入户",
                             target=VisitTarget(household=records["household"]), lat=LAT, lng=LNG)
            patrols.end_patrol(actor=worker, patrol=patrol)
        made.append(patrol)
    return {"worker": worker, "patrols": made}


def test_the_monthly_table_per_worker(client, people, month_of_work):
    client.force_login(people["dispatcher"])
    page = client.get(reverse("command:fieldwork")).content.decode()
    assert 'id="fieldwork-table"' in page and "wgy" in page and "wgy2" in page
    row = page[page.index(f'fieldwork/workers/{month_of_work["worker"].pk}/'):]
    row = row[:row.index("</tr>")]
    cells = [c.split("<")[0] for c in row.split('<td class="num">')[1:]]
    assert cells == ["2", "2.0", "3.0", "1", "0", "0", "0", "1", "0"]
    assert 'aria-sort="descending"' in page


def test_the_table_sorts_by_any_column(client, people, month_of_work):
    client.force_login(people["dispatcher"])
    by_name = client.get(reverse("command:fieldwork") + "?month=2026-03&sort=name&dir=asc").content.decode()
    assert by_name.index(">wgy<") < by_name.index(">wgy2<")
    backwards = client.get(reverse("command:fieldwork") + "?month=2026-03&sort=name&dir=desc").content.decode()
    assert backwards.index(">wgy2<") < backwards.index(">wgy<")
    assert 'aria-sort="descending"' in backwards
    assert client.get(reverse("command:fieldwork") + "?sort=nonsense&month=bad").status_code == 200


def test_the_area_must_be_in_scope(client, people, tree, month_of_work):
    client.force_login(people["dispatcher"])
    grid2 = client.get(reverse("command:fieldwork") + f"?area={tree['grid2'].pk}").content.decode()
    assert ">wgy2<" in grid2 and ">wgy<" not in grid2
    assert client.get(reverse("command:fieldwork") + f"?area={tree['other_town'].pk}").status_code == 404
    assert client.get(reverse("command:fieldwork") + "?area=abc").status_code == 404
    client.force_login(people["other_dispatcher"])
    page = client.get(reverse("command:fieldwork")).content.decode()
    assert ">wgy<" not in page and "该区域没有网格员" in page


def test_the_table_as_excel(client, people, month_of_work):
    client.force_login(people["dispatcher"])
    response = client.get(reverse("command:fieldwork_export") + "?month=2026-03")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][:5] == ["姓名", "岗位", "巡查次数", "巡查时长(小时)", "巡查里程(公里)"]
    assert rows[2][:5] == ["wgy", "小山村第1网格", 2, 2.0, 3.0]
    assert rows[-1][0] == "合计" and rows[-1][2] == 2


def test_a_workers_month_with_a_patrol_on_the_map(client, people, month_of_work):
    worker, (first, latest) = month_of_work["worker"], month_of_work["patrols"]
    client.force_login(people["dispatcher"])
    url = reverse("command:fieldwork_worker", args=[worker.pk])
    page = client.get(url + "?month=2026-03").content.decode()
    assert f'data-url="{reverse("command:fieldwork_patrol_map", args=[latest.pk])}"' in page  # the latest first
    assert "js/patrol-map.js" in page and "vendor/leaflet/leaflet.js" in page
    chosen = client.get(url + f"?month=2026-03&patrol={first.pk}").content.decode()
    assert f'data-url="{reverse("command:fieldwork_patrol_map", args=[first.pk])}"' in chosen and "入户" in chosen
    assert client.get(url + "?month=2026-03&patrol=999999").status_code == 404
    data = client.get(reverse("command:fieldwork_patrol_map", args=[first.pk])).json()
    assert len(data["track"]["geometry"]["coordinates"]) == 21 and len(data["visits"]) == 1


def test_worker_pages_answer_404_out_of_scope(client, people, month_of_work, tree):
    worker = month_of_work["worker"]
    client.force_login(people["other_dispatcher"])
    assert client.get(reverse("command:fieldwork_worker", args=[worker.pk])).status_code == 404
    patrol = month_of_work["patrols"][0]
    assert client.get(reverse("command:fieldwork_patrol_map", args=[patrol.pk])).status_code == 404
    client.force_login(people["justice"])  # a department's handler sees no grid's field work
    assert client.get(reverse("command:fieldwork_worker", args=[worker.pk])).status_code == 404


def test_the_header_links_to_the_page_after_the_map(client, people):
    client.force_login(people["dispatcher"])
    page = client.get(reverse("command:home")).content.decode()
    assert page.index('href="/command/map/"') < page.index('href="/command/fieldwork/"') < page.index(
        'href="/command/dashboard/"')
