"""Photos uploaded before the report (upload first, reference by token): one per request, owned by the
uploader, the same bytes answered with the same token, attached in the report's transaction, and swept
after a day unused."""

import datetime
import io
import uuid

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from gongzhi.cases import selectors, services, tasks
from gongzhi.cases.models import Attachment, Case, PendingUpload
from gongzhi.cases.services import pending_uploads
from gongzhi.core.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def photo(colour=(200, 30, 30), size=(1200, 900)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")


def submit(actor, category, client_id=None, **kwargs):
    kwargs.setdefault("description", "村口垃圾堆了一周没人清运。")
    return services.submit_case(actor=actor, client_id=client_id or uuid.uuid4(), category=category,
                                lat=35.585, lng=104.605, **kwargs)


def stored_files(media) -> set[str]:
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()} if media.exists() else set()


def test_an_upload_is_processed_and_kept_for_its_owner(resident, media):
    pending, created = services.upload_photo(actor=resident, upload=photo(size=(4000, 3000)))
    assert created and len(pending.token) >= 20 and pending.owner == resident
    assert pending.file.name.startswith("cases/") and "/thumbs/" in pending.thumbnail.name
    with pending.file.open("rb") as stored:
        assert max(Image.open(stored).size) == 1920  # the server's processing, unchanged, is the authority
    assert stored_files(media) == {pending.file.name, pending.thumbnail.name}


def test_the_same_bytes_again_answer_with_the_same_token(resident, people, media):
    upload = photo()
    first, created = services.upload_photo(actor=resident, upload=upload)
    upload.seek(0)
    again, created_again = services.upload_photo(actor=resident, upload=upload)
    assert created and not created_again and again.token == first.token
    assert PendingUpload.objects.count() == 1 and len(stored_files(media)) == 2
    # Someone else's identical photo is their own upload.
    upload.seek(0)
    theirs, created = services.upload_photo(actor=people["neighbour"], upload=upload)
    assert created and theirs.token != first.token


def test_a_non_photo_is_refused_and_nothing_is_kept(resident, media):
    with pytest.raises(DomainError) as err:
        services.upload_photo(actor=resident, upload=SimpleUploadedFile("x.jpg", b"<html>", "image/jpeg"))
    assert err.value.field == "photos" and err.value.code == "photo_type"
    assert not PendingUpload.objects.exists() and stored_files(media) == set()


def test_too_many_waiting_uploads_are_refused(resident, monkeypatch):
    monkeypatch.setattr(pending_uploads, "MAX_PENDING_PER_OWNER", 2)
    services.upload_photo(actor=resident, upload=photo((1, 1, 1)))
    services.upload_photo(actor=resident, upload=photo((2, 2, 2)))
    with pytest.raises(DomainError) as err:
        services.upload_photo(actor=resident, upload=photo((3, 3, 3)))
    assert err.value.code == "too_many_pending"


def test_tokens_become_the_cases_photos_in_the_same_transaction(resident, cats, media):
    first, _ = services.upload_photo(actor=resident, upload=photo((10, 10, 10)))
    second, _ = services.upload_photo(actor=resident, upload=photo((20, 20, 20)))
    names = {first.file.name, first.thumbnail.name, second.file.name, second.thumbnail.name}
    case, created = submit(resident, cats["env"], photo_tokens=[second.token, first.token, second.token],
                           photos=[photo((30, 30, 30))])
    assert created
    attachments = selectors.attachments_of(resident, case)
    assert [a.file.name for a in attachments[:2]] == [second.file.name, first.file.name]  # tokens first
    assert len(attachments) == 3 and all(a.kind == Attachment.Kind.PHOTO for a in attachments)
    assert attachments[0].sha256 == second.sha256 and attachments[0].uploaded_by == resident
    assert not PendingUpload.objects.exists()
    assert names <= stored_files(media)  # the files stay where they are, now the case's


def test_a_foreign_or_unknown_token_refuses_the_report_and_stores_nothing(resident, people, cats, media):
    mine, _ = services.upload_photo(actor=resident, upload=photo((10, 10, 10)))
    theirs, _ = services.upload_photo(actor=people["neighbour"], upload=photo((20, 20, 20)))
    for tokens in ([mine.token, theirs.token], [mine.token, "no-such-token"]):
        with pytest.raises(DomainError) as err:
            submit(resident, cats["env"], photo_tokens=tokens)
        assert err.value.field == "photos" and err.value.code == "photo_token"
        assert "失效" in str(err.value.message)
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert PendingUpload.objects.count() == 2  # both still there for their owners
    # Staff cannot attach a resident's upload either (代为登记 uses the staff member's own uploads).
    with pytest.raises(DomainError):
        submit(people["grid_worker"], cats["env"], photo_tokens=[mine.token])


def test_a_refused_report_keeps_its_uploads_for_the_next_try(resident, cats):
    pending, _ = services.upload_photo(actor=resident, upload=photo())
    with pytest.raises(DomainError) as err:
        submit(resident, cats["env"], photo_tokens=[pending.token], description="")
    assert err.value.field == "description"
    assert PendingUpload.objects.filter(pk=pending.pk).exists()
    case, created = submit(resident, cats["env"], photo_tokens=[pending.token])
    assert created and case.attachments.count() == 1


def test_at_most_nine_photos_tokens_and_files_together(resident, cats):
    tokens = [services.upload_photo(actor=resident, upload=photo((i, i, i), size=(64, 48)))[0].token
              for i in range(8)]
    with pytest.raises(DomainError) as err:
        submit(resident, cats["env"], photo_tokens=tokens, photos=[photo(size=(64, 48)), photo(size=(64, 48))])
    assert err.value.code == "too_many_photos"
    case, _ = submit(resident, cats["env"], photo_tokens=tokens, photos=[photo(size=(64, 48))])
    assert case.attachments.count() == 9


def test_a_retried_report_with_tokens_answers_with_the_first_case(resident, cats):
    pending, _ = services.upload_photo(actor=resident, upload=photo())
    client_id = uuid.uuid4()
    case, created = submit(resident, cats["env"], client_id=client_id, photo_tokens=[pending.token])
    again, created_again = submit(resident, cats["env"], client_id=client_id, photo_tokens=[pending.token])
    assert created and not created_again and again == case and case.attachments.count() == 1


def test_unused_uploads_are_swept_after_a_day_with_their_files(resident, media,
                                                                django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old, _ = services.upload_photo(actor=resident, upload=photo((1, 1, 1)))
    with time_machine.travel(start + datetime.timedelta(hours=20), tick=False):
        fresh, _ = services.upload_photo(actor=resident, upload=photo((2, 2, 2)))
    with time_machine.travel(start + datetime.timedelta(hours=23), tick=False):
        assert services.expire_pending_uploads() == 0
    with (time_machine.travel(start + datetime.timedelta(hours=25), tick=False),
          django_capture_on_commit_callbacks(execute=True)):  # the files go once the rows' deletion commits
        assert tasks.expire_pending_uploads.call_local() == 1
    assert list(PendingUpload.objects.all()) == [fresh]
    assert stored_files(media) == {fresh.file.name, fresh.thumbnail.name}


def test_a_pending_photo_is_served_to_its_owner_alone(resident, people):
    from django.test import Client

    pending, _ = services.upload_photo(actor=resident, upload=photo())
    for url in (pending.file.url, pending.thumbnail.url):
        client = Client()
        client.force_login(resident)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        for who in ("neighbour", "dispatcher", "grid_worker"):
            client.force_login(people[who])
            assert client.get(url).status_code == 404, who
        assert Client().get(url).status_code == 404
