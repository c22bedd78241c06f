"""考核评价 in the command portal and the public figures page: scope, drilling down, bad input, Excel, and no
personal data on the public page."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from gongzhi.analytics import rollups
from gongzhi.cases import services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Rating
from gongzhi.cases.workflow import Action

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def handled_march(people, tree, cats):
    """Twelve cases of 小山村第1网格 handled by 八里镇司法所 in March, the first rated 满意; folded."""
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), tick=True):
        for i in range(12):
            case = report(people["resident"], cats["env"])
            act(people["dispatcher"], case, Action.ACCEPT)
            act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
            act(people["justice"], case, Action.SIGN)
            act(people["justice"], case, Action.COMPLETE)
            if i == 0:
                act(people["grid_worker"], case, Action.CONFIRM)
                act(people["dispatcher"], case, Action.CLOSE)
                services.take_action(actor=people["resident"], case=case, action=Action.RATE,
                                     score=Rating.Score.SATISFIED)
    with time_machine.travel(NOW, tick=False):
        rollups.catch_up()


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@time_machine.travel(NOW, tick=False)
def test_the_dispatcher_sees_the_figures_rankings_and_formulas(people, tree, handled_march):
    page = signed_in(people["dispatcher"]).get("/command/assessment/?from=2026-03&to=2026-03")
    assert page.status_code == 200
    html = page.content.decode()
    assert "八里镇 考核评价" in html and "按时办结率" in html and "100.0%" in html and "12/12" in html
    assert 'id="rank-areas"' in html and "小山村" in html  # the villages one level down
    assert 'id="rank-units"' in html and "八里镇司法所" in html
    assert 'id="rank-workers"' in html and "sifa" in html
    assert "（满意 + 基本满意）÷ 本期评价数" in html  # the formula is published


@time_machine.travel(NOW, tick=False)
def test_another_townships_unit_is_404_and_bad_months_are_refused(people, tree, handled_march):
    client = signed_in(people["other_dispatcher"])
    assert client.get(f"/command/assessment/?unit={tree['town'].pk}").status_code == 404
    assert client.get("/command/assessment/?unit=abc").status_code == 404
    page = client.get("/command/assessment/?from=2026-13&to=2027-01", follow=True).content.decode()
    assert "请按“年-月”填写月份" in page
    future = signed_in(people["dispatcher"]).get("/command/assessment/?to=2026-05").content.decode()
    assert "不能选择以后的月份。" in future


@time_machine.travel(NOW, tick=False)
def test_the_county_drills_down_to_the_township(people, tree, handled_march):
    client = signed_in(people["county_dispatcher"])
    county = client.get("/command/assessment/?from=2026-03&to=2026-03").content.decode()
    assert f"unit={tree['town'].pk}" in county
    town = client.get(f"/command/assessment/?unit={tree['town'].pk}&from=2026-03&to=2026-03").content.decode()
    assert "八里镇 考核评价" in town and "安定区</a>" in town  # the way back up


@time_machine.travel(NOW, tick=False)
def test_the_excel_export_opens_and_holds_the_figures(people, tree, handled_march):
    response = signed_in(people["dispatcher"]).get("/command/assessment/?from=2026-03&to=2026-03&format=xlsx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert {"指标", "下级区域", "部门", "人员", "月度趋势"} <= set(book.sheetnames)
    rows = {row[0]: row for row in book["指标"].iter_rows(values_only=True) if row and row[0]}
    assert rows["按时办结率"][1:4] == (100, 12, 12)
    assert rows["满意率"][1:4] == (100, 1, 1)


@time_machine.travel(NOW, tick=False)
def test_the_public_page_shows_the_figures_to_anyone_without_people(people, tree, handled_march):
    client = Client()
    listing = client.get("/public/assessment/").content.decode()
    assert tree["town"].name in listing and tree["county"].name in listing
    page = client.get(f"/public/assessment/{tree['town'].code}/?from=2026-03&to=2026-03")
    assert page.status_code == 200
    html = page.content.decode()
    assert "100.0%" in html and "八里镇司法所" in html
    for personal in ("sifa", "王秀兰", "rank-workers", people["resident"].real_name):
        assert personal not in html
    book = load_workbook(io.BytesIO(b"".join(client.get(
        f"/public/assessment/{tree['town'].code}/?from=2026-03&format=xlsx").streaming_content)), read_only=True)
    assert "人员" not in book.sheetnames
    assert client.get(f"/public/assessment/{tree['grid'].code}/").status_code == 404  # grids are not public units
    assert client.get(f"/public/assessment/{tree['justice'].code}/").status_code == 404


@time_machine.travel(datetime.datetime(2026, 4, 2, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_the_monthly_report_prints_the_month_and_the_cases_still_overdue(people, tree, cats, handled_march):
    with time_machine.travel(datetime.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI), tick=False):
        late = report(people["resident"], cats["env"])  # never accepted: past its response limit by April
    client = signed_in(people["dispatcher"])
    page = client.get("/command/assessment/monthly/")  # last month by default
    html = page.content.decode()
    assert page.status_code == 200 and "八里镇2026年3月督查通报" in html
    assert "本月群众反映事件12件，办结12件，收到评价1条。" in html
    assert late.number in html and 'id="overdue"' in html and "八里镇司法所" in html
    response = client.get(f"/command/assessment/monthly/?unit={tree['town'].pk}&month=2026-03&format=xlsx")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert "超期事件" in book.sheetnames and "人员" not in book.sheetnames
    overdue = [row for row in book["超期事件"].iter_rows(values_only=True)]
    assert overdue[1][0] == late.number
    assert "请按“年-月”填写月份" in client.get("/command/assessment/monthly/?month=March").content.decode()
    assert signed_in(people["other_dispatcher"]).get(
        f"/command/assessment/monthly/?unit={tree['town'].pk}").status_code == 404
