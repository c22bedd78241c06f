"""Every notice type opens the right page in each recipient's portal.

A notification stores only its target ("case 12", "the cases coming due"); the portal it is opened in turns
that into its own page (web.targets). One test per registered type and portal of its audience: the message
is opened the way a person does it (the inbox's 查看 button) and the page it leads to must show.
"""

import pytest
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.accounts.selectors import primary_portal
from gongzhi.cases import notices, services
from gongzhi.cases.factories import act, make_resident, report
from gongzhi.cases.workflow import Action, Capacity
from gongzhi.notifications import types
from gongzhi.notifications.models import Notification
from gongzhi.notifications.services import notify

pytestmark = pytest.mark.django_db

# Who, in each portal, may be in the audience of a case notice: (person, the case they hear about).
AUDIENCE_PORTALS = {
    Capacity.REPORTER: [("resident", "village_case"), ("field_reporter", "field_case")],
    Capacity.ASSIGNEE: [("village_admin", "village_case"), ("justice", "justice_case")],
    notices.HANDLERS: [("village_admin", "village_case"), ("justice", "justice_case"),
                       ("dispatcher", "field_case")],
    Capacity.DISPATCHER: [("dispatcher", "village_case")],
    notices.ISSUER: [("county_dispatcher", "village_case")],
}
EXPECTED_PORTAL = {"resident": "resident", "field_reporter": "worker", "village_admin": "worker",
                   "justice": "command", "dispatcher": "command", "county_dispatcher": "command"}


@pytest.fixture
def world(tree, make_staff, people, cats):
    cast = {
        "resident": people["resident"], "justice": people["justice"], "dispatcher": people["dispatcher"],
        "county_dispatcher": people["county_dispatcher"], "field_reporter": people["grid_worker"],
        "village_admin": make_staff("cunguan", tree["village"], Role.VILLAGE_ADMIN),
    }
    village_case = report(people["resident"], cats["env"])
    act(people["dispatcher"], village_case, Action.ACCEPT)
    act(people["dispatcher"], village_case, Action.DISPATCH, lead_unit=tree["village"])
    justice_case = report(make_resident("res9", "刘九", tree["grid"]), cats["env"])
    act(people["dispatcher"], justice_case, Action.ACCEPT)
    act(people["dispatcher"], justice_case, Action.DISPATCH, lead_unit=tree["justice"])
    field_case = report(people["grid_worker"], cats["env"])
    return {"cast": cast, "village_case": village_case, "justice_case": justice_case, "field_case": field_case}


def _cases():
    return [(notice.kind, person, case_key) for notice in types.all_types() if notice.kind.startswith("case.")
            for person, case_key in AUDIENCE_PORTALS[notice.audience]]


def test_every_case_notice_type_is_covered_here():
    kinds = {notice.kind for notice in types.all_types() if notice.kind.startswith("case.")}
    assert kinds == {notice.kind for notice in notices.NOTICES}
    assert {kind for kind, _person, _case in _cases()} == kinds
    assert all(notice.audience in AUDIENCE_PORTALS for notice in notices.NOTICES)


@pytest.mark.parametrize(("kind", "person", "case_key"), _cases())
def test_a_notice_opens_its_page_in_the_recipients_portal(client, world, kind, person, case_key):
    notice = types.get(kind)
    user, case = world["cast"][person], world[case_key]
    portal = primary_portal(user)
    assert portal == EXPECTED_PORTAL[person]
    target_id = case.pk if notice.target == "case" else None
    [message] = notify(recipients=[user], kind=kind, title="消息", body="", target_id=target_id)
    client.force_login(user)
    response = client.post(reverse(f"{portal}:message_open", args=[message.pk]))
    expected = {"case": reverse(f"{portal}:case", args=[case.pk]),
                "cases.due": reverse("worker:tasks" if portal == "worker" else "command:cases")}[notice.target]
    assert response.status_code == 302 and response["Location"] == expected
    page = client.get(expected)
    assert page.status_code == 200
    if notice.target == "case":
        assert case.number in page.content.decode()


def test_a_village_administrators_task_notice_opens_the_case_in_the_worker_portal(client, world):
    """The real flow: a dispatch to the village tells its administrator, whose message opens /worker/cases/N/."""
    admin, case = world["cast"]["village_admin"], world["village_case"]
    task = Notification.objects.get(recipient=admin, kind="case.task", target_id=case.pk)
    client.force_login(admin)
    response = client.post(reverse("worker:message_open", args=[task.pk]), follow=True)
    assert response.redirect_chain == [(f"/worker/cases/{case.pk}/", 302)]
    assert case.number in response.content.decode()


def test_a_staff_reporter_opens_their_case_in_their_own_portal(client, world):
    worker, case = world["cast"]["field_reporter"], world["field_case"]
    services.transition(actor=world["cast"]["dispatcher"], case=case, action=Action.ACCEPT)
    accepted = Notification.objects.get(recipient=worker, kind="case.accepted")
    client.force_login(worker)
    response = client.post(reverse("worker:message_open", args=[accepted.pk]))
    assert response["Location"] == f"/worker/cases/{case.pk}/"
