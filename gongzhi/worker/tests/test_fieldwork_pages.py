"""巡查走访 in the worker portal: the patrol page, the track endpoint, the visit and cadre-visit forms, the report
linked to a patrol, the work log and the bottom navigation."""

import datetime
import json
import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.cases.factories import make_categories
from gongzhi.cases.models import Case
from gongzhi.registry.models import Patrol, TrackPoint, Visit, VisitPhoto
from gongzhi.registry.services import patrols
from gongzhi.testing.fieldwork import phone_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def patrol(worker, tree):
    started, _created = patrols.start_patrol(actor=worker, grid=tree["grid"])
    return started


def points_url(patrol):
    return reverse("worker:patrol_points", args=[patrol.pk])


def post_json(client, url, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type="application/json", **extra)


def now_ms(seconds: int = 0) -> int:
    return int((datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)).timestamp() * 1000)


# The patrol page --------------------------------------------------------------------------------------------------

def test_anonymous_visitors_go_to_the_login(client):
    response = client.get(reverse("worker:patrol_home"))
    assert response.status_code == 302 and response["Location"].startswith("/command/login/")


def test_a_worker_starts_a_patrol_and_sees_the_patrol_screen(client, worker, tree):
    client.force_login(worker)
    page = client.get(reverse("worker:patrol_home")).content.decode()
    assert "开始巡查" in page and "小山村第1网格" in page
    key = re.search(r'name="client_key" value="([^"]+)"', page).group(1)
    response = client.post(reverse("worker:patrol_start"), {"client_key": key, "grid": tree["grid"].pk})
    patrol = Patrol.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("worker:patrol", args=[patrol.pk])
    again = client.post(reverse("worker:patrol_start"), {"client_key": key, "grid": tree["grid"].pk})
    assert again["Location"] == response["Location"] and Patrol.objects.count() == 1
    assert client.get(reverse("worker:patrol_home"))["Location"] == response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "巡查中" in page and f'data-points-url="{points_url(patrol)}"' in page and 'data-interval="15"' in page
    assert f'href="/worker/cases/report/?patrol={patrol.pk}"' in page
    assert f'href="/worker/patrol/visit/?patrol={patrol.pk}"' in page
    assert "js/patrol.js" in page and "结束巡查" in page


def test_a_worker_with_several_grids_chooses_one(client, worker, tree):
    worker.memberships.create(unit=tree["grid2"], role=Role.GRID_WORKER)
    client.force_login(worker)
    page = client.get(reverse("worker:patrol_home")).content.decode()
    assert page.count('type="radio" name="grid"') == 2
    refused = client.post(reverse("worker:patrol_start"), {"client_key": str(uuid.uuid4())})
    assert refused.status_code == 422 and "请选择巡查的网格。" in refused.content.decode()
    outside = client.post(reverse("worker:patrol_start"), {"client_key": str(uuid.uuid4()),
                                                           "grid": tree["grid3"].pk})
    assert outside.status_code == 422 and not Patrol.objects.exists()


def test_a_post_without_patrol_grids_gets_no_start_button(client, tree, make_staff):
    client.force_login(make_staff("村管理员", tree["village"], Role.VILLAGE_ADMIN))
    page = client.get(reverse("worker:patrol_home")).content.decode()
    assert "您的岗位下没有可以巡查的网格。" in page and 'action="/worker/patrol/start/"' not in page


def test_patrol_pages_answer_404_out_of_scope_and_read_only_to_colleagues(client, patrol, tree, make_staff):
    client.force_login(make_staff("邻格网格员", tree["grid2"], Role.GRID_WORKER))
    assert client.get(reverse("worker:patrol", args=[patrol.pk])).status_code == 404
    assert client.get(reverse("worker:patrol", args=[patrol.pk + 100])).status_code == 404
    client.force_login(make_staff("网格长", tree["village"], Role.GRID_LEADER))
    page = client.get(reverse("worker:patrol", args=[patrol.pk]))
    assert page.status_code == 200 and "巡查记录" in page.content.decode()
    assert "结束巡查" not in page.content.decode()
    assert client.post(reverse("worker:patrol_end", args=[patrol.pk])).status_code == 404


def test_ending_a_patrol_with_a_note(client, worker, patrol):
    client.force_login(worker)
    too_long = client.post(reverse("worker:patrol_end", args=[patrol.pk]), {"note": "字" * 2001})
    assert too_long.status_code == 422 and "巡查情况不能超过2000个字。" in too_long.content.decode()
    response = client.post(reverse("worker:patrol_end", args=[patrol.pk]), {"note": "巡查一社"}, follow=True)
    patrol.refresh_from_db()
    assert patrol.ended_at is not None and patrol.note == "巡查一社"
    page = response.content.decode()
    assert "巡查已结束" in page and "巡查记录" in page and "巡查一社" in page
    again = client.post(reverse("worker:patrol_end", args=[patrol.pk]), {"note": "再次"})
    assert again.status_code == 302
    patrol.refresh_from_db()
    assert patrol.note == "巡查一社"


# The track endpoint -------------------------------------------------------------------------------------------

def test_the_track_endpoint_takes_a_batch_and_counts_a_replay_once(client, worker, patrol):
    client.force_login(worker)
    batch = {"points": [{"at": now_ms(i), "lat": 35.585 + i * 1e-4, "lng": 104.605, "accuracy": 8}
                        for i in range(3)]}
    first = post_json(client, points_url(patrol), batch)
    assert first.status_code == 200
    assert first.json() == {"stored": 3, "dropped": 0, "point_count": 3, "distance_m": 22}
    replay = post_json(client, points_url(patrol), batch)
    assert replay.json()["stored"] == 0 and replay.json()["point_count"] == 3
    assert TrackPoint.objects.count() == 3


@pytest.mark.parametrize("body, code", [
    ("{not json", "bad_json"), (b"\xff\xfe", "bad_json"), ("", "bad_track"), ("[]", "bad_track"),
    ({"points": "many"}, "bad_track"), ({"pts": []}, "bad_track"),
])
def test_the_track_endpoint_refuses_what_is_not_a_batch(client, worker, patrol, body, code):
    client.force_login(worker)
    response = post_json(client, points_url(patrol), body)
    assert response.status_code == 400 and response.json()["code"] == code and response.json()["detail"]


def test_too_many_points_in_a_batch_is_a_400_with_a_message(client, worker, patrol):
    client.force_login(worker)
    batch = {"points": [{"at": now_ms(-600 + i), "lat": 35.585, "lng": 104.605} for i in range(501)]}
    response = post_json(client, points_url(patrol), batch)
    assert response.status_code == 400
    assert response.json() == {"detail": "每次最多上传500个轨迹点，请分批上传。", "code": "too_many_points"}
    assert not TrackPoint.objects.exists()


def test_the_track_endpoint_is_the_workers_own_post_with_csrf(client, worker, patrol, tree, make_staff):
    client.force_login(make_staff("李网格", tree["grid"], Role.GRID_WORKER))
    refused = post_json(client, points_url(patrol), {"points": []})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    client.force_login(worker)
    assert client.get(points_url(patrol)).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(worker)
    assert post_json(strict, points_url(patrol), {"points": []}).status_code == 403
    page = strict.get(reverse("worker:patrol", args=[patrol.pk]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert post_json(strict, points_url(patrol), {"points": []}, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_points_after_the_end_are_refused_with_409(client, worker, patrol):
    client.force_login(worker)
    patrols.end_patrol(actor=worker, patrol=patrol)
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=3)):
        response = post_json(client, points_url(patrol), {"points": [{"at": now_ms(), "lat": 35.5, "lng": 104.6}]})
    assert response.status_code == 409 and response.json()["detail"] == "这次巡查已经结束。"


# The report linked to the patrol --------------------------------------------------------------------------------

def report_data(cats, **extra):
    return {"client_id": str(uuid.uuid4()), "category": cats["env"].pk, "description": "河道边堆了建筑垃圾",
            "address": "", "where": "point", "lat": "35.585", "lng": "104.605", "confirmed": "on", **extra}


def test_a_report_from_the_patrol_page_is_linked_to_the_patrol(client, worker, patrol, tree):
    cats = make_categories()
    client.force_login(worker)
    page = client.get(reverse("worker:case_report") + f"?patrol={patrol.pk}").content.decode()
    assert f'<input type="hidden" name="patrol" value="{patrol.pk}">' in page and "本事件将记入这次巡查" in page
    response = client.post(reverse("worker:case_report"), report_data(cats, patrol=patrol.pk))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.patrol == patrol
    page = client.get(reverse("worker:patrol", args=[patrol.pk])).content.decode()
    assert case.number in page


def test_a_report_naming_a_patrol_not_open_and_own_is_not_linked(client, worker, patrol, tree, make_staff):
    cats = make_categories()
    colleague = make_staff("李网格", tree["grid"], Role.GRID_WORKER)
    client.force_login(colleague)
    page = client.get(reverse("worker:case_report") + f"?patrol={patrol.pk}").content.decode()
    assert 'name="patrol"' not in page
    assert client.post(reverse("worker:case_report"), report_data(cats, patrol=patrol.pk)).status_code == 302
    client.force_login(worker)
    assert client.post(reverse("worker:case_report"), report_data(cats, patrol="x")).status_code == 302
    patrols.end_patrol(actor=worker, patrol=patrol)
    assert client.post(reverse("worker:case_report"), report_data(cats, patrol=patrol.pk)).status_code == 302
    assert Case.objects.count() == 3 and not Case.objects.filter(patrol__isnull=False).exists()


# 走访登记 ---------------------------------------------------------------------------------------------------------

def visit_url(**params):
    return reverse("worker:visit_new") + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def test_the_visit_form_finds_households_and_places_in_the_grid(client, worker, patrol, records):
    client.force_login(worker)
    page = client.get(visit_url(patrol=patrol.pk)).content.decode()
    assert f'value="household:{records["household"].pk}"' in page and "H-001 张三" in page
    assert f'value="household:{records["other_household"].pk}"' not in page  # the next grid's
    assert "H-001" not in client.get(visit_url(patrol=patrol.pk, q="不存在")).content.decode()
    assert "H-001 张三" in client.get(visit_url(patrol=patrol.pk, q="张")).content.decode()
    places = client.get(visit_url(patrol=patrol.pk, kind="place")).content.decode()
    assert f'value="establishment:{records["shop"].pk}"' in places and f'value="house:{records["house"].pk}"' in places


def test_a_visit_on_the_patrol_is_recorded_once_with_photos(client, worker, patrol, records, media):
    client.force_login(worker)
    key = str(uuid.uuid4())
    data = {"client_key": key, "target": f"household:{records['household'].pk}", "notes": "户主在家，情况正常",
            "visited_at": "", "lat": "35.5851", "lng": "104.6051"}
    response = client.post(visit_url(patrol=patrol.pk), {**data, "photos": [phone_photo()]})
    assert response.status_code == 302 and response["Location"] == reverse("worker:patrol", args=[patrol.pk])
    again = client.post(visit_url(patrol=patrol.pk), {**data, "photos": [phone_photo()]})
    assert again.status_code == 302
    visit = Visit.objects.get()
    assert (visit.patrol, visit.household, visit.kind, visit.lat) == (patrol, records["household"], "household",
                                                                      35.5851)
    assert VisitPhoto.objects.count() == 1
    assert "户主在家" in client.get(reverse("worker:patrol", args=[patrol.pk])).content.decode()


def test_a_refused_visit_keeps_the_choice_and_says_why(client, worker, patrol, records):
    client.force_login(worker)
    chosen = f"household:{records['household'].pk}"
    response = client.post(visit_url(patrol=patrol.pk, q="不存在"), {"client_key": str(uuid.uuid4()), "target": chosen,
                                                                   "notes": ""})
    page = response.content.decode()
    assert response.status_code == 422 and "请填写走访情况。" in page
    assert f'value="{chosen}" id="target-1" checked' in page
    nothing = client.post(visit_url(patrol=patrol.pk), {"client_key": str(uuid.uuid4()), "notes": "没选对象"})
    assert nothing.status_code == 422 and "请选择走访对象。" in nothing.content.decode()
    old = client.post(visit_url(patrol=patrol.pk), {"client_key": str(uuid.uuid4()), "target": chosen,
                                                     "notes": "补记", "visited_at": "2020-01-01T09:00"})
    assert old.status_code == 422 and "只能补记7天内的走访。" in old.content.decode()
    assert not Visit.objects.exists()


def test_a_place_visit_may_name_the_place(client, worker, records, tree):
    client.force_login(worker)
    response = client.post(visit_url(grid=tree["grid"].pk, kind="place"),
                           {"client_key": str(uuid.uuid4()), "place": "村口小卖部", "notes": "新开张，未登记"})
    assert response.status_code == 302 and response["Location"] == reverse("worker:work_log")
    visit = Visit.objects.get()
    assert (visit.kind, visit.place, visit.area, visit.patrol) == ("place", "村口小卖部", tree["grid"], None)


def test_visits_outside_the_workers_grids_answer_404(client, worker, records, tree, make_staff):
    client.force_login(worker)
    assert client.get(visit_url(grid=tree["grid2"].pk)).status_code == 404
    other = f"household:{records['other_household'].pk}"
    response = client.post(visit_url(grid=tree["grid"].pk), {"client_key": str(uuid.uuid4()), "target": other,
                                                             "notes": "x"})
    assert response.status_code == 422 and "未找到该走访对象" in response.content.decode()
    client.force_login(make_staff("兼职网格员", tree["grid"], Role.GRID_PART_TIME))  # patrols, edits nothing
    assert client.get(visit_url()).status_code == 404
    assert not Visit.objects.exists()


# 干部进村走访 -------------------------------------------------------------------------------------------------------

def test_a_cadre_records_a_village_visit(client, tree, make_staff, media):
    cadre = make_staff("乡镇干部", tree["town"], Role.GENERAL_GRID_LEADER)
    client.force_login(cadre)
    assert 'href="/worker/cadre-visit/"' in client.get(reverse("worker:me")).content.decode()
    page = client.get(reverse("worker:cadre_visit")).content.decode()
    assert "小山村" in page and "大湾村" in page and "东关社区" not in page
    refused = client.post(reverse("worker:cadre_visit"), {"client_key": str(uuid.uuid4()),
                                                          "village": tree["other_village"].pk, "place": "x",
                                                          "notes": "x"})
    assert refused.status_code == 422
    data = {"client_key": str(uuid.uuid4()), "village": tree["village"].pk, "place": "村两委班子",
            "notes": "了解春耕备耕情况", "photos": [phone_photo()]}
    response = client.post(reverse("worker:cadre_visit"), data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.kind, visit.area, visit.place, visit.visitor) == ("cadre", tree["village"], "村两委班子", cadre)
    assert "了解春耕备耕情况" in client.get(reverse("worker:work_log")).content.decode()


def test_a_grid_worker_has_no_villages_to_visit_as_a_cadre(client, worker):
    client.force_login(worker)
    assert "cadre-visit" not in client.get(reverse("worker:me")).content.decode()
    assert client.get(reverse("worker:cadre_visit")).status_code == 404


# 工作手册 and the navigation ----------------------------------------------------------------------------------------

def test_the_work_log_shows_the_day_and_moves_between_days(client, worker, patrol):
    patrols.end_patrol(actor=worker, patrol=patrol, note="巡查一社")
    client.force_login(worker)
    page = client.get(reverse("worker:work_log")).content.decode()
    assert "巡查一社" in page and "小山村第1网格" in page and 'rel="prev"' in page and 'rel="next"' not in page
    for odd in ("2999-01-01", "yesterday", ""):
        assert "巡查一社" in client.get(reverse("worker:work_log") + f"?day={odd}").content.decode()
    earlier = client.get(reverse("worker:work_log") + "?day=2026-01-05").content.decode()
    assert "这一天没有巡查、走访或办理记录。" in earlier and 'href="?day=2026-01-06"' in earlier


def test_the_bottom_navigation_has_patrol_as_its_fifth_item(client, worker):
    client.force_login(worker)
    page = client.get(reverse("worker:work_log")).content.decode()
    nav = page[page.index('class="bottom-nav"'):]
    assert nav.count("<a ") == 5
    assert re.search(r'href="/worker/patrol/" aria-current="page"', nav)
