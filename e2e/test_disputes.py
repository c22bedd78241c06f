"""A dispute on screen: township staff record two parties, a mediation session and its signed agreement on
the command centre's case page (a wide desk), the grid worker sees the same 纠纷信息 on a phone, and the
dispute shows up on the 风险纠纷 list (民转刑: a marriage dispute still open; 重复纠纷: one party had another
dispute last month). Screenshots at 1920 and 360 px wide."""

import datetime
import re
import uuid

import pytest
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.tests.helpers import valid_id
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories
from gongzhi.cases.models import Case, Category, MediationAgreement
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gongzhi#2026"
WIDE = {"width": 1920, "height": 1080}
PHONE = {"width": 360, "height": 740}
ZHANG = valid_id(birth="19700506", seq="222")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def staff_log_in(page, base_url: str, username: str, next_url: str) -> None:
    page.goto(f"{base_url}/command/login/?next={next_url}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def fits(page, width: int) -> None:
    page.wait_for_load_state()  # its stylesheet applied before measuring
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def settings_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_township_staff_record_a_dispute_then_find_it_on_the_at_risk_list(new_page, live_server, make_staff, shot,
                                                                           settings_media):
    tree = make_tree()
    make_categories()
    dispatcher = make_staff("调度员", tree["town"], Role.DISPATCHER)
    make_staff("司法所", tree["justice"], Role.DEPT_HANDLER)
    make_staff("网格员", tree["grid"], Role.GRID_WORKER)
    resident = User.objects.create_user(username="res", real_name="王秀兰", kind=User.Kind.RESIDENT)
    marriage = Category.objects.get(code="dispute-marriage")
    # Last month 张建国 was a party to another dispute (recorded by the dispatcher then).
    earlier, _ = services.submit_case(actor=resident, client_id=uuid.uuid4(), category=marriage,
                                      description="张家因赡养老人问题发生争吵", lat=35.585, lng=104.605)
    services.add_party(actor=dispatcher, case=earlier, name="张建国", role="respondent", id_number=ZHANG)
    case, _ = services.submit_case(actor=resident, client_id=uuid.uuid4(), category=marriage, lat=35.585,
                                   lng=104.605,
                                   description="一对夫妻因彩礼返还和孩子抚养问题长期争吵，女方已回娘家居住。")
    base = live_server.url

    desk = new_page(**WIDE)
    staff_log_in(desk, base, "调度员", f"/command/cases/{case.pk}/")
    risks = desk.locator("#dispute-risks")
    expect(risks).to_contain_text("民转刑风险", use_inner_text=True)
    expect(desk.locator("#dispute")).to_contain_text("尚未登记当事人", use_inner_text=True)

    # Two parties: the first with his ID number, which makes this a repeat dispute.
    add = desk.locator("#dispute-add-party")
    add.locator("summary").click()
    add.get_by_label("姓名或名称").fill("张建国")
    add.get_by_label("身份", exact=True).select_option(label="申请人")
    add.get_by_label("身份证号").fill(ZHANG)
    add.get_by_role("button", name="登记当事人").click()
    expect(desk.locator(".messages")).to_contain_text("已登记当事人", use_inner_text=True)
    expect(risks).to_contain_text("重复纠纷", use_inner_text=True)
    add = desk.locator("#dispute-add-party")
    add.locator("summary").click()
    add.get_by_label("姓名或名称").fill("李桂英")
    add.get_by_label("身份", exact=True).select_option(label="被申请人")
    add.get_by_role("button", name="登记当事人").click()
    parties = desk.locator("#dispute-parties")
    expect(parties).to_contain_text("张**", use_inner_text=True)
    expect(parties).to_contain_text("李**", use_inner_text=True)
    expect(desk.locator("#dispute")).not_to_contain_text("张建国")

    # A mediation session that reached an agreement, with the signed agreement and its follow-up date.
    today = datetime.date.today()
    mediation = desk.locator("#dispute-mediation")
    mediation.locator("summary").click()
    mediation.get_by_label("调解类型").select_option(label="人民调解")
    mediation.get_by_label("调解日期").fill(today.isoformat())
    mediation.get_by_label("调解成功").check()
    expect(mediation.get_by_label("调度员（八里镇）")).to_be_checked()  # the one recording, ticked already
    mediation.get_by_label("司法所（八里镇司法所）").check()
    mediation.get_by_label("其他调解员").fill("村人民调解委员会调解员王国辉")
    mediation.get_by_label("调解经过").fill("经耐心调解，双方就彩礼返还和孩子抚养达成一致。")
    mediation.get_by_label("调解协议书", exact=True).set_input_files(
        [{"name": "调解协议书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    mediation.get_by_label("履行回访日期").fill((today + datetime.timedelta(days=30)).isoformat())
    mediation.get_by_role("button", name="登记调解").click()
    expect(desk.locator(".messages")).to_contain_text("已登记调解", use_inner_text=True)
    session = desk.locator(".dispute-session").first
    expect(session).to_contain_text("调解成功", use_inner_text=True)
    expect(session).to_contain_text("调度员、司法所、村人民调解委员会调解员王国辉", use_inner_text=True)
    expect(session.get_by_role("link", name="下载调解协议书")).to_be_visible()
    agreement = MediationAgreement.objects.get(case=case)
    assert agreement.follow_up_on == today + datetime.timedelta(days=30)
    # Every change is on the internal timeline, without the names.
    timeline = desk.locator("#timeline")
    for step in ["登记当事人", "登记调解"]:
        expect(timeline).to_contain_text(step, use_inner_text=True)
    expect(timeline).not_to_contain_text("张建国")
    fits(desk, WIDE["width"])
    desk.locator("#dispute").scroll_into_view_if_needed()
    shot(desk, "dispute-case-1920")

    # The 风险纠纷 list, from the navigation: this case with both flags, the earlier one as a repeat.
    desk.get_by_role("navigation", name="事件", exact=True).get_by_role("link", name="风险纠纷").click()
    table = desk.locator("#disputes-at-risk")
    row = table.locator("tr", has_text=Case.objects.get(pk=case.pk).number)
    expect(row).to_contain_text("重复纠纷", use_inner_text=True)
    expect(row).to_contain_text("民转刑风险", use_inner_text=True)
    expect(table).to_contain_text(earlier.number, use_inner_text=True)
    fits(desk, WIDE["width"])
    shot(desk, "disputes-at-risk-1920")

    # On a phone: the grid worker's case page, and the list in the command portal.
    phone = new_page(**PHONE)
    staff_log_in(phone, base, "网格员", f"/worker/cases/{case.pk}/")
    expect(phone.locator("#dispute-risks")).to_contain_text("重复纠纷", use_inner_text=True)
    expect(phone.locator("#dispute-parties")).to_contain_text("李**", use_inner_text=True)
    performance = phone.locator(".dispute-session").first.locator("details", has_text="登记履行回访")
    expect(performance).to_be_visible()
    fits(phone, PHONE["width"])
    shot(phone, "dispute-case-worker-360")
    narrow = new_page(**PHONE)
    staff_log_in(narrow, base, "调度员", "/command/cases/disputes/")
    expect(narrow.locator("#disputes-at-risk")).to_contain_text("民转刑风险", use_inner_text=True)
    fits(narrow, PHONE["width"])
    shot(narrow, "disputes-at-risk-360")
    narrow.goto(f"{base}/command/cases/{case.pk}/")
    narrow.locator("#dispute-mediation summary").click()
    fits(narrow, PHONE["width"])
    shot(narrow, "dispute-case-command-360")
