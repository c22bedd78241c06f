"""The reads behind 全部事件 and 超期事件 (issue 11): flags as plain filters, categories with their children,
townships, the search by phone, and what the first page asks of the database."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from gongzhi.cases import categories, selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case
from gongzhi.cases.selectors import CaseFilter
from gongzhi.cases.workflow import Action, Flag
from gongzhi.core.pii import keyed_hash

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month, day, hour=10):
    return datetime.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def test_flag_q_selects_exactly_the_cases_with_flags_marks(people, tree, cats):
    """Calendar: the National Day holiday 10-01..10-07, make-up workday Saturday 10-10."""
    def accepted(moment):
        with time_machine.travel(moment, tick=False):
            case = report(people["resident"], cats["policy"])
            return act(people["dispatcher"], case, Action.ACCEPT)

    cases = {"red": accepted(at(9, 24)), "yellow": accepted(at(9, 29)), "green": accepted(at(9, 30))}
    with time_machine.travel(at(10, 10, 6), tick=False):
        cases["respond_red"] = report(people["resident"], cats["policy"])
    with time_machine.travel(at(10, 9, 9), tick=False):
        cases["respond_yellow"] = report(people["resident"], cats["policy"])  # 24 h: due 10-10 09:00
        cases["ordered"] = accepted(at(10, 9, 9))  # handling limit ahead, its 督办 order's limit passed
        services.issue_supervision(actor=people["county_dispatcher"], case=cases["ordered"], note="限期办结",
                                   due_at=at(10, 9, 12))
        cases["deferred"] = accepted(at(10, 9, 9))
        act(people["dispatcher"], cases["deferred"], Action.DISPATCH, lead_unit=tree["justice"])
        act(people["justice"], cases["deferred"], Action.SIGN)
        act(people["dispatcher"], cases["deferred"], Action.DEFER, review_on=datetime.date(2026, 12, 1))
    with time_machine.travel(at(10, 10, 8), tick=False):
        flagged = {c.pk: c.flag for c in selectors.with_flags(Case.objects.all())}
        assert flagged[cases["ordered"].pk] == Flag.RED and flagged[cases["respond_yellow"].pk] == Flag.YELLOW
        assert flagged[cases["deferred"].pk] == ""
        for flag in Flag.values:
            assert set(Case.objects.filter(selectors.flag_q(flag)).values_list("pk", flat=True)) == {
                pk for pk, found in flagged.items() if found == flag}, flag


def test_a_parent_category_includes_its_children():
    env = categories.by_code("talk-environment")
    garbage = categories.by_code("talk-environment-garbage")
    found = categories.with_descendants(env.pk)
    assert env.pk in found and garbage.pk in found
    assert categories.by_code("talk-policy").pk not in found
    assert categories.with_descendants(999_999) == set()


def test_townships_by_area_path(tree):
    assert selectors.townships_of([Case(area_path=tree["grid"].path), Case(area_path=tree["other_grid"].path),
                                   Case(area_path=tree["county"].path)]) == {
        tree["grid"].path: "八里镇", tree["other_grid"].path: "城关镇", tree["county"].path: ""}
    assert selectors.townships_of([]) == {}


def test_the_phone_search_needs_the_keyed_hash_and_skips_anonymous_reports(people, cats):
    people["resident"].phone = "13912345678"
    people["resident"].save()
    named = report(people["resident"], cats["env"])
    anonymous, _created = services.submit_case(
        actor=people["resident"], client_id=__import__("uuid").uuid4(), category=cats["env"], description="又坏了",
        lat=35.585, lng=104.605, is_anonymous=True)
    by_hash = CaseFilter(reporter_phone_hash=keyed_hash("13912345678"))
    assert list(selectors.all_cases(people["dispatcher"], by_hash)) == [named]
    assert anonymous.pk not in {c.pk for c in selectors.all_cases(people["county_dispatcher"], by_hash)}
    assert not selectors.all_cases(people["other_dispatcher"], by_hash).exists()
    assert not selectors.all_cases(people["dispatcher"], CaseFilter(reporter_phone_hash="13912345678")).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan")
def test_the_first_page_walks_the_primary_key_and_red_cases_come_through_the_deadline_indexes(people, cats):
    """Without statistics, as in production: no sort of the whole list for 全部事件, no scan of every case for
    超期事件."""
    report(people["resident"], cats["env"])

    def plan(queryset):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return [row[-1] for row in cursor.fetchall() if row[1] == 0]  # the main query, not its subqueries

    newest = plan(selectors.all_cases(people["county_dispatcher"], CaseFilter())[:31])
    assert newest[0] == "SCAN cases_case" and not any("TEMP B-TREE" in step for step in newest), newest
    red = plan(selectors.overdue_cases(people["county_dispatcher"], CaseFilter())[:31])
    assert red[0] == "MULTI-INDEX OR" and "SCAN cases_case" not in red, red
