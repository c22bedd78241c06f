"""Notices and urgent alerts (M24): an alert reaches its area's residents at once in their messages (by query)
and once each by SMS through a background task, with counts for its sender; a withdrawn alert is gone."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.accounts.models import DevSmsMessage, Membership, Role, User
from gongzhi.cases.factories import make_resident
from gongzhi.notifications import services as notification_services
from gongzhi.publications import tasks
from gongzhi.publications.factories import published
from gongzhi.publications.models import AlertDelivery, AlertSms, ReadMark
from gongzhi.publications.selectors import alerts as alert_selectors
from gongzhi.publications.selectors import inbox as inbox_selectors
from gongzhi.publications.services import alerts as alert_services
from gongzhi.publications.services import core
from gongzhi.publications.services import inbox as inbox_services

pytestmark = pytest.mark.django_db

SENT: list[tuple[str, str]] = []


class CountingSms:
    """An SMS backend that only keeps what it was given (fast, for many texts)."""

    def send(self, phone: str, message: str) -> None:
        SENT.append((phone, message))


def _with_phone(user: User, phone: str) -> User:
    user.phone = phone
    user.save()
    return user


@pytest.fixture
def phones(pub):
    """Phones for the village's two residents and 大湾村's; a third 小山村 resident without one."""
    _with_phone(pub.resident, "13800000001")
    _with_phone(pub.neighbour, "13800000002")
    _with_phone(pub.village2_resident, "13800000003")
    _with_phone(pub.other_town_resident, "13800000004")
    return make_resident("pub_nophone", "孙老汉", pub.tree["grid"])


def _alert(pub, audience=None, **fields):
    fields.setdefault("title", "寻人启事：小山村走失老人")
    fields.setdefault("body", "王大爷，78岁，身穿蓝色棉袄，今早离家未归。有线索请联系村委会。")
    return published(pub.dispatcher, "alert", pub.tree["town"], audience or pub.tree["village"], **fields)


def _sees(pub, item):
    people = {"resident": pub.resident, "neighbour": pub.neighbour, "village2": pub.village2_resident,
              "other_town": pub.other_town_resident, "unverified": pub.unverified, "anonymous": AnonymousUser(),
              "dispatcher": pub.dispatcher}
    inbox = {name for name, user in people.items() if inbox_selectors.area_notices(user).filter(pk=item.pk).exists()}
    banner = {name for name, user in people.items() if item in alert_selectors.live_alerts(user)}
    assert inbox == banner
    return inbox


def test_an_alert_is_at_once_in_the_area_residents_inbox_and_banner_only(pub, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        item = _alert(pub)
    # Before any task ran: it is read by query, nothing was written per resident.
    assert _sees(pub, item) == {"resident", "neighbour"}
    assert not AlertSms.objects.exists()
    town_item = _alert(pub, pub.tree["town"], title="防汛预警：今夜有暴雨")
    assert _sees(pub, town_item) == {"resident", "neighbour", "village2"}
    entries = inbox_selectors.merged_inbox(pub.resident)[0:20]
    assert [e.title for e in entries] == ["防汛预警：今夜有暴雨", "寻人启事：小山村走失老人"]
    assert all(e.is_notice and e.is_alert and not e.is_read for e in entries)
    assert inbox_selectors.unread_total(pub.resident) == 2
    assert inbox_selectors.unread_total(pub.unverified) == 0


def test_a_withdrawn_or_ended_alert_is_gone(pub):
    item = _alert(pub, publish_until=timezone.now() + datetime.timedelta(hours=6))
    assert _sees(pub, item) == {"resident", "neighbour"}
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=7)):
        assert _sees(pub, item) == set()
    core.withdraw(actor=pub.dispatcher, publication=item, reason="老人已找到")
    assert _sees(pub, item) == set()
    assert inbox_selectors.unread_total(pub.resident) == 0


def test_texts_are_queued_once_per_resident_with_a_phone_even_if_the_task_runs_twice(
        pub, phones, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = _alert(pub)
    texts = sorted(DevSmsMessage.objects.values_list("message", flat=True))
    assert len(texts) == 2 and texts[0].startswith("【共治】寻人启事：小山村走失老人：王大爷")
    delivery = AlertDelivery.objects.get(publication=item)
    assert (delivery.state, delivery.recipients, delivery.queued, delivery.sent, delivery.failed) == (
        AlertDelivery.State.DONE, 3, 2, 2, 0)
    assert set(AlertSms.objects.values_list("recipient__username", flat=True)) == {"pub_res", "pub_res2"}
    # The task again (a doubled enqueue), and again as if the first run had been lost half-way.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.queue_alert_sms.call_local(item.pk)
        AlertDelivery.objects.filter(pk=delivery.pk).update(state=AlertDelivery.State.QUEUING, cursor=0)
        tasks.queue_alert_sms.call_local(item.pk)
        ids = list(AlertSms.objects.order_by("id").values_list("id", flat=True))
        tasks.send_alert_sms.call_local(item.pk, ids[0], ids[-1])
    assert DevSmsMessage.objects.count() == 2 and AlertSms.objects.count() == 2
    delivery.refresh_from_db()
    assert (delivery.queued, delivery.sent, delivery.failed, delivery.state) == (2, 2, 0, AlertDelivery.State.DONE)


def test_a_provider_failure_is_retried_then_counted_failed(pub, phones, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "gongzhi.accounts.sms.FailingSmsBackend"
    with django_capture_on_commit_callbacks(execute=False):
        item = _alert(pub)
    alert_services.queue_sms(publication_id=item.pk)
    ids = list(AlertSms.objects.order_by("id").values_list("id", flat=True))
    for _attempt in range(alert_services.MAX_ATTEMPTS - 1):
        with pytest.raises(alert_services.RetryLater):
            alert_services.send_batch(publication_id=item.pk, first_id=ids[0], last_id=ids[-1])
    assert alert_services.send_batch(publication_id=item.pk, first_id=ids[0], last_id=ids[-1])["failed"] == 2
    delivery = AlertDelivery.objects.get(publication=item)
    assert (delivery.queued, delivery.sent, delivery.failed, delivery.state) == (2, 0, 2, AlertDelivery.State.DONE)
    assert set(AlertSms.objects.values_list("last_error", flat=True)) == {"sms_send_failed"}
    # A later run sends nothing more.
    assert alert_services.send_batch(publication_id=item.pk, first_id=ids[0], last_id=ids[-1])["sent"] == 0


def test_withdrawing_an_alert_cancels_its_unsent_texts(pub, phones, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        item = _alert(pub)
    with django_capture_on_commit_callbacks(execute=False) as sending:
        alert_services.queue_sms(publication_id=item.pk)
    core.withdraw(actor=pub.dispatcher, publication=item, reason="老人已找到")
    for callback in sending:
        callback()
    assert not DevSmsMessage.objects.exists()
    delivery = AlertDelivery.objects.get(publication=item)
    assert (delivery.queued, delivery.sent, delivery.cancelled, delivery.state) == (2, 0, 2, AlertDelivery.State.DONE)


def test_an_alert_nobody_in_the_area_can_be_texted_is_done_at_once(pub, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = _alert(pub)
    delivery = AlertDelivery.objects.get(publication=item)
    assert (delivery.recipients, delivery.queued, delivery.state) == (2, 0, AlertDelivery.State.DONE)


def test_only_reviewers_send_alerts_and_only_the_sender_side_sees_the_counts(pub):
    from gongzhi.core.errors import Forbidden

    with pytest.raises(Forbidden):
        core.create_draft(actor=pub.village_station, kind="alert", author_unit=pub.tree["village"], title="x")
    item = _alert(pub)
    from gongzhi.publications import kinds

    assert kinds.context_for("staff", pub.dispatcher, item)["delivery"].publication_id == item.pk
    draft = core.create_draft(actor=pub.dispatcher, kind="alert", author_unit=pub.tree["town"], title="草稿")
    assert kinds.context_for("staff", pub.dispatcher, draft) == {"delivery": None}


def test_lost_work_is_resumed(pub, phones, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        item = _alert(pub)
    with time_machine.travel(timezone.now() + alert_services.STALE_AFTER + datetime.timedelta(minutes=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert alert_services.resume_stale()["alerts"] == 1
    assert DevSmsMessage.objects.count() == 2
    assert AlertDelivery.objects.get(publication=item).sent == 2


def test_the_inbox_merges_messages_and_notices_with_read_state(pub):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=40)):
        old = published(pub.village_admin, "news", pub.tree["village"], title="去年的村情动态")
    notification_services.notify(recipients=[pub.resident], kind="system.message", title="您的事件已受理", body="")
    safety = published(pub.village_admin, "safety", pub.tree["village"], title="防电诈：不要轻信陌生来电")
    published(pub.village_admin, "board", pub.tree["village"], reviewer=pub.dispatcher)  # not an inbox kind
    entries = inbox_selectors.merged_inbox(pub.resident)[0:20]
    assert [(e.source, e.title, e.is_read) for e in entries] == [
        ("notice", "防电诈：不要轻信陌生来电", False), ("message", "您的事件已受理", False),
        ("notice", "去年的村情动态", True)]
    assert inbox_selectors.merged_inbox(pub.resident).count() == 3
    assert inbox_selectors.unread_total(pub.resident) == 2
    core.mark_read(user=pub.resident, publication=safety)
    assert inbox_selectors.unread_total(pub.resident) == 1
    assert inbox_services.mark_notices_read(user=pub.resident) == 0
    assert not ReadMark.objects.filter(publication=old).exists()
    # Pages: the second page of one-item pages is the message.
    assert [e.title for e in inbox_selectors.merged_inbox(pub.resident)[1:2]] == ["您的事件已受理"]


def test_the_inbox_query_is_a_few_indexed_queries_whatever_the_area(pub):
    for n in range(30):
        published(pub.village_admin, "news", pub.tree["village"], title=f"村情动态{n}")
    with CaptureQueriesContext(connection) as queries:
        list(inbox_selectors.merged_inbox(pub.resident)[0:20])
        inbox_selectors.unread_total(pub.resident)
    assert len(queries) <= 5  # posts, messages, notices, two counts
    notices_sql = next(q["sql"] for q in queries.captured_queries if "publications_readmark" in q["sql"])
    assert "audience_path" in notices_sql and " IN (" in notices_sql


def test_a_township_of_50000_residents_gets_the_alert_in_every_inbox_and_all_texts_queued(
        pub, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "gongzhi.publications.tests.test_alerts.CountingSms"
    SENT.clear()
    grids = [pub.tree["grid"], pub.tree["grid2"], pub.tree["grid3"]]
    n = 50_000
    users = User.objects.bulk_create(
        [User(username=f"bulk{i:05d}", kind=User.Kind.RESIDENT, real_name=f"居民{i}", password="!",
              phone=f"139{i:08d}" if i % 10 else "") for i in range(n)], batch_size=2000)
    if users[0].pk is None:  # databases that do not return ids from a bulk insert
        users = list(User.objects.filter(username__startswith="bulk").order_by("username"))
    Membership.objects.bulk_create([Membership(user=u, unit=grids[i % 3], role=Role.RESIDENT)
                                    for i, u in enumerate(users)], batch_size=2000)
    if connection.vendor == "postgresql":
        # What autovacuum does after a load this size: without it the planner takes the tables for empty and
        # joins 50,000 posts to 50,000 accounts row by row (minutes).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_user, accounts_membership")
    batches: list[tuple[int, int, int]] = []  # the sending tasks queued (run below, one of them)
    monkeypatch.setattr(alert_services, "_enqueue_sending", lambda *span: batches.append(span))
    with django_capture_on_commit_callbacks(execute=True):
        item = _alert(pub, pub.tree["town"], title="防汛预警：今夜有暴雨，请勿靠近河道")
    sample = User.objects.filter(username__in=["bulk00001", "bulk25000", "bulk49999"])
    assert all(inbox_selectors.area_notices(u).filter(pk=item.pk).exists() for u in sample)
    delivery = AlertDelivery.objects.get(publication=item)
    with_phone = n - n // 10  # the world's three town residents have no phone
    assert delivery.recipients == n + 3
    assert (delivery.queued, delivery.sent, delivery.state) == (with_phone, 0, AlertDelivery.State.SENDING)
    assert AlertSms.objects.values("recipient_id").distinct().count() == with_phone
    assert len(batches) == -(-with_phone // alert_services.BATCH)
    assert sum(AlertSms.objects.filter(id__gte=first, id__lte=last).count() for _p, first, last in batches) \
        == with_phone  # every text is in one queued batch
    alert_services.send_batch(publication_id=item.pk, first_id=batches[0][1], last_id=batches[0][2])
    delivery.refresh_from_db()
    assert delivery.sent == len(SENT) == alert_services.BATCH and len({phone for phone, _text in SENT}) == len(SENT)


def test_the_demo_notices(pub):
    from gongzhi.demo import publications_alerts as demo
    from gongzhi.publications.models import Publication, Status

    made = demo.load([pub.tree["town"]], seed=3)
    # Two villages × 5 months × 3 kinds, the township's two a month, one alert.
    assert made == 2 * demo.MONTHS * 3 + 2 * demo.MONTHS + 1 == Publication.objects.count()
    assert set(Publication.objects.values_list("status", flat=True)) == {Status.PUBLISHED}
    alert = Publication.objects.get(kind="alert")
    assert not alert.is_live() and alert.title.startswith("寻人启事")
    assert inbox_selectors.merged_inbox(pub.resident).count() == demo.MONTHS * 3 + demo.MONTHS * 2  # 村 and 镇
    assert alert_selectors.live_alerts(pub.resident) == []
    assert demo.load([pub.tree["town"]], seed=3) == made  # a second township run makes as many again


def test_texts_a_lost_worker_left_queued_are_sent_by_the_sweep(pub, phones, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        item = _alert(pub)
        alert_services.queue_sms(publication_id=item.pk)  # its sending tasks are lost
    assert AlertDelivery.objects.get(publication=item).state == AlertDelivery.State.SENDING
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_services.resume_stale() == {"alerts": 0, "texts": 0}  # not stale yet
    with time_machine.travel(timezone.now() + alert_services.STALE_AFTER + datetime.timedelta(minutes=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert alert_services.resume_stale() == {"alerts": 0, "texts": 2}
    assert DevSmsMessage.objects.count() == 2
    delivery = AlertDelivery.objects.get(publication=item)
    assert (delivery.sent, delivery.state) == (2, AlertDelivery.State.DONE)


def test_an_alert_published_for_later_is_texted_when_it_starts(pub, phones, django_capture_on_commit_callbacks):
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    start = timezone.now() + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        item = _alert(pub, publish_from=start)
    assert not DevSmsMessage.objects.exists() and HUEY.scheduled_count() == 1
    assert _sees(pub, item) == set()
    with time_machine.travel(start + datetime.timedelta(minutes=1)):
        assert _sees(pub, item) == {"resident", "neighbour"}
        with django_capture_on_commit_callbacks(execute=True):
            tasks.queue_alert_sms.call_local(item.pk)
    assert DevSmsMessage.objects.count() == 2
    HUEY.flush()
