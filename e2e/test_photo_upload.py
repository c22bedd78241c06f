"""A resident on a phone picks a large photo: it shrinks before it leaves the phone, uploads with a progress
bar, survives a refused form, and ends up on the case."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases.models import Case, PendingUpload
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def resident(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    tree = make_tree()
    user = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


def log_in_as(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])


def large_photo(path) -> int:
    """A 4000 × 3000 phone-sized photo of several MB (noise does not compress)."""
    Image.effect_noise((4000, 3000), 60).convert("RGB").save(path, "JPEG", quality=92)
    return path.stat().st_size


@pytest.mark.parametrize("width", [360, 1920])
def test_a_photo_shrinks_uploads_and_survives_a_refused_form(new_page, live_server, resident, tmp_path, shot,
                                                            width):
    page = new_page(width=width, height=800)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    picture = tmp_path / "IMG_2041.jpg"
    original = large_photo(picture)
    assert original > 2_000_000
    log_in_as(page, live_server, resident)
    page.goto(live_server.url + "/cases/new/")

    page.get_by_label("具体事项").select_option(label="垃圾清运")
    page.get_by_label("照片（最多9张）").set_input_files(str(picture))
    item = page.locator(".photo-upload")
    expect(item).to_have_count(1)
    expect(item.locator(".photo-status")).to_contain_text("已上传")
    sent = int(item.get_attribute("data-sent-size") or 0)
    assert 0 < sent < original / 4, (sent, original)  # shrunk on the phone before it left
    token = item.locator("input[name=photo_tokens]").input_value()
    assert token and PendingUpload.objects.filter(token=token, owner=resident).exists()
    with PendingUpload.objects.get(token=token).file.open("rb") as stored:
        assert max(Image.open(stored).size) == 1600  # what the phone sent; the server keeps it as processed
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"photo-upload-{width}-uploaded")

    # Refused (no description): the photo is still there, by its token and thumbnail.
    page.get_by_label("纬度").fill("35.585")
    page.get_by_label("经度").fill("104.605")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("请填写反映的内容。")).to_be_visible()
    expect(page.locator(".photo-upload")).to_have_count(1)
    expect(page.locator(".photo-upload input[name=photo_tokens]")).to_have_value(token)
    assert page.locator(".photo-upload img").evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_text("请重新选择照片和语音后再提交。")).to_have_count(0)
    assert not Case.objects.exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"photo-upload-{width}-refused")

    page.get_by_label("要说的事").fill("村口垃圾堆了一周没人清运。")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已提交，事件编号")).to_be_visible()
    case = Case.objects.get()
    assert case.attachments.count() == 1 and not PendingUpload.objects.exists()
    photo = page.locator(".case-photos img")
    expect(photo).to_have_count(1)
    page.wait_for_function("document.querySelector('.case-photos img').complete")
    assert photo.evaluate("img => img.naturalWidth") > 0  # served through the permission check
    shot(page, f"photo-upload-{width}-case")
    assert errors == []


def test_the_form_waits_for_a_photo_still_uploading(page, live_server, resident, tmp_path):
    """Submitted before the upload finished (a slow phone): the form waits, then goes with the photo."""
    picture = tmp_path / "IMG_2042.jpg"
    Image.new("RGB", (1200, 900), (40, 90, 150)).save(picture, "JPEG")
    log_in_as(page, live_server, resident)
    page.goto(live_server.url + "/cases/new/")
    release = []
    page.route("**/cases/photos/", lambda route: release.append(route))
    page.get_by_label("具体事项").select_option(label="垃圾清运")
    page.get_by_label("要说的事").fill("村口垃圾堆了一周没人清运。")
    page.get_by_label("纬度").fill("35.585")
    page.get_by_label("经度").fill("104.605")
    page.get_by_label("照片（最多9张）").set_input_files(str(picture))
    page.wait_for_function("document.querySelector('.photo-upload .photo-status').textContent.length > 0")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("照片还在上传，传完后会自动提交。")).to_be_visible()
    assert not Case.objects.exists()
    page.wait_for_function("true")
    for route in release:
        route.continue_()
    if not release:  # the upload had not started yet: let it through from now on
        page.unroute("**/cases/photos/")
    expect(page.get_by_text("已提交，事件编号")).to_be_visible()
    assert Case.objects.get().attachments.count() == 1
