"""Case pages in the browser: 代为登记 by a township dispatcher (then the resident finds the case after an SMS
login), a resident's follow-up question answered by the 司法所 (unread badge, 新追问 mark), and a grid worker's
field report that first warns about the same matter reported nearby."""

import datetime
import re
import uuid

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.accounts.tests.helpers import valid_id
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories
from gongzhi.cases.models import Case, Category, FollowUp, Source
from gongzhi.cases.workflow import Action
from gongzhi.org.factories import make_tree
from gongzhi.registry.models import Household, Resident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gongzhi#2026"
DESK = {"width": 1366, "height": 900}
ID_NUMBER = valid_id(birth="19700506", seq="222")
WRONG_CHECK_DIGIT = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
PHONE = "13812345678"


def staff_log_in(page, base_url: str, username: str, next_url: str = "") -> None:
    page.goto(base_url + "/command/login/" + (f"?next={next_url}" if next_url else ""))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def resident_session(page, base_url: str, user: User) -> None:
    """Sign a resident in by handing the browser a session (the SMS login is exercised in the first test)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def sms_code(page, base_url: str) -> str:
    """The newest code on the development SMS page."""
    sms = page.context.new_page()
    sms.goto(base_url + "/dev/sms/")
    text = sms.locator(".dev-sms-message").first.inner_text()
    sms.close()
    return re.search(r"\d{6}", text).group()


def fact(page, term: str):
    """The value (<dd>) next to a term (<dt>) in the facts list of a staff case page."""
    return page.locator("dl.facts dt", has_text=term).locator("xpath=following-sibling::dd[1]")


def console_errors(page) -> list[str]:
    """Script errors and CSP violations; a form sent back with its errors (422) is expected, not an error."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "status of 422" not in message.text:
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", on_console)
    return errors


# --- 代为登记 ------------------------------------------------------------------------------------------------


def test_dispatcher_reports_for_a_resident_who_then_finds_the_case(new_page, live_server, make_staff, settings,
                                                                   shot):
    settings.SMS_CODE_RESEND_SECONDS = 0
    tree = make_tree()
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H001",
                                         address="小山村1号")
    Resident.objects.create(household=household, name="王秀英", id_number=ID_NUMBER, gender="F",
                            birth_date=datetime.date(1970, 5, 6), relation=Resident.Relation.HEAD)
    make_staff("李调度", tree["town"], Role.DISPATCHER)

    desk = new_page(**DESK)
    errors = console_errors(desk)
    staff_log_in(desk, live_server.url, "李调度")
    desk.get_by_role("link", name="全部事件").first.click()
    desk.get_by_role("navigation", name="事件").get_by_role("link", name="代为登记").click()
    expect(desk).to_have_url(live_server.url + "/command/cases/new/")
    expect(desk.get_by_role("heading", name="代为登记")).to_be_visible()

    desk.get_by_label("姓名", exact=True).fill("王秀英")
    desk.get_by_label("身份证号").fill(WRONG_CHECK_DIGIT)
    desk.get_by_label("手机号").fill(PHONE)
    desk.get_by_label("事件分类").select_option(label="垃圾清运")
    desk.get_by_label("内容").fill("村口垃圾堆了一周没人清运，群众来电反映。")
    desk.get_by_label("事发网格").select_option(label="小山村第1网格")
    desk.get_by_label("地点说明（可选）").fill("村口")
    desk.get_by_role("button", name="登记").click()

    error = desk.locator("#id_id_number-field #id_id_number_error")
    expect(error).to_contain_text("身份证号码校验位不正确", use_inner_text=True)
    expect(desk.get_by_label("身份证号")).to_have_attribute("aria-invalid", "true")
    expect(desk.get_by_label("身份证号")).to_have_accessible_description(re.compile("身份证号码校验位不正确"))
    # What the dispatcher typed is still there; nothing was written.
    expect(desk.get_by_label("姓名", exact=True)).to_have_value("王秀英")
    expect(desk.get_by_label("事发网格").locator("option:checked")).to_have_text("小山村第1网格", use_inner_text=True)
    expect(desk.get_by_label("姓名", exact=True)).not_to_have_attribute("aria-invalid")
    expect(desk.locator("[aria-invalid=true]")).to_have_count(1)  # only the ID number is wrong
    assert not Case.objects.exists() and not User.objects.filter(kind=User.Kind.RESIDENT).exists()
    shot(desk, "on-behalf-id-error")

    desk.get_by_label("身份证号").fill(ID_NUMBER)
    desk.get_by_role("button", name="登记").click()
    expect(desk).to_have_url(re.compile(r".*/command/cases/\d+/$"))
    case = Case.objects.get()
    expect(desk).to_have_url(f"{live_server.url}/command/cases/{case.pk}/")
    expect(desk.locator(".messages")).to_contain_text(f"已代为登记，编号{case.number}", use_inner_text=True)
    expect(fact(desk, "来源")).to_have_text("工作人员代报（李调度登记）", use_inner_text=True)
    expect(fact(desk, "反映人")).to_contain_text("王秀英", use_inner_text=True)
    expect(fact(desk, "反映人").get_by_role("link", name="电话联系")).to_be_visible()  # 代为登记 gave a phone
    expect(fact(desk, "地点")).to_contain_text("小山村第1网格", use_inner_text=True)
    assert case.source == Source.ON_BEHALF and case.grid == tree["grid"]
    shot(desk, "on-behalf-case")
    assert errors == []

    expect(desk.locator(".messages")).to_contain_text("用本手机号注册后", use_inner_text=True)
    # The account staff opened cannot sign in; she signs up on that phone herself and finds her case.
    phone = new_page()
    phone.goto(live_server.url + "/signup/")
    phone.get_by_label("姓名").fill("王秀英")
    phone.get_by_label("身份证号").fill(ID_NUMBER)
    phone.get_by_label("手机号").fill(PHONE)
    phone.get_by_role("button", name="获取验证码").click()
    expect(phone.locator("#sms-status .notice-success")).to_be_visible()
    phone.get_by_label("短信验证码").fill(sms_code(phone, live_server.url))
    phone.locator("#id_consent").check()
    phone.locator("form button.btn-block").click()
    expect(phone).to_have_url(live_server.url + "/")
    phone.get_by_role("link", name="我的事件").first.click()
    expect(phone).to_have_url(live_server.url + "/cases/")
    item = phone.locator(".case-list li").filter(has_text=case.number)
    expect(item).to_have_count(1)
    expect(item).to_contain_text("垃圾清运", use_inner_text=True)
    expect(item).to_contain_text("已上报", use_inner_text=True)
    phone.wait_for_load_state()  # its stylesheet applied before measuring
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "on-behalf-resident-cases")


# --- 追问 and 答复 -------------------------------------------------------------------------------------------


def test_resident_asks_and_the_justice_office_answers(new_page, live_server, make_staff, shot):
    tree = make_tree()
    cats = make_categories()
    resident = User.objects.create_user(username="res", real_name="王秀兰", kind=User.Kind.RESIDENT)
    Membership.objects.create(user=resident, unit=tree["grid"], role=Role.RESIDENT)
    dispatcher = make_staff("李调度", tree["town"], Role.DISPATCHER)
    make_staff("赵司法", tree["justice"], Role.DEPT_HANDLER)
    case, _created = services.submit_case(actor=resident, client_id=uuid.uuid4(), category=cats["family"],
                                          description="邻里因宅基地边界发生争执。", lat=35.585, lng=104.605)
    services.transition(actor=dispatcher, case=case, action=Action.ACCEPT, note="")
    services.transition(actor=dispatcher, case=case, action=Action.DISPATCH, note="请司法所调解。",
                        lead_unit=tree["justice"])

    mobile = new_page()
    resident_session(mobile, live_server.url, resident)
    mobile.goto(f"{live_server.url}/cases/{case.pk}/")
    follow_up = mobile.get_by_role("region", name="追问与答复")
    expect(follow_up).to_contain_text("还没有追问", use_inner_text=True)
    follow_up.get_by_label("我要追问").fill("调解定在哪一天？")
    follow_up.get_by_role("button", name="发送追问").click()
    # Back on the same address: the message shows the page is the one the question was sent from.
    expect(mobile.locator(".messages")).to_contain_text("追问已发送", use_inner_text=True)
    expect(mobile).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    question = follow_up.locator(".case-conversation li.question")
    expect(question).to_have_count(1)
    expect(question).to_contain_text("调解定在哪一天？", use_inner_text=True)
    assert FollowUp.objects.get(case=case).addressed_to == tree["justice"]

    desk = new_page(**DESK)
    staff_log_in(desk, live_server.url, "赵司法")
    # The header's 事件 navigation carries the badge on every command page, the landing page included.
    header_nav = desk.get_by_role("navigation", name="事件", exact=True)
    badge = header_nav.get_by_role("link", name=re.compile("群众追问")).locator(".unread-badge")
    expect(badge).to_have_text("1", use_inner_text=True)
    expect(badge).to_have_attribute("aria-label", "1条未读追问")
    header_nav.get_by_role("link", name=re.compile("群众追问")).click()
    expect(desk).to_have_url(live_server.url + "/command/cases/questions/")
    expect(desk.get_by_role("heading", name="群众追问")).to_be_visible()
    row = desk.get_by_role("row").filter(has=desk.get_by_role("link", name=case.number))
    expect(row).to_contain_text("新追问", use_inner_text=True)
    shot(desk, "questions-unread")

    row.get_by_role("link", name=case.number).click()
    expect(desk).to_have_url(f"{live_server.url}/command/cases/{case.pk}/")
    waiting = desk.get_by_role("region", name="待答复的追问")
    expect(waiting).to_contain_text("调解定在哪一天？", use_inner_text=True)
    expect(header_nav.locator(".unread-badge")).to_have_count(0)  # opened: read
    waiting.get_by_label("答复").fill("定于本周五上午九点在村委会调解。")
    waiting.get_by_role("button", name="答复").click()
    expect(desk.locator(".messages")).to_contain_text("已答复", use_inner_text=True)
    expect(desk).to_have_url(f"{live_server.url}/command/cases/{case.pk}/")
    expect(desk.get_by_role("region", name="待答复的追问")).to_have_count(0)
    expect(header_nav.locator(".unread-badge")).to_have_count(0)
    # Answered: the case leaves the 群众追问 list.
    desk.locator("nav.case-nav").get_by_role("link", name="群众追问").click()
    expect(desk).to_have_url(live_server.url + "/command/cases/questions/")
    expect(desk.get_by_role("heading", name="群众追问")).to_be_visible()
    expect(desk.get_by_role("link", name=case.number)).to_have_count(0)
    shot(desk, "questions-answered")

    mobile.reload()
    conversation = mobile.get_by_role("region", name="追问与答复").locator(".case-conversation li")
    expect(conversation).to_have_count(2)
    expect(conversation.nth(0)).to_contain_text("调解定在哪一天？", use_inner_text=True)
    answer = conversation.nth(1)
    expect(answer).to_contain_text("答复", use_inner_text=True)
    expect(answer).to_contain_text("定于本周五上午九点在村委会调解。", use_inner_text=True)
    expect(answer).to_contain_class("reply")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 360
    shot(mobile, "resident-answered")


# --- a grid worker's field report with a duplicate nearby ------------------------------------------------------


def test_grid_worker_reports_despite_a_duplicate_nearby(new_page, live_server, make_staff, shot):
    tree = make_tree()
    garbage = Category.objects.get(code="talk-environment-garbage")  # 垃圾清运
    sewage = Category.objects.get(code="talk-environment-sewage")  # 污水排放
    neighbour = User.objects.create_user(username="res", real_name="王秀兰", kind=User.Kind.RESIDENT)
    Membership.objects.create(user=neighbour, unit=tree["grid"], role=Role.RESIDENT)
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    # Reported by a resident about 70 m from the middle of the worker's grid, where "我所在的网格" places a report.
    existing, _created = services.submit_case(actor=neighbour, client_id=uuid.uuid4(), category=garbage,
                                              description="小河边堆了很多垃圾，气味很大。", lat=35.5855,
                                              lng=104.6055)
    # Another category at the same spot is not the same matter.
    services.submit_case(actor=neighbour, client_id=uuid.uuid4(), category=sewage,
                         description="小河边有人往河里排污水。", lat=35.5855, lng=104.6055)
    before = set(Case.objects.values_list("pk", flat=True))

    phone = new_page()
    errors = console_errors(phone)
    staff_log_in(phone, live_server.url, "王网格")
    phone.get_by_role("link", name="任务").click()
    phone.get_by_role("link", name="上报事件").click()
    expect(phone).to_have_url(live_server.url + "/worker/cases/report/")
    phone.get_by_label("具体事项").select_option(label="垃圾清运")
    phone.get_by_label("要说的事").fill("巡查发现小河边垃圾成堆。")
    expect(phone.get_by_label("我所在的网格")).to_be_checked()
    phone.get_by_role("button", name="提交").click()

    warning = phone.get_by_role("alert").filter(has_text="附近已有相同问题，仍要提交？")
    expect(warning).to_be_visible()
    links = warning.get_by_role("link")
    expect(links).to_have_count(1)
    expect(links.first).to_contain_text(existing.number, use_inner_text=True)
    expect(links.first).to_contain_text("垃圾清运", use_inner_text=True)
    expect(links.first).to_have_attribute("href", f"/worker/cases/{existing.pk}/")
    assert set(Case.objects.values_list("pk", flat=True)) == before  # nothing written yet
    # What the worker typed is kept for the second press.
    expect(phone.get_by_label("要说的事")).to_have_value("巡查发现小河边垃圾成堆。")
    phone.wait_for_load_state()  # its stylesheet applied before measuring
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "worker-report-duplicate")

    phone.get_by_role("button", name="仍要提交").click()
    expect(phone).to_have_url(re.compile(r".*/worker/cases/\d+/$"))
    new = Case.objects.exclude(pk__in=before)
    assert new.count() == 1
    case = new.get()
    expect(phone).to_have_url(f"{live_server.url}/worker/cases/{case.pk}/")
    assert case.reporter == worker and case.source == Source.GRID_WORKER and case.grid == tree["grid"]
    assert case.description == "巡查发现小河边垃圾成堆。" and case.category == garbage
    expect(phone.locator(".messages")).to_contain_text(f"已提交，事件编号{case.number}", use_inner_text=True)
    expect(phone.get_by_role("heading", name=f"事件 {case.number}")).to_be_visible()
    expect(fact(phone, "来源")).to_have_text("网格员上报", use_inner_text=True)
    phone.wait_for_load_state()  # its stylesheet applied before measuring
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "worker-report-submitted")
    assert errors == []
