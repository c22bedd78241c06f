"""投诉举报 (B5, M27): a complaint names the unit it is about; that unit's staff never see or act on it, and
it is handled a level above."""

import uuid

import pytest

from gongzhi.accounts.models import Role
from gongzhi.cases import policies, selectors, services
from gongzhi.cases.factories import act
from gongzhi.cases.models import Case
from gongzhi.cases.tests.helpers import HERE
from gongzhi.cases.workflow import Action, Capacity
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification
from gongzhi.org.factories import make_department
from gongzhi.org.models import DepartmentType

pytestmark = pytest.mark.django_db


@pytest.fixture
def construction(tree):
    return make_department(tree["town"], DepartmentType.URBAN_CONSTRUCTION, "八里镇城建办", "CJB")


@pytest.fixture
def complaint_category():
    from gongzhi.cases import categories
    return categories.by_code("complaint-attitude")


def complain(people, category, subject, **extra):
    case, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(), category=category,
                                          description="城建办工作人员态度恶劣，推诿不办", lat=HERE[0], lng=HERE[1],
                                          subject_unit=subject, **extra)
    return case


def test_a_complaint_about_a_township_department_is_held_by_the_county_and_hidden_from_it(
        tree, people, make_staff, construction, complaint_category):
    clerk = make_staff("城建办员", construction, Role.DEPT_HANDLER)
    case = complain(people, complaint_category, construction)
    assert case.holder == tree["county"] and case.subject_unit == construction
    assert not policies.cases_visible_to(clerk).filter(pk=case.pk).exists()
    assert policies.capacities(clerk, case) == set()
    with pytest.raises(NotFound):
        act(clerk, case, Action.ACCEPT)
    # The township's command centre sees what happens in its area, but the county handles it.
    assert policies.capacities(people["dispatcher"], case) == set()
    assert not selectors.intake_for(people["dispatcher"]).filter(pk=case.pk).exists()
    with pytest.raises(Forbidden):
        act(people["dispatcher"], case, Action.ACCEPT)
    assert selectors.intake_for(people["county_dispatcher"]).filter(pk=case.pk).exists()
    act(people["county_dispatcher"], case, Action.ACCEPT)
    told = set(Notification.objects.filter(kind__startswith="case.").values_list("recipient__username", flat=True))
    assert "城建办员" not in told


def test_a_complaint_about_a_village_stays_with_the_township_and_hides_from_the_villages_staff(
        tree, people, make_staff, complaint_category):
    village_admin = make_staff("村管理员", tree["village"], Role.VILLAGE_ADMIN)
    case = complain(people, complaint_category, tree["village"])
    assert case.holder == tree["town"]
    assert not policies.cases_visible_to(people["grid_worker"]).filter(pk=case.pk).exists()  # a post under it
    assert not policies.cases_visible_to(village_admin).filter(pk=case.pk).exists()
    assert Capacity.GRID_STAFF not in policies.capacities(people["grid_worker"], case)
    assert people["grid_worker"] not in policies.users_with_capacity(case, Capacity.GRID_STAFF)
    act(people["dispatcher"], case, Action.ACCEPT)


def test_a_complaint_must_name_a_unit_responsible_for_the_place(tree, people, complaint_category, cats):
    for subject, message in [(None, "请选择被投诉的单位"), (tree["other_village"], "不是负责该地点的单位")]:
        with pytest.raises(DomainError) as err:
            complain(people, complaint_category, subject)
        assert err.value.field == "subject_unit" and message in err.value.message
    with pytest.raises(DomainError) as err:  # only a complaint names one
        complain(people, cats["env"], tree["village"])
    assert err.value.field == "subject_unit"
    assert not Case.objects.exists()


def test_the_targets_offered_are_the_units_above_the_place_and_their_departments(tree, construction):
    names = [unit.name for unit in selectors.complaint_targets(tree["grid"])]
    assert names[0] == "小山村" and "八里镇" in names and "八里镇城建办" in names and "安定区" in names
    assert "城关镇" not in names and "大湾村" not in names
