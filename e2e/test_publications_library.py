"""The library and volunteers on a 360 px phone: a resident finds a guide by its tag and ticks off its materials,
downloads a Word template, signs up for a volunteer activity; the village administrator marks attendance and
hours on the phone; the resident sees the hours and the points they earned. Every page of the kinds' own at
360 and 1920 px; the volunteer pages at most 35 KB cold."""

import datetime
import io
import zipfile

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, User
from gongzhi.org.factories import make_tree
from gongzhi.points.factories import make_points_world
from gongzhi.points.models import Award, RuleCategory, Trigger
from gongzhi.points.services import rules
from gongzhi.publications import office
from gongzhi.publications.factories import make_staff
from gongzhi.publications.models import Participation, VolunteerActivity
from gongzhi.publications.services import core, library
from gongzhi.publications.services import volunteers as vs

from . import test_page_weight as weight
from .test_page_weight import BUDGET, load_cold, session_cookie

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    tree = make_tree()
    points = make_points_world(tree)
    dispatcher = make_staff("lib_disp", tree["town"], Role.DISPATCHER)
    town = tree["town"]

    def publish(kind, title, tags, fill=None, body=""):
        item = core.create_draft(actor=dispatcher, kind=kind, author_unit=town, title=title, tags=tags, body=body)
        if fill:
            fill(item)
        return core.publish_now(actor=dispatcher, publication=item)

    publish("policy", "2027年度城乡居民医保集中缴费通知", "医保,缴费", body="个人缴费标准为每人每年400元。")
    publish("guide", "新生儿出生登记办理指南", "户籍,出生", lambda item: library.save_guide(
        actor=dispatcher, publication=item, fields=library.GuideFields(
            matter="新生儿出生登记", materials=["出生医学证明", "父母双方居民户口簿", "父母双方居民身份证"],
            place="八里镇派出所户籍窗口", office_hours="工作日 9:00-17:00", fee="不收费", time_limit="当场办结")))
    publish("template", "民事起诉状（格式样本）", "诉讼,文书", lambda item: library.add_template_files(
        actor=dispatcher, publication=item, files=[SimpleUploadedFile(
            "民事起诉状.docx", office.docx_bytes("民事起诉状", ["原告：", "被告：", "诉讼请求："]))]))
    category = RuleCategory.objects.create(township=town, name="志愿服务")
    rules.add_item(actor=None, category=category, fields=rules.ItemFields(
        name="志愿服务时长（每小时）", points=2, claimable=False, trigger=Trigger.VOLUNTEER_HOURS))
    team = vs.create_team(actor=None, unit=tree["village"], fields=vs.TeamFields(name="环境整治志愿服务队"))
    start = timezone.now() + datetime.timedelta(days=2)
    activity = core.create_draft(actor=points.village_admin, kind="volunteer_activity", author_unit=tree["village"],
                                 title="河道垃圾清理志愿活动")
    vs.save_activity(actor=points.village_admin, publication=activity, fields=vs.ActivityFields(
        place="小山村村委会门口集合", starts_at=start, ends_at=start + datetime.timedelta(hours=3), slots=5,
        team_ids=[team.pk]))
    core.publish_now(actor=points.village_admin, publication=activity)
    return points, activity


def log_in_as(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])


def fits(page, width=360) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_resident_uses_the_library_and_volunteers_and_staff_record_the_hours(page, live_server, world, shot):
    points, activity = world
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_as(page, live_server.url, points.resident_user)

    # The library section (the shared page): by tag to a guide, its materials as a checklist.
    page.goto(live_server.url + "/public/library/")
    assert fits(page)
    shot(page, "library-section")
    page.get_by_role("navigation", name="标签").get_by_role("link", name="户籍").click()
    expect(page.get_by_role("link", name="新生儿出生登记办理指南")).to_be_visible()
    expect(page.get_by_role("link", name="2027年度城乡居民医保集中缴费通知")).to_have_count(0)
    page.get_by_role("link", name="新生儿出生登记办理指南").click()
    expect(page.get_by_text("八里镇派出所户籍窗口")).to_be_visible()
    page.get_by_label("出生医学证明").check()
    expect(page.get_by_label("出生医学证明")).to_be_checked()
    assert fits(page)
    shot(page, "library-guide")

    # A word search, then the template's download.
    page.goto(live_server.url + "/public/library/")
    page.get_by_role("searchbox").fill("起诉状")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name="民事起诉状（格式样本）").click()
    expect(page.get_by_text("用手机WPS或电脑Word、Excel填写")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="下载：民事起诉状.docx").click()
    download = info.value
    assert download.suggested_filename == "民事起诉状.docx"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        assert "民事起诉状" in archive.read("word/document.xml").decode()

    # Volunteers: sign up for the activity.
    page.goto(live_server.url + "/volunteers/")
    expect(page.get_by_role("heading", name="河道垃圾清理志愿活动")).to_be_visible()
    page.get_by_role("button", name="我要报名（剩余5个名额）").click()
    expect(page.get_by_text("报名成功，请按时到场。")).to_be_visible()
    expect(page.get_by_role("button", name="取消报名")).to_be_visible()
    assert fits(page)
    shot(page, "volunteers-signed-up")
    assert Participation.objects.get().user == points.resident_user

    # The activity has taken place (its time moved into the past); the administrator records it on the phone.
    now = timezone.now()
    VolunteerActivity.objects.update(starts_at=now - datetime.timedelta(hours=4),
                                     ends_at=now - datetime.timedelta(hours=1))
    log_in_as(page, live_server.url, points.village_admin)
    page.goto(f"{live_server.url}/worker/publications/{activity.pk}/attendance/")
    expect(page.get_by_role("heading", name="签到和服务时长")).to_be_visible()
    name = points.resident_user.real_name
    expect(page.get_by_label(name, exact=True)).to_be_checked()
    page.get_by_label("服务时长(小时)").fill("2.5")
    assert fits(page)
    shot(page, "volunteers-attendance")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("签到和服务时长已保存。")).to_be_visible()
    expect(page.get_by_text("已给予5积分")).to_be_visible()
    assert Award.objects.get().points == 5

    # The resident sees the hours and the points.
    log_in_as(page, live_server.url, points.resident_user)
    page.goto(live_server.url + "/volunteers/mine/")
    expect(page.locator("#total-hours")).to_have_text("2.5小时")
    expect(page.locator("#volunteer-points")).to_have_text("5分")
    expect(page.get_by_text("+5积分")).to_be_visible()
    assert fits(page)
    shot(page, "volunteers-record")
    assert errors == []


def test_every_library_and_volunteer_page_fits_a_phone_and_a_desktop(new_page, live_server, world, shot):
    points, activity = world
    member = vs.apply_to_team(user=points.resident_user, team=activity.volunteer_activity.teams.get())
    guide = activity.__class__.objects.get(kind="guide")
    template = activity.__class__.objects.get(kind="template")
    staff_pages = [
        ("teams", "/worker/volunteers/teams/"),
        ("team", f"/worker/volunteers/teams/{member.team_id}/"),
        ("team-new", "/worker/volunteers/teams/new/"),
        ("activity-edit", f"/worker/publications/{activity.pk}/activity/"),
        ("attendance", f"/worker/publications/{activity.pk}/attendance/"),
        ("staff-activity", f"/worker/publications/{activity.pk}/"),
    ]
    township_pages = [
        ("command-guide", f"/command/publications/{guide.pk}/"),
        ("command-template", f"/command/publications/{template.pk}/"),
    ]
    dispatcher = User.objects.get(username="lib_disp")
    resident_pages = [
        ("guide", f"/public/{guide.pk}/"),
        ("template", f"/public/{template.pk}/"),
        ("activity", f"/public/{activity.pk}/"),
        ("volunteers", "/volunteers/"),
        ("record", "/volunteers/mine/"),
    ]
    for width, height in ((360, 740), (1920, 1080)):
        page = new_page(width=width, height=height)
        for user, pages in ((points.village_admin, staff_pages), (dispatcher, township_pages),
                            (points.resident_user, resident_pages)):
            log_in_as(page, live_server.url, user)
            for name, path in pages:
                response = page.goto(live_server.url + path)
                assert response.status == 200, path
                assert fits(page, width), (path, width)
                shot(page, f"library-{name}-{width}")
        page.context.close()


# The page-weight test's server: static files collected and served as in production.
collected_static = weight.collected_static
production_server = weight.production_server


def test_the_volunteer_pages_are_at_most_35_kb_cold(browser, production_server, world, shot):
    points, activity = world  # (the fixture wires this helper's pages: see its ROOT_URLCONF)
    cookies = session_cookie(production_server, points.resident_user)
    heavy = []
    for name, path in (("volunteers", "/volunteers/"), ("record", "/volunteers/mine/"),
                       ("activity", f"/public/{activity.pk}/")):
        transfer = load_cold(browser, production_server + path, cookies, shot=shot, name=f"volunteers-{name}")
        if transfer.total > BUDGET:
            heavy.append((name, transfer.total))
    assert heavy == [], f"over {BUDGET} bytes: {heavy}"
