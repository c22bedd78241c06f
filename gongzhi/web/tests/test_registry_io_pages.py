"""The 导入导出 page (worker portal for the village administrator, command portal for dispatchers) and the job page
both portals share: who may open them, upload → check → the clean-rows choice, downloads, the polled status."""

import io
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from gongzhi.accounts.models import UNMASK_PII_GROUP, Role
from gongzhi.core.models import Job, PiiAccessLog
from gongzhi.registry.models import Resident
from gongzhi.registry.tests.test_excel_import import clean_rows, messy_file, workbook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin(tree, make_staff):
    return make_staff("cunguan", tree["village"], Role.VILLAGE_ADMIN)


def upload(client, prefix: str, content: bytes, name: str = "人口.xlsx", record_type: str = "population"):
    return client.post(f"/{prefix}/registry/io/import/", {
        "import-record_type": record_type, "import-file": SimpleUploadedFile(name, content)})


def test_only_bulk_posts_find_the_page(client, tree, admin, make_staff):
    client.force_login(make_staff("wgy", tree["grid"], Role.GRID_WORKER))
    assert client.get("/worker/registry/io/").status_code == 404
    assert client.get("/worker/registry/io/templates/population/").status_code == 404
    assert "/worker/registry/io/" not in client.get("/worker/me/").content.decode()
    client.force_login(admin)
    page = client.get("/worker/registry/io/")
    assert page.status_code == 200 and "人口导入模板" in page.content.decode()
    assert 'href="/worker/registry/io/"' in client.get("/worker/me/").content.decode()
    client.force_login(make_staff("disp", tree["town"], Role.DISPATCHER))
    page = client.get("/command/registry/io/").content.decode()
    assert "导出" in page and "小山村" in page and "大湾村" in page and "东关社区" not in page
    client.force_login(make_staff("dc", tree["town"], Role.SUPERVISOR))
    assert client.get("/command/registry/io/").status_code == 404


def test_a_template_downloads_as_a_workbook(client, admin):
    client.force_login(admin)
    response = client.get("/worker/registry/io/templates/houses/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["实有房屋", "填写说明"]


def test_an_upload_with_errors_waits_for_a_choice_and_imports_the_clean_rows_on_it(
        client, admin, django_capture_on_commit_callbacks):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "worker", messy_file())
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/worker/jobs/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "待处理" in page and "只导入无误的3行" in page and "身份证号码校验位不正确" in page
    assert 'data-poll-url' not in page  # finished: nothing to poll
    errors = client.get(f"/worker/jobs/{job.pk}/files/error/")
    assert errors.status_code == 200
    assert errors["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('人口_错误清单.xlsx')}"
    assert client.get(f"/worker/jobs/{job.pk}/files/result/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/worker/jobs/{job.pk}/clean-rows/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and Resident.objects.count() == 3
    status = client.get(f"/worker/jobs/{job.pk}/status/").content.decode()
    assert 'data-finished="true"' in status and "已导入无误的3行。" in status


def test_a_running_job_page_polls_its_status(client, admin):
    client.force_login(admin)
    job = Job.objects.create(kind="registry.import", owner=admin, params={"record_type": "population"},
                             status=Job.Status.RUNNING, phase="检查", done=40, total=160)
    page = client.get(f"/worker/jobs/{job.pk}/").content.decode()
    assert f'data-poll-url="/worker/jobs/{job.pk}/status/"' in page and "js/status-poll.js" in page
    status = client.get(f"/worker/jobs/{job.pk}/status/").content.decode()
    assert 'data-finished="false"' in status and "25%" in status and "检查" in status
    assert 'value="40"' in status and 'max="160"' in status


def test_someone_elses_job_is_not_found(client, tree, admin, make_staff, django_capture_on_commit_callbacks):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "worker", messy_file())
    job = Job.objects.get()
    client.force_login(make_staff("other", tree["village"], Role.VILLAGE_ADMIN))
    for url in (f"/worker/jobs/{job.pk}/", f"/worker/jobs/{job.pk}/status/", f"/worker/jobs/{job.pk}/files/error/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/worker/jobs/{job.pk}/clean-rows/").status_code == 404
    job.refresh_from_db()
    assert job.status == Job.Status.NEEDS_CHOICE


def test_bad_uploads_are_refused_at_the_field(client, admin):
    client.force_login(admin)
    response = upload(client, "worker", b"name,id\n", name="人口.csv")
    assert response.status_code == 422 and "请上传Excel工作簿（.xlsx）。" in response.content.decode()
    response = upload(client, "worker", b"\xd0\xcf\x11\xe0" + b"\0" * 100, name="人口.xls")
    assert "另存为" in response.content.decode()
    assert not Job.objects.exists()


def test_a_file_without_the_header_fails_with_a_message(client, admin, django_capture_on_commit_callbacks):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "worker", workbook([["名称", "地址"], ["x", "y"]]))
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and "缺少必填列“姓名、身份证号”" in job.message


def test_exports_from_the_command_portal(client, tree, make_staff, django_capture_on_commit_callbacks):
    dispatcher = make_staff("disp", tree["town"], Role.DISPATCHER)
    client.force_login(dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "command", workbook(clean_rows()))
    page = client.get("/command/registry/io/").content.decode()
    assert "导出完整身份证号和手机号" not in page  # no permission: no choice
    response = client.post("/command/registry/io/export/", {"export-record_type": "population",
                                                            "export-area": tree["village2"].pk})
    job = Job.objects.filter(kind="registry.export").get()
    assert response["Location"] == f"/command/jobs/{job.pk}/"
    dispatcher.groups.add(Group.objects.get(name=UNMASK_PII_GROUP))
    response = client.post("/command/registry/io/export/", {"export-record_type": "population",
                                                            "export-area": tree["village"].pk,
                                                            "export-full_numbers": "on", "export-reason": ""})
    assert response.status_code == 422 and "导出完整号码须填写事由。" in response.content.decode()
    response = client.post("/command/registry/io/export/", {"export-record_type": "population",
                                                            "export-area": tree["other_village"].pk})
    assert response.status_code == 422  # not an area of the dispatcher's
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/command/registry/io/export/", {
            "export-record_type": "population", "export-area": tree["village"].pk, "export-full_numbers": "on",
            "export-reason": "核对台账"})
    job = Job.objects.filter(kind="registry.export").latest("pk")
    assert job.status == Job.Status.DONE and PiiAccessLog.objects.get().subject_id == job.pk
    download = client.get(f"/command/jobs/{job.pk}/files/result/")
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    assert next(book.active.iter_rows(min_row=2, max_row=2, values_only=True))[0] == "张建国"
