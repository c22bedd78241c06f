"""归档: the sweep archives finished cases — rated ones at once, closed ones once the rating window has passed
— in a bounded set-based step; archived cases leave the work lists and stay reachable by number, by their
page and under 已归档 (frozen clock)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from gongzhi.cases import deadlines, selectors, services, sweep
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, CaseLog
from gongzhi.cases.selectors import Archived
from gongzhi.cases.sweep import run_sweep
from gongzhi.cases.tests.helpers import closed
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.errors import DomainError

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday


def later(days=0, hours=0):
    return T0 + datetime.timedelta(days=days, hours=hours)


def at(moment, fn, *args, **kwargs):
    with time_machine.travel(moment, tick=False):
        return fn(*args, **kwargs)


def closed_case(people, tree, cats, moment=T0):
    with time_machine.travel(moment, tick=False):
        case = report(people["resident"], cats["env"])
        return closed(people, tree, case)


def archived(case):
    return Case.objects.get(pk=case.pk).archived_at


def test_rated_cases_are_archived_at_once_closed_ones_after_the_rating_window(people, tree, cats):
    rated = closed_case(people, tree, cats)
    at(later(hours=1), act, people["resident"], rated, Action.RATE)
    waiting = closed_case(people, tree, cats)
    with time_machine.travel(T0, tick=False):
        rejected = act(people["dispatcher"], report(people["resident"], cats["env"]), Action.REJECT, note="不属实")
        open_case = report(people["resident"], cats["env"])
        merged = act(people["dispatcher"], report(people["resident"], cats["env"]), Action.MERGE,
                     merge_into=open_case)

    first = at(later(hours=2), run_sweep)
    assert first.archived == 1 and archived(rated) == later(hours=2)
    assert not any(archived(c) for c in (waiting, rejected, merged, open_case))
    row = CaseLog.objects.get(case=rated, action=Action.ARCHIVE)
    assert (row.actor, row.is_public, row.step_key, row.from_status, row.to_status) == (
        None, False, "archive", Status.RATED, Status.RATED)
    assert row.seq == CaseLog.objects.filter(case=rated).count() and row.note == "群众已评价，自动归档。"
    assert Case.objects.get(pk=rated.pk).status == Status.RATED  # archiving changes no status

    # Seven days after closing the window is still open; just after, the rest go (the open case stays).
    assert at(later(days=7), run_sweep).archived == 0
    assert at(later(days=7, hours=1), run_sweep).archived == 3
    assert all(archived(c) for c in (waiting, rejected, merged)) and archived(open_case) is None
    assert CaseLog.objects.get(case=waiting, action=Action.ARCHIVE).note == "结案已满7天，自动归档。"
    # Idempotent: a doubled run writes nothing.
    logs = CaseLog.objects.count()
    again = at(later(days=7, hours=1), run_sweep)
    assert again.archived == 0 and again.written == 0 and CaseLog.objects.count() == logs


def test_the_rating_window_is_a_setting_and_closes_rating(people, tree, cats):
    case = closed_case(people, tree, cats)
    with override_settings(CASE_RATING_WINDOW_DAYS=2):
        assert deadlines.rating_open(Case.objects.get(pk=case.pk), later(days=2))
        assert at(later(days=2, hours=1), run_sweep).archived == 1
        with pytest.raises(DomainError) as err:
            at(later(days=2, hours=1), services.take_action, actor=people["resident"], case=case,
               action=Action.RATE, score="satisfied")
    assert err.value.code == "rating_closed" and str(err.value.message) == "评价期限已过：结案后2天内可以评价。"
    assert not case.ratings.exists() and Case.objects.get(pk=case.pk).status == Status.CLOSED
    # Within the window a rating is taken, and archives the case at the next run.
    other = closed_case(people, tree, cats)
    at(later(days=6), services.take_action, actor=people["resident"], case=other, action=Action.RATE,
       score="basic")
    assert at(later(days=6), run_sweep).archived == 1 and archived(other)


def test_archived_cases_leave_the_work_lists_and_stay_reachable(people, tree, cats):
    case = closed_case(people, tree, cats)
    at(later(hours=1), act, people["resident"], case, Action.RATE)
    dispatcher, handler = people["dispatcher"], people["justice"]
    assert case in selectors.cases_for(dispatcher) and case in selectors.tasks_for(handler)
    at(later(hours=2), run_sweep)
    assert case not in selectors.cases_for(dispatcher)
    assert case not in selectors.tasks_for(handler)  # the lead unit's list kept its finished cases till now
    assert case not in selectors.cases_for(dispatcher, status=Status.RATED)
    assert list(selectors.cases_for(dispatcher, archived=Archived.ONLY)) == [case]
    assert case in selectors.cases_for(dispatcher, archived=Archived.INCLUDE)
    assert selectors.case_by_number(dispatcher, case.number) == case
    assert selectors.case_for(dispatcher, case.pk) == case
    assert selectors.case_for(people["resident"], case.pk) == case
    assert case in selectors.my_cases(people["resident"])  # the resident's own list is their history
    with pytest.raises(DomainError):
        selectors.cases_for(dispatcher, archived="sometimes")


def test_a_run_archives_a_bounded_batch_longest_closed_first(people, tree, cats, monkeypatch):
    monkeypatch.setattr(sweep, "MAX_ARCHIVED_PER_RUN", 2)
    cases = [closed_case(people, tree, cats, later(hours=n)) for n in range(3)]
    assert at(later(days=8), run_sweep).archived == 2
    assert [bool(archived(c)) for c in cases] == [True, True, False]
    assert at(later(days=8), run_sweep).archived == 1 and archived(cases[2])


def test_a_case_whose_archive_row_was_not_written_is_not_archived(people, tree, cats, monkeypatch):
    """The INSERT skips a row whose seq a concurrent step took; such a case waits for the next run."""
    case = closed_case(people, tree, cats)
    monkeypatch.setattr(sweep, "_insert_logs", lambda rows: None)
    assert at(later(days=8), run_sweep).archived == 0 and archived(case) is None
    monkeypatch.undo()
    assert at(later(days=8), run_sweep).archived == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query planner")
def test_the_archiving_query_reads_the_partial_index_of_unarchived_finished_cases(people, tree, cats):
    """Without statistics (nothing runs ANALYZE), as in production: a plain condition on the status let the
    planner walk the status index over every rated case of past years."""
    closed_case(people, tree, cats)
    with CaptureQueriesContext(connection) as queries:
        at(later(days=8), sweep._archive, deadlines.horizons(later(days=8)), sweep.SweepReport())
    select = next(q["sql"] for q in queries.captured_queries
                  if q["sql"].startswith("SELECT") and '"archived_at" IS NULL' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {select}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "case_closed_not_archived" in plan, plan
