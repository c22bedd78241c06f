import re
import uuid

import pytest

from gongzhi.accounts.models import Role, User
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories, report
from gongzhi.cases.models import Case, ReturnVisit

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, make_staff):
    cats = make_categories()
    resident = User.objects.create_user(username="res", password="x", real_name="王小明", kind=User.Kind.RESIDENT)
    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    handler = make_staff("handler", tree["justice"], Role.DEPT_HANDLER)
    case = report(resident, cats["env"])
    services.transition(actor=disp, case=case, action="accept")
    services.transition(actor=disp, case=case, action="dispatch", lead_unit=tree["justice"])
    services.transition(actor=handler, case=case, action="sign")
    services.transition(actor=handler, case=case, action="complete", note="已修好")
    return {"tree": tree, "cats": cats, "case": case,
            "gw": make_staff("gw", tree["grid"], Role.GRID_WORKER),
            "gw2": make_staff("gw2", tree["grid2"], Role.GRID_WORKER)}


def test_tasks_list_handled_case_in_my_grid(client, world):
    client.force_login(world["gw"])
    page = client.get("/worker/cases/").content.decode()
    assert world["case"].number in page and "任务" in page
    client.force_login(world["gw2"])
    assert world["case"].number not in client.get("/worker/cases/").content.decode()
    assert client.get(f"/worker/cases/{world['case'].pk}/").status_code == 404


def test_return_visit_from_the_worker_case_page(client, world):
    case = world["case"]
    client.force_login(world["gw"])
    page = client.get(f"/worker/cases/{case.pk}/").content.decode()
    assert f'action="/worker/cases/{case.pk}/visit/"' in page
    response = client.post(f"/worker/cases/{case.pk}/visit/", {"visit-method": "phone", "visit-settled": "yes",
                                                              "visit-note": ""})
    assert response.status_code == 422 and "请填写回访情况。" in response.content.decode()
    assert not ReturnVisit.objects.exists()
    response = client.post(f"/worker/cases/{case.pk}/visit/", {"visit-method": "phone", "visit-settled": "yes",
                                                              "visit-note": "群众表示满意"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "confirmed" and ReturnVisit.objects.get().settled


def test_a_return_visit_sent_twice_is_recorded_once(client, world):
    case = world["case"]
    client.force_login(world["gw"])
    body = {"visit-method": "visit", "visit-settled": "no", "visit-note": "路灯仍不亮", "visit-client_key": "abc"}
    responses = [client.post(f"/worker/cases/{case.pk}/visit/", body) for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    case.refresh_from_db()
    assert case.status == "reopened" and ReturnVisit.objects.get().settled is False


def test_field_report_is_idempotent_and_validated(client, world):
    client.force_login(world["gw"])
    assert client.get("/worker/cases/report/").status_code == 200
    client_id = str(uuid.uuid4())
    data = {"client_id": client_id, "category": world["cats"]["env"].pk, "description": "垃圾堆放", "address": "",
            "where": "grid", "lat": "", "lng": ""}
    # An open case of the same category nearby is offered first, and the worker's own report can't go anonymous.
    warned = client.post("/worker/cases/report/", {**data, "is_anonymous": "on"})
    assert warned.status_code == 200 and f'href="/worker/cases/{world["case"].pk}/"' in warned.content.decode()
    assert not Case.objects.filter(client_id=client_id).exists()
    data["confirmed"] = "on"
    first = client.post("/worker/cases/report/", {**data, "is_anonymous": "on"})
    again = client.post("/worker/cases/report/", data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert Case.objects.filter(client_id=client_id).count() == 1
    assert Case.objects.get(client_id=client_id).grid == world["tree"]["grid"]
    assert not Case.objects.get(client_id=client_id).is_anonymous
    bad = client.post("/worker/cases/report/", {**data, "client_id": str(uuid.uuid4()), "description": ""})
    assert bad.status_code == 422 and "请填写反映的内容。" in bad.content.decode()


def test_a_question_to_the_workers_unit_shows_on_the_task_and_the_nav(client, world, tree, make_staff):

    village_admin = make_staff("va", tree["village"], Role.VILLAGE_ADMIN)
    disp = User.objects.get(username="disp")
    case = report(User.objects.get(username="res"), world["cats"]["env"], description="路灯不亮")
    services.transition(actor=disp, case=case, action="accept")
    services.transition(actor=disp, case=case, action="dispatch", lead_unit=tree["village"])
    services.ask_follow_up(actor=User.objects.get(username="res"), case=case, question="哪天来修？")
    client.force_login(village_admin)
    page = client.get("/worker/cases/").content.decode()
    assert "新追问" in page and 'aria-label="1条未读追问"' in page
    client.get(f"/worker/cases/{case.pk}/")
    page = client.get("/worker/cases/").content.decode()
    assert "新追问" not in page and "条未读追问" not in page


def test_who_handled_a_case_is_not_offered_its_return_visit(client, world):
    """The buttons come from the rule the service checks: the grid worker who answered on the spot gets no
    回访 form (it would be refused), and a colleague in the same grid gets it."""
    case = report(User.objects.get(username="res"), world["cats"]["env"])
    services.transition(actor=world["gw"], case=case, action="resolve_on_spot", note="当场更换灯泡")
    client.force_login(world["gw"])
    page = client.get(f"/worker/cases/{case.pk}/").content.decode()
    assert f'action="/worker/cases/{case.pk}/visit/"' not in page
    refused = client.post(f"/worker/cases/{case.pk}/visit/", {"visit-method": "phone", "visit-settled": "yes",
                                                             "visit-note": "自己回访自己"})
    assert refused.status_code == 403
    colleague = User.objects.create_user(username="gw-b", kind=User.Kind.STAFF)
    colleague.memberships.create(unit=world["tree"]["grid"], role=Role.GRID_LEADER)
    client.force_login(colleague)
    assert f'action="/worker/cases/{case.pk}/visit/"' in client.get(f"/worker/cases/{case.pk}/").content.decode()


def test_the_workers_own_field_reports_are_in_my_tasks_until_they_are_finished(client, world):
    client.force_login(world["gw"])
    data = {"client_id": str(uuid.uuid4()), "category": world["cats"]["policy"].pk, "description": "低保政策咨询",
            "address": "", "where": "grid", "lat": "", "lng": "", "confirmed": "on"}
    assert client.post("/worker/cases/report/", data).status_code == 302
    mine = Case.objects.get(client_id=data["client_id"])
    page = client.get("/worker/cases/").content.decode()
    assert mine.number in page and "我上报的" in page
    client.force_login(world["gw2"])  # another grid's worker: neither theirs nor in their grid
    assert mine.number not in client.get("/worker/cases/").content.decode()
    services.transition(actor=User.objects.get(username="disp"), case=mine, action="reject", note="不属实")
    client.force_login(world["gw"])
    assert mine.number not in client.get("/worker/cases/").content.decode()


def test_the_grid_worker_phones_the_reporter_from_the_case_page(client, world):
    resident = User.objects.get(username="res")
    resident.phone = "13912345678"
    resident.save()
    case = world["case"]
    client.force_login(world["gw"])
    page = client.get(f"/worker/cases/{case.pk}/").content.decode()
    assert f'href="/worker/cases/{case.pk}/phone/"' in page and "13912345678" not in page
    form = client.get(f"/worker/cases/{case.pk}/phone/").content.decode()
    assert "139****5678" in form and re.search(r'value="电话回访"[^>]*checked', form)  # the purpose offered
    refused = client.post(f"/worker/cases/{case.pk}/phone/", {"purpose": "", "reason": ""})
    assert "13912345678" not in refused.content.decode()
    shown = client.post(f"/worker/cases/{case.pk}/phone/", {"purpose": "电话回访", "reason": ""})
    assert 'href="tel:13912345678"' in shown.content.decode()
    client.force_login(world["gw2"])
    assert client.get(f"/worker/cases/{case.pk}/phone/").status_code == 404


def test_a_field_report_lists_the_most_alike_case_first_and_says_why(client, world):
    """The worker in the middle of their grid reports a light; world["case"] (a light, here) and a light
    150 m away come before a same-category garbage heap right here."""
    resident = User.objects.get(username="res")
    unrelated = report(resident, world["cats"]["env"], description="村口垃圾堆没人清")
    similar = report(resident, world["cats"]["env"], lat=35.585 + 150 / 111_195, description="村口那个路灯坏了好几天")
    client.force_login(world["gw"])
    data = {"client_id": str(uuid.uuid4()), "category": world["cats"]["env"].pk, "description": "村口路灯不亮",
            "address": "", "where": "grid", "lat": "", "lng": ""}
    page = client.post("/worker/cases/report/", data).content.decode()
    assert page.index(world["case"].number) < page.index(similar.number) < page.index(unrelated.number)
    assert page.count("内容相近") == 2 and "距离约150米" in page and "距离约10米" in page
