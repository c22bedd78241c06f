"""一标三实导入导出 in the browser: the village administrator (phone width) uploads a small 人口 workbook with one bad
row, sees the check end on the job page with the error list, downloads it, imports the clean rows; a job still
running shows its progress bar, which the page updates until the job ends; a township dispatcher (desk width)
exports the village and downloads the workbook."""

import io

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.core.models import Job
from gongzhi.core.validators import id_check_digit
from gongzhi.org.factories import make_tree
from gongzhi.registry.models import Resident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL_REDIRECT = ""


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def make_id(birth: str, seq: str) -> str:
    body = "621102" + birth + seq
    return body + id_check_digit(body)


@pytest.fixture
def people_file(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["小山村实有人口登记表"])
    sheet.append(["姓名", "身份证号", "性别", "手机号", "户号", "与户主关系", "村(社区)", "网格", "住址"])
    sheet.append(["张建国", make_id("19680412", "001"), "男", "13812345678", "HH001", "户主", "小山村", "第1网格",
                  "小山村1社12号"])
    sheet.append(["李秀英", make_id("19700305", "002"), "女", "", "HH001", "配偶", "小山村", "第1网格", ""])
    sheet.append(["王五", make_id("19800101", "017"), "男", "1381234", "HH002", "户主", "小山村", "第2网格",
                  "小山村2社3号"])
    path = tmp_path / "小山村人口.xlsx"
    book.save(path)
    return path


def test_a_village_imports_its_people_and_the_township_exports_them(new_page, live_server, make_staff, shot,
                                                                   people_file, tmp_path):
    tree = make_tree()
    admin = make_staff("王村干", tree["village"], Role.VILLAGE_ADMIN)
    base = live_server.url
    page = new_page()
    sign_in(page, base, admin)
    page.goto(base + "/worker/me/")
    page.get_by_role("link", name="一标三实导入导出").click()
    page.get_by_label("记录类型").first.select_option(label="人口")
    page.get_by_label("Excel文件（.xlsx）").set_input_files(str(people_file))
    shot(page, "worker-registry-io")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="上传并检查").click()

    # The check ends with one bad row: nothing was written; the error list downloads; the clean rows import.
    status = page.locator("#job-status")
    expect(status).to_contain_text("待处理")
    expect(status.locator("table")).to_contain_text("请填写有效的11位中国大陆手机号码。")
    expect(status.locator("[data-finished]")).to_have_attribute("data-finished", "true")
    assert Resident.objects.count() == 0
    shot(page, "worker-job-needs-choice")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="下载错误清单").click()
    errors = load_workbook(io.BytesIO(downloaded.value.path().read_bytes()), read_only=True)
    assert list(errors.active.iter_rows(min_row=3, values_only=True)) == [
        (5, "手机号", "1381234", "请填写有效的11位中国大陆手机号码。")]
    page.get_by_role("button", name="只导入无误的2行").click()
    expect(status).to_contain_text("已完成")
    expect(status).to_contain_text("已导入无误的2行。")
    expect(status.locator(".job-created")).to_have_text("2")
    assert Resident.objects.count() == 2
    shot(page, "worker-job-done")

    # A job still running: the page shows its progress and follows it to the end.
    job = Job.objects.create(kind="registry.import", owner=admin, params={"record_type": "population"},
                             input_name="全村人口.xlsx", status=Job.Status.RUNNING, phase="检查", done=300, total=1200)
    page.goto(base + f"/worker/jobs/{job.pk}/")
    expect(status).to_contain_text("25%")
    Job.objects.filter(pk=job.pk).update(phase="写入人员", done=900)
    expect(status).to_contain_text("75%")
    expect(status).to_contain_text("写入人员")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE, message="导入完成。",
                                         summary={"rows": 1200, "created": 1200, "updated": 0, "unchanged": 0})
    expect(status).to_contain_text("导入完成。")
    expect(status.locator(".job-created")).to_have_text("1200")
    expect(status).to_have_attribute("aria-busy", "false")

    # The township exports the village and downloads the workbook.
    dispatcher = make_staff("李调度", tree["town"], Role.DISPATCHER)
    desk = new_page(width=1920, height=1080)
    sign_in(desk, base, dispatcher)
    desk.goto(base + "/command/registry/io/")
    shot(desk, "command-registry-io")
    desk.locator("#registry-export").get_by_label("区域").select_option(value=str(tree["village"].pk))
    desk.locator("#registry-export").get_by_role("button", name="开始导出").click()
    expect(desk.locator("#job-status")).to_contain_text("已完成")
    shot(desk, "command-job-export")
    with desk.expect_download() as downloaded:
        desk.get_by_role("link", name="下载导出文件").click()
    book = load_workbook(io.BytesIO(downloaded.value.path().read_bytes()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert "不能用于重新导入" in rows[0][0] and rows[2][0] == "张建国" and rows[2][1].count("*") == 8
