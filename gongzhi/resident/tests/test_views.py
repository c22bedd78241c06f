import datetime
import re

import pytest
from django.test import override_settings
from django.urls import reverse

from gongzhi.accounts.models import DevSmsMessage, Role, SmsCode, User
from gongzhi.core.validators import id_check_digit
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def id_number(seq: int, birth: str = "19800101", region: str = "621102") -> str:
    first = f"{region}{birth}{seq:03d}"
    return first + id_check_digit(first)


@pytest.fixture
def household(tree):
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001",
                                    address="小山村一社12号")
    # One phone for the household, as the register often holds it.
    Resident.objects.create(household=home, name="张三", id_number=id_number(11), phone=PHONE, gender="M",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD)
    Resident.objects.create(household=home, name="李梅", id_number=id_number(22), phone=PHONE, gender="F",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.SPOUSE)
    return home


def last_code() -> str:
    return re.search(r"\d{6}", DevSmsMessage.objects.order_by("-id").first().message).group()


def sign_up(client, *, name="张三", id_seq=11, phone=PHONE):
    client.post(reverse("resident:signup"), {"action": "send_code", "phone": phone})
    return client.post(reverse("resident:signup"), {
        "action": "submit", "name": name, "id_number": id_number(id_seq), "phone": phone,
        "code": last_code(), "consent": "on"})


def test_logged_out_home_explains_and_offers_login_and_signup(client):
    page = client.get("/").content.decode()
    assert 'href="/login/"' in page and 'href="/signup/"' in page
    assert "<meta name=\"viewport\"" in page
    # 公开事务 leads to the public sections, which a visitor may read without signing in.
    assert "公开事务" in page and 'href="/public/"' in page


def test_send_code_without_js_rerenders_form_with_notice_and_keeps_input(client):
    response = client.post(reverse("resident:signup"),
                           {"action": "send_code", "name": "张三", "phone": PHONE, "id_number": "x"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "验证码已发送至139****5678" in page
    assert 'value="张三"' in page
    assert "errorlist" not in page  # asking for a code is not a failed sign-up
    assert SmsCode.objects.count() == 1


def test_send_code_from_the_script_returns_only_the_status_line(client):
    response = client.post(reverse("resident:signup"), {"action": "send_code", "phone": PHONE},
                           headers={"X-Fragment": "sms-status"})
    page = response.content.decode()
    assert "验证码已发送至139****5678" in page and "<form" not in page


def test_send_code_to_a_bad_phone_shows_the_error_and_sends_nothing(client):
    page = client.post(reverse("resident:signup"), {"action": "send_code", "phone": "12345"}).content.decode()
    assert "请填写有效的11位中国大陆手机号码。" in page
    assert SmsCode.objects.count() == 0


def test_bad_id_number_is_shown_next_to_its_field_and_nothing_is_created(client):
    response = client.post(reverse("resident:signup"), {
        "action": "submit", "name": "张三", "id_number": "62110219800101001X", "phone": PHONE,
        "code": "123456", "consent": "on"})
    page = response.content.decode()
    assert re.search(r'id="id_id_number_error"[^>]*><ul class="errorlist"><li>身份证号码校验位不正确', page)
    assert not User.objects.filter(kind=User.Kind.RESIDENT).exists()


def test_sign_up_needs_consent(client, household):
    client.post(reverse("resident:signup"), {"action": "send_code", "phone": PHONE})
    page = client.post(reverse("resident:signup"), {
        "action": "submit", "name": "张三", "id_number": id_number(11), "phone": PHONE,
        "code": last_code()}).content.decode()
    assert "请阅读并同意个人信息保护说明。" in page
    assert not User.objects.filter(kind=User.Kind.RESIDENT).exists()


def test_wrong_code_is_shown_on_the_code_field(client, household):
    client.post(reverse("resident:signup"), {"action": "send_code", "phone": PHONE})
    wrong = "000000" if last_code() != "000000" else "111111"
    page = client.post(reverse("resident:signup"), {
        "action": "submit", "name": "张三", "id_number": id_number(11), "phone": PHONE, "code": wrong,
        "consent": "on"}).content.decode()
    assert re.search(r'id="id_code_error"[^>]*><ul class="errorlist"><li>验证码错误', page)


def test_matched_head_signs_up_and_sees_grid_and_masked_staff(client, household, tree, make_staff):
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    worker.phone = "13800001111"
    worker.save()
    make_staff("邻网格", tree["grid2"], Role.GRID_WORKER)
    response = sign_up(client)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "您好，张三" in page and "已核验 · 户主" in page
    assert "小山村第1网格" in page and "小山村" in page
    assert "王网格" in page and "138****1111" in page and "13800001111" not in page
    assert "邻网格" not in page


def test_spouse_is_verified_as_family_member_not_head(client, household):
    sign_up(client, name="李梅", id_seq=22)
    page = client.get("/").content.decode()
    assert "已核验 · 家庭成员" in page and "已核验 · 户主" not in page


def test_unmatched_resident_is_told_they_are_not_verified(client, tree):
    sign_up(client, name="赵六", id_seq=99)
    page = client.get("/").content.decode()
    assert "未核验" in page and "网格的工作人员" not in page


def test_logout_needs_post_and_login_with_code_works(client, household):
    sign_up(client)
    assert client.get(reverse("resident:logout")).status_code == 405
    client.post(reverse("resident:logout"))
    assert "您好" not in client.get("/").content.decode()
    SmsCode.objects.update(created_at=SmsCode.objects.first().created_at - datetime.timedelta(minutes=5))
    client.post(reverse("resident:login"), {"action": "send_code", "phone": PHONE})
    response = client.post(reverse("resident:login"), {
        "action": "submit", "id_number": id_number(11), "phone": PHONE, "code": last_code()})
    assert response.status_code == 302
    assert "您好，张三" in client.get("/").content.decode()


def test_login_with_unknown_id_shows_error_at_top(client, household):
    sign_up(client)
    client.post(reverse("resident:logout"))
    SmsCode.objects.update(created_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    client.post(reverse("resident:login"), {"action": "send_code", "phone": PHONE})
    page = client.post(reverse("resident:login"), {
        "action": "submit", "id_number": id_number(55), "phone": PHONE, "code": last_code()}).content.decode()
    assert "身份证号或手机号不正确。" in page
    assert "_auth_user_id" not in client.session


def test_signing_up_on_a_phone_the_register_does_not_hold_is_unverified_and_says_why(client, household):
    response = sign_up(client, phone="13700000000")
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "身份尚未核实" in page and "当面核验" in page and "小山村一社12号" not in page


def test_repeated_login_failures_answer_429_with_retry_after(client, household):
    for _ in range(4):
        assert client.post(reverse("resident:login"), {
            "action": "submit", "id_number": id_number(11), "phone": PHONE, "code": "000000"}).status_code == 200
    response = client.post(reverse("resident:login"), {
        "action": "submit", "id_number": id_number(11), "phone": PHONE, "code": "000000"})
    assert response.status_code == 429 and response["Retry-After"] == "30"
    assert "尝试次数过多，请30秒后再试。" in response.content.decode()


def test_dev_sms_page_lists_codes_only_when_enabled(client):
    client.post(reverse("resident:signup"), {"action": "send_code", "phone": PHONE})
    page = client.get(reverse("resident:dev_sms")).content.decode()
    assert last_code() in page and "139****5678" in page
    assert 'href="/dev/sms/"' in client.get(reverse("resident:signup")).content.decode()
    with override_settings(SHOW_DEV_SMS_PAGE=False):
        assert client.get(reverse("resident:dev_sms")).status_code == 404
        assert 'href="/dev/sms/"' not in client.get(reverse("resident:signup")).content.decode()


def test_large_type_cookie_switches_on_and_off(client):
    response = client.post(reverse("resident:large_type"), {"large_type": "1", "next": "/signup/"})
    assert response["Location"] == "/signup/" and response.cookies["large_type"].value == "1"
    assert '<html lang="zh-hans" class="large-type">' in client.get("/").content.decode()
    response = client.post(reverse("resident:large_type"), {"large_type": "0", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert 'class="large-type"' not in client.get("/").content.decode()


def test_staff_at_resident_home_are_sent_to_their_portal(client, tree, make_staff):
    client.force_login(make_staff("gw", tree["grid"], Role.GRID_WORKER))
    assert client.get("/")["Location"] == "/worker/"


def test_privacy_notice_explains_encryption_and_masking(client):
    page = client.get(reverse("resident:privacy")).content.decode()
    assert "加密" in page and "部分隐藏" in page

