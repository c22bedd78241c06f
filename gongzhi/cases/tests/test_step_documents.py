"""Documents on handling steps (M7): a step may carry PDF documents (整改通知书, 现场检查记录 …) as well as
photos; uploaded first and checked (`core.uploads.process_document`), taken by token in the step's
transaction, listed with the step, and sent as downloads to whoever may see that step."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gongzhi.cases import selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Attachment, CaseLog, PendingUpload
from gongzhi.cases.services import pending_uploads
from gongzhi.cases.tests.helpers import dispatched
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.errors import DomainError, NotFound

pytestmark = pytest.mark.django_db


def pdf_bytes(marker: str = "1") -> bytes:
    return f"%PDF-1.4\n% {marker}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".encode()


def pdf(name: str = "整改通知书.pdf", marker: str = "1") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(marker), content_type="application/pdf")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL_REDIRECT = ""
    return settings.MEDIA_ROOT


@pytest.fixture
def in_progress(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    return act(people["justice"], case, Action.SIGN)


def doc_token(user, marker: str = "1", name: str = "整改通知书.pdf") -> str:
    return services.upload_document(actor=user, upload=pdf(name, marker))[0].token


def download(user, url: str):
    client = Client()
    client.force_login(user)
    return client.get(url)


def test_a_step_keeps_its_documents_with_their_names(people, in_progress):
    first, second = doc_token(people["justice"], "a"), doc_token(people["justice"], "b", "现场检查记录.pdf")
    case = services.take_action(actor=people["justice"], case=in_progress, action=Action.COMPLETE, note="已整改",
                                document_tokens=[first, second]).case
    log = CaseLog.objects.get(case=case, action=Action.COMPLETE)
    files = selectors.step_files(case)[log.seq]
    assert [(d.kind, d.name) for d in files.documents] == [("document", "整改通知书.pdf"),
                                                            ("document", "现场检查记录.pdf")]
    assert files.photos == [] and not PendingUpload.objects.exists()
    assert selectors.report_attachments(case) == []


def test_the_same_document_sent_again_answers_with_the_first_token(people):
    first, created = services.upload_document(actor=people["justice"], upload=pdf())
    again, created_again = services.upload_document(actor=people["justice"], upload=pdf())
    assert created and not created_again and again.token == first.token
    assert PendingUpload.objects.count() == 1


@pytest.mark.parametrize("content,name,code", [
    (b"PK\x03\x04" + b"\x00" * 200, "通知.docx", "document_office"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "通知.doc", "document_office"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 200, "scan.pdf", "document_type"),  # a photo named .pdf
    (b"<html><script>alert(1)</script></html>", "x.pdf", "document_type"),
    (b"%PDF-1.4\n1 0 obj <<>> endobj\n", "cut.pdf", "document_truncated"),
    (b"", "empty.pdf", "document_empty"),
])
def test_what_is_not_a_whole_pdf_is_refused_with_a_reason(people, content, name, code, media):
    with pytest.raises(DomainError) as err:
        services.upload_document(actor=people["justice"], upload=SimpleUploadedFile(name, content))
    assert err.value.field == "documents" and err.value.code == code
    assert not PendingUpload.objects.exists() and not list(media.rglob("*.*"))


def test_a_document_over_the_limit_is_refused(people, settings):
    settings.UPLOAD_DOCUMENT_MAX_BYTES = len(pdf_bytes())
    services.upload_document(actor=people["justice"], upload=pdf())
    with pytest.raises(DomainError) as err:
        services.upload_document(actor=people["justice"], upload=pdf(marker="longer"))
    assert err.value.code == "document_too_large"


def test_residents_do_not_upload_documents(people):
    with pytest.raises(NotFound):
        services.upload_document(actor=people["resident"], upload=pdf())


def test_foreign_unknown_or_photo_tokens_refuse_the_step_and_change_nothing(people, in_progress, monkeypatch):
    theirs = doc_token(people["justice2"])
    photo = PendingUpload.objects.create(token="photo-token", owner=people["justice"], kind="photo",
                                         file="cases/x.jpg", thumbnail="cases/thumbs/x.jpg",
                                         content_type="image/jpeg", sha256="0", upload_sha256="p")
    for tokens in ([theirs], ["no-such-token"], [photo.token]):
        with pytest.raises(DomainError) as err:
            services.take_action(actor=people["justice"], case=in_progress, action=Action.COMPLETE, note="已整改",
                                 document_tokens=tokens)
        assert err.value.field == "documents" and err.value.code == "document_token"
    monkeypatch.setattr(pending_uploads, "MAX_PENDING_PER_OWNER", 100)
    many = [doc_token(people["justice"], str(i)) for i in range(services.MAX_STEP_DOCUMENTS + 1)]
    with pytest.raises(DomainError) as err:
        services.take_action(actor=people["justice"], case=in_progress, action=Action.COMPLETE, note="已整改",
                             document_tokens=many)
    assert err.value.field == "documents"
    in_progress.refresh_from_db()
    assert in_progress.status == Status.IN_PROGRESS and not Attachment.objects.exists()


def test_an_internal_steps_document_is_for_staff_only(people, tree, in_progress):
    """退回 is an internal step: its documents are not the reporter's, though a public step's are."""
    returned = services.take_action(actor=people["justice"], case=in_progress, action=Action.RETURN,
                                    note="不属本单位职责", document_tokens=[doc_token(people["justice"], "r")]).case
    internal = Attachment.objects.get(log__action=Action.RETURN)
    act(people["dispatcher"], returned, Action.DISPATCH, lead_unit=tree["justice"])
    act(people["justice"], returned, Action.SIGN)
    services.take_action(actor=people["justice"], case=returned, action=Action.COMPLETE, note="已整改",
                         document_tokens=[doc_token(people["justice"], "c")])
    public = Attachment.objects.get(log__action=Action.COMPLETE)

    staff = download(people["dispatcher"], internal.file.url)
    assert staff.status_code == 200 and staff["Content-Type"] == "application/pdf"
    assert "attachment" in staff["Content-Disposition"] and "filename*=utf-8''" in staff["Content-Disposition"]
    assert download(people["resident"], internal.file.url).status_code == 404
    assert download(people["resident"], public.file.url).status_code == 200
    assert download(people["other_dispatcher"], public.file.url).status_code == 404
    client = Client()
    client.force_login(people["resident"])
    listed = [a["url"] for a in client.get(f"/api/cases/{returned.pk}").json()["attachments"]]
    assert listed == [public.file.url]
    page = client.get(f"/cases/{returned.pk}/").content.decode()
    assert public.file.url in page and internal.file.url not in page


def test_the_handler_attaches_documents_from_the_case_page(people, in_progress):
    client = Client()
    client.force_login(people["justice"])
    refused = client.post(f"/command/cases/{in_progress.pk}/complete/", {
        "complete-note": "已整改", "complete-documents": [SimpleUploadedFile("通知.docx", b"PK\x03\x04" + b"0" * 99)]})
    assert refused.status_code == 422 and "另存为" in refused.content.decode()
    assert not Attachment.objects.exists()
    done = client.post(f"/command/cases/{in_progress.pk}/complete/", {
        "complete-note": "已整改", "complete-documents": [pdf("整改通知书.pdf")]})
    assert done.status_code == 302
    page = client.get(f"/command/cases/{in_progress.pk}/").content.decode()
    document = Attachment.objects.get(kind="document")
    assert 'class="step-documents"' in page and f'href="{document.file.url}" download>整改通知书.pdf</a>' in page


def test_the_api_uploads_a_document_and_a_step_takes_it(people, in_progress):
    client = Client()
    client.force_login(people["justice"])
    refused = client.post("/api/cases/documents", {"document": SimpleUploadedFile("a.docx", b"PK\x03\x04" + b"0" * 99)})
    assert refused.status_code == 422 and refused.json()["code"] == "document_office"
    uploaded = client.post("/api/cases/documents", {"document": pdf("检查记录.pdf")})
    assert uploaded.status_code == 201 and uploaded.json()["name"] == "检查记录.pdf"
    again = client.post("/api/cases/documents", {"document": pdf("检查记录.pdf")})
    assert again.status_code == 200 and again.json()["token"] == uploaded.json()["token"]
    done = client.post(f"/api/cases/{in_progress.pk}/actions", {
        "action": "complete", "note": "已整改", "document_tokens": [uploaded.json()["token"]]},
        content_type="application/json")
    assert done.status_code == 200, done.content
    step = CaseLog.objects.get(case=in_progress, action=Action.COMPLETE).seq
    [listed] = done.json()["attachments"]
    assert (listed["kind"], listed["name"], listed["step"]) == ("document", "检查记录.pdf", step)
    resident = Client()
    resident.force_login(people["resident"])
    assert resident.post("/api/cases/documents", {"document": pdf()}).status_code == 404
