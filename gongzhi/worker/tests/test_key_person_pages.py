"""重点人员 in the worker portal: who may open the list and a record (each opening logged), 登记走访 (a retried form
records one visit; bad input changes nothing), listing a resident found by name or ID number, changing and ending
the plan, and the home page's block."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.accounts.models import Membership, Role
from gongzhi.cases.factories import make_resident
from gongzhi.registry.models import KeyPerson, KeyPersonView, RecordChange, Visit
from gongzhi.registry.tests.key_person_factories import id_number, listed, person, presets

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
LATER = datetime.datetime(2026, 3, 12, 10, 0, tzinfo=SHANGHAI)  # the high-risk person is 4 days overdue
NAME = "欧阳建国"


@pytest.fixture(autouse=True)
def clock():
    """The pages are seen on 12 March (sessions keep their own idle clock, so every request runs on this one)."""
    with time_machine.travel(LATER, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cast(tree, make_staff):
    presets()
    return {
        "worker": make_staff("wgy", tree["grid"], Role.GRID_WORKER),
        "other_worker": make_staff("wgy2", tree["grid2"], Role.GRID_WORKER),
        "station": make_staff("gzz", tree["village"], Role.VILLAGE_STATION),
        "part_time": make_staff("jz", tree["grid"], Role.GRID_PART_TIME),
    }


@pytest.fixture
def kp(tree, cast):
    with time_machine.travel(START, tick=False):
        return listed(cast["worker"], person(tree["grid"], NAME, phone="13912345678"), responsible=cast["worker"])


@pytest.fixture
def as_user(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_a_grid_worker_opens_the_list_and_the_record_and_each_opening_is_logged(as_user, cast, kp):
    client = as_user(cast["worker"])
    page = client.get(reverse("worker:key_persons")).content.decode()
    assert NAME in page and "已逾期4天" in page
    assert NAME in client.get(reverse("worker:key_persons") + "?due=overdue").content.decode()
    assert NAME not in client.get(reverse("worker:key_persons") + "?due=due_soon").content.decode()
    record = client.get(reverse("worker:key_person", args=[kp.pk]))
    body = record.content.decode()
    assert record.status_code == 200
    assert NAME in body and "139****5678" in body and "13912345678" not in body
    assert "登记走访" in body and "修改管控计划" in body and "最近查看" in body
    client.get(reverse("worker:key_person", args=[kp.pk]))
    assert list(KeyPersonView.objects.filter(key_person=kp).values_list("viewer__username", flat=True)) == [
        "wgy", "wgy"]


@pytest.mark.parametrize("who", ["other_worker", "station", "part_time"])
def test_posts_without_access_to_the_person_get_404_and_log_nothing(as_user, cast, kp, who):
    client = as_user(cast[who])
    for name in ("worker:key_person", "worker:key_person_plan"):
        assert client.get(reverse(name, args=[kp.pk])).status_code == 404
    response = client.post(reverse("worker:key_person_visit", args=[kp.pk]), {"notes": "走访"})
    assert response.status_code == 404
    assert not Visit.objects.exists()
    assert not KeyPersonView.objects.exists()
    list_page = client.get(reverse("worker:key_persons"))
    assert list_page.status_code == (200 if who == "other_worker" else 404)
    assert NAME not in list_page.content.decode()
    assert NAME not in client.get(reverse("worker:home")).content.decode()


def test_a_merchant_does_not_reach_the_record(client, tree, kp):
    merchant = make_resident("shop", "小卖部", tree["grid"])
    Membership.objects.create(user=merchant, unit=tree["grid"], role=Role.MERCHANT)
    client.force_login(merchant)
    response = client.get(reverse("worker:key_person", args=[kp.pk]))
    assert response.status_code in (302, 404)
    assert NAME not in response.content.decode()
    assert not KeyPersonView.objects.exists()


def test_a_visit_is_recorded_once_and_moves_the_plan_on(as_user, cast, kp):
    client = as_user(cast["worker"])
    url = reverse("worker:key_person_visit", args=[kp.pk])
    empty = client.post(url, {"notes": "  ", "client_key": "k1"})
    assert empty.status_code == 422 and "请填写走访情况。" in empty.content.decode()
    assert not Visit.objects.exists()
    for _attempt in range(2):  # the phone sends the form again after a lost answer
        response = client.post(url, {"notes": "上门见到本人，正在找工作。", "client_key": "k2"})
        assert response.status_code == 302
    [visit] = Visit.objects.all()
    assert (visit.key_person, visit.visitor, visit.kind) == (kp, cast["worker"], Visit.Kind.KEY_PERSON)
    kp.refresh_from_db()
    assert kp.next_visit_due == datetime.date(2026, 3, 19)
    page = client.get(reverse("worker:key_person", args=[kp.pk])).content.decode()
    assert "上门见到本人，正在找工作。" in page and "走访已登记。" in page


def test_a_bad_photo_is_refused_and_nothing_is_recorded(as_user, cast, kp):
    client = as_user(cast["worker"])
    bad = SimpleUploadedFile("x.jpg", b"not a picture", content_type="image/jpeg")
    response = client.post(reverse("worker:key_person_visit", args=[kp.pk]),
                           {"notes": "走访", "photos": [bad], "client_key": "k3"})
    assert response.status_code == 422
    assert not Visit.objects.exists()


def test_a_worker_lists_a_resident_found_by_name_or_id_number(as_user, tree, cast):
    number = id_number("19900909")
    resident = person(tree["grid"], "司马光明", id_number=number)
    person(tree["grid2"], "司马光辉")
    client = as_user(cast["worker"])
    found = client.get(reverse("worker:key_person_new"), {"q": "司马"}).content.decode()
    assert "司马光明" in found and "司马光辉" not in found and number not in found
    assert "司马光明" in client.get(reverse("worker:key_person_new"), {"q": number}).content.decode()
    bad = client.get(reverse("worker:key_person_new"), {"q": number[:17] + ("1" if number[17] != "1" else "2")})
    assert bad.status_code == 422
    form = client.get(reverse("worker:key_person_new"), {"resident": resident.pk})
    assert form.status_code == 200 and "社区矫正" in form.content.decode()
    cats = presets()
    refused = client.post(reverse("worker:key_person_new"), {"resident": resident.pk, "risk_level": "high",
                                                             "care_plan": "每周谈话"})
    assert refused.status_code == 422 and "请至少选择一个重点人员类别。" in refused.content.decode()
    done = client.post(reverse("worker:key_person_new"), {
        "resident": resident.pk, "categories": [cats["drug"].pk], "risk_level": "medium",
        "responsible": cast["worker"].pk, "care_plan": "每两周上门一次，配合禁毒社工。", "started_on": "2026-03-01"})
    kp = KeyPerson.objects.get(resident=resident)
    assert done.status_code == 302 and done["Location"] == reverse("worker:key_person", args=[kp.pk])
    assert (kp.risk_level, kp.responsible, kp.next_visit_due) == ("medium", cast["worker"], datetime.date(2026, 3, 16))
    again = client.post(reverse("worker:key_person_new"), {
        "resident": resident.pk, "categories": [cats["drug"].pk], "risk_level": "medium", "care_plan": "x"})
    assert again.status_code == 422 and "已列为重点人员" in again.content.decode()
    other = client.get(reverse("worker:key_person_new"), {"resident": tree["grid2"].pk + 10_000})
    assert other.status_code == 404


def test_the_plan_is_changed_and_the_listing_ended(as_user, cast, kp):
    client = as_user(cast["worker"])
    page = client.get(reverse("worker:key_person_plan", args=[kp.pk]))
    assert page.status_code == 200
    cats = presets()
    response = client.post(reverse("worker:key_person_plan", args=[kp.pk]), {
        "categories": [cats["community-correction"].pk, cats["petition"].pk], "risk_level": "low",
        "interval_days": "", "responsible": "", "care_plan": "每月电话联系一次。"})
    assert response.status_code == 302
    kp.refresh_from_db()
    assert (kp.risk_level, kp.responsible, kp.next_visit_due) == ("low", None, datetime.date(2026, 3, 31))
    refused = client.post(reverse("worker:key_person_end", args=[kp.pk]), {"reason": ""})
    assert refused.status_code == 422
    assert client.post(reverse("worker:key_person_end", args=[kp.pk]), {"reason": "矫正期满"}).status_code == 302
    kp.refresh_from_db()
    assert kp.ended_on is not None
    assert RecordChange.objects.filter(record_id=kp.pk, action="ended").exists()
    page = client.get(reverse("worker:key_person", args=[kp.pk])).content.decode()
    assert "已解除列管" in page and 'action="/worker/key-persons/' + str(kp.pk) + '/visit/"' not in page


def test_the_home_page_shows_the_due_and_overdue_key_persons(as_user, tree, cast, kp, clock):
    with time_machine.travel(START, tick=False):
        listed(cast["worker"], person(tree["grid"], "诸葛明"), risk_level="medium")  # due 3/16
    clock.move_to(datetime.datetime(2026, 3, 13, 9, 0, tzinfo=SHANGHAI))
    client = as_user(cast["worker"])
    home = client.get(reverse("worker:home")).content.decode()
    assert 'id="home-key-persons"' in home
    assert NAME in home and "已逾期5天" in home and "诸葛明" in home and "即将到期" in home
    assert reverse("worker:key_persons") in home
    station_home = as_user(cast["station"]).get(reverse("worker:home")).content.decode()
    assert 'id="home-key-persons"' not in station_home
