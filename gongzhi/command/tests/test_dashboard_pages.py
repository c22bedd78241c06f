"""数据看板 and 大屏: the pages in scope (another township 404), the text version of the charts, the live stream's
poll (204 until a case comes in, then the case; never a case out of scope), sessions (the poll is not activity;
the big screen and its poll never time out) and a bounded number of queries whatever the number of cases."""

import datetime
import uuid

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.analytics import rollups, services
from gongzhi.cases import services as case_services
from gongzhi.cases.tests.helpers import HERE

pytestmark = pytest.mark.django_db

OTHER_TOWN = (35.585, 104.625)  # in tree["other_grid"] (城关镇)
START = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)


def submit(reporter, category, *, at=HERE):
    case, _created = case_services.submit_case(actor=reporter, client_id=uuid.uuid4(), category=category,
                                               description="村口路灯坏了", lat=at[0], lng=at[1])
    return case


def folded():
    rollups.catch_up(now=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1))
    services.refresh_grid_states()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_dashboard_shows_the_township_figures_and_its_cases_only(people, tree, cats):
    mine = [submit(people["resident"], cats["env"]), submit(people["resident"], cats["policy"])]
    theirs = submit(people["resident"], cats["env"], at=OTHER_TOWN)
    folded()
    client = signed_in(people["dispatcher"])
    page = client.get("/command/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "八里镇 数据看板" in html and 'href="/command/dashboard/"' in html  # the nav link
    assert 'id="trend-day"' in html and 'id="trend-week"' in html and 'id="trend-month"' in html
    assert "环境卫生类" in html and "政策咨询类" in html  # the category tables
    assert "小山村第1网格" in html  # hotspots
    assert f'/command/cases/{mine[0].pk}/' in html and f'/command/cases/{theirs.pk}/' not in html
    assert page.context["tiles"].reported_today == 2
    assert 'id="dashboard-data"' in html and "<script>" not in html  # data by json_script, no inline script
    assert client.get(f"/command/dashboard/?unit={tree['other_town'].pk}").status_code == 404
    assert client.get(f"/command/dashboard/screen/?unit={tree['other_town'].pk}").status_code == 404
    assert client.get("/command/dashboard/?unit=x").status_code == 404
    screen = client.get("/command/dashboard/screen/")
    assert screen.status_code == 200 and "big-screen" in screen.content.decode()


def test_the_poll_answers_204_until_a_case_comes_in_then_the_case(people, tree, cats):
    first = submit(people["resident"], cats["env"])
    client = signed_in(people["dispatcher"])
    page = client.get("/command/dashboard/")
    poll = page.context["poll"]
    assert poll["after"] == first.pk
    url = f"{poll['url']}&after={poll['after']}"
    nothing = client.get(url)
    assert nothing.status_code == 204 and "X-Stream-After" not in nothing
    elsewhere = submit(people["resident"], cats["env"], at=OTHER_TOWN)
    moved = client.get(url)
    assert moved.status_code == 204 and moved["X-Stream-After"] == str(elsewhere.pk)
    new = submit(people["resident"], cats["policy"])
    answer = client.get(url)
    assert answer.status_code == 200
    body = answer.json()
    assert body["last"] == new.pk and [c["id"] for c in body["cases"]] == [new.pk]  # not 城关镇's
    assert body["cases"][0]["category"] == "政策咨询类" and body["cases"][0]["url"] == f"/command/cases/{new.pk}/"
    assert client.get(f"{poll['url']}&after={new.pk}").status_code == 204
    assert client.get(f"{poll['url']}&after=x").status_code == 400
    other = signed_in(people["other_dispatcher"])
    assert other.get(f"/command/dashboard/poll/?unit={tree['town'].pk}&after=0").status_code == 404


def test_the_normal_poll_is_not_activity_and_the_big_screen_never_times_out(people, settings):
    with time_machine.travel(START, tick=False) as clock:
        desk = signed_in(people["dispatcher"])
        assert desk.get("/command/dashboard/").status_code == 200
        clock.shift(datetime.timedelta(minutes=20))
        assert desk.get("/command/dashboard/poll/?after=0").status_code in (200, 204)
        clock.shift(datetime.timedelta(minutes=11))  # 31 minutes after the page, 11 after the poll
        assert desk.get("/command/dashboard/poll/?after=0").status_code == 302  # signed out

        wall = signed_in(people["county_dispatcher"])
        assert wall.get("/command/dashboard/screen/").status_code == 200
        key = wall.session.session_key
        long = START + datetime.timedelta(minutes=31, seconds=settings.SESSION_COOKIE_AGE)
        assert Session.objects.get(session_key=key).expire_date == long
        for _ in range(6):  # three hours of polling, nobody touching it
            clock.shift(datetime.timedelta(minutes=30))
            assert wall.get("/command/dashboard/screen/poll/?after=0").status_code in (200, 204)
        assert wall.get("/command/dashboard/screen/").status_code == 200
        assert Session.objects.get(session_key=key).expire_date > START + datetime.timedelta(hours=3, minutes=31)


def test_the_page_asks_as_many_queries_for_many_cases_as_for_two(people, tree, cats):
    for _ in range(2):
        submit(people["resident"], cats["env"])
    folded()
    client = signed_in(people["county_dispatcher"])
    client.get("/command/dashboard/")  # warm the process caches (categories, grid index)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/command/dashboard/").status_code == 200
    for at in [HERE, OTHER_TOWN] * 10:
        submit(people["resident"], cats["policy"], at=at)
    folded()
    with CaptureQueriesContext(connection) as many:
        assert client.get("/command/dashboard/").status_code == 200
    assert len(many) == len(few) <= 30, "\n".join(q["sql"][:150] for q in many.captured_queries)
    # No statement reads the case table except the stream's newest few and the township names.
    case_reads = [q["sql"] for q in many.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert len(case_reads) == 1 and "LIMIT 12" in case_reads[0]
