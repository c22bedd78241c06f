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


def test_unknown_address_in_a_staff_portal_signed_out_gets_the_portals_bar_without_its_menus(client):
    response = client.get("/command/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404 and "未找到" in page and 'class="desk-header"' in page
    assert "事件受理" not in page and "退出" not in page  # no staff menus for a visitor nobody signed in


def test_someone_elses_case_in_the_resident_portal_is_404_in_the_resident_chrome(client, world):
    other = User.objects.create_user(username="other", password="x", kind=User.Kind.RESIDENT)
    client.force_login(other)
    response = client.get(f"/cases/{world['case'].pk}/")
    assert response.status_code == 404 and "共治 · 群众端" in response.content.decode()


# ---- every portal's own 404, 400 and 500 pages in Chinese; the API's errors stay JSON ----

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
# What tells the portals' looks apart: the staff header of the command centre, the mobile bars' names.
CHROME = {"resident": "共治 · 群众端", "worker": "共治 · 网格端", "command": 'class="desk-header"'}


@pytest.fixture
def staff(people):
    """Signed-in users of each portal (a 404 in a staff portal shows its full chrome to its own staff)."""
    return {"resident": people["resident"], "worker": people["grid_worker"], "command": people["dispatcher"]}


@pytest.mark.parametrize(("portal", "prefix"), [("resident", "/"), ("worker", "/worker/"), ("command", "/command/")])
def test_each_portal_has_its_own_404_page_in_chinese_with_a_way_home(client, staff, settings, portal, prefix):
    settings.DEBUG = False
    client.force_login(staff[portal])
    response = client.get(prefix + "no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404 and response["Content-Type"] == HTML
    assert '<html lang="zh-hans"' in page and "<h1>未找到</h1>" in page and CHROME[portal] in page
    assert f'<a href="{prefix}">返回首页</a>' in page


@pytest.mark.urls("gongzhi.web.tests.boom_urls")
@pytest.mark.parametrize(("portal", "prefix"), [("resident", "/"), ("worker", "/worker/"), ("command", "/command/")])
def test_each_portal_has_its_own_500_page_in_chinese_with_a_way_home(client, staff, settings, portal, prefix):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(staff[portal])
    response = client.get(prefix + "boom/error/")
    page = response.content.decode()
    assert response.status_code == 500 and response["Content-Type"] == HTML
    assert '<html lang="zh-hans"' in page and "<h1>服务器出错</h1>" in page and CHROME[portal] in page
    assert f'<a href="{prefix}">返回首页</a>' in page
    assert "a bug" not in page and "Traceback" not in page
    # A static page: nothing about the user (their name, the staff menus, the logout form) even when signed in.
    assert staff[portal].real_name not in page and "退出" not in page and "csrfmiddlewaretoken" not in page


@pytest.mark.urls("gongzhi.web.tests.boom_urls")
@pytest.mark.parametrize(("portal", "prefix"), [("resident", "/"), ("worker", "/worker/"), ("command", "/command/")])
def test_a_suspicious_request_gets_the_portals_400_page_in_chinese(client, settings, portal, prefix):
    settings.DEBUG = False
    response = client.get(prefix + "boom/suspicious/")
    page = response.content.decode()
    assert response.status_code == 400 and response["Content-Type"] == HTML
    assert "<h1>请求有误</h1>" in page and CHROME[portal] in page and f'<a href="{prefix}">返回首页</a>' in page


def test_the_500_page_needs_no_database_no_session_and_no_user(rf, django_db_blocker, settings):
    """It shows when any of them is what failed: rendered with the database blocked (any query would raise)
    and a request whose user and session raise when touched."""
    from gongzhi.web.errors import server_error

    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"the 500 page touched {name}")

    settings.DEBUG = False
    for path, chrome in [("/cases/1/", CHROME["resident"]), ("/worker/cases/", CHROME["worker"]),
                         ("/command/cases/", CHROME["command"])]:
        request = rf.get(path)
        request.user = request.session = Untouchable()
        with django_db_blocker.block():
            response = server_error(request)
        assert response.status_code == 500 and response["Content-Type"] == HTML
        assert "服务器出错" in response.content.decode() and chrome in response.content.decode()


def test_a_form_refused_by_the_csrf_check_gets_the_portals_403_page_in_chinese(settings):
    from django.test import Client

    settings.DEBUG = False
    response = Client(enforce_csrf_checks=True).post("/command/login/", {"username": "x", "password": "y"})
    page = response.content.decode()
    assert response.status_code == 403 and response["Content-Type"] == HTML
    assert "<h1>没有权限</h1>" in page and "页面已过期" in page and "CSRF" not in page


@pytest.mark.urls("gongzhi.web.tests.boom_urls")
@pytest.mark.parametrize(("path", "status", "code"), [
    ("/api/no-such-endpoint", 404, "not_found"),
    ("/api/boom/error/", 500, "server_error"),
    ("/api/boom/suspicious/", 400, "bad_request"),
    ("/api/boom/refused/", 403, "forbidden"),
])
def test_the_apis_errors_stay_json_in_its_own_shape(client, settings, path, status, code):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == status and response["Content-Type"] == JSON
    body = response.json()
    assert body["code"] == code and body["field"] is None and set(body) == {"detail", "code", "field"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])  # a Chinese message, as the API's others


def test_when_even_the_500_template_fails_a_bare_chinese_page_is_sent(rf, monkeypatch, settings):
    from gongzhi.web import errors

    def broken(*args, **kwargs):
        raise ValueError("Missing staticfiles manifest entry for 'css/gongzhi.css'")

    settings.DEBUG = False
    monkeypatch.setattr(errors.loader, "render_to_string", broken)
    response = errors.server_error(rf.get("/command/cases/"))
    assert response.status_code == 500 and response["Content-Type"] == HTML
    assert "<h1>出错了</h1>" in response.content.decode() and "返回首页" in response.content.decode()
