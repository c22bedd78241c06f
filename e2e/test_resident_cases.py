"""A resident reports a problem with a photo on a 360 px phone and finds it in 我的事件."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.org.factories import make_tree
from gongzhi.web.context_processors import LARGE_TYPE_COOKIE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def resident(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    tree = make_tree()
    user = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


def log_in_as(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session,
                               "url": live_server.url}])


def test_resident_reports_with_a_photo_and_sees_it_in_my_cases(page, live_server, resident, tmp_path, shot):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    picture = tmp_path / "pothole.jpg"
    Image.new("RGB", (800, 600), (120, 90, 40)).save(picture, "JPEG")
    log_in_as(page, live_server, resident)

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="我要说事").click()
    expect(page).to_have_url(live_server.url + "/cases/new/")
    page.get_by_label("具体事项").select_option(label="垃圾清运")  # in 常用, the type shown first
    page.get_by_label("要说的事").fill("村口垃圾堆了一周没人清运。")
    page.get_by_label("照片（最多9张）").set_input_files(str(Path(picture)))
    page.get_by_label("纬度").fill("35.585")
    page.get_by_label("经度").fill("104.605")
    page.get_by_label("地点说明（可选）").fill("村口")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-case-new")
    page.get_by_role("button", name="提交").click()

    expect(page.get_by_text("已提交，事件编号")).to_be_visible()
    expect(page.locator(".case-photos img")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-case-detail")

    page.get_by_role("link", name="我的事件").first.click()
    expect(page).to_have_url(live_server.url + "/cases/")
    item = page.locator(".case-list li").first
    expect(item).to_contain_text("垃圾清运", use_inner_text=True)
    expect(item).to_contain_text("已上报", use_inner_text=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-case-list")

    # Large type: nothing may spill sideways on the phone either.
    page.context.add_cookies([{"name": LARGE_TYPE_COOKIE, "value": "1", "url": live_server.url}])
    for path in ("/", "/cases/new/", "/cases/", page.locator(".case-list a").first.get_attribute("href")):
        page.goto(live_server.url + path)
        expect(page.locator("html")).to_contain_class("large-type")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        shot(page, f"resident-large-{path}")
    assert errors == []


def test_a_report_while_the_database_is_busy_is_refused_plainly_and_goes_through_on_retry(
        page, live_server, resident, monkeypatch, shot):
    from django.db import OperationalError

    from gongzhi.cases import services
    from gongzhi.cases.models import Case

    real_submit, calls = services.submit_case, []

    def busy_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_submit(**kwargs)

    monkeypatch.setattr(services, "submit_case", busy_once)
    log_in_as(page, live_server, resident)
    page.goto(live_server.url + "/cases/new/")
    page.get_by_label("具体事项").select_option(label="垃圾清运")  # in 常用, the type shown first
    page.get_by_label("要说的事").fill("村口垃圾堆了一周没人清运。")
    page.get_by_label("纬度").fill("35.585")
    page.get_by_label("经度").fill("104.605")
    page.get_by_role("button", name="提交").click()

    expect(page.get_by_role("heading", name="系统繁忙")).to_be_visible()
    expect(page.get_by_text("您的操作没有保存")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-busy")
    assert not Case.objects.exists()

    page.go_back()  # the form as the resident left it
    expect(page.get_by_label("要说的事")).to_have_value("村口垃圾堆了一周没人清运。")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已提交，事件编号")).to_be_visible()
    assert Case.objects.count() == 1
