"""重点人员 in the command portal: the list with its filters and counts for the township's dispatcher and the
county's supervisor, 404 for a department handler; the record (each opening logged) with the plan change and
ending for those who may manage; the Excel export without ID numbers and with masked phones."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.accounts.models import Role
from gongzhi.registry.models import KeyPersonView
from gongzhi.registry.tests.key_person_factories import id_number, listed, person, presets

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
LATER = datetime.datetime(2026, 3, 12, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(LATER, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(tree, make_staff):
    cats = presets()
    cast = {
        "worker": make_staff("wgy", tree["grid"], Role.GRID_WORKER),
        "dispatcher": make_staff("disp", tree["town"], Role.DISPATCHER),
        "supervisor": make_staff("dc", tree["county"], Role.SUPERVISOR),
        "handler": make_staff("sifa", tree["justice"], Role.DEPT_HANDLER),
        "other_dispatcher": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
    }
    number = id_number("19800101")
    with time_machine.travel(START, tick=False):
        cast["overdue"] = listed(cast["worker"], person(tree["grid"], "欧阳建国", id_number=number,
                                                        phone="13912345678"), categories=("released", "drug"),
                                 responsible=cast["worker"])
        cast["planned"] = listed(cast["worker"], person(tree["grid"], "诸葛明"), risk_level="low")
    cast["number"], cast["cats"] = number, cats
    return cast


def test_the_dispatcher_sees_the_list_with_counts_and_filters(client, desk):
    client.force_login(desk["dispatcher"])
    page = client.get(reverse("command:key_persons")).content.decode()
    assert "欧阳建国" in page and "诸葛明" in page and "已逾期4天" in page
    assert 'id="kp-by-category"' in page and "刑满释放</a> <strong>1</strong>" in page
    assert "高风险</a> <strong>1</strong>" in page and "低风险</a> <strong>1</strong>" in page
    overdue = client.get(reverse("command:key_persons"), {"due": "overdue"}).content.decode()
    assert "欧阳建国" in overdue and "诸葛明" not in overdue
    low = client.get(reverse("command:key_persons"), {"risk": "low"}).content.decode()
    assert "诸葛明" in low and "欧阳建国" not in low
    bad = client.get(reverse("command:key_persons"), {"risk": "extreme"}).content.decode()
    assert "未知的风险等级。" in bad and "欧阳建国" in bad
    assert not KeyPersonView.objects.exists()  # a list is not an opening of a record


def test_a_department_handler_and_another_township_get_nothing(client, desk):
    client.force_login(desk["handler"])
    for url in (reverse("command:key_persons"), reverse("command:key_persons_export"),
                reverse("command:key_person", args=[desk["overdue"].pk])):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "欧阳建国" not in response.content.decode()
    client.force_login(desk["other_dispatcher"])
    assert client.get(reverse("command:key_person", args=[desk["overdue"].pk])).status_code == 404
    assert "欧阳建国" not in client.get(reverse("command:key_persons")).content.decode()
    assert not KeyPersonView.objects.exists()


def test_the_record_is_logged_and_the_supervisor_sees_but_does_not_manage(client, desk):
    kp = desk["overdue"]
    client.force_login(desk["supervisor"])
    page = client.get(reverse("command:key_person", args=[kp.pk])).content.decode()
    assert "欧阳建国" in page and "139****5678" in page and desk["number"] not in page
    assert "修改管控计划" not in page and "最近查看" not in page
    response = client.post(reverse("command:key_person_plan", args=[kp.pk]), {"risk_level": "low"})
    assert response.status_code == 404
    client.force_login(desk["dispatcher"])
    page = client.get(reverse("command:key_person", args=[kp.pk])).content.decode()
    assert "修改管控计划" in page and "最近查看" in page
    assert list(KeyPersonView.objects.order_by("pk").values_list("viewer__username", flat=True)) == ["dc", "disp"]


def test_the_dispatcher_changes_the_plan_and_ends_the_listing(client, desk):
    kp = desk["overdue"]
    client.force_login(desk["dispatcher"])
    refused = client.post(reverse("command:key_person_plan", args=[kp.pk]), {
        "categories": [desk["cats"]["drug"].pk], "risk_level": "low", "care_plan": "x",
        "responsible": str(desk["dispatcher"].pk)})
    assert refused.status_code == 422  # a dispatcher is not a field post: not a choice
    response = client.post(reverse("command:key_person_plan", args=[kp.pk]), {
        "categories": [desk["cats"]["drug"].pk], "risk_level": "medium", "care_plan": "每两周上门。",
        "responsible": str(desk["worker"].pk), "interval_days": "10"})
    assert response.status_code == 302
    kp.refresh_from_db()
    assert (kp.risk_level, kp.interval_days, kp.next_visit_due) == ("medium", 10, datetime.date(2026, 3, 11))
    assert client.post(reverse("command:key_person_end", args=[kp.pk]), {"reason": "已迁出本辖区"}).status_code == 302
    kp.refresh_from_db()
    assert kp.ended_on == datetime.date(2026, 3, 12)
    ended = client.get(reverse("command:key_persons"), {"ended": "1"}).content.decode()
    assert "欧阳建国" in ended and "诸葛明" not in ended


def test_the_export_has_no_id_numbers_and_masked_phones(client, desk):
    client.force_login(desk["dispatcher"])
    response = client.get(reverse("command:key_persons_export"), {"due": "overdue"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert rows[0][:4] == ["姓名", "性别", "出生年份", "手机号"]
    assert len(rows) == 2
    row = rows[1]
    assert row[0] == "欧阳建国" and row[3] == "139****5678" and "刑满释放" in row[4] and row[13] == "已逾期"
    assert row[14] == 4
    flat = " ".join(str(v) for r in rows for v in r)
    assert desk["number"] not in flat and "13912345678" not in flat


def test_the_registry_navigation_links_key_persons_only_for_posts_with_access(client, desk, tree, make_staff):
    link = f'href="{reverse("command:key_persons")}"'
    client.force_login(desk["supervisor"])
    assert link in client.get(reverse("command:registry")).content.decode()
    client.force_login(make_staff("zhan", tree["village"], Role.VILLAGE_STATION))
    page = client.get(reverse("command:registry"))
    assert page.status_code in (200, 302) and link not in page.content.decode()
