"""办结 with 处置前/处置后 photos and a PDF document from a grid worker's phone: they show under the step on the
timeline, and the document downloads under its own name."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.cases import categories
from gongzhi.cases.factories import make_resident, report
from gongzhi.cases.models import Attachment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def test_the_grid_worker_resolves_on_the_spot_with_before_and_after_photos(new_page, live_server, tree, make_staff,
                                                                            media, tmp_path, shot):
    make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    case = report(make_resident("res", "王秀兰", tree["grid"]), categories.by_code("talk-environment-garbage"))
    before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
    Image.new("RGB", (800, 600), (90, 80, 60)).save(before, "JPEG")
    Image.new("RGB", (800, 600), (40, 160, 60)).save(after, "JPEG")
    notice = tmp_path / "清运记录.pdf"
    notice.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

    page = new_page()
    page.goto(f"{live_server.url}/command/login/?next=/worker/cases/{case.pk}/")
    page.get_by_label("用户名").fill("王网格")
    page.get_by_label("密码").fill("Gongzhi#2026")
    page.get_by_role("button", name="登录").click()
    form = page.locator("#action-resolve_on_spot")
    expect(form).to_have_attribute("open", "")
    form.get_by_label("说明").fill("已当场联系保洁员清运。")
    form.get_by_label("处置前照片").set_input_files(str(before))
    form.get_by_label("处置后照片").set_input_files(str(after))
    form.get_by_label("文件（可选，PDF，最多5个）").set_input_files(str(notice))
    form.get_by_role("button", name="现场答复办结").click()
    expect(page.locator("#case-status")).to_contain_text("已办结", use_inner_text=True)
    photos = page.locator("#timeline .step-photos figure")
    expect(photos).to_have_count(2)
    expect(photos.nth(0)).to_contain_text("处置前", use_inner_text=True)
    expect(photos.nth(1)).to_contain_text("处置后", use_inner_text=True)
    document = page.locator("#timeline .step-documents a")
    expect(document).to_have_text("清运记录.pdf")
    with page.expect_download() as downloaded:
        document.click()
    assert downloaded.value.suggested_filename == "清运记录.pdf"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "proof-of-handling-360")
    assert sorted(Attachment.objects.filter(case=case).values_list("kind", "stage")) == [
        ("document", ""), ("photo", "after"), ("photo", "before")]
