import datetime
import re

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.core.validators import id_check_digit
from gongzhi.org.factories import make_tree
from gongzhi.registry.models import Household, Resident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = "13912345678"
ID_FIRST17 = "62110219800101001"
ID_NUMBER = ID_FIRST17 + id_check_digit(ID_FIRST17)
BAD_ID = ID_FIRST17 + ("0" if ID_NUMBER[-1] != "0" else "1")


@pytest.fixture
def village(make_staff):
    tree = make_tree()
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001",
                                    address="小山村一社12号")
    Resident.objects.create(household=home, name="张三", id_number=ID_NUMBER, phone=PHONE, gender="M",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD)
    make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    return tree


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def request_code(page) -> None:
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status .notice-success")).to_be_visible()


def code_from_dev_page(page, base_url: str) -> str:
    sms_page = page.context.new_page()
    sms_page.goto(base_url + "/dev/sms/")
    text = sms_page.locator(".dev-sms-message").first.inner_text()
    sms_page.close()
    return re.search(r"\d{6}", text).group()


def test_resident_signs_up_logs_out_and_logs_in_again(page, live_server, village, settings, shot):
    # Sign-up and login follow each other within seconds; the real resend pause would block the second code.
    settings.SMS_CODE_RESEND_SECONDS = 0
    errors = []  # CSP violations and script errors show up as console errors
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/")
    shot(page, "resident-home-logged-out")
    page.get_by_role("link", name="注册", exact=True).click()
    expect(page).to_have_url(live_server.url + "/signup/")

    page.get_by_label("姓名").fill("张三")
    page.get_by_label("身份证号").fill(BAD_ID)
    page.get_by_label("手机号").fill(PHONE)
    page.evaluate("window.sameDocument = true")
    request_code(page)
    expect(page.locator("#sms-status")).to_contain_text("139****5678", use_inner_text=True)
    # static/js/sms-code.js fetched just the notice: the page was not reloaded.
    assert page.evaluate("window.sameDocument === true")
    code = code_from_dev_page(page, live_server.url)
    page.get_by_label("短信验证码").fill(code)
    page.locator("#id_consent").check()
    shot(page, "resident-signup")
    assert scroll_width(page) <= 360
    page.locator("form button.btn-block").click()
    error = page.locator("#id_id_number_error")
    expect(error).to_contain_text("身份证号码校验位不正确", use_inner_text=True)
    # The error sits right under the ID field, inside that field's own block.
    expect(page.locator("#id_id_number-field #id_id_number_error")).to_have_count(1)
    # ... and a screen reader reads it with the field (aria-describedby names the error's id).
    expect(page.locator("#id_id_number")).to_have_accessible_description(re.compile("身份证号码校验位不正确"))
    # ... and the field itself turns red (#a8001d, --err), not only the message.
    expect(page.locator("#id_id_number")).to_have_css("border-top-color", "rgb(168, 0, 29)")

    page.get_by_label("身份证号").fill(ID_NUMBER)
    page.get_by_label("短信验证码").fill(code)
    page.locator("#id_consent").check()
    page.locator("form button.btn-block").click()
    expect(page).to_have_url(live_server.url + "/")
    body = page.locator("main")
    for text in ["您好，张三", "小山村第1网格", "已核验 · 户主", "王网格"]:
        expect(body).to_contain_text(text, use_inner_text=True)
    page.wait_for_load_state()  # its stylesheet applied before measuring
    shot(page, "resident-home")
    assert scroll_width(page) <= 360

    page.get_by_role("button", name="退出").click()
    page.get_by_role("link", name="登录", exact=True).first.click()
    expect(page).to_have_url(live_server.url + "/login/")
    page.get_by_label("身份证号").fill(ID_NUMBER)
    page.get_by_label("手机号").fill(PHONE)
    request_code(page)
    page.get_by_label("短信验证码").fill(code_from_dev_page(page, live_server.url))
    page.locator("form button.btn-block").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("main")).to_contain_text("您好，张三", use_inner_text=True)
    page.wait_for_load_state()  # its stylesheet applied before measuring
    assert scroll_width(page) <= 360
    assert errors == []


def test_code_can_be_requested_without_javascript(new_page, live_server, village):
    page = new_page(java_script_enabled=False)
    page.goto(live_server.url + "/signup/")
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status")).to_contain_text("验证码已发送至139****5678", use_inner_text=True)
    expect(page.get_by_label("姓名")).to_have_value("张三")


def test_large_type_and_language_switch(page, live_server, village, shot):
    page.goto(live_server.url + "/")
    root_font = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    before = page.evaluate(root_font)
    page.get_by_role("button", name="大字模式").click()
    expect(page.get_by_role("button", name="大字模式")).to_have_attribute("aria-pressed", "true")
    page.wait_for_load_state()  # its stylesheet applied before measuring
    assert page.evaluate(root_font) > before
    # Touch targets in large type are at least 48 px high.
    assert page.locator(".hero .btn").first.bounding_box()["height"] >= 48
    shot(page, "resident-home-large-type")
    assert scroll_width(page) <= 360

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The preference survives navigation (it is a cookie), and so does large type.
    page.goto(live_server.url + "/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    if (django_settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.mo").exists():
        expect(page.locator("h1")).not_to_have_text("注册", use_inner_text=True)
    expect(page.locator("html")).to_contain_class("large-type")
    shot(page, "resident-signup-en-large-type")


def test_code_button_counts_down_and_falls_back_to_the_whole_form(page, live_server, village):
    page.goto(live_server.url + "/signup/")
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("手机号").fill(PHONE)
    page.evaluate("window.sameDocument = true")
    request_code(page)
    button = page.locator("[data-sms-button]")
    expect(button).to_be_disabled()  # the resend pause the server announced (60 s)
    expect(button).to_contain_text("秒后重发", use_inner_text=True)
    assert page.evaluate("window.sameDocument === true")

    # A refused fetch (here: the signal dropped it) is sent again as the whole form; the page says what happened.
    page.goto(live_server.url + "/signup/")
    page.route("**/signup/", lambda route: route.abort() if route.request.headers.get("x-fragment")
               else route.continue_())
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("手机号").fill("13912345679")
    page.evaluate("window.sameDocument = true")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status")).to_contain_text("验证码已发送至139****5679", use_inner_text=True)
    assert page.evaluate("window.sameDocument === undefined")  # a new page: the form was posted
    expect(page.get_by_label("姓名")).to_have_value("张三")
    expect(page.locator("[data-sms-button]")).to_be_disabled()
