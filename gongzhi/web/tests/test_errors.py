"""Domain errors become the portal's own 404/403 pages (DomainErrorMiddleware and the URL conf's handlers)."""

import pytest

from gongzhi.accounts.models import Role, User
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, make_staff):
    cats = make_categories()
    resident = User.objects.create_user(username="res", password="x", real_name="王小明", kind=User.Kind.RESIDENT)
    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    case = report(resident, cats["env"])
    services.transition(actor=disp, case=case, action="accept")
    return {"case": case, "disp": disp, "resident": resident,
            "gw2": make_staff("gw2", tree["grid2"], Role.GRID_WORKER),
            "handler": make_staff("handler", tree["justice"], Role.DEPT_HANDLER)}


def test_out_of_scope_case_is_the_worker_portals_404_page(client, world):
    client.force_login(world["gw2"])
    response = client.get(f"/worker/cases/{world['case'].pk}/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "未找到" in page and 'class="bottom-nav"' in page  # the worker's chrome, not a bare page
    assert "王小明" not in page


def test_refused_action_is_the_command_portals_403_page_with_the_services_message(client, world):
    client.force_login(world["disp"])
    response = client.post(f"/command/cases/{world['case'].pk}/sign/", {"sign-note": ""})
    page = response.content.decode()
    assert response.status_code == 403
    assert "您不能对该事件执行“签收”。" in page and 'class="desk-header"' in page
    world["case"].refresh_from_db()
    assert world["case"].status == "accepted"


def test_unknown_address_in_a_staff_portal_signed_out_gets_the_plain_frame(client):
    response = client.get("/command/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404 and "未找到" in page and 'class="desk-header"' not in page


def test_someone_elses_case_in_the_resident_portal_is_404_in_the_resident_chrome(client, world):
    other = User.objects.create_user(username="other", password="x", kind=User.Kind.RESIDENT)
    client.force_login(other)
    response = client.get(f"/cases/{world['case'].pk}/")
    assert response.status_code == 404 and "共治 · 群众端" in response.content.decode()
