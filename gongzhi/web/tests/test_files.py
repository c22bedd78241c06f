"""Uploaded files are private: /media/<name> answers only those who may see what the file belongs to, 404
to everyone else (never 403), with the right headers; through nginx's X-Accel-Redirect when configured."""

import datetime
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gongzhi.cases import services
from gongzhi.cases.factories import act
from gongzhi.cases.models import Category, MediationSession
from gongzhi.cases.workflow import Action

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL_REDIRECT = ""
    return settings.MEDIA_ROOT


def photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 90, 40)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def report_with_photo(reporter, category, **kwargs):
    case, _created = services.submit_case(actor=reporter, client_id=uuid.uuid4(), category=category,
                                          description="村口路灯坏了一个月。", lat=35.585, lng=104.605,
                                          photos=[photo()], **kwargs)
    return case, case.attachments.get()


def get(user, url: str, **headers):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(url, **headers)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_case_photo_is_for_whoever_may_see_the_case(people, cats, tree, make_staff):
    case, attachment = report_with_photo(people["resident"], cats["env"])
    stored = attachment.file.open("rb").read()
    for url in (attachment.file.url, attachment.thumbnail.url):
        assert url.startswith("/media/cases/")
        for who in ("resident", "dispatcher", "grid_worker", "county_supervisor"):  # reporter, staff in scope
            response = get(people[who], url)
            assert response.status_code == 200, (who, url)
            assert response["Content-Type"] == "image/jpeg"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Cache-Control"].startswith("private, max-age=")
            assert response["Content-Disposition"].startswith("inline")
        assert get(None, url).status_code == 404  # no session
        for who in ("stranger", "neighbour", "other_dispatcher", "other_grid_worker", "justice"):
            assert get(people[who], url).status_code == 404, who  # another resident, staff out of scope
    assert body(get(people["resident"], attachment.file.url)) == stored
    # A unit the case is assigned to sees it, as it sees the case.
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    assert get(people["justice"], attachment.file.url).status_code == 200


def test_anonymous_reports_and_merged_duplicates_follow_the_case(people, cats):
    case, attachment = report_with_photo(people["resident"], cats["env"], is_anonymous=True)
    assert get(people["resident"], attachment.file.url).status_code == 200  # the hidden reporter still sees it
    assert get(people["dispatcher"], attachment.file.url).status_code == 200
    duplicate, their_photo = report_with_photo(people["neighbour"], cats["env"])
    assert get(people["neighbour"], attachment.file.url).status_code == 404
    services.merge_case(actor=people["dispatcher"], case=duplicate, merge_into=case, note="同一件事")
    # The neighbour now follows the case their duplicate was merged into, and keeps their own.
    assert get(people["neighbour"], attachment.file.url).status_code == 200
    assert get(people["neighbour"], their_photo.file.url).status_code == 200
    assert get(people["stranger"], attachment.file.url).status_code == 404


def test_a_mediation_agreement_is_for_staff_who_see_the_dispute(people, cats, tree):
    neighbour_dispute = Category.objects.get(code="dispute-neighbour")
    case, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(),
                                          category=neighbour_dispute, description="邻居家排水沟把水引到我家院子里",
                                          lat=35.585, lng=104.605)
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    act(people["justice"], case, Action.SIGN)
    session = services.record_mediation(
        actor=people["justice"], case=case, kind=MediationSession.Kind.PEOPLE, held_on=datetime.date(2026, 3, 2),
        outcome=MediationSession.Outcome.AGREED, mediators=[people["justice"]],
        agreement=SimpleUploadedFile("协议.pdf", PDF, content_type="application/pdf"),
        follow_up_on=datetime.date(2026, 4, 2)).record
    url = session.agreement.file.url
    assert url.startswith("/media/mediation/")
    for who in ("justice", "dispatcher", "county_dispatcher"):
        response = get(people[who], url)
        assert response.status_code == 200, who
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
        assert case.number in response["Content-Disposition"]
        assert response["Cache-Control"].startswith("private, max-age=")
        assert body(response) == PDF
    # A dispute is never public: not its reporter, not another resident, not staff elsewhere, nobody signed out.
    for who in ("resident", "stranger", "other_dispatcher", "other_grid_worker", "police"):
        assert get(people[who], url).status_code == 404, who
    assert get(None, url).status_code == 404


def test_through_nginx_the_answer_is_empty_and_names_the_internal_location(people, cats, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/_protected_media/"
    _case, attachment = report_with_photo(people["resident"], cats["env"])
    response = get(people["resident"], attachment.file.url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_protected_media/" + attachment.file.name
    assert response.content == b""
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private, max-age=")
    # Refused alike: no header, no hint.
    refused = get(people["stranger"], attachment.file.url)
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


@pytest.mark.parametrize("path", [
    "/media/../settings.py", "/media/cases/../../etc/passwd", "/media/%2e%2e/%2e%2e/etc/passwd",
    "/media/cases/2026/01/..%2F..%2F..%2Fetc%2Fpasswd", "/media//etc/passwd", "/media/cases\\..\\x.jpg",
    "/media/cases/./x.jpg", "/media/", "/media/gongzhi.sqlite3", "/media/cases/%00.jpg",
])
def test_path_tricks_find_nothing(people, cats, media, path):
    _case, attachment = report_with_photo(people["resident"], cats["env"])
    (media / "gongzhi.sqlite3").write_bytes(b"SQLite format 3\x00")
    response = get(people["resident"], path)
    assert response.status_code == 404
    assert b"SQLite" not in body(response)


def test_a_file_whose_name_is_not_in_the_database_is_not_served(people, media):
    (media / "cases").mkdir(parents=True)
    (media / "cases" / "left-over.jpg").write_bytes(b"\xff\xd8\xff")
    assert get(people["dispatcher"], "/media/cases/left-over.jpg").status_code == 404
