"""派单到人: a dispatch may name the member of the lead unit who handles the case."""

import re

import pytest

from gongzhi.cases import selectors
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Assignment, CaseLog
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import DomainError
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _accepted(people, cats):
    return act(people["dispatcher"], report(people["resident"], cats["env"]), Action.ACCEPT)


def test_the_named_person_is_told_and_colleagues_may_still_act(tree, people, cats):
    case = _accepted(people, cats)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], lead_person=people["justice2"])
    lead = Assignment.objects.get(case=case, is_active=True)
    assert lead.person == people["justice2"]
    told = set(Notification.objects.filter(kind="case.task").values_list("recipient__username", flat=True))
    assert told == {"sifa2"}  # not the whole 司法所
    act(people["justice"], case, Action.SIGN)  # the colleague signs while the named person is away


def test_a_person_outside_the_lead_unit_is_refused_unnamed_and_nothing_changes(tree, people, cats):
    case = _accepted(people, cats)
    logs = CaseLog.objects.filter(case=case).count()
    for person in (people["police"], people["grid_worker"]):
        with pytest.raises(DomainError) as err:
            act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], lead_person=person)
        assert err.value.field == "lead_person" and person.real_name not in err.value.message
    assert CaseLog.objects.filter(case=case).count() == logs and not Assignment.objects.filter(case=case).exists()


def test_the_dispatch_form_offers_the_units_staff_and_preselects_the_suggested_unit(client, tree, people, cats):
    case = _accepted(people, cats)
    client.force_login(people["dispatcher"])
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert "八里镇司法所 · sifa2" in page and "八里派出所 · jingcha" in page
    suggested = selectors.suggest_handler(category=case.category, grid=case.grid)
    assert re.search(rf'<option value="{suggested.pk}" selected>', page)
    response = client.post(f"/command/cases/{case.pk}/dispatch/", {
        "dispatch-lead_unit": tree["justice"].pk, "dispatch-lead_person": people["justice2"].pk})
    assert response.status_code == 302
    assert Assignment.objects.get(case=case, is_active=True).person == people["justice2"]
