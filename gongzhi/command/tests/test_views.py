import re
import time

import pyotp
import pytest
from django.urls import reverse

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import begin_totp_enrolment, confirm_totp

pytestmark = pytest.mark.django_db

PASSWORD = "Gongzhi#2026"
LOGIN = "/command/login/"


def post_login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def enable_totp(user) -> str:
    secret, _ = begin_totp_enrolment(user=user)
    confirm_totp(user=user, secret=secret, code=pyotp.TOTP(secret).now())
    return secret


def test_staff_are_sent_to_their_portal_after_login(client, tree, make_staff):
    make_staff("disp", tree["town"], Role.DISPATCHER)
    make_staff("gw", tree["grid"], Role.GRID_WORKER)
    assert post_login(client, "disp")["Location"] == "/command/"
    client.logout()
    assert post_login(client, "gw")["Location"] == "/worker/"


def test_next_is_followed_only_when_it_stays_on_this_site(client, tree, make_staff):
    make_staff("gw", tree["grid"], Role.GRID_WORKER)
    assert post_login(client, "gw", next="/worker/me/")["Location"] == "/worker/me/"
    client.logout()
    assert post_login(client, "gw", next="https://evil.example/")["Location"] == "/worker/"


def test_wrong_password_and_missing_fields_are_explained(client, tree, make_staff):
    make_staff("disp", tree["town"], Role.DISPATCHER)
    page = post_login(client, "disp", password="nope").content.decode()
    assert "用户名或密码错误。" in page and 'value="disp"' in page
    page = client.post(LOGIN, {"username": "", "password": ""}).content.decode()
    assert "请填写用户名。" in page and "请填写密码。" in page


def test_repeated_failures_delay_this_address_and_say_so(client, tree, make_staff):
    make_staff("disp", tree["town"], Role.DISPATCHER)
    for _ in range(5):
        response = post_login(client, "disp", password="wrong-one")
    assert response.status_code == 429 and response["Retry-After"] == "30"
    assert "尝试次数过多，请30秒后再试。" in response.content.decode()
    response = post_login(client, "disp")  # even the right password, from here, for now
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_totp_step_keeps_the_username_and_then_logs_in(client, tree, make_staff):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    secret = enable_totp(user)
    page = post_login(client, "disp").content.decode()
    assert 'name="totp_code"' in page and 'value="disp"' in page and "请输入动态口令。" in page
    page = post_login(client, "disp", totp_code="000000" if pyotp.TOTP(secret).now() != "000000"
                      else "111111").content.decode()
    assert "动态口令不正确。" in page and 'name="totp_code"' in page
    # The code accepted at enrolment may not be replayed: use the next time step's code.
    totp = pyotp.TOTP(secret)
    response = post_login(client, "disp", totp_code=totp.at(time.time() + totp.interval))
    assert response["Location"] == "/command/"


def test_command_portal_requires_login_and_a_command_post(client, tree, make_staff):
    assert client.get("/command/")["Location"] == "/command/login/?next=%2Fcommand%2F"
    client.force_login(make_staff("gw", tree["grid"], Role.GRID_WORKER))
    assert client.get("/command/")["Location"] == "/worker/"
    client.force_login(User.objects.create_user(username="r", kind=User.Kind.RESIDENT))
    assert client.get("/command/")["Location"] == "/"


def test_township_home_shows_its_tree_and_not_the_other_township(client, tree, make_staff):
    client.force_login(make_staff("disp", tree["town"], Role.DISPATCHER))
    page = client.get("/command/").content.decode()
    for name in ["八里镇", "小山村", "大湾村", "小山村第1网格", "大湾村第1网格", "八里镇司法所"]:
        assert name in page
    assert "城关镇" not in page and "东关社区" not in page
    assert "指挥中心调度员" in page  # the header shows the user's post
    assert reverse("admin:index") not in page


def test_unit_pages_answer_404_outside_scope(client, tree, make_staff):
    client.force_login(make_staff("disp", tree["town"], Role.DISPATCHER))
    assert client.get(reverse("command:unit", args=[tree["village"].pk])).status_code == 200
    for unit in ("other_town", "other_grid", "county"):
        assert client.get(reverse("command:unit", args=[tree[unit].pk])).status_code == 404


def test_grid_page_shows_boundary_and_masked_staff_phones(client, tree, make_staff):
    client.force_login(make_staff("disp", tree["town"], Role.DISPATCHER))
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    worker.phone = "13800001111"
    worker.save()
    page = client.get(reverse("command:unit", args=[tree["grid"].pk])).content.decode()
    assert "Polygon" in page and "4 个顶点" in page and "104.60500" in page
    assert "王网格" in page and "138****1111" in page and "13800001111" not in page


def test_village_page_lists_children_and_departments_with_counts(client, tree, make_staff):
    client.force_login(make_staff("disp", tree["town"], Role.DISPATCHER))
    page = client.get(reverse("command:unit", args=[tree["town"].pk])).content.decode()
    assert "小山村" in page and "八里派出所" in page and "城关镇" not in page


def test_system_admin_gets_the_admin_link(client, tree, make_staff):
    client.force_login(make_staff("admin1", tree["city"], Role.SYSTEM_ADMIN))
    assert reverse("admin:index") in client.get("/command/").content.decode()


def test_totp_setup_shows_a_qr_code_and_enables_on_a_right_code(client, tree, make_staff):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    client.force_login(user)
    page = client.get(reverse("command:totp_setup")).content.decode()
    assert 'src="data:image/png;base64,' in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    page = client.post(reverse("command:totp_setup"), {"code": "12"}).content.decode()
    assert "动态口令不正确。" in page and secret in page  # same secret offered again
    response = client.post(reverse("command:totp_setup"), {"code": pyotp.TOTP(secret).now()})
    assert response["Location"] == "/command/"
    user.refresh_from_db()
    assert user.totp_enabled


def test_department_handler_cannot_set_up_totp(client, tree, make_staff):
    client.force_login(make_staff("dh", tree["justice"], Role.DEPT_HANDLER))
    response = client.get(reverse("command:totp_setup"))
    assert response["Location"] == "/command/"
    assert not User.objects.get(username="dh").totp_enabled


def test_logout_is_a_post(client, tree, make_staff):
    client.force_login(make_staff("disp", tree["town"], Role.DISPATCHER))
    assert client.get(reverse("command:logout")).status_code == 405
    assert client.post(reverse("command:logout"))["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
