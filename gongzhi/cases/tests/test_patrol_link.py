"""A grid worker's report from the patrol page is linked to the patrol (Case.patrol); nothing else is."""

import uuid

import pytest

from gongzhi.cases import services
from gongzhi.cases.models import Case
from gongzhi.registry.models import Patrol
from gongzhi.registry.services import patrols

pytestmark = pytest.mark.django_db


def submit(actor, cats, patrol):
    case, _created = services.submit_case(actor=actor, client_id=uuid.uuid4(), category=cats["env"],
                                          description="河道有垃圾", lat=35.585, lng=104.605, patrol=patrol)
    return case


def test_a_report_on_the_workers_open_patrol_is_linked(people, cats, tree):
    worker = people["grid_worker"]
    patrol, _created = patrols.start_patrol(actor=worker, grid=tree["grid"])
    case = submit(worker, cats, patrol)
    assert case.patrol == patrol and list(patrol.cases.all()) == [case]


def test_someone_elses_or_an_ended_patrol_is_left_out(people, cats, tree):
    worker, colleague = people["grid_worker"], people["other_grid_worker"]
    theirs, _created = patrols.start_patrol(actor=colleague, grid=tree["grid2"])
    assert submit(worker, cats, theirs).patrol is None
    mine, _created = patrols.start_patrol(actor=worker, grid=tree["grid"])
    patrols.end_patrol(actor=worker, patrol=mine)
    assert submit(worker, cats, mine).patrol is None
    assert submit(people["resident"], cats, theirs).patrol is None


def test_a_deleted_patrol_leaves_its_cases(people, cats, tree):
    worker = people["grid_worker"]
    patrol, _created = patrols.start_patrol(actor=worker, grid=tree["grid"])
    case = submit(worker, cats, patrol)
    Patrol.objects.filter(pk=patrol.pk).delete()
    assert Case.objects.get(pk=case.pk).patrol is None
