"""公开 (web/publications.py) in the worker and command portals, and 公开事务 (resident/publications_views.py): who
sees which pages, the lifecycle through the buttons, validation at the field, comments and their moderation,
attachments served only to those who may read the item, and 404 outside the user's scope."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from gongzhi.notifications.models import Notification
from gongzhi.publications.factories import make_pub_world, published
from gongzhi.publications.models import Comment, Publication, PublicationEvent, Status
from gongzhi.publications.services import core
from gongzhi.web.targets import url_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pub(tree):
    return make_pub_world(tree)


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "JPEG")
    return SimpleUploadedFile("现场.jpg", buffer.getvalue(), content_type="image/jpeg")


def _new(client, portal: str, kind: str, **data):
    fields = {"title": "关于开展冬季防火检查的通知", "body": "各户注意用火安全。", "comments": "moderated",
              "tags": "防火 安全", "client_key": "k1", **data}
    return client.post(reverse(f"{portal}:publication_new") + f"?kind={kind}", fields)


def test_nav_and_list_only_for_those_who_manage(client, pub, tree):
    client.force_login(pub.village_admin)
    page = client.get(reverse("worker:home"))
    assert reverse("worker:publications") in page.content.decode()
    assert client.get(reverse("worker:publications")).status_code == 200
    client.force_login(pub.resident)
    assert client.get(reverse("worker:publications")).status_code in (302, 403, 404)


def test_village_admin_writes_and_publishes_a_notice(client, pub, tree):
    client.force_login(pub.village_admin)
    audience = tree["village"].pk
    response = _new(client, "worker", "news", author_unit=tree["village"].pk, audience_unit=audience)
    item = Publication.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("worker:publication", args=[item.pk])
    assert item.status == Status.DRAFT and item.tag_list == ["防火", "安全"]
    # The same form sent again (a retry on weak signal) makes no second draft.
    _new(client, "worker", "news", author_unit=tree["village"].pk, audience_unit=audience)
    assert Publication.objects.count() == 1
    page = client.get(reverse("worker:publication", args=[item.pk])).content.decode()
    assert "发布" in page and "关于开展冬季防火检查的通知" in page
    client.post(reverse("worker:publication_step", args=[item.pk, "publish"]))
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    # The resident of the village reads it; one of another village finds nothing.
    client.force_login(pub.resident)
    assert "冬季防火" in client.get(reverse("resident:publication", args=[item.pk])).content.decode()
    assert "冬季防火" in client.get(reverse("resident:home")).content.decode()
    client.force_login(pub.village2_resident)
    assert client.get(reverse("resident:publication", args=[item.pk])).status_code == 404


def test_bad_input_is_said_at_the_field_and_changes_nothing(client, pub, tree):
    client.force_login(pub.village_admin)
    response = _new(client, "worker", "news", title="", author_unit=tree["village"].pk,
                    audience_unit=tree["village"].pk)
    assert response.status_code == 422
    assert "请填写标题" in response.content.decode()
    response = _new(client, "worker", "news", author_unit=tree["village"].pk, audience_unit=tree["village"].pk,
                    publish_from="2026-12-10T08:00", publish_until="2026-12-09T08:00")
    assert response.status_code == 422 and "公开截止时间必须晚于开始时间" in response.content.decode()
    # An audience outside the author unit is not offered, and refused if sent.
    response = _new(client, "worker", "news", author_unit=tree["village"].pk,
                    audience_unit=tree["village2"].pk)
    assert response.status_code == 422
    assert Publication.objects.count() == 0


def test_four_eyes_board_goes_through_the_township(client, pub, tree):
    client.force_login(pub.village_admin)
    _new(client, "worker", "board", title="小山村第四季度红黑榜", author_unit=tree["village"].pk,
         audience_unit=tree["village"].pk)
    item = Publication.objects.get()
    page = client.get(reverse("worker:publication", args=[item.pk])).content.decode()
    assert "提交审核" in page
    # Publishing it at once is not the village's to do.
    assert client.post(reverse("worker:publication_step", args=[item.pk, "publish"])).status_code == 403
    client.post(reverse("worker:publication_step", args=[item.pk, "submit"]))
    item.refresh_from_db()
    assert item.status == Status.IN_REVIEW
    notice = Notification.objects.get(recipient=pub.dispatcher, kind="publication.submitted")
    assert url_for(notice, portal="command") == reverse("command:publication", args=[item.pk])

    client.force_login(pub.dispatcher)
    queue = client.get(reverse("command:publication_review")).content.decode()
    assert "小山村第四季度红黑榜" in queue
    # Returning needs a reason.
    response = client.post(reverse("command:publication_step", args=[item.pk, "return"]), {"reason": ""})
    assert response.status_code == 422 and "请填写原因" in response.content.decode()
    client.post(reverse("command:publication_step", args=[item.pk, "approve"]), {"note": "同意公开"})
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    assert list(item.events.values_list("action", flat=True)) == ["create", "submit", "approve"]
    # Another township's dispatcher finds nothing.
    client.force_login(pub.other_dispatcher)
    assert client.get(reverse("command:publication", args=[item.pk])).status_code == 404


def test_withdrawn_items_leave_residents_pages(client, pub, tree):
    item = published(pub.village_admin, "news", tree["village"], title="停水通知")
    client.force_login(pub.village_admin)
    response = client.post(reverse("worker:publication_step", args=[item.pk, "withdraw"]), {"reason": ""})
    assert response.status_code == 422
    client.post(reverse("worker:publication_step", args=[item.pk, "withdraw"]), {"reason": "时间有误"})
    item.refresh_from_db()
    assert item.status == Status.WITHDRAWN
    client.force_login(pub.resident)
    assert client.get(reverse("resident:publication", args=[item.pk])).status_code == 404
    assert "停水通知" not in client.get(reverse("resident:public_group", args=["notices"])).content.decode()


def test_comments_wait_for_moderation_and_are_answered(client, pub, tree):
    item = published(pub.village_admin, "news", tree["village"], title="村道硬化征求意见", comments="moderated")
    client.force_login(pub.resident)
    url = reverse("resident:publication_comment", args=[item.pk])
    assert client.post(url, {"body": "", "client_key": "c1"}).status_code == 422
    client.post(url, {"body": "路灯也一起修吗？", "client_key": "c1"})
    client.post(url, {"body": "路灯也一起修吗？", "client_key": "c1"})  # sent twice
    comment = Comment.objects.get()
    assert comment.state == Comment.State.PENDING
    # The neighbour does not see it yet; its author does, marked as waiting.
    assert "审核中" in client.get(reverse("resident:publication", args=[item.pk])).content.decode()
    client.force_login(pub.neighbour)
    assert "路灯也一起修吗" not in client.get(reverse("resident:publication", args=[item.pk])).content.decode()
    # A resident of another village may not comment (the item is not theirs to read).
    client.force_login(pub.village2_resident)
    assert client.post(url, {"body": "我也想问", "client_key": "c2"}).status_code == 404

    client.force_login(pub.village_admin)
    page = client.get(reverse("worker:publication", args=[item.pk])).content.decode()
    assert "路灯也一起修吗" in page
    answer_url = reverse("worker:publication_comment", args=[comment.pk, "answer"])
    assert client.post(answer_url, {"answer": ""}).status_code == 422
    client.post(answer_url, {"answer": "一起修，年底前完工。"})
    comment.refresh_from_db()
    assert comment.state == Comment.State.VISIBLE and comment.answered_by == pub.village_admin
    client.force_login(pub.neighbour)
    page = client.get(reverse("resident:publication", args=[item.pk])).content.decode()
    assert "一起修，年底前完工" in page and "王某" in page  # the commenter's surname only

    # Another village's administrator cannot touch it.
    client.force_login(pub.other_village_admin)
    assert client.post(reverse("worker:publication_comment", args=[comment.pk, "hide"]),
                       {"reason": "x"}).status_code == 404


def test_attachments_are_served_to_readers_only(client, pub, tree):
    client.force_login(pub.village_admin)
    _new(client, "worker", "news", author_unit=tree["village"].pk, audience_unit=tree["village"].pk,
         attachments=[_photo()])
    item = Publication.objects.get()
    attachment = item.attachments.get()
    media = attachment.file.url
    assert client.get(media).status_code == 200  # its staff, while a draft
    client.force_login(pub.resident)
    assert client.get(media).status_code == 404  # not published yet
    core.publish_now(actor=pub.village_admin, publication=item)
    assert client.get(media).status_code == 200
    client.force_login(pub.village2_resident)
    assert client.get(media).status_code == 404
    client.logout()
    assert client.get(media).status_code == 404


def test_county_items_are_public_to_everyone(client, pub, tree):
    item = published(pub.county_dispatcher, "policy", tree["county"], title="2026年耕地地力保护补贴政策",
                     tags="补贴,惠农")
    client.logout()
    index = client.get(reverse("resident:public")).content.decode()
    assert "耕地地力保护补贴" in index
    library = client.get(reverse("resident:public_group", args=["library"]) + "?tag=补贴").content.decode()
    assert "耕地地力保护补贴" in library
    assert client.get(reverse("resident:public_group", args=["library"]) + "?q=医保").content.decode().count(
        "耕地地力保护补贴") == 0
    assert client.get(reverse("resident:publication", args=[item.pk])).status_code == 200
    assert client.get(reverse("resident:public_group", args=["nothing"])).status_code == 404


def test_edit_only_drafts(client, pub, tree):
    item = published(pub.village_admin, "news", tree["village"])
    client.force_login(pub.village_admin)
    assert client.get(reverse("worker:publication_edit", args=[item.pk])).status_code == 403
    draft = core.create_draft(actor=pub.village_admin, kind="news", author_unit=tree["village"], title="草稿一")
    response = client.post(reverse("worker:publication_edit", args=[draft.pk]), {
        "author_unit": tree["village"].pk, "audience_unit": tree["grid"].pk, "title": "草稿二", "body": "",
        "comments": "off", "tags": ""})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "草稿二" and draft.audience_unit == tree["grid"]
    assert PublicationEvent.objects.filter(publication=draft, action="edit").exists()
