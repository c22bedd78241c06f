"""全部事件 and 超期事件 (issue 11): search, filters, columns, paging without a count, the new-case poll and the
Excel export, always within the viewer's scope."""

import datetime
import io
import uuid

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.accounts.models import Role
from gongzhi.accounts.sessions import _MOVED_AT
from gongzhi.cases import categories, services
from gongzhi.cases.factories import act
from gongzhi.cases.models import Case
from gongzhi.cases.tests.helpers import HERE, dispatched
from gongzhi.cases.workflow import Action
from gongzhi.command import export
from gongzhi.core.pii import keyed_hash
from gongzhi.org.factories import make_department
from gongzhi.org.models import DepartmentType

pytestmark = pytest.mark.django_db

OTHER_TOWN = (35.585, 104.625)  # in tree["other_grid"] (城关镇)
PHONE = "13912345678"


def submit(reporter, category, *, at=HERE, description="村口路灯坏了", address="", **extra):
    case, _created = services.submit_case(actor=reporter, client_id=uuid.uuid4(), category=category,
                                          description=description, lat=at[0], lng=at[1], address=address, **extra)
    return case


def numbers(response):
    """The case numbers listed on a list page, in their order."""
    page = response.content.decode()
    return [cell.split('">', 1)[1].split("<", 1)[0] for cell in page.split('<td><a href="/command/cases/')[1:]]


def listed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return numbers(response)


@pytest.fixture
def phoned(people):
    people["resident"].phone = PHONE
    people["resident"].save()
    return people["resident"]


def test_all_cases_are_newest_first_with_township_and_handling_unit(client, people, tree, cats):
    first = submit(people["resident"], cats["env"])
    second = submit(people["resident"], cats["env"])
    dispatched(people, tree, first)
    client.force_login(people["county_dispatcher"])
    page = client.get("/command/cases/").content.decode()
    assert listed(client, "/command/cases/") == [second.number, first.number]
    assert "<th scope=\"col\">乡镇</th>" in page and "<th scope=\"col\">承办单位</th>" in page
    row = page.split(first.number)[1].split("</tr>")[0]
    assert "<td>八里镇</td>" in row and "八里镇司法所" in row  # the lead unit, not the holder
    row = page.split(second.number)[1].split("</tr>")[0]
    assert row.count("<td>八里镇</td>") == 2  # not dispatched: the holder handles it
    assert "共2件" in page


def test_keyword_finds_description_and_address(client, people, cats):
    lamp = submit(people["resident"], cats["env"], description="路灯坏了")
    road = submit(people["resident"], cats["env"], description="路面塌陷", address="小学门口")
    client.force_login(people["dispatcher"])
    assert listed(client, "/command/cases/?q=路灯") == [lamp.number]
    assert listed(client, "/command/cases/?q=小学") == [road.number]
    too_long = client.get("/command/cases/?q=" + "长" * 51).content.decode()
    assert "关键词最多50个字，已忽略该条件。" in too_long and lamp.number in too_long and road.number in too_long


def test_phone_search_goes_by_post_and_keyed_hash_and_skips_anonymous_reports(client, people, phoned, cats):
    named = submit(phoned, cats["env"])
    anonymous = submit(phoned, cats["env"], is_anonymous=True)
    other = submit(people["neighbour"], cats["env"])
    client.force_login(people["dispatcher"])
    response = client.post("/command/cases/", {"phone": "139 1234 5678"})
    assert response.status_code == 302 and PHONE not in response["Location"]
    assert response["Location"] == f"/command/cases/?reporter={keyed_hash(PHONE)}"
    found = listed(client, response["Location"])
    assert found == [named.number] and anonymous.number not in found and other.number not in found
    refused = client.post("/command/cases/", {"phone": "12345"}, follow=True).content.decode()
    assert "请填写有效的11位中国大陆手机号码。" in refused
    assert "手机号查询已失效" in client.get("/command/cases/?reporter=abc").content.decode()


def test_phone_search_finds_nothing_outside_scope(client, people, phoned, cats):
    submit(phoned, cats["env"])
    client.force_login(people["other_dispatcher"])
    assert listed(client, f"/command/cases/?reporter={keyed_hash(PHONE)}") == []


def test_a_complaint_is_never_found_by_the_unit_it_is_about(client, people, phoned, tree, make_staff):
    construction = make_department(tree["town"], DepartmentType.URBAN_CONSTRUCTION, "八里镇城建办", "CJB")
    complaint = submit(phoned, categories.by_code("complaint-attitude"), description="城建办推诿",
                       subject_unit=construction)
    client.force_login(make_staff("城建办员", construction, Role.DEPT_HANDLER))
    for url in ("/command/cases/?q=推诿", f"/command/cases/?reporter={keyed_hash(PHONE)}",
                "/command/cases/?archived=include"):
        assert complaint.number not in listed(client, url)
    assert "推诿" not in export_rows(client, "/command/cases/export/?q=推诿").__repr__()
    client.force_login(people["county_dispatcher"])
    assert listed(client, "/command/cases/?q=推诿") == [complaint.number]


def test_out_of_scope_cases_never_appear(client, people, cats):
    mine = submit(people["resident"], cats["env"])
    theirs = submit(people["resident"], cats["env"], at=OTHER_TOWN)
    client.force_login(people["dispatcher"])
    assert listed(client, "/command/cases/") == [mine.number]
    assert listed(client, "/command/cases/?archived=include&q=路灯") == [mine.number]
    assert theirs.number not in str(export_rows(client, "/command/cases/export/"))


def test_category_filter_includes_children(client, people, cats):
    env = submit(people["resident"], cats["env"])
    garbage = submit(people["resident"], categories.by_code("talk-environment-garbage"))
    policy = submit(people["resident"], cats["policy"])
    client.force_login(people["dispatcher"])
    assert listed(client, f"/command/cases/?category={cats['env'].pk}") == [garbage.number, env.number]
    assert listed(client, f"/command/cases/?category={cats['talk'].pk}") == [policy.number, garbage.number,
                                                                            env.number]
    page = client.get("/command/cases/?category=999999").content.decode()
    assert "未知的事件分类，已忽略该条件。" in page and policy.number in page


def test_area_filter_offers_units_below_the_posts_and_refuses_others(client, people, tree, cats):
    here = submit(people["resident"], cats["env"])
    there = submit(people["resident"], cats["env"], at=(35.595, 104.605))  # 大湾村第1网格
    client.force_login(people["county_dispatcher"])
    options = client.get("/command/cases/").content.decode().split('name="unit"')[1].split("</select>")[0]
    assert "八里镇" in options and "小山村" in options and "城关镇" in options
    assert "小山村第1网格" not in options  # three levels down: too many to list
    assert listed(client, f"/command/cases/?unit={tree['village'].pk}") == [here.number]
    assert listed(client, f"/command/cases/?unit={tree['town'].pk}") == [there.number, here.number]
    client.force_login(people["dispatcher"])
    page = client.get(f"/command/cases/?unit={tree['other_town'].pk}").content.decode()
    assert "所选区域不在您的管辖范围内，已忽略该条件。" in page and here.number in page
    client.force_login(people["justice"])  # a department: no areas to choose from
    assert 'name="unit"' not in client.get("/command/cases/").content.decode()


def test_date_range_is_in_china_time_and_bad_dates_are_ignored(client, people, cats):
    shanghai = timezone.get_default_timezone()
    # 2026-03-01 23:30 in Shanghai is still 03-01 there, though 15:30 UTC.
    with time_machine.travel(datetime.datetime(2026, 3, 1, 23, 30, tzinfo=shanghai), tick=False):
        late = submit(people["resident"], cats["env"])
    with time_machine.travel(datetime.datetime(2026, 3, 2, 0, 30, tzinfo=shanghai), tick=False):
        next_day = submit(people["resident"], cats["env"])
    client.force_login(people["dispatcher"])
    assert listed(client, "/command/cases/?reported_from=2026-03-01&reported_to=2026-03-01") == [late.number]
    assert listed(client, "/command/cases/?reported_from=2026-03-02") == [next_day.number]
    page = client.get("/command/cases/?reported_from=2026-13-01&reported_to=2026-03-01").content.decode()
    assert "请按“年-月-日”填写日期" in page and late.number in page and next_day.number not in page
    page = client.get("/command/cases/?reported_from=2026-03-02&reported_to=2026-03-01").content.decode()
    assert "结束日期不能早于开始日期，已忽略该条件。" in page and next_day.number in page


def test_flag_filter_and_overdue_list(client, people, cats):
    late = submit(people["resident"], cats["env"])
    fresh = submit(people["resident"], cats["env"])
    Case.objects.filter(pk=late.pk).update(respond_due=timezone.now() - datetime.timedelta(hours=1))
    client.force_login(people["dispatcher"])
    assert listed(client, "/command/cases/?flag=red") == [late.number]
    assert listed(client, "/command/cases/?flag=green") == [fresh.number]
    assert listed(client, "/command/cases/overdue/") == [late.number]
    assert listed(client, "/command/cases/overdue/?q=没有") == []
    assert "未知的时限标记，已忽略该条件。" in client.get("/command/cases/?flag=purple").content.decode()


def test_paging_reads_one_row_more_instead_of_counting(client, people, cats, settings):
    cases = [submit(people["resident"], cats["env"]) for _ in range(32)]
    client.force_login(people["dispatcher"])
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/command/cases/")
    assert not [q for q in queries if "COUNT(" in q["sql"].upper() and "cases_case" in q["sql"]]
    page = first.content.decode()
    assert "下一页" in page and "共" not in page.split("<table")[0].split("list-tools")[-1]
    assert numbers(first)[0] == cases[-1].number and len(numbers(first)) == 30
    second = client.get("/command/cases/?page=2")
    assert numbers(second) == [cases[1].number, cases[0].number] and "上一页" in second.content.decode()
    assert numbers(client.get("/command/cases/?page=99999999999999999999")) == []  # capped, never a 500
    assert client.get("/command/cases/?page=x").status_code == 200


@pytest.mark.parametrize("url", ["/command/cases/", "/command/cases/overdue/"])
def test_a_list_page_asks_as_many_queries_for_thirty_rows_as_for_two(client, people, tree, cats, url):
    for case in [submit(people["resident"], cats["env"]) for _ in range(2)]:
        dispatched(people, tree, case)
    Case.objects.update(handle_due=timezone.now() - datetime.timedelta(hours=1))
    client.force_login(people["county_dispatcher"])
    with CaptureQueriesContext(connection) as few:
        assert len(numbers(client.get(url))) == 2
    for at in [HERE, OTHER_TOWN] * 14:
        case = submit(people["resident"], cats["env"], at=at)
        if at == HERE:
            dispatched(people, tree, case)
    Case.objects.update(handle_due=timezone.now() - datetime.timedelta(hours=1), status="in_progress")
    with CaptureQueriesContext(connection) as many:
        assert len(numbers(client.get(url))) == 30
    assert len(many) == len(few) <= 20


def test_the_poll_answers_204_until_a_case_comes_in_then_the_count(client, people, cats):
    submit(people["resident"], cats["env"])
    client.force_login(people["dispatcher"])
    page = client.get("/command/cases/").content.decode()
    since = int(page.split("since=")[1].split('"')[0])
    assert 'id="new-cases"' in page and "js/case-list-poll.js" in page
    with CaptureQueriesContext(connection) as queries:
        nothing = client.get(f"/command/cases/poll/?since={since}")
    assert nothing.status_code == 204 and nothing.content == b""
    assert len(queries) <= 8  # session, user, posts and scope, the categories' token, the count
    submit(people["resident"], cats["env"])
    submit(people["resident"], cats["env"], at=OTHER_TOWN)  # not in this dispatcher's scope
    submit(people["resident"], cats["policy"])
    answer = client.get(f"/command/cases/poll/?since={since}")
    assert answer.status_code == 200 and answer.json() == {"count": 2, "message": "有2件新事件"}
    filtered = client.get(f"/command/cases/poll/?since={since}&category={cats['policy'].pk}")
    assert filtered.json()["count"] == 1
    assert client.get("/command/cases/poll/?since=x").status_code == 400
    assert client.post(f"/command/cases/poll/?since={since}").status_code == 405


def test_the_poll_does_not_keep_an_idle_staff_session_alive(client, people):
    client.force_login(people["dispatcher"])
    client.get("/command/cases/")
    session = client.session
    session[_MOVED_AT] = 1  # long ago: a request by the person would move the expiry now
    session.save()
    client.get("/command/cases/poll/?since=0")
    assert client.session[_MOVED_AT] == 1
    client.get("/command/cases/")
    assert client.session[_MOVED_AT] > 1


def export_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == export.excel.CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_the_export_holds_the_filtered_list_and_no_phone_or_id(client, people, phoned, tree, cats):
    named = submit(phoned, cats["env"], description="=HYPERLINK(\"http://x\")路灯")
    anonymous = submit(phoned, cats["env"], is_anonymous=True, description="路灯又坏了")
    submit(people["neighbour"], cats["policy"], description="低保")
    dispatched(people, tree, named)
    client.force_login(people["dispatcher"])
    rows = export_rows(client, "/command/cases/export/?q=路灯")
    header, body = rows[0], rows[1:]
    assert header[:3] == ["编号", "上报时间", "分类"] and header[-1] == "反映人"
    assert [row[0] for row in body] == listed(client, "/command/cases/?q=路灯") == [anonymous.number, named.number]
    by_number = {row[0]: row for row in body}
    assert by_number[anonymous.number][-1] == "匿名"
    assert by_number[named.number][-1] == phoned.real_name
    assert by_number[named.number][3].startswith("=HYPERLINK")  # text, never a formula
    assert by_number[named.number][5] == "八里镇" and by_number[named.number][7] == "八里镇司法所"
    assert isinstance(by_number[named.number][1], datetime.datetime)
    flat = repr(rows)
    assert PHONE not in flat and "5678" not in flat


def test_the_overdue_export_and_the_row_cap(client, people, cats, monkeypatch):
    cases = [submit(people["resident"], cats["env"]) for _ in range(3)]
    Case.objects.filter(pk__in=[c.pk for c in cases[:2]]).update(
        respond_due=timezone.now() - datetime.timedelta(hours=1))
    client.force_login(people["dispatcher"])
    rows = export_rows(client, "/command/cases/overdue/export/")
    assert sorted(row[0] for row in rows[1:]) == sorted(c.number for c in cases[:2])
    monkeypatch.setattr(export, "MAX_ROWS", 2)
    rows = export_rows(client, "/command/cases/export/")
    assert rows[0][0] == "仅导出前2件事件，请缩小筛选范围后分批导出。" and len(rows) == 4
    assert [row[0] for row in rows[2:]] == [cases[2].number, cases[1].number]


def test_other_lists_show_the_new_columns(client, people, tree, cats):
    case = submit(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    client.force_login(people["justice"])
    page = client.get("/command/cases/").content.decode()
    assert "八里镇司法所" in page.split(case.number)[1].split("</tr>")[0]
