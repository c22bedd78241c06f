"""任务清单 in the browser at phone (360 px) and desk (1920 px) width: a township dispatcher issues a task to a
village, the village administrator finds it on the worker portal's home, reports progress with a photo and
submits it as done, and the township confirms it; the list shows its colour flag and the supervision view counts
it."""

import datetime
import io

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.analytics import services
from gongzhi.analytics.models import Task, TaskAttachment, TaskStatus
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL_REDIRECT = ""


@pytest.fixture
def desk(make_staff):
    tree = make_tree()
    dispatcher = make_staff("李调度", tree["town"], Role.DISPATCHER)
    village = make_staff("王村干", tree["village"], Role.VILLAGE_ADMIN)
    # Other tasks of the township, so the list shows its colours.
    earlier = timezone.now() - datetime.timedelta(days=20)
    for title, owner, days in (("矛盾纠纷排查化解", "justice", 2), ("秸秆禁烧巡查", "village2", 30)):
        services.create_task(actor=dispatcher, issuing_unit=tree["town"], owner_unit=tree[owner], title=title,
                             deadline=timezone.localdate() + datetime.timedelta(days=days))
    overdue = services.create_task(actor=dispatcher, issuing_unit=tree["town"], owner_unit=tree["village2"],
                                   title="危房排查", deadline=timezone.localdate() + datetime.timedelta(days=1))
    Task.objects.filter(pk=overdue.pk).update(deadline=earlier.date(), created_at=earlier)
    return {"tree": tree, "dispatcher": dispatcher, "village": village}


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "整治后.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), (60, 140, 80)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(("width", "height"), [(360, 740), (1920, 1080)])
def test_a_task_goes_from_the_township_to_the_village_and_back(new_page, live_server, desk, shot, photo, width,
                                                               height):
    page = new_page(width=width, height=height)
    base = live_server.url
    sign_in(page, base, desk["dispatcher"])
    page.goto(base + "/command/tasks/")
    page.get_by_role("link", name="下达任务").click()
    page.get_by_label("责任单位").select_option(label="小山村")
    page.get_by_label("任务名称").fill("人居环境整治")
    page.get_by_label("任务类别").select_option(label="专项整治")
    page.get_by_label("任务要求").fill("清理村内垃圾、柴草堆，整治房前屋后环境。")
    deadline = timezone.localdate() + datetime.timedelta(days=14)
    page.get_by_label("完成时限").fill(deadline.isoformat())
    shot(page, f"command-task-new-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name="下达任务").click()
    expect(page.get_by_text("任务已下达。")).to_be_visible()
    task = Task.objects.get(title="人居环境整治")
    assert task.owner_unit == desk["tree"]["village"]

    # The village administrator sees it on the worker portal's home, reports with a photo, then submits.
    sign_in(page, base, desk["village"])
    page.goto(base + "/worker/")
    tasks_box = page.locator("#open-tasks")
    expect(tasks_box).to_contain_text("人居环境整治")
    shot(page, f"worker-home-tasks-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    tasks_box.get_by_role("link", name="人居环境整治").click()
    page.get_by_label("进展情况").fill("已清理垃圾点5处，柴草堆全部清运。")
    page.get_by_label("完成进度（%）").fill("90")
    page.get_by_label("照片（可选，最多9张）").set_input_files(str(photo))
    page.locator("#action-report").get_by_role("button", name="报告进展").click()
    expect(page.get_by_text("进展已报告。")).to_be_visible()
    expect(page.locator("#task-progress")).to_have_text("90%")
    timeline = page.locator("#timeline")
    expect(timeline.locator("img")).to_have_count(1)
    assert TaskAttachment.objects.filter(task=task, kind="photo").count() == 1
    src = timeline.locator("img").get_attribute("src")
    assert page.request.get(base + src).status == 200
    page.wait_for_load_state()
    shot(page, f"worker-task-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#action-submit summary").click()
    page.get_by_label("完成情况").fill("整治完成，村容村貌明显改善。")
    page.locator("#action-submit").get_by_role("button", name="提交完成").click()
    expect(page.get_by_text("已提交完成，等待下达单位确认。")).to_be_visible()
    expect(page.locator("#task-status")).to_have_text("待确认")

    # The township confirms it.
    sign_in(page, base, desk["dispatcher"])
    page.goto(base + f"/command/tasks/{task.pk}/")
    page.get_by_label("验收意见（可选）").fill("经现场查看，验收合格。")
    page.locator("#action-confirm").get_by_role("button", name="确认完成").click()
    expect(page.get_by_text("已确认任务完成。")).to_be_visible()
    expect(page.locator("#task-status")).to_have_text("已完成")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    page.wait_for_load_state()
    shot(page, f"command-task-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(base + "/command/tasks/")
    frame = page.get_by_role("region", name="任务清单")
    expect(frame.locator("tbody tr")).to_have_count(4)
    expect(frame.locator("tr", has_text="人居环境整治").locator(".flag-green")).to_be_visible()
    expect(frame.locator("tr", has_text="危房排查").locator(".flag-red")).to_be_visible()
    expect(frame.locator("tr", has_text="矛盾纠纷排查化解").locator(".flag-yellow")).to_be_visible()
    page.wait_for_load_state()
    shot(page, f"command-tasks-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_role("link", name="任务督查").click()
    row = page.locator("#supervision tr", has_text="小山村")
    expect(row).to_contain_text("1/1")
    page.wait_for_load_state()
    shot(page, f"command-task-supervision-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
