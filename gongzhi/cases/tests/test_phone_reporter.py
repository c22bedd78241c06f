"""电话回访: staff who handle or visit a case see its reporter's number, each time with a logged reason."""

import uuid

import pytest

from gongzhi.cases import services
from gongzhi.cases.tests.helpers import HERE, dispatched, handled
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.models import PiiAccessLog

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture
def case(people, cats):
    people["resident"].phone = PHONE
    people["resident"].save()
    found, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(), category=cats["env"],
                                           description="路灯不亮", lat=HERE[0], lng=HERE[1])
    return found


@pytest.mark.parametrize("who", ["grid_worker", "dispatcher", "justice"])
def test_who_handles_or_visits_gets_the_number_with_the_reason_logged(tree, people, case, who):
    handled(people, tree, case)
    assert services.reporter_phone(actor=people[who], case=case, reason="电话回访") == PHONE
    log = PiiAccessLog.objects.get()
    assert (log.actor, log.subject_id, log.field, log.reason) == (people[who], people["resident"].pk, "phone",
                                                                   "电话回访")


def test_no_reason_no_number(tree, people, case):
    with pytest.raises(DomainError) as err:
        services.reporter_phone(actor=people["grid_worker"], case=case, reason="  ")
    assert err.value.field == "reason" and not PiiAccessLog.objects.exists()


def test_others_and_anonymous_reporters_are_refused(tree, people, cats, case):
    dispatched(people, tree, case)
    with pytest.raises(NotFound):  # another township's dispatcher, another grid's worker: not their case
        services.reporter_phone(actor=people["other_dispatcher"], case=case, reason="电话回访")
    with pytest.raises(Forbidden):  # sees the case as a supervisor, does not handle it
        services.reporter_phone(actor=people["county_supervisor"], case=case, reason="电话回访")
    with pytest.raises(NotFound):  # a neighbour does not see the case at all
        services.reporter_phone(actor=people["neighbour"], case=case, reason="想知道")
    anonymous, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(),
                                               category=cats["env"], description="有人夜里倒垃圾", lat=HERE[0],
                                               lng=HERE[1], is_anonymous=True)
    with pytest.raises(Forbidden):  # the number would name the reporter
        services.reporter_phone(actor=people["dispatcher"], case=anonymous, reason="电话回访")
    assert not PiiAccessLog.objects.exists()
