"""The demo's sample cases (demo.cases): every state, written through the services, at past moments."""

import datetime
import io
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.cases import selectors
from gongzhi.cases.models import (
    Case,
    CaseLog,
    DisputeParty,
    FollowUp,
    MediationSession,
    Rating,
    ReturnVisit,
    Source,
    SupervisionOrder,
)
from gongzhi.cases.workflow import Action, Flag, Status
from gongzhi.demo import cases as demo
from gongzhi.demo import generate as gen
from gongzhi.org.models import DepartmentType, Level, OrgUnit

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Just after midnight: the stories' latest steps ("yesterday afternoon") must still lie in the past.
EARLY = datetime.datetime(2026, 3, 18, 0, 5, tzinfo=SHANGHAI)  # a Wednesday


# What the stories lead to, whatever the day (see test_the_states_do_not_depend_on_the_day).
EXPECTED = Counter({
    Status.REPORTED: 7, Status.ACCEPTED: 3, Status.REJECTED: 2, Status.DISPATCHED: 4, Status.IN_PROGRESS: 8,
    Status.HANDLED: 4, Status.CONFIRMED: 3, Status.CLOSED: 9, Status.RATED: 4, Status.RETURNED: 1,
    Status.ESCALATED: 2, Status.DEFERRED: 2, Status.REOPENED: 1,
})


def make_township() -> OrgUnit:
    gen.generate(scale="tiny", seed=3, progress=False)
    township = demo.demo_township()
    assert township is not None
    return township


@pytest.fixture
def township(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the 调解协议书 is stored
    return make_township()


def user(username: str) -> User:
    return User.objects.get(username=username)


def statuses() -> Counter:
    return Counter(Case.objects.values_list("status", flat=True))


@pytest.fixture(scope="class")
def made(django_db_setup, django_db_blocker, tmp_path_factory):
    """One run at the real now for a whole test class, rolled back after it: (township, cases made)."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            township = make_township()
            yield township, demo.make_demo_cases(seed=5)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


class TestOneRunAtTheRealNow:
    """Read-only checks of one run at the real now (the `made` fixture: once for the class)."""

    @pytest.fixture
    def township(self, made, db):
        return made[0]

    def test_every_state_a_county_official_should_see(self, made, township):
        assert made[1] == len(demo.STORIES) == Case.objects.count()
        assert 40 <= made[1] <= 60
        assert statuses() == EXPECTED
        assert set(statuses()) == set(Status.values)
        assert not Case.objects.exclude(area_path__startswith=township.path).exists()
        # Sources: residents, grid workers' field reports and one taken by phone.
        assert set(Case.objects.values_list("source", flat=True)) == set(Source.values)
        assert set(Case.objects.filter(source=Source.RESIDENT).values_list("reporter__username", flat=True)) == {
            "jumin_demo1", "jumin_demo2"}
        # Nothing was escalated by the sweep: the county got its cases from the township's dispatcher.
        assert not CaseLog.objects.filter(action=Action.ESCALATE, actor__isnull=True).exists()
        escalated = Case.objects.filter(status=Status.ESCALATED)
        assert {case.holder.level for case in escalated} == {Level.COUNTY}
        # Reasons, review dates, lead units.
        assert all(case.logs.get(action=Action.REJECT).note
                   for case in Case.objects.filter(status=Status.REJECTED))
        assert all(case.review_on for case in Case.objects.filter(status=Status.DEFERRED))
        lead_types = set(Case.objects.filter(assignments__role="lead", assignments__is_active=True)
                         .values_list("assignments__unit__department_type", flat=True))
        assert {DepartmentType.JUSTICE, DepartmentType.POLICE, DepartmentType.CIVIL_AFFAIRS, ""} <= lead_types

    def test_feedback_supervision_and_disputes_are_recorded(self, township):
        scores = Counter(Rating.objects.values_list("score", flat=True))
        assert set(scores) == {"satisfied", "basic", "unsatisfied"} and scores["unsatisfied"] == 1
        unsatisfied = Rating.objects.get(score="unsatisfied").case
        assert unsatisfied.status == Status.REOPENED
        assert unsatisfied.logs.order_by("-seq").first().action == Action.RATE_UNSATISFIED
        assert ReturnVisit.objects.filter(settled=False).exists()
        assert ReturnVisit.objects.filter(settled=True).exists()
        assert FollowUp.objects.filter(answer_log__isnull=True).exists()
        assert FollowUp.objects.filter(answer_log__isnull=False).exists()
        duplicate = Case.objects.get(merged_into__isnull=False)
        assert duplicate.status == Status.CLOSED
        assert duplicate.merged_into.followers.filter(user=duplicate.reporter).exists()
        orders = SupervisionOrder.objects.select_related("issued_by")
        assert {order.issued_by.username for order in orders} == {"ducha_anding", "diaodu_anding"}
        assert orders.filter(fulfilled_at__isnull=True).exists()
        assert orders.filter(fulfilled_at__isnull=False).exists()
        # Disputes: two parties on each dispute that got that far, mediations with every kind of outcome.
        dispute_cases = Case.objects.filter(category__kind="dispute", parties__isnull=False).distinct()
        assert dispute_cases.count() >= 5
        assert all(case.parties.count() == 2 for case in dispute_cases)
        assert DisputeParty.objects.filter(household__isnull=False).exists()
        outcomes = set(MediationSession.objects.values_list("outcome", flat=True))
        assert {"agreed", "continued", "failed", "partial"} <= outcomes
        agreed = MediationSession.objects.get(outcome="agreed")
        assert agreed.agreement.file and agreed.agreement.file.read().startswith(b"%PDF-")
        assert agreed.mediators.exists() and agreed.log.action == Action.RECORD_MEDIATION
        # Its performance follow-up is due: the 风险纠纷 page has one to show.
        assert list(selectors.agreements_due(user("diaodu_bali_1"))) == [agreed.agreement]
        # The same household in two disputes this month; a marriage dispute still open (民转刑).
        at_risk = selectors.dispute_cases_at_risk(user("diaodu_bali_1"))
        repeated = at_risk.filter(risk_repeat=True)
        assert repeated.filter(description__contains="浇地放水").exists()
        assert repeated.filter(description__contains="修建围墙").exists()
        assert at_risk.filter(risk_marriage_family=True).count() == 1

    def test_logs_are_contiguous_and_end_in_the_case_status(self, township):
        for case in Case.objects.all():
            logs = list(case.logs.order_by("seq").values_list("seq", "to_status", "created_at"))
            assert [seq for seq, _status, _at in logs] == list(range(1, len(logs) + 1)), case.description
            assert logs[-1][1] == case.status, case.description
            assert logs[0][2] == case.created_at  # the report is the first step
            times = [at for _seq, _status, at in logs]
            assert times == sorted(times), case.description

    def test_the_demo_accounts_see_the_cases_with_red_flags(self, township):
        dispatcher = selectors.cases_for(user("diaodu_bali_1"))
        # The closing sweep archived the rated cases and those closed longer than the rating window (归档).
        everything = selectors.cases_for(user("diaodu_bali_1"), archived=selectors.Archived.INCLUDE)
        assert everything.count() == Case.objects.count() > dispatcher.count()
        assert set(everything.filter(archived_at__isnull=False).values_list("status", flat=True)) <= {
            Status.RATED, Status.CLOSED, Status.REJECTED}
        assert dispatcher.filter(status=Status.REPORTED).count() >= 4
        red = set(dispatcher.filter(flag=Flag.RED).values_list("status", flat=True))
        assert {Status.REPORTED, Status.IN_PROGRESS} <= red  # response limits passed; a 督办 order overdue
        # The closing sweep marked each of them once, and reminded the issuer of the overdue 督办 order.
        for case in dispatcher.filter(flag=Flag.RED, status=Status.REPORTED):
            assert case.logs.filter(action=Action.MARK_OVERDUE, actor__isnull=True).count() == 1
        assert CaseLog.objects.filter(action=Action.REMIND, step_key__startswith="supervision:").count() == 1
        county = selectors.cases_for(user("diaodu_anding"))
        assert county.filter(status=Status.ESCALATED, flag=Flag.RED).exists()
        assert selectors.cases_for(user("sifa_bali")).filter(status=Status.IN_PROGRESS).exists()
        assert selectors.cases_for(user("wgy_bali_wangjiawan_1")).filter(status=Status.HANDLED).exists()
        assert selectors.cases_for(user("cunguan_bali_wangjiawan")).exists()
        mine = selectors.my_cases(user("jumin_demo1"))
        assert {Status.REPORTED, Status.RATED, Status.REOPENED} <= set(mine.values_list("status", flat=True))

    def test_a_second_call_makes_nothing(self, township):
        before = (Case.objects.count(), CaseLog.objects.count())

        assert demo.make_demo_cases() == 0
        assert (Case.objects.count(), CaseLog.objects.count()) == before


def test_the_cases_spread_over_the_last_month(township):
    demo.make_demo_cases(seed=5, now=EARLY)

    assert statuses() == EXPECTED
    created = sorted(Case.objects.values_list("created_at", flat=True))
    assert EARLY - datetime.timedelta(days=30) < created[0] < EARLY - datetime.timedelta(days=20)
    assert EARLY - datetime.timedelta(hours=6) < created[-1] < EARLY
    assert len({timezone.localdate(at) for at in created}) >= 15
    # Every step, the sweep's own included, lies at or before the moment the stories lead up to.
    assert not CaseLog.objects.filter(created_at__gt=EARLY).exists()
    assert CaseLog.objects.filter(created_at=EARLY, actor__isnull=True).exists()  # the closing sweep


def test_a_step_runs_with_the_whole_clock_at_its_moment():
    """Not only `timezone.now()`: whatever reads the clock, however it was imported, sees the same moment."""
    at = EARLY - datetime.timedelta(days=3, hours=5, microseconds=7)
    with demo._clock(at):
        assert timezone.now() == at
        assert datetime.datetime.now(datetime.UTC) == at
        assert abs(time.time() - at.timestamp()) < 0.001
        assert timezone.localdate() == at.date()
        time.sleep(0.01)
        assert timezone.now() == at  # held still
    assert abs(timezone.now().timestamp() - time.time()) < 5  # and back to the real clock


class _Undo(Exception):
    pass


def run_and_undo(*, seed: int, now: datetime.datetime) -> dict:
    """What one run writes (no ids: they differ between runs), then undone."""
    try:
        with transaction.atomic():
            demo.make_demo_cases(seed=seed, now=now)
            found = {
                "cases": [
                    (c.category.code, c.status, c.description, c.address, c.lat, c.lng, c.grid.code,
                     c.holder.code, c.reporter.username, c.source, c.created_at,
                     [(log.seq, log.action, log.to_status, log.actor.username if log.actor else "", log.note,
                       log.created_at) for log in c.logs.order_by("seq").select_related("actor")])
                    for c in Case.objects.select_related("category", "grid", "holder", "reporter")
                    .order_by("created_at", "description")],
                "parties": sorted(DisputeParty.objects.values_list("case__description", "name", "role")),
            }
            raise _Undo
    except _Undo:
        pass
    assert not Case.objects.exists()
    return found


def test_the_same_seed_and_moment_give_the_same_cases(township):
    first = run_and_undo(seed=11, now=EARLY)
    assert len(first["cases"]) == len(demo.STORIES)
    assert run_and_undo(seed=11, now=EARLY) == first
    other = run_and_undo(seed=12, now=EARLY)
    assert [c[4:6] for c in other["cases"]] != [c[4:6] for c in first["cases"]]  # other places
    assert Counter(c[1] for c in other["cases"]) == Counter(c[1] for c in first["cases"])


@pytest.mark.parametrize("now", [
    datetime.datetime(2026, 2, 24, 23, 50, tzinfo=SHANGHAI),  # the first workday after the Spring Festival
    datetime.datetime(2026, 5, 9, 12, 0, tzinfo=SHANGHAI),  # a make-up Saturday (调休) after 劳动节
])
def test_the_states_do_not_depend_on_the_day(township, now):
    demo.make_demo_cases(seed=11, now=now)

    assert statuses() == EXPECTED
    assert not CaseLog.objects.filter(action=Action.ESCALATE, actor__isnull=True).exists()


def test_the_command_prints_the_count_and_runs_once(township):
    out = io.StringIO()
    call_command("demo_cases", "--seed", "5", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[-1] == str(len(demo.STORIES)) == str(Case.objects.count())
    assert any(line.split()[-1] == str(Case.objects.filter(status=Status.RATED).count()) for line in lines[1:])
    # The figures and the map's colours are there at once, not a minute later from the task worker.
    from gongzhi.analytics.models import GridState, KpiCount, Subject

    township_row = KpiCount.objects.filter(subject=Subject.AREA, path=township.path)
    assert sum(township_row.values_list("reported", flat=True)) == Case.objects.count()
    assert GridState.objects.exists()
    # … and the dashboard (数据看板): a month of daily counts, a category mix, hotspots and the stream.
    from gongzhi.analytics import selectors as dashboard

    board = dashboard.dashboard(user("diaodu_bali_1"), township)
    assert sum(board.trends["day"].reported) + sum(board.trends["week"].reported) > 0
    assert board.mix["year"].total == Case.objects.count() and len(board.mix["year"].items) >= 3
    assert board.hotspots.grids and len(board.stream) == dashboard.STREAM_SIZE

    out = io.StringIO()
    call_command("demo_cases", stdout=out)
    assert out.getvalue().split()[-1] == "0"


@pytest.mark.django_db
def test_nothing_without_a_township():
    assert not OrgUnit.objects.exists()
    assert demo.make_demo_cases() == 0
