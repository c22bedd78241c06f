"""三务公开 and 村民说事 in the browser: a village administrator enters a month's finance lines on a phone (one
refused at its field first) and submits; the township approves; a resident sees the table with its totals at
360 px and asks a question, the village answers. Then a 村民说事 matter recorded and published stage by stage,
the resident seeing the public stages on the timeline."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.org.factories import make_tree
from gongzhi.publications.factories import make_pub_world
from gongzhi.publications.models import Comment
from gongzhi.publications.services import core

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pub(db):
    return make_pub_world(make_tree())


def log_in_as(page, base_url: str, user) -> None:
    page.context.clear_cookies()
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def add_line(page, direction: str, day: str, item: str, amount: str) -> None:
    form = page.locator("#affairs-line-new")
    form.get_by_label(direction, exact=True).check()
    form.get_by_label("日期").fill(day)
    form.get_by_label("金额（元）").fill(amount)
    form.get_by_label("摘要").fill(item)
    form.get_by_role("button", name="添加这条明细").click()


def test_a_month_of_finance_is_entered_approved_read_and_questioned(page, live_server, pub, shot):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                             title="小山村2026年11月财务公开")
    log_in_as(page, live_server.url, pub.village_admin)
    page.goto(f"{live_server.url}/worker/publications/{item.pk}/")
    period = page.locator("#affairs-period")
    period.get_by_label("公开类别").select_option(label="财务公开")
    period.get_by_label("年度").fill("2026")
    period.get_by_label("公开周期").select_option(label="月度")
    period.get_by_label("月份或季度").fill("11")
    period.get_by_role("button", name="保存类别和期次").click()
    expect(page.get_by_text("已保存公开类别和期次。")).to_be_visible()

    add_line(page, "收入", "2026-11-05", "村集体经济收入（土地流转费）", "12,000")
    expect(page.get_by_text("已添加一条收支明细。")).to_be_visible()
    add_line(page, "支出", "2026-11-10", "保洁员工资", "1500.005")  # a typo: three decimals
    expect(page.get_by_text("金额最多保留两位小数。")).to_be_visible()
    assert page.get_by_label("摘要").input_value() == "保洁员工资"  # nothing typed is lost
    page.get_by_label("金额（元）").fill("1500")
    page.get_by_role("button", name="添加这条明细").click()
    add_line(page, "支出", "2026-11-18", "办公经费", "860.50")
    expect(page.locator('[data-total="balance"]')).to_have_text("¥9,639.50")
    assert scroll_width(page) <= 360
    shot(page, "affairs-finance-staff")

    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_role("button", name="添加这条明细")).to_have_count(0)  # in review: no more changes
    expect(page.locator("#affairs-lines")).to_contain_text("¥1,500.00")

    log_in_as(page, live_server.url, pub.dispatcher)  # the township checks what the village puts up
    page.goto(f"{live_server.url}/command/publications/{item.pk}/")
    expect(page.locator('[data-total="balance"]')).to_have_text("¥9,639.50")
    page.get_by_role("button", name="审核通过并发布").click()
    expect(page.get_by_text("已发布", exact=True).first).to_be_visible()

    log_in_as(page, live_server.url, pub.resident)
    page.goto(f"{live_server.url}/public/affairs/disclosures/?category=finance")
    page.get_by_role("link", name="小山村2026年11月财务公开").click()
    expect(page.locator('[data-total="income"]')).to_have_text("¥12,000.00")
    expect(page.locator('[data-total="expense"]')).to_have_text("¥2,360.50")
    expect(page.locator('[data-total="balance"]')).to_have_text("¥9,639.50")
    expect(page.get_by_role("cell", name="保洁员工资")).to_be_visible()
    assert scroll_width(page) <= 360
    page.get_by_label("我要留言").fill("办公经费具体买了什么？")
    page.get_by_role("button", name="提交留言").click()
    expect(page.locator("#comments")).to_contain_text("办公经费具体买了什么？")
    expect(page.locator("#comments")).to_contain_text("审核中")
    shot(page, "affairs-finance-resident")

    log_in_as(page, live_server.url, pub.village_admin)
    page.goto(f"{live_server.url}/worker/publications/{item.pk}/#comments")
    comments = page.locator("#comments")
    comments.locator("summary", has_text="答复").click()
    comments.get_by_label("答复").fill("购买打印纸10箱、墨盒4个，发票可到村委会查阅。")
    comments.get_by_role("button", name="提交答复").click()
    expect(page.locator("#comments")).to_contain_text("购买打印纸10箱")

    log_in_as(page, live_server.url, pub.resident)
    page.goto(f"{live_server.url}/public/{item.pk}/")
    expect(page.locator("#comments .answer")).to_contain_text("购买打印纸10箱、墨盒4个")
    assert Comment.objects.get().state == Comment.State.VISIBLE


def test_a_meeting_goes_public_stage_by_stage(page, live_server, pub, shot):
    item = core.create_draft(actor=pub.village_admin, kind="meeting", author_unit=pub.tree["village"],
                             title="村道路灯不亮")
    log_in_as(page, live_server.url, pub.village_admin)
    page.goto(f"{live_server.url}/worker/publications/{item.pk}/")
    say = page.locator("#affairs-say")
    say.get_by_label("说事人").fill("王秀兰")
    say.get_by_label("说事日期").fill("2026-11-02")
    say.get_by_label("说事内容").fill("村东头到学校的路灯坏了5盏，晚上孩子放学看不见路。")
    say.get_by_role("button", name="保存说事内容").click()
    expect(page.get_by_text("已保存说事内容。")).to_be_visible()
    page.get_by_role("button", name="发布", exact=True).click()  # 说 goes public with the item
    expect(page.locator("#affairs-stage-1 .badge")).to_have_text("已公开")
    discuss = page.locator("#affairs-discuss")
    discuss.get_by_label("议事日期").fill("2026-11-05")
    discuss.get_by_label("参加人员").fill("村两委成员、村民代表5人")
    discuss.get_by_label("议事结果").fill("由村委会联系电工，11月20日前修好。")
    discuss.get_by_role("button", name="保存议事记录").click()
    page.get_by_role("button", name="公开“议”环节").click()
    expect(page.get_by_text("已公开“议”环节。")).to_be_visible()
    do = page.locator("#affairs-do")
    do.get_by_label("办理事项").fill("更换路灯5盏")
    do.get_by_label("责任人").fill("村委会 张明")
    do.get_by_label("完成时限").fill("2026-11-20")
    do.get_by_role("button", name="添加办理事项").click()
    page.get_by_role("button", name="公开“办”环节").click()
    expect(page.get_by_text("已公开“办”环节。")).to_be_visible()
    assert scroll_width(page) <= 360
    shot(page, "affairs-meeting-staff")

    log_in_as(page, live_server.url, pub.resident)
    page.goto(f"{live_server.url}/public/{item.pk}/")
    expect(page.locator("#affairs-stage-3")).to_contain_text("更换路灯5盏")
    expect(page.locator("#affairs-stage-2")).to_contain_text("11月20日前修好")
    expect(page.locator("#affairs-stage-4 .badge")).to_have_text("进行中")
    assert scroll_width(page) <= 360
    shot(page, "affairs-meeting-resident")

    log_in_as(page, live_server.url, pub.dispatcher)  # the township supervises
    page.goto(f"{live_server.url}/command/publications/{item.pk}/")
    page.locator("#affairs-supervise").get_by_label("督办情况").fill("已电话督办，路灯已全部修好。")
    page.get_by_role("button", name="记录督办情况").click()
    page.get_by_role("button", name="公开“督”环节").click()
    page.get_by_role("button", name="公开“评”环节").click()
    expect(page.get_by_text("已公开“评”环节。")).to_be_visible()

    log_in_as(page, live_server.url, pub.resident)
    page.goto(f"{live_server.url}/public/{item.pk}/")
    expect(page.locator("#affairs-stage-4")).to_contain_text("路灯已全部修好")
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价。")).to_be_visible()
    expect(page.locator("#affairs-evaluate")).to_contain_text("您的评价：满意")
    expect(page.locator('#affairs-stage-5 [data-rating="satisfied"]')).to_have_text("满意 1")
