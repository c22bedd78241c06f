"""The resident's messages with area notices, the urgent-alert banner, and the sender's delivery counts, through
the pages."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from gongzhi.publications.factories import published
from gongzhi.publications.models import AlertDelivery, ReadMark
from gongzhi.publications.selectors import inbox as inbox_selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(pub, django_capture_on_commit_callbacks):
    pub.resident.phone = "13800000001"
    pub.resident.save()
    with django_capture_on_commit_callbacks(execute=True):
        return published(pub.dispatcher, "alert", pub.tree["town"], pub.tree["village"],
                         title="寻人启事：小山村走失老人", body="王大爷，78岁，今早离家未归。")


def test_the_resident_messages_page_shows_area_notices_with_the_banner(client, pub, alert):
    published(pub.village_admin, "safety", pub.tree["village"], title="冬季防火：不要私拉乱接电线")
    client.force_login(pub.resident)
    page = client.get(reverse("resident:messages")).content.decode()
    assert page.count("寻人启事：小山村走失老人") >= 2  # the banner and the list
    assert 'role="alert"' in page and "冬季防火：不要私拉乱接电线" in page
    assert "2条未读" in page
    assert reverse("resident:publication", args=[alert.pk]) in page


def test_other_areas_and_unverified_accounts_see_neither(client, pub, alert):
    for user in (pub.village2_resident, pub.unverified):
        client.force_login(user)
        page = client.get(reverse("resident:messages")).content.decode()
        assert "寻人启事" not in page
        assert client.get(reverse("resident:publication", args=[alert.pk])).status_code == 404
    assert not ReadMark.objects.exists()


def test_opening_a_notice_reads_it_and_read_all_reads_the_rest(client, pub, alert):
    other = published(pub.village_admin, "activity_notice", pub.tree["village"], title="重阳节敬老活动")
    client.force_login(pub.resident)
    response = client.get(reverse("resident:publication", args=[alert.pk]))
    assert response.status_code == 200 and "这是一条紧急通知" in response.content.decode()
    assert ReadMark.objects.filter(user=pub.resident, publication=alert).exists()
    assert inbox_selectors.unread_total(pub.resident) == 1
    client.get(reverse("resident:publication", args=[alert.pk]))  # again: nothing more
    assert ReadMark.objects.filter(user=pub.resident).count() == 1
    response = client.post(reverse("resident:messages"))  # 全部标为已读
    assert response.status_code == 302
    assert ReadMark.objects.filter(user=pub.resident, publication=other).exists()
    assert "消息都已读过" in client.get(reverse("resident:messages")).content.decode()


def test_the_sender_sees_the_counts_and_nobody_else(client, pub, alert):
    client.force_login(pub.dispatcher)
    response = client.get(reverse("command:publication_alert_status", args=[alert.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="recipients">2<' in html and 'data-count="sent">1<' in html
    assert 'data-finished="true"' in html
    client.force_login(pub.other_dispatcher)
    assert client.get(reverse("command:publication_alert_status", args=[alert.pk])).status_code == 404
    client.force_login(pub.resident)
    assert client.get(reverse("command:publication_alert_status", args=[alert.pk])).status_code in (302, 403, 404)


def test_the_staff_partial_renders_before_publishing_and_polls_while_sending(pub, alert, rf: RequestFactory):
    request = rf.get("/")
    request.user = pub.dispatcher
    html = render_to_string("web/publications/kinds/alert.html",
                            {"publication": alert, "kind": {"delivery": None}, "portal": "command"},
                            request=request)
    assert "发布后，紧急通知会即时显示" in html and "data-poll-url" not in html
    AlertDelivery.objects.filter(publication=alert).update(state=AlertDelivery.State.SENDING)
    html = render_to_string("web/publications/kinds/alert.html",
                            {"publication": alert, "kind": {"delivery": AlertDelivery.objects.get()},
                             "portal": "command"}, request=request)
    assert reverse("command:publication_alert_status", args=[alert.pk]) in html and "status-poll.js" in html


def test_the_banner_tag(pub, alert, rf: RequestFactory):
    from django.template import Context, Template

    template = Template("{% load publication_alerts %}{% alert_banner %}")
    for user, shown in ((pub.resident, True), (pub.village2_resident, False), (pub.unverified, False)):
        request = rf.get("/")
        request.user = user
        assert ("寻人启事：小山村走失老人" in template.render(Context({"request": request}))) is shown
