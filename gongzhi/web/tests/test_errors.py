"""Domain errors become the portal's own 404/403 pages (DomainErrorMiddleware and the URL conf's handlers)."""

import pytest

from gongzhi.accounts.models import User
from gongzhi.cases.factories import act, report
from gongzhi.cases.workflow import Action

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people, cats):
    """An accepted case of 王秀兰's in 小山村第1网格, and the shared cast (gongzhi.testing.fixtures)."""
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ACCEPT)
    return {"case": case, "disp": people["dispatcher"], "gw2": people["other_grid_worker"]}


def test_out_of_scope_case_is_the_worker_portals_404_page(client, world):
    client.force_login(world["gw2"])
    response = client.get(f"/worker/cases/{world['case'].pk}/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "未找到" in page and 'class="bottom-nav"' in page  # the worker's chrome, not a bare page
    assert "王秀兰" not in page


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
