"""Submitting a case with photos and a voice note, retries, and the routing suggestion."""

import hashlib
import io
import uuid
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gongzhi.cases import selectors, services
from gongzhi.cases.models import Attachment, Case, CaseLog, Category
from gongzhi.core.errors import DomainError
from gongzhi.org.factories import make_department
from gongzhi.org.models import DepartmentType

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def photo(name: str = "p.png", size=(800, 600)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def voice(seconds: float = 2.0) -> SimpleUploadedFile:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return SimpleUploadedFile("v.wav", buf.getvalue(), content_type="audio/wav")


def submit(actor, category, client_id=None, **kwargs):
    return services.submit_case(actor=actor, client_id=client_id or uuid.uuid4(), category=category,
                                description="村口垃圾堆了一周没人清运。", lat=35.585, lng=104.605, **kwargs)


def test_photos_and_voice_are_stored_with_the_case(tree, resident, cats):
    case, created = submit(resident, cats["env"], photos=[photo(), photo("b.png", (3000, 2000))], voice=voice())
    assert created
    photos = list(case.attachments.filter(kind=Attachment.Kind.PHOTO).order_by("pk"))
    assert len(photos) == 2
    report_log = CaseLog.objects.get(case=case, seq=1)
    for item in photos:
        assert item.content_type == "image/jpeg" and item.thumbnail and item.uploaded_by == resident
        assert item.log == report_log
        data = item.file.read()
        assert hashlib.sha256(data).hexdigest() == item.sha256
        with Image.open(io.BytesIO(data)) as im:
            assert max(im.size) <= 1920
    note = case.attachments.get(kind=Attachment.Kind.VOICE)
    assert note.content_type.startswith("audio/") and note.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert not note.thumbnail


def test_a_bad_photo_is_named_and_nothing_is_written(tree, resident, cats):
    bad = SimpleUploadedFile("c.jpg", b"not a picture at all", content_type="image/jpeg")
    with pytest.raises(DomainError) as err:
        submit(resident, cats["env"], photos=[photo(), bad])
    assert err.value.field == "photos"
    assert "第2张照片" in str(err.value.message)
    assert not Case.objects.exists() and not Attachment.objects.exists() and not CaseLog.objects.exists()


def test_a_bad_voice_note_writes_nothing(tree, resident, cats):
    with pytest.raises(DomainError) as err:
        submit(resident, cats["env"], photos=[photo()], voice=voice(seconds=0.2))
    assert err.value.field == "voice"
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_more_than_nine_photos_are_refused(tree, resident, cats):
    with pytest.raises(DomainError) as err:
        submit(resident, cats["env"], photos=[photo(f"{i}.png", (40, 40)) for i in range(10)])
    assert err.value.field == "photos" and err.value.code == "too_many_photos"
    assert not Case.objects.exists()


def test_a_retry_returns_the_first_case_and_stores_nothing_new(tree, resident, cats):
    client_id = uuid.uuid4()
    first, created = submit(resident, cats["env"], client_id=client_id, photos=[photo()])
    again, created_again = submit(resident, cats["env"], client_id=client_id, photos=[photo(), photo()],
                                  voice=voice())
    assert created and not created_again and again.pk == first.pk
    assert Case.objects.count() == 1 and Attachment.objects.count() == 1
    assert CaseLog.objects.filter(case=first).count() == 1


def test_without_files_nothing_is_attached(tree, resident, cats):
    case, _created = submit(resident, cats["env"])
    assert not case.attachments.exists()


# --- suggest_handler


def _category(code: str, handler: str, parent: Category | None) -> Category:
    return Category.objects.create(code=code, name=code, kind=parent.kind if parent else "talk",
                                   handler_type=handler, parent=parent)


def test_suggests_the_township_department_of_the_categorys_type(tree):
    parent = _category("x-justice", DepartmentType.JUSTICE, None)
    child = _category("x-justice-child", "", parent)
    assert selectors.suggest_handler(category=parent, grid=tree["grid"]) == tree["justice"]
    assert selectors.suggest_handler(category=child, grid=tree["grid"]) == tree["justice"]


def test_falls_back_to_the_county_department(tree):
    court = _category("x-court", DepartmentType.COURT, None)
    assert selectors.suggest_handler(category=court, grid=tree["grid"]) == tree["county_court"]


def test_the_grids_own_township_wins_over_another(tree):
    other_justice = make_department(tree["other_town"], DepartmentType.JUSTICE, "城关司法所", "SFS")
    justice = _category("x-justice", DepartmentType.JUSTICE, None)
    assert selectors.suggest_handler(category=justice, grid=tree["other_grid"]) == other_justice
    assert selectors.suggest_handler(category=justice, grid=tree["grid"]) == tree["justice"]


def test_no_handler_type_means_the_village(tree):
    plain = _category("x-plain", "", _category("x-plain-root", "", None))
    assert selectors.suggest_handler(category=plain, grid=tree["grid3"]) == tree["village2"]


def test_none_when_no_department_of_that_type_exists(tree):
    land = _category("x-land", DepartmentType.LAND, None)
    assert selectors.suggest_handler(category=land, grid=tree["grid"]) is None


def test_an_inactive_department_is_not_suggested(tree):
    tree["justice"].is_active = False
    tree["justice"].save()
    justice = _category("x-justice", DepartmentType.JUSTICE, None)
    assert selectors.suggest_handler(category=justice, grid=tree["grid"]) is None
