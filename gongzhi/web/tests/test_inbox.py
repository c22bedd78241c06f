"""The message inbox of all three portals (one shared view), the 消息 link's unread badge, and the `ago` filter."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongzhi.accounts.models import Role, User
from gongzhi.notifications.models import Notification
from gongzhi.notifications.services import notify
from gongzhi.web.templatetags.gongzhi_time import ago

pytestmark = pytest.mark.django_db


def resident(username="张三"):
    return User.objects.create_user(username=username, real_name=username, kind=User.Kind.RESIDENT)


def tell(user, title, *, case_id=None, body="", key=None):
    """A message opening case `case_id`, or a plain one without anything to open."""
    [notification] = notify(recipients=[user], kind="case.accepted" if case_id else "system.message", title=title,
                            body=body, target_id=case_id, dedupe_key=key)
    return notification


def badge(page: str) -> str | None:
    match = re.search(r'<span class="unread-badge" role="img" aria-label="([^"]+)">([^<]+)</span>', page)
    return f"{match.group(2)}|{match.group(1)}" if match else None


@pytest.fixture
def alice(client):
    user = resident("alice")
    client.force_login(user)
    return user


@pytest.fixture
def worker(tree, make_staff):
    return make_staff("王网格", tree["grid"], Role.GRID_WORKER)


@pytest.fixture
def dispatcher(tree, make_staff):
    return make_staff("调度员", tree["town"], Role.DISPATCHER)


# ---- the inbox page ----

def test_inbox_lists_only_the_users_own_messages_newest_first(client, alice):
    tell(alice, "您反映的问题已受理", body="编号 A-1")
    tell(alice, "您反映的问题已办结")
    tell(resident("bob"), "别人的消息")
    page = client.get(reverse("resident:messages")).content.decode()
    assert "别人的消息" not in page
    assert page.index("您反映的问题已办结") < page.index("您反映的问题已受理")
    assert "编号 A-1" in page
    assert page.count('class="inbox-item is-unread"') == 2
    assert page.count("未读：") == 2  # not marked by colour alone: screen readers hear it too
    assert "全部标为已读" in page


def test_read_messages_are_not_marked_unread(client, alice):
    read = tell(alice, "已读的消息")
    tell(alice, "未读的消息")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    page = client.get(reverse("resident:messages")).content.decode()
    assert page.count('class="inbox-item is-unread"') == 1
    assert re.search(r'<li class="inbox-item">\s*<h2 class="inbox-title">已读的消息</h2>', page)


def test_message_text_is_escaped(client, alice):
    tell(alice, "<script>alert(1)</script>", body="<b>x</b>\n第二行")
    page = client.get(reverse("resident:messages")).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;<br>第二行" in page


def test_empty_inbox_says_so(client, alice):
    page = client.get(reverse("resident:messages")).content.decode()
    assert "暂无消息。" in page and "全部标为已读" not in page


def test_inbox_is_paginated_by_twenty(client, alice):
    for i in range(25):
        tell(alice, f"消息{i:02d}")
    first = client.get(reverse("resident:messages")).content.decode()
    assert "消息24" in first and "消息05" in first and "消息04" not in first
    assert "1 / 2" in first and 'href="?page=2"' in first
    second = client.get(reverse("resident:messages") + "?page=2").content.decode()
    assert "消息04" in second and "消息00" in second and "消息05" not in second
    assert client.get(reverse("resident:messages") + "?page=abc").status_code == 200


def test_each_portal_shows_its_own_chrome_around_the_same_inbox(client, worker, dispatcher):
    tell(worker, "新任务：小山村一社路灯不亮")
    client.force_login(worker)
    page = client.get(reverse("worker:messages")).content.decode()
    assert "新任务：小山村一社路灯不亮" in page
    assert 'class="bottom-nav"' in page
    assert f'action="{reverse("worker:messages_read_all")}"' in page
    client.force_login(dispatcher)
    page = client.get(reverse("command:messages")).content.decode()
    assert "暂无消息。" in page and 'class="desk-header"' in page and "新任务" not in page


def test_staff_opening_the_resident_inbox_go_to_their_own_portals(client, worker, dispatcher):
    client.force_login(worker)
    assert client.get(reverse("resident:messages"))["Location"] == reverse("worker:messages")
    client.force_login(dispatcher)
    assert client.get(reverse("resident:messages"))["Location"] == reverse("command:messages")


# ---- sign-in ----

def test_anonymous_visitors_are_sent_to_the_right_login(client):
    response = client.get(reverse("resident:messages"))
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fmessages%2F"
    assert client.get(reverse("worker:messages"))["Location"] == "/command/login/?next=%2Fworker%2Fmessages%2F"
    assert client.get(reverse("command:messages"))["Location"] == "/command/login/?next=%2Fcommand%2Fmessages%2F"


def test_anonymous_posts_change_nothing(client):
    note = tell(resident(), "消息", case_id=1)
    for name, args in [("resident:message_open", [note.pk]), ("resident:messages_read_all", []),
                       ("worker:message_open", [note.pk]), ("command:messages_read_all", [])]:
        response = client.post(reverse(name, args=args))
        assert response.status_code == 302 and "login/?next=" in response["Location"]
    note.refresh_from_db()
    assert note.read_at is None


def test_residents_cannot_use_the_staff_inboxes(client, alice):
    assert client.get(reverse("worker:messages"))["Location"] == "/"
    assert client.get(reverse("command:messages"))["Location"] == "/"


# ---- opening a message, marking read ----

def test_opening_a_message_marks_it_read_and_opens_its_object_in_this_portal(client, alice):
    note = tell(alice, "您反映的问题已受理", case_id=7)
    other = tell(alice, "另一条")
    response = client.post(reverse("resident:message_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/cases/7/"
    note.refresh_from_db()
    other.refresh_from_db()
    assert note.read_at is not None and other.read_at is None


def test_a_message_without_link_is_marked_read_and_the_same_inbox_page_comes_back(client, alice):
    note = tell(alice, "系统维护通知")
    page = client.get(reverse("resident:messages")).content.decode()
    assert "标为已读" in page and "查看<span" not in page
    response = client.post(reverse("resident:message_open", args=[note.pk]), {"page": "2"})
    assert response["Location"] == "/messages/?page=2"
    note.refresh_from_db()
    assert note.read_at is not None
    response = client.post(reverse("resident:message_open", args=[note.pk]), {"page": "//evil.example"})
    assert response["Location"] == "/messages/"


def test_opening_works_from_the_worker_and_command_portals(client, worker, dispatcher):
    task = tell(worker, "新任务", case_id=5)
    client.force_login(worker)
    assert client.post(reverse("worker:message_open", args=[task.pk]))["Location"] == "/worker/cases/5/"
    due = tell(dispatcher, "时限将到")
    client.force_login(dispatcher)
    assert client.post(reverse("command:message_open", args=[due.pk]))["Location"] == "/command/messages/"
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_another_users_message_answers_404_and_stays_unread(client, alice):
    theirs = tell(resident("bob"), "别人的消息", case_id=1)
    assert client.post(reverse("resident:message_open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("resident:message_open", args=[theirs.pk + 1000])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_needs_a_post(client, alice):
    note = tell(alice, "消息", case_id=1)
    assert client.get(reverse("resident:message_open", args=[note.pk])).status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


@pytest.mark.parametrize(("target_type", "target_id"), [
    ("//evil.example", None), ("https://evil.example/", 1), ("case", None), ("nonsense", 3), ("", 4)])
def test_a_target_no_page_shows_opens_the_inbox_again(client, alice, target_type, target_id):
    """A message stores an object, never a URL: whatever its fields hold, nothing leads off the site."""
    note = tell(alice, "消息")
    Notification.objects.filter(pk=note.pk).update(target_type=target_type, target_id=target_id)
    response = client.post(reverse("resident:message_open", args=[note.pk]))
    assert response["Location"] == "/messages/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_mark_all_read_marks_only_the_users_own(client, alice):
    tell(alice, "一")
    tell(alice, "二")
    theirs = tell(resident("bob"), "别人的")
    response = client.post(reverse("resident:messages_read_all"), follow=True)
    assert response.redirect_chain == [("/messages/", 302)]
    page = response.content.decode()
    assert "已将2条消息标为已读。" in page and "is-unread" not in page and badge(page) is None
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.get(reverse("resident:messages_read_all")).status_code == 405


def test_mark_all_read_needs_the_csrf_token(alice):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    tell(alice, "一")
    assert csrf_client.post(reverse("resident:messages_read_all")).status_code == 403
    page = csrf_client.get(reverse("resident:messages")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


# ---- the badge ----

def test_the_inbox_context_processor_is_configured(settings):
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    assert "gongzhi.web.context_processors.badges" in processors, "add it to settings.TEMPLATES"


def test_resident_top_bar_shows_the_unread_count(client, alice):
    assert badge(client.get("/").content.decode()) is None
    tell(alice, "一")
    tell(alice, "二")
    tell(resident("bob"), "别人的")
    page = client.get("/").content.decode()
    assert badge(page) == "2|2条未读消息"
    assert 'class="inbox-link" href="/messages/"' in page


def test_badge_shows_99_plus_above_99(client, alice):
    for i in range(120):
        tell(alice, f"消息{i}")
    assert badge(client.get("/").content.decode()) == "99+|120条未读消息"
    Notification.objects.filter(pk__in=list(Notification.objects.values_list("pk", flat=True)[:21])).update(
        read_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    assert badge(client.get("/").content.decode()) == "99|99条未读消息"


def test_worker_bottom_navigation_has_messages_between_grids_and_me(client, worker):
    tell(worker, "新任务")
    client.force_login(worker)
    page = client.get(reverse("worker:messages")).content.decode()
    nav = page[page.index('class="bottom-nav"'):]
    assert nav.index("网格</a>") < nav.index("消息") < nav.index("我的</a>")
    assert re.search(r'href="/worker/messages/" aria-current="page"', nav)
    assert badge(nav) == "1|1条未读消息"


def test_command_header_shows_the_unread_count(client, dispatcher):
    tell(dispatcher, "时限将到")
    client.force_login(dispatcher)
    page = client.get(reverse("command:home")).content.decode()
    header = page[page.index('class="desk-header"'):page.index("</header>")]
    assert 'href="/command/messages/"' in header and badge(header) == "1|1条未读消息"


def test_anonymous_visitors_cost_no_query(client):
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    # The one query is the home page's public notices (公开事务); nothing about messages.
    assert [q["sql"] for q in queries if "publications_publication" not in q["sql"]] == []
    assert len(queries) == 1 and "unread-badge" not in page and "/messages/" not in page


def test_the_unread_count_is_queried_once_per_page(client, alice):
    tell(alice, "一")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("resident:messages")).content.decode()
    unread_counts = [q["sql"] for q in queries if "notifications_notification" in q["sql"]
                     and "read_at" in q["sql"] and "COUNT" in q["sql"].upper()]
    assert len(unread_counts) == 1
    assert badge(page) == "1|1条未读消息" and "1条未读" in page


# ---- times ----

@pytest.mark.parametrize(("minutes_ago", "expected"), [
    (-2, "刚刚"), (0, "刚刚"), (0.9, "刚刚"), (3, "3分钟前"), (59, "59分钟前"), (60, "1小时前"),
    (5 * 60 + 59, "5小时前"),
    (7 * 60, "今天 08:00"), (16 * 60, "昨天 23:00"), (40 * 60, "2月1日 23:00"), (400 * 24 * 60, "2024年12月30日"),
])
def test_ago_says_times_the_way_people_do_in_shanghai_time(minutes_ago, expected):
    now = datetime.datetime(2026, 2, 3, 7, 0, tzinfo=datetime.UTC)  # 15:00 in Shanghai
    assert ago(now - datetime.timedelta(minutes=minutes_ago), now) == expected
    assert ago(None) == ""


def test_the_inbox_speaks_english_too(client, alice):
    tell(alice, "您反映的问题已受理", case_id=1)
    page = client.get(reverse("resident:messages"), headers={"accept-language": "en"}).content.decode()
    assert "Mark all as read" in page and "just now" in page and "1 unread" in page
    assert 'Open<span class="visually-hidden">: 您反映的问题已受理</span>' in page
    assert badge(page) == "1|1 unread message"
