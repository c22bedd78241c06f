"""POST /api/cases/photos: one photo at a time for app clients, then its token in the report."""

import io
import uuid

import pytest
from django.test import Client
from PIL import Image

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.api.tests.fuzzing import CSRF
from gongzhi.cases.factories import make_categories
from gongzhi.cases.models import Case, PendingUpload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def residents(tree):
    make_categories()
    found = {}
    for username, name in (("res", "王秀兰"), ("res2", "李四")):
        found[username] = User.objects.create_user(username=username, kind=User.Kind.RESIDENT, real_name=name)
        Membership.objects.create(user=found[username], unit=tree["grid"], role=Role.RESIDENT)
    return found


def client_for(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def jpeg(size=(3000, 2000)) -> io.BytesIO:
    # Noise, so the file is several MB: larger than Django's 2.5 MB in-memory body limit.
    out = io.BytesIO(Image.effect_noise(size, 90).convert("RGB").tobytes("raw"))
    picture = Image.frombytes("RGB", size, out.getvalue())
    buf = io.BytesIO()
    picture.save(buf, "JPEG", quality=95)
    buf.seek(0)
    buf.name = "IMG_0001.jpg"
    return buf


def upload(client, data):
    data.seek(0)
    return client.post("/api/cases/photos", {"photo": data}, HTTP_X_CSRFTOKEN=CSRF)


def report(client, **extra):
    body = {"client_id": str(uuid.uuid4()), "category": "talk-environment", "description": "路灯坏了",
            "lat": 35.585, "lng": 104.605, **extra}
    return client.post("/api/cases", body, content_type="application/json", HTTP_X_CSRFTOKEN=CSRF)


def test_upload_then_report_with_the_token(residents):
    client = client_for(residents["res"])
    photo = jpeg()
    assert len(photo.getvalue()) > 2_621_440
    first = upload(client, photo)
    assert first.status_code == 201, first.content
    token = first.json()["token"]
    assert first.json()["created"] and first.json()["thumbnail_url"].startswith("/media/cases/")
    assert client.get(first.json()["thumbnail_url"]).status_code == 200  # the owner sees it …
    assert client_for(residents["res2"]).get(first.json()["thumbnail_url"]).status_code == 404  # … nobody else
    again = upload(client, photo)  # a retry after a lost answer
    assert again.status_code == 200 and again.json()["token"] == token and not again.json()["created"]

    answer = report(client, photo_tokens=[token])
    assert answer.status_code == 201, answer.content
    detail = client.get(f"/api/cases/{answer.json()['id']}").json()
    assert [a["kind"] for a in detail["attachments"]] == ["photo"]
    assert client.get(detail["attachments"][0]["url"]).status_code == 200
    assert not PendingUpload.objects.exists()


def test_someone_elses_token_is_refused_and_nothing_is_stored(residents):
    token = upload(client_for(residents["res2"]), jpeg((400, 300))).json()["token"]
    answer = report(client_for(residents["res"]), photo_tokens=[token])
    assert answer.status_code == 422 and answer.json()["field"] == "photos"
    assert not Case.objects.exists() and PendingUpload.objects.count() == 1


def test_more_than_nine_tokens_and_bad_uploads_are_422(residents):
    client = client_for(residents["res"])
    assert report(client, photo_tokens=[f"t{i}" for i in range(10)]).status_code == 422
    bad = io.BytesIO(b"<html>not a photo</html>")
    bad.name = "x.jpg"
    answer = upload(client, bad)
    assert answer.status_code == 422 and answer.json()["code"] == "photo_type"
    assert client.post("/api/cases/photos", {}, HTTP_X_CSRFTOKEN=CSRF).status_code == 422  # no file


def test_upload_needs_a_session_and_the_csrf_token(residents):
    assert Client().post("/api/cases/photos", {"photo": jpeg((40, 30))}).status_code == 401
    client = Client(enforce_csrf_checks=True)
    client.force_login(residents["res"])
    assert client.post("/api/cases/photos", {"photo": jpeg((40, 30))}).status_code == 403
