"""The publications JSON API: a county's items for anyone, an area's for its verified residents, 404 for anything
else; paging without counting; comments with CSRF, retry-safe, refused where comments are off."""

import pytest
from django.test import Client

from gongzhi.api.tests.fuzzing import CSRF
from gongzhi.publications.factories import make_pub_world, published
from gongzhi.publications.models import Comment
from gongzhi.publications.services import core

pytestmark = pytest.mark.django_db


@pytest.fixture
def pub(tree):
    return make_pub_world(tree)


def client_for(user=None):
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def comment(client, pk, data, **extra):
    extra.setdefault("HTTP_X_CSRFTOKEN", CSRF)
    return client.post(f"/api/publications/{pk}/comments", data, content_type="application/json", **extra)


def test_what_each_caller_reads(pub, tree):
    county = published(pub.county_dispatcher, "policy", tree["county"], title="耕地地力保护补贴", tags="补贴")
    village = published(pub.village_admin, "news", tree["village"], title="小山村停水通知")
    other = published(pub.other_village_admin, "news", tree["village2"], title="大湾村停水通知")
    draft = core.create_draft(actor=pub.village_admin, kind="news", author_unit=tree["village"], title="草稿")

    anonymous = client_for()
    titles = [i["title"] for i in anonymous.get("/api/publications").json()["items"]]
    assert titles == ["耕地地力保护补贴"]
    assert anonymous.get(f"/api/publications/{village.pk}").status_code == 404

    resident = client_for(pub.resident)
    body = resident.get("/api/publications").json()
    assert {i["title"] for i in body["items"]} == {"耕地地力保护补贴", "小山村停水通知"}
    assert resident.get(f"/api/publications/{other.pk}").status_code == 404
    assert resident.get(f"/api/publications/{draft.pk}").status_code == 404
    detail = resident.get(f"/api/publications/{village.pk}").json()
    assert detail["link"] == f"/public/{village.pk}/" and detail["group"] == "notices"
    assert resident.get("/api/publications?group=library&tag=补贴").json()["items"][0]["id"] == county.pk
    assert resident.get("/api/publications?group=nothing").json()["items"] == []

    core.withdraw(actor=pub.village_admin, publication=village, reason="已恢复供水")
    assert resident.get(f"/api/publications/{village.pk}").status_code == 404


def test_paging_says_whether_more_follow(pub, tree):
    for n in range(3):
        published(pub.village_admin, "news", tree["village"], title=f"通知{n}")
    resident = client_for(pub.resident)
    first = resident.get("/api/publications?limit=2").json()
    second = resident.get("/api/publications?limit=2&offset=2").json()
    assert first["has_more"] and not second["has_more"]
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert resident.get("/api/publications?limit=0").status_code == 422


def test_comments(pub, tree):
    item = published(pub.village_admin, "news", tree["village"], comments="moderated")
    closed = published(pub.village_admin, "news", tree["village"], comments="off")
    resident = client_for(pub.resident)
    assert comment(client_for(), item.pk, {"body": "问一下"}).status_code == 401
    assert comment(resident, item.pk, {"body": "问一下"}, HTTP_X_CSRFTOKEN="").status_code == 403
    assert comment(resident, item.pk, {"body": ""}).status_code == 422
    first = comment(resident, item.pk, {"body": "自来水什么时候恢复？", "client_key": "a1"})
    again = comment(resident, item.pk, {"body": "自来水什么时候恢复？", "client_key": "a1"})
    assert first.status_code == 201 and again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert first.json()["state"] == "pending" and first.json()["mine"]
    assert Comment.objects.count() == 1
    assert comment(resident, closed.pk, {"body": "x"}).status_code == 403
    assert comment(client_for(pub.village2_resident), item.pk, {"body": "x"}).status_code == 404
    # Waiting comments are seen by their author only.
    assert client_for(pub.neighbour).get(f"/api/publications/{item.pk}/comments").json() == []
    core.answer_comment(actor=pub.village_admin, comment=Comment.objects.get(), answer="明天上午。")
    shown = client_for(pub.neighbour).get(f"/api/publications/{item.pk}/comments").json()
    assert shown[0]["answer"] == "明天上午。" and shown[0]["author"] == "王某" and not shown[0]["mine"]
