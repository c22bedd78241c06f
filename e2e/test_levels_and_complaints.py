"""The village level and complaints in the browser: a 工作站 takes up and handles a general matter within the
village's limit; a complaint about 城建办 goes to the county, and 城建办 cannot see it."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases.models import Case
from gongzhi.org.factories import make_department, make_tree
from gongzhi.org.models import DepartmentType

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "Gongzhi#2026"


@pytest.fixture
def village(make_staff):
    tree = make_tree()
    resident = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=resident, unit=tree["grid"], role=Role.RESIDENT)
    tree["construction"] = make_department(tree["town"], DepartmentType.URBAN_CONSTRUCTION, "八里镇城建办", "CJB")
    make_staff("工作站", tree["village"], Role.VILLAGE_STATION)
    make_staff("城建办", tree["construction"], Role.DEPT_HANDLER)
    make_staff("区调度员", tree["county"], Role.DISPATCHER)
    return {"tree": tree, "resident": resident}


def resident_page(new_page, live_server, user):
    page = new_page()
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                               "url": live_server.url}])
    return page


def staff_page(new_page, live_server, username, next_url, **size):
    page = new_page(**size)
    page.goto(f"{live_server.url}/command/login/?next={next_url}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page


def report(page, live_server, *, kind, matter, text):
    page.goto(live_server.url + "/cases/new/")
    page.get_by_label("事件类型").select_option(label=kind)
    page.get_by_label("具体事项").select_option(label=matter)
    page.get_by_label("要说的事").fill(text)
    page.get_by_label("纬度").fill("35.585")  # in 小山村第1网格
    page.get_by_label("经度").fill("104.605")


def test_the_village_station_handles_a_general_matter_within_its_limit(new_page, live_server, village, shot):
    phone = resident_page(new_page, live_server, village["resident"])
    report(phone, live_server, kind="常用事项", matter="垃圾清运", text="村口垃圾堆了一周没人清运。")
    expect(phone.get_by_label("被投诉单位（投诉举报时选择）")).to_be_hidden()  # not a complaint
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_text("已提交，事件编号")).to_be_visible()
    case = Case.objects.get()
    assert case.holder == village["tree"]["village"]

    station = staff_page(new_page, live_server, "工作站", "/worker/cases/")
    expect(station.locator("main")).to_contain_text(case.number, use_inner_text=True)
    station.locator(f"a[href='/worker/cases/{case.pk}/']").first.click()
    expect(station.locator("#action-accept")).to_have_attribute("open", "")
    station.locator("#action-accept").get_by_role("button", name="受理").click()
    expect(station.locator("#case-status")).to_contain_text("已受理", use_inner_text=True)
    expect(station.locator("#timeline")).to_contain_text("办理期限：", use_inner_text=True)
    dispatch = station.locator("#action-dispatch")
    dispatch.get_by_label("主办单位").select_option(label="小山村")  # 自办: the village team itself
    dispatch.get_by_role("button", name="派单").click()
    expect(station.locator("#case-status")).to_contain_text("已派单", use_inner_text=True)
    station.locator("#action-sign").get_by_role("button", name="签收").click()
    complete = station.locator("#action-complete")
    complete.get_by_label("说明").fill("已联系保洁员清运。")
    complete.get_by_role("button", name="办结").click()
    expect(station.locator("#case-status")).to_contain_text("已办结", use_inner_text=True)
    assert station.evaluate("document.documentElement.scrollWidth") <= 360
    shot(station, "village-station-case-360")
    case.refresh_from_db()
    assert case.status == "handled" and case.handle_due is not None


def test_a_complaint_about_a_department_goes_up_and_the_department_cannot_see_it(new_page, live_server, village,
                                                                                  shot):
    phone = resident_page(new_page, live_server, village["resident"])
    report(phone, live_server, kind="投诉举报", matter="服务态度", text="城建办工作人员态度恶劣，推诿不办。")
    subject = phone.get_by_label("被投诉单位（投诉举报时选择）")
    expect(subject).to_be_visible()
    # This resident's home grid is not known yet: the units come with the place, after a first try.
    phone.get_by_role("button", name="提交").click()
    expect(phone.locator("#id_subject_unit-field")).to_contain_text("请选择被投诉的单位", use_inner_text=True)
    subject.select_option(label="八里镇城建办")
    shot(phone, "complaint-form-360")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_text("已提交，事件编号")).to_be_visible()
    case = Case.objects.get()
    assert case.holder == village["tree"]["county"] and case.subject_unit == village["tree"]["construction"]

    clerk = staff_page(new_page, live_server, "城建办", "/command/cases/", width=1366, height=900)
    expect(clerk.locator("main")).not_to_contain_text(case.number, use_inner_text=True)
    assert clerk.goto(f"{live_server.url}/command/cases/{case.pk}/").status == 404

    county = staff_page(new_page, live_server, "区调度员", "/command/cases/intake/", width=1920, height=1080)
    expect(county.locator("main")).to_contain_text(case.number, use_inner_text=True)
    shot(county, "complaint-county-intake-1920")
