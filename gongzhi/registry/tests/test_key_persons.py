"""Key persons (重点人员) under a frozen clock: the visit interval by risk level and the person's own, the date the
next visit is owed after listing, after a visit (on time and late) and after a plan change; listing, changing and
ending with their refusals and history; who may see, manage and open a record (each opening logged), the lists'
filters and counts, and the resident search."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.accounts.models import Membership, Role
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.registry.models import KeyPerson, KeyPersonView, RecordChange, Resident, Visit
from gongzhi.registry.selectors import key_persons as selectors
from gongzhi.registry.services import key_persons as services
from gongzhi.registry.services.visits import VisitTarget, record_visit
from gongzhi.registry.tests.key_person_factories import id_number, listed, person, presets

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH_1 = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int = 10, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def d(day: int, month: int = 3) -> datetime.date:
    return datetime.date(2026, month, day)


@pytest.fixture
def cast(tree, make_staff):
    """The posts around 小山村第1网格 (tree["grid"]) and who may do what with its key persons."""
    presets()
    return {
        "worker": make_staff("wgy", tree["grid"], Role.GRID_WORKER),
        "other_worker": make_staff("wgy2", tree["grid2"], Role.GRID_WORKER),
        "leader": make_staff("wgz", tree["grid"], Role.GRID_LEADER),
        "village_admin": make_staff("cgly", tree["village"], Role.VILLAGE_ADMIN),
        "station": make_staff("gzz", tree["village"], Role.VILLAGE_STATION),
        "part_time": make_staff("jz", tree["grid"], Role.GRID_PART_TIME),
        "dispatcher": make_staff("disp", tree["town"], Role.DISPATCHER),
        "supervisor": make_staff("dc", tree["county"], Role.SUPERVISOR),
        "handler": make_staff("sifa", tree["justice"], Role.DEPT_HANDLER),
        "other_dispatcher": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
    }


@pytest.fixture
def merchant(tree):
    from gongzhi.cases.factories import make_resident

    user = make_resident("shop", "小卖部", tree["grid"])
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.MERCHANT)
    return user


def visit(actor, kp, when, notes="见到本人，情况稳定。", **kwargs):
    with time_machine.travel(when, tick=False):
        return record_visit(actor=actor, kind=Visit.Kind.KEY_PERSON, target=VisitTarget(key_person=kp), notes=notes,
                            **kwargs)


# The plan's clock -------------------------------------------------------------------------------------------------

def test_the_interval_follows_the_risk_level_unless_the_plan_sets_its_own(tree, cast):
    with time_machine.travel(MARCH_1, tick=False):
        high = listed(cast["worker"], person(tree["grid"], "甲"), risk_level="high")
        medium = listed(cast["worker"], person(tree["grid"], "乙"), risk_level="medium")
        low = listed(cast["worker"], person(tree["grid"], "丙"), risk_level="low")
        own = listed(cast["worker"], person(tree["grid"], "丁"), risk_level="low", interval_days=10)
    assert [services.interval_days(kp) for kp in (high, medium, low, own)] == [7, 15, 30, 10]
    assert [kp.next_visit_due for kp in (high, medium, low, own)] == [d(8), d(16), d(31), d(11)]


def test_the_first_visit_is_owed_an_interval_after_the_start(tree, cast):
    with time_machine.travel(at(20), tick=False):
        today = listed(cast["worker"], person(tree["grid"], "甲"))
        earlier = listed(cast["worker"], person(tree["grid"], "乙"), started_on=d(1))
    assert (today.started_on, today.next_visit_due) == (d(20), d(27))
    assert (earlier.started_on, earlier.next_visit_due) == (d(1), d(8))


def test_a_visit_moves_the_plan_on_from_its_own_day_early_or_late(tree, cast):
    with time_machine.travel(MARCH_1, tick=False):
        kp = listed(cast["worker"], person(tree["grid"]))
    assert kp.next_visit_due == d(8)
    visit(cast["worker"], kp, at(5))
    kp.refresh_from_db()
    assert (kp.last_visit_at, kp.next_visit_due) == (at(5), d(12))
    visit(cast["worker"], kp, at(15, hour=23))  # late (owed by the 12th): the clock restarts on the 15th
    kp.refresh_from_db()
    assert kp.next_visit_due == d(22)
    # Written up two days later, a visit before the last one changes nothing.
    visit(cast["worker"], kp, at(14), visited_at=at(16) - datetime.timedelta(days=3))
    kp.refresh_from_db()
    assert (kp.last_visit_at, kp.next_visit_due) == (at(15, hour=23), d(22))


def test_a_new_risk_level_or_interval_recomputes_the_date_from_the_last_visit_or_the_start(tree, cast):
    with time_machine.travel(MARCH_1, tick=False):
        kp = listed(cast["worker"], person(tree["grid"]))

    def change(**values):
        plan = {"categories": list(kp.categories.all()), "risk_level": kp.risk_level, "care_plan": kp.care_plan,
                "interval_days": kp.interval_days, **values}
        with time_machine.travel(at(6), tick=False):
            return services.change_plan(actor=cast["worker"], key_person=kp, **plan)

    assert change(risk_level="medium").next_visit_due == d(16)  # no visit yet: from the start, 1 March
    visit(cast["worker"], kp, at(5))
    kp.refresh_from_db()
    assert kp.next_visit_due == d(20)  # 5 March + 15
    assert change(risk_level="low").next_visit_due == d(4, month=4)
    kp.refresh_from_db()
    assert change(interval_days=3).next_visit_due == d(8)
    kp.refresh_from_db()
    assert change(care_plan="每三天电话联系一次。").next_visit_due == d(8)  # the clock untouched
    kp.refresh_from_db()
    assert change(interval_days=None).next_visit_due == d(4, month=4)  # back to the low level's 30 days


# Listing, changing, ending ----------------------------------------------------------------------------------------

def test_listing_writes_the_plan_and_its_history(tree, cast):
    with time_machine.travel(MARCH_1, tick=False):
        kp = listed(cast["worker"], person(tree["grid"]), categories=("released", "drug"),
                    responsible=cast["worker"])
    assert (kp.grid, kp.responsible, kp.ended_on) == (tree["grid"], cast["worker"], None)
    [row] = RecordChange.objects.filter(record_type="keyperson", record_id=kp.pk)
    assert (row.action, row.actor) == (RecordChange.Action.CREATED, cast["worker"])
    assert row.changes["类别"] == ["", "刑满释放、吸毒"]
    assert row.changes["风险等级"] == ["", "高风险"]
    assert row.changes["责任人"] == ["", "wgy"]


def test_a_resident_already_listed_is_refused_clearly(tree, cast):
    resident = person(tree["grid"])
    listed(cast["worker"], resident)
    with pytest.raises(Conflict) as refused:
        listed(cast["leader"], resident)
    assert "已列为重点人员" in str(refused.value.message)
    assert KeyPerson.objects.count() == 1


@pytest.mark.parametrize(("values", "field"), [
    ({"categories": ()}, "categories"),
    ({"risk_level": "extreme"}, "risk_level"),
    ({"care_plan": "   "}, "care_plan"),
    ({"care_plan": "帮" * 2001}, "care_plan"),
    ({"interval_days": 0}, "interval_days"),
    ({"interval_days": 400}, "interval_days"),
    ({"started_on": d(21)}, "started_on"),
])
def test_bad_input_is_refused_at_its_field_and_writes_nothing(tree, cast, values, field):
    resident = person(tree["grid"])
    with time_machine.travel(at(20), tick=False), pytest.raises(DomainError) as refused:
        listed(cast["worker"], resident, **values)
    assert refused.value.field == field
    assert not KeyPerson.objects.exists()
    assert not RecordChange.objects.exists()


def test_the_responsible_worker_must_hold_a_field_post_over_the_grid(tree, cast):
    for who in ("other_worker", "dispatcher", "station", "part_time"):
        with pytest.raises(DomainError) as refused:
            listed(cast["worker"], person(tree["grid"]), responsible=cast[who])
        assert refused.value.field == "responsible", who
    assert listed(cast["worker"], person(tree["grid"]), responsible=cast["village_admin"]).responsible == \
        cast["village_admin"]
    assert {u.username for u in selectors.responsible_choices(tree["grid"])} == {"wgy", "wgz", "cgly"}


def test_an_inactive_category_or_a_resident_gone_is_refused(tree, cast):
    cats = presets()
    cats["drug"].is_active = False
    cats["drug"].save()
    with pytest.raises(DomainError) as refused:
        listed(cast["worker"], person(tree["grid"]), categories=("drug",))
    assert refused.value.field == "categories"
    with pytest.raises(DomainError) as refused:
        listed(cast["worker"], person(tree["grid"], status=Resident.Status.DECEASED))
    assert refused.value.field == "resident"


def test_who_may_list_a_key_person(tree, cast, merchant):
    resident = person(tree["grid"])
    for who in ("other_worker", "station", "part_time", "handler", "other_dispatcher"):
        with pytest.raises(NotFound):
            listed(cast[who], resident)
    with pytest.raises(NotFound):
        listed(merchant, resident)
    with pytest.raises(Forbidden):  # sees key persons, does not manage them
        listed(cast["supervisor"], resident)
    assert not KeyPerson.objects.exists()
    for who in ("worker", "leader", "village_admin", "dispatcher"):
        kp = listed(cast[who], person(tree["grid"]))
        assert kp.pk, who


def test_ending_the_listing_keeps_the_reason_and_stops_the_visits(tree, cast):
    with time_machine.travel(MARCH_1, tick=False):
        kp = listed(cast["worker"], person(tree["grid"]))
    with pytest.raises(DomainError) as refused:
        services.end_listing(actor=cast["worker"], key_person=kp, reason=" ")
    assert refused.value.field == "reason"
    with pytest.raises(Forbidden):
        services.end_listing(actor=cast["supervisor"], key_person=kp, reason="期满")
    with pytest.raises(NotFound):
        services.end_listing(actor=cast["handler"], key_person=kp, reason="期满")
    with time_machine.travel(at(20), tick=False):
        services.end_listing(actor=cast["worker"], key_person=kp, reason="社区矫正期满")
    kp.refresh_from_db()
    assert kp.ended_on == d(20)
    ended = RecordChange.objects.get(record_id=kp.pk, action=RecordChange.Action.ENDED)
    assert ended.changes["解除原因"] == ["", "社区矫正期满"]
    assert ended.changes["解除列管日期"] == ["", "2026-03-20"]
    with pytest.raises(DomainError):
        services.end_listing(actor=cast["worker"], key_person=kp, reason="再次")
    with pytest.raises(DomainError):
        visit(cast["worker"], kp, at(21))
    plan = {"categories": list(kp.categories.all()), "risk_level": "low", "care_plan": "x"}
    with pytest.raises(DomainError):
        services.change_plan(actor=cast["worker"], key_person=kp, **plan)


def test_a_person_listed_again_keeps_the_record_and_its_visits(tree, cast):
    resident = person(tree["grid"])
    with time_machine.travel(MARCH_1, tick=False):
        kp = listed(cast["worker"], resident)
    visit(cast["worker"], kp, at(5))
    services.end_listing(actor=cast["worker"], key_person=kp, reason="风险消除")
    with time_machine.travel(at(10, month=4), tick=False):
        again = listed(cast["worker"], resident, risk_level="medium")
    assert again.pk == kp.pk
    assert (again.ended_on, again.last_visit_at, again.next_visit_due) == (None, None, d(25, month=4))
    assert Visit.objects.filter(key_person=kp).count() == 1
    assert list(RecordChange.objects.filter(record_id=kp.pk).order_by("pk").values_list("action", flat=True)) == [
        "created", "ended", "updated"]


def test_a_plan_change_by_someone_without_the_right_is_refused(tree, cast):
    kp = listed(cast["worker"], person(tree["grid"]))
    plan = {"categories": list(kp.categories.all()), "risk_level": "low", "care_plan": "x"}
    with pytest.raises(NotFound):
        services.change_plan(actor=cast["other_worker"], key_person=kp, **plan)
    with pytest.raises(Forbidden):
        services.change_plan(actor=cast["supervisor"], key_person=kp, **plan)
    kp.refresh_from_db()
    assert kp.risk_level == "high"
    services.change_plan(actor=cast["dispatcher"], key_person=kp, **plan)
    row = RecordChange.objects.get(record_id=kp.pk, action=RecordChange.Action.UPDATED)
    assert row.changes["风险等级"] == ["高风险", "低风险"]
    assert row.actor == cast["dispatcher"]


# Reading: who sees, every opening logged -----------------------------------------------------------------------

def test_every_opening_of_a_record_is_logged_and_shown_to_those_who_manage(tree, cast):
    kp = listed(cast["worker"], person(tree["grid"]))
    for who in ("worker", "worker", "dispatcher", "supervisor"):
        selectors.open_record(cast[who], kp.pk)
    views = list(KeyPersonView.objects.filter(key_person=kp).order_by("pk").values_list("viewer__username",
                                                                                        flat=True))
    assert views == ["wgy", "wgy", "disp", "dc"]
    assert [v.viewer.username for v in selectors.open_record(cast["worker"], kp.pk).viewers][:2] == ["wgy", "dc"]
    assert selectors.open_record(cast["supervisor"], kp.pk).viewers == []  # sees the person, not who looked
    assert KeyPersonView.objects.filter(key_person=kp).count() == 6


def test_who_may_open_a_record(tree, cast, merchant):
    kp = listed(cast["worker"], person(tree["grid"]))
    for who in ("worker", "leader", "village_admin", "dispatcher", "supervisor"):
        assert selectors.open_record(cast[who], kp.pk).person == kp, who
    for who in ("other_worker", "station", "part_time", "handler", "other_dispatcher"):
        with pytest.raises(NotFound):
            selectors.open_record(cast[who], kp.pk)
        assert selectors.key_person_list(cast[who]).count() == 0, who
        assert selectors.briefs(cast[who], [kp.pk]) == {}
    with pytest.raises(NotFound):
        selectors.open_record(merchant, kp.pk)
    assert KeyPersonView.objects.count() == 5  # the refused openings logged nothing
    with pytest.raises(NotFound):
        selectors.manageable_key_person(cast["supervisor"], kp.pk)


def test_the_lists_filters_and_counts(tree, cast):
    cats = presets()
    with time_machine.travel(MARCH_1, tick=False):
        overdue = listed(cast["worker"], person(tree["grid"], "甲"), categories=("released", "drug"))  # due 3/8
        soon = listed(cast["worker"], person(tree["grid"], "乙"), risk_level="medium",
                      responsible=cast["leader"])  # due 3/16
    with time_machine.travel(at(2), tick=False):
        later = listed(cast["village_admin"], person(tree["grid2"], "丙"), risk_level="low")  # due 4/1
        ended = listed(cast["village_admin"], person(tree["grid2"], "丁"))
    services.end_listing(actor=cast["village_admin"], key_person=ended, reason="迁出")
    today = d(14)
    user = cast["village_admin"]

    def names(**filters):
        return [kp.resident.name for kp in selectors.key_person_list(user, selectors.Filters(**filters), today=today)]

    assert names() == ["甲", "乙", "丙"]  # the most pressing first
    assert names(due="overdue") == ["甲"]
    assert names(due="due_soon") == ["乙"]
    assert names(risk_level="low") == ["丙"]
    assert names(category=cats["drug"].pk) == ["甲"]
    assert names(responsible=cast["leader"].pk) == ["乙"]
    assert names(area=tree["grid2"].pk) == ["丙"]
    assert names(ended=True) == ["丁"]
    assert [kp.resident.name for kp in selectors.key_person_list(cast["worker"], today=today)] == ["甲", "乙"]
    with pytest.raises(DomainError):
        names(area=tree["other_grid"].pk)
    with pytest.raises(DomainError):
        names(due="someday")
    counts = selectors.key_person_counts(user, today=today)
    assert (counts.total, counts.overdue, counts.due_soon) == (3, 1, 1)
    by_category = {c.code: n for c, n in counts.by_category}
    assert (by_category["community-correction"], by_category["drug"], by_category["petition"]) == (2, 1, 0)
    assert [(value, n) for value, _label, n in counts.by_risk] == [("high", 1), ("medium", 1), ("low", 1)]
    # Choosing a level still shows every level's figure, and narrows the categories' figures.
    narrowed = selectors.key_person_counts(user, selectors.Filters(risk_level="high"), today=today)
    assert [n for _v, _l, n in narrowed.by_risk] == [1, 1, 1]
    assert ({c.code: n for c, n in narrowed.by_category}["community-correction"],
            {c.code: n for c, n in narrowed.by_category}["drug"]) == (0, 1)
    [shown] = selectors.with_due_states([overdue], today)
    assert (shown.due_state, shown.days_overdue) == ("overdue", 6)
    [shown] = selectors.with_due_states([soon], d(16))
    assert (shown.due_state, shown.days_left) == ("due_soon", 0)
    [shown] = selectors.with_due_states([later], today)
    assert shown.due_state == "planned"


def test_the_home_summary_counts_my_grids_only(tree, cast):
    with time_machine.travel(MARCH_1, tick=False):
        listed(cast["worker"], person(tree["grid"], "甲"))  # due 3/8
        listed(cast["worker"], person(tree["grid"], "乙"), risk_level="medium")  # due 3/16
        listed(cast["village_admin"], person(tree["grid2"], "丙"))
    summary = selectors.due_summary(cast["worker"], today=d(13))
    assert (summary.overdue, summary.due_soon, summary.active) == (1, 1, 2)
    assert [kp.resident.name for kp in summary.pressing] == ["甲", "乙"]
    assert selectors.due_summary(cast["station"]) is None
    assert selectors.due_summary(cast["part_time"]) is None


def test_the_resident_search_finds_by_name_or_id_number_where_the_user_may_list(tree, cast):
    number = id_number("19750505")
    mine = person(tree["grid"], "王大山", id_number=number)
    person(tree["grid2"], "王大海")
    listed(cast["worker"], person(tree["grid"], "王小河"))
    found = selectors.search_residents(cast["worker"], "王")
    assert [(c.resident.name, c.listed) for c in found] == [("王大山", False), ("王小河", True)]
    assert [c.resident for c in selectors.search_residents(cast["worker"], f" {number[:6]} {number[6:]} ")] == [mine]
    assert [c.resident.name for c in selectors.search_residents(cast["village_admin"], "王大")] == ["王大山", "王大海"]
    assert selectors.search_residents(cast["supervisor"], "王") == []
    assert selectors.search_residents(cast["worker"], "") == []
    with pytest.raises(DomainError) as refused:
        selectors.search_residents(cast["worker"], number[:17] + ("0" if number[17] != "0" else "1"))
    assert refused.value.field == "q"
    with pytest.raises(NotFound):
        selectors.resident_to_list(cast["worker"], Resident.objects.get(name="王大海").pk)


def test_key_person_access_follows_the_key_person_posts_only(tree, cast, make_staff):
    from gongzhi.registry import policies

    both = make_staff("both", tree["justice"], Role.DEPT_HANDLER)
    Membership.objects.create(user=both, unit=tree["grid2"], role=Role.GRID_WORKER)
    assert policies.key_person_paths(both) == (tree["grid2"].path,)
    assert policies.key_person_paths(cast["handler"]) == ()
    assert policies.key_person_paths(cast["station"]) == ()
    assert policies.key_person_paths(cast["worker"]) == (tree["grid"].path,)
    assert policies.key_person_paths(cast["dispatcher"]) == (tree["town"].path,)
    cast["worker"].is_active = False
    assert policies.key_person_paths(cast["worker"]) == ()
