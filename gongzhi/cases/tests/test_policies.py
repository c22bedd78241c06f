"""One rule for capacities: what one person holds (`capacities`), who holds it (`users_with_capacity`) and
the work-list filter (`capacity_q`) agree for every person of the cast, in every phase of a case."""

import pytest

from gongzhi.accounts.models import Membership, Role
from gongzhi.cases import notices, policies, selectors
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case
from gongzhi.cases.tests.helpers import dispatched
from gongzhi.cases.workflow import Action, Capacity

pytestmark = pytest.mark.django_db
PERSON_CAPACITIES = [c for c in Capacity.values if c != Capacity.SYSTEM]


def phases(tree, people, cats):
    """Cases in the phases that change who holds what: reported, dispatched, escalated to the county, and
    a duplicate followed by the neighbour."""
    fresh = report(people["resident"], cats["env"])
    led = dispatched(people, tree, report(people["resident"], cats["env"]))
    escalated = report(people["resident"], cats["env"])
    act(people["dispatcher"], escalated, Action.ESCALATE, note="涉及多个乡镇")
    parent = report(people["resident"], cats["env"])
    act(people["dispatcher"], report(people["neighbour"], cats["env"]), Action.MERGE, note="重复",
        merge_into=parent)
    return [Case.objects.select_related("holder").get(pk=c.pk) for c in (fresh, led, escalated, parent)]


def test_who_holds_a_capacity_agrees_with_what_each_person_holds(tree, people, cats):
    cases = phases(tree, people, cats)
    for case in cases:
        for capacity in PERSON_CAPACITIES:
            expected = {user.pk for user in people.values() if capacity in policies.capacities(user, case)}
            holders = policies.users_with_capacity(case, capacity)
            assert {user.pk for user in holders} == expected, (case.status, capacity)
            assert len(holders) == len(expected)  # each person once, however many posts
    # The bulk form gives the same, case by case.
    bulk = policies.users_with_capacity_in(cases, {Capacity.ASSIGNEE, Capacity.DISPATCHER})
    for case in cases:
        single = policies.users_with_capacity(case, {Capacity.ASSIGNEE, Capacity.DISPATCHER})
        assert [u.pk for u in bulk[case.pk]] == [u.pk for u in single]


def test_work_list_filter_agrees_with_capacities(tree, people, cats):
    cases = phases(tree, people, cats)
    for user in people.values():
        for capacity in PERSON_CAPACITIES:
            listed = set(Case.objects.filter(policies.capacity_q(user, capacity)).filter(
                pk__in=[c.pk for c in cases]).values_list("pk", flat=True))
            expected = {case.pk for case in cases if capacity in policies.capacities(user, case)}
            assert listed == expected, (user.username, capacity)


def test_a_post_in_a_deactivated_unit_or_a_left_post_gives_nothing(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    assert {u.username for u in notices.handlers_of(case)} == {"sifa", "sifa2"}
    Membership.objects.filter(user=people["justice2"]).update(is_active=False)
    assert [u.username for u in policies.users_with_capacity(case, Capacity.ASSIGNEE)] == ["sifa"]
    tree["justice"].is_active = False
    tree["justice"].save()
    assert policies.users_with_capacity(case, Capacity.ASSIGNEE) == []
    assert Capacity.ASSIGNEE not in policies.capacities(people["justice"], case)
    assert not selectors.tasks_for(people["justice"]).filter(pk=case.pk).exists()


def test_units_narrow_the_posts(tree, people, cats, make_staff):
    case = report(people["resident"], cats["env"])
    city_dispatcher = make_staff("sdisp", tree["city"], Role.DISPATCHER)
    supervisors = policies.users_with_capacity(case, Capacity.SUPERVISOR)
    assert {u.username for u in supervisors} == {"cdisp", "cdc", "sdisp"}
    from_county = policies.users_with_capacity(case, {Capacity.SUPERVISOR, Capacity.DISPATCHER},
                                               units=[tree["county"]])
    assert {u.username for u in from_county} == {"cdisp", "cdc"}
    assert policies.supervising_unit_id(city_dispatcher, case) == tree["city"].pk
    assert policies.supervising_unit_id(people["county_supervisor"], case) == tree["county"].pk
    assert policies.supervising_unit_id(people["dispatcher"], case) is None  # holds it, does not supervise
