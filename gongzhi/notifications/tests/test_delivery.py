import datetime

import pytest
import time_machine
from huey.contrib.djhuey import HUEY

from gongzhi.accounts.models import DevSmsMessage
from gongzhi.accounts.sms import recent_dev_messages
from gongzhi.notifications import services, tasks, wechat
from gongzhi.notifications.channels import SMS_MAX_LENGTH, DeliveryError
from gongzhi.notifications.models import Delivery, DevWeChatMessage
from gongzhi.notifications.tests.helpers import make_user, run_scheduled_retries

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
BOTH = {"sms": "gongzhi.notifications.channels.SmsChannel",
        "wechat": "gongzhi.notifications.channels.WeChatChannel"}
T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def empty_queue():
    HUEY.flush()
    yield
    HUEY.flush()


def notify(recipients, **kwargs):
    kwargs.setdefault("kind", "case.accepted")
    kwargs.setdefault("title", "您的诉求已受理")
    kwargs.setdefault("body", "您反映的路灯问题已由八里镇受理。")
    kwargs.setdefault("channels", ["sms"])
    return services.notify(recipients=recipients, **kwargs)


def test_sms_goes_out_through_the_console_backend_after_commit(django_capture_on_commit_callbacks):
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify([alice])[0]
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.channel, delivery.status, delivery.attempts) == ("sms", "queued", 0)
    assert not DevSmsMessage.objects.exists()  # nothing is sent before the caller's transaction commits
    assert len(callbacks) == 1

    callbacks[0]()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert delivery.sent_at is not None and delivery.claimed_until is None
    [message] = recent_dev_messages()
    assert message["message"] == "【共治】您的诉求已受理：您反映的路灯问题已由八里镇受理。"
    assert message["masked_phone"] == "138****5678"


def test_long_texts_are_cut_to_one_sms(django_capture_on_commit_callbacks):
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        notify([alice], body="很长的内容。" * 40)
    [message] = recent_dev_messages()
    assert len(message["message"]) == SMS_MAX_LENGTH
    assert message["message"].startswith("【共治】您的诉求已受理：很长的内容。") and message["message"].endswith("…")


def test_a_user_without_a_phone_is_recorded_failed_without_retries(django_capture_on_commit_callbacks):
    alice = make_user("alice")
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([alice])[0]
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.status, delivery.last_error, delivery.attempts) == ("failed", "no_phone", 1)
    assert HUEY.scheduled_count() == 0
    assert not DevSmsMessage.objects.exists()


def test_a_failing_backend_is_retried_then_marked_failed_without_raising(settings,
                                                                        django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "gongzhi.accounts.sms.FailingSmsBackend"
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([alice])[0]  # the caller hears nothing of the failure
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("queued", 1, "sms_send_failed")
    assert HUEY.scheduled_count() == 1  # Huey will retry in a minute

    assert run_scheduled_retries() == 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 4, "sms_send_failed")
    assert delivery.sent_at is None and delivery.claimed_until is None
    assert HUEY.scheduled_count() == 0


def test_a_retry_that_succeeds_sends_once(settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "gongzhi.accounts.sms.FailingSmsBackend"
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([alice])[0]
    settings.SMS_BACKEND = "gongzhi.accounts.sms.ConsoleSmsBackend"  # the provider is back
    assert run_scheduled_retries() == 1
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert DevSmsMessage.objects.count() == 1


def test_running_send_delivery_twice_sends_once(django_capture_on_commit_callbacks):
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([alice])[0]
    delivery = Delivery.objects.get(notification=notification)
    assert tasks.send_delivery.call_local(delivery.pk) == "sent"
    assert tasks.send_delivery.call_local(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert DevSmsMessage.objects.count() == 1


def test_a_delivery_claimed_by_another_worker_is_not_sent_again(django_capture_on_commit_callbacks):
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=False):
        notification = notify([alice])[0]
    delivery = Delivery.objects.get(notification=notification)
    with time_machine.travel(T0, tick=False):
        Delivery.objects.filter(pk=delivery.pk).update(claimed_until=T0 + services.CLAIM_FOR, attempts=1)
        assert services.deliver(delivery_id=delivery.pk) == "queued"
        assert not DevSmsMessage.objects.exists()
    # The claim runs out (the other worker died mid-send): the row may be sent again.
    with time_machine.travel(T0 + services.CLAIM_FOR, tick=False):
        assert services.deliver(delivery_id=delivery.pk) == "sent"
    assert DevSmsMessage.objects.count() == 1


def test_a_missing_delivery_is_ignored():
    assert services.deliver(delivery_id=123456) == ""


def test_a_recipient_deactivated_before_sending_gets_nothing(django_capture_on_commit_callbacks):
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify([alice])[0]
    alice.is_active = False
    alice.save()
    callbacks[0]()
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.status, delivery.last_error) == ("failed", "recipient_inactive")
    assert not DevSmsMessage.objects.exists()


def test_a_channel_removed_from_settings_before_sending_fails_cleanly(settings,
                                                                      django_capture_on_commit_callbacks):
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify([alice])[0]
    settings.NOTIFICATION_CHANNELS = {}
    callbacks[0]()
    assert Delivery.objects.get(notification=notification).last_error == "channel_not_configured"


def test_an_unexpected_backend_error_is_recorded_by_class_name_only(monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    from gongzhi.accounts import sms

    def explode(self, phone, message):
        raise RuntimeError(f"provider rejected {phone}")

    monkeypatch.setattr(sms.ConsoleSmsBackend, "send", explode)
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([alice])[0]
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.status, delivery.last_error) == ("queued", "error:RuntimeError")
    assert PHONE not in delivery.last_error and delivery.claimed_until is None


def test_deliver_raises_for_the_task_to_retry(settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "gongzhi.accounts.sms.FailingSmsBackend"
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=False):
        notification = notify([alice])[0]
    delivery = Delivery.objects.get(notification=notification)
    for _attempt in range(services.MAX_ATTEMPTS - 1):
        with pytest.raises(DeliveryError):
            services.deliver(delivery_id=delivery.pk)
    assert services.deliver(delivery_id=delivery.pk) == "failed"
    assert services.deliver(delivery_id=delivery.pk) == "failed"  # and stays so
    delivery.refresh_from_db()
    assert delivery.attempts == services.MAX_ATTEMPTS


def test_wechat_development_backend_records_the_message(settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_CHANNELS = BOTH
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([alice], channels=["sms", "wechat", "sms"], target_id=1)[0]
    assert sorted(Delivery.objects.filter(notification=notification).values_list("channel", "status")) == [
        ("sms", "sent"), ("wechat", "sent")]
    [message] = wechat.recent_dev_messages()
    assert message == {"recipient_id": alice.pk, "title": "您的诉求已受理", "body": "您反映的路灯问题已由八里镇受理。",
                       "link": "/cases/1/", "sent_at": DevWeChatMessage.objects.get().sent_at}


def test_wechat_failures_are_retried_like_sms(settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_CHANNELS = BOTH
    settings.WECHAT_BACKEND = "gongzhi.notifications.wechat.FailingWeChatBackend"
    alice = make_user("alice")
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify([alice], channels=["wechat"])[0]
    run_scheduled_retries()
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 4, "wechat_send_failed")


def test_development_wechat_messages_are_hidden_in_production(settings):
    settings.SHOW_DEV_SMS_PAGE = False
    from gongzhi.core.errors import NotFound

    with pytest.raises(NotFound):
        wechat.recent_dev_messages()


def test_deduplicated_calls_queue_no_second_delivery(django_capture_on_commit_callbacks):
    alice = make_user("alice", phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        notify([alice], dedupe_key="case:1:accepted")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify([alice], dedupe_key="case:1:accepted")
    assert callbacks == []
    assert Delivery.objects.count() == 1 and DevSmsMessage.objects.count() == 1


class TestRequeueSweep:
    def _queued(self, user, moment, capture):
        """A delivery queued at `moment` whose task was lost (its on_commit callback never runs)."""
        with time_machine.travel(moment, tick=False), capture(execute=False):
            notification = notify([user])[0]
        return Delivery.objects.get(notification=notification)

    def test_requeues_only_stale_queued_rows_and_is_idempotent(self, django_capture_on_commit_callbacks):
        capture = django_capture_on_commit_callbacks
        alice = make_user("alice", phone=PHONE)
        stale = self._queued(alice, T0, capture)
        fresh = self._queued(alice, T0 + datetime.timedelta(minutes=10), capture)
        sent = self._queued(alice, T0, capture)
        failed = self._queued(alice, T0, capture)
        held = self._queued(alice, T0, capture)
        Delivery.objects.filter(pk=sent.pk).update(status="sent")
        Delivery.objects.filter(pk=failed.pk).update(status="failed")
        now = T0 + services.STALE_AFTER + datetime.timedelta(minutes=1)
        Delivery.objects.filter(pk=held.pk).update(claimed_until=now + datetime.timedelta(minutes=1))

        with time_machine.travel(now, tick=False):
            with capture(execute=False) as callbacks:
                assert tasks.requeue_stale_deliveries.call_local() == 1
            assert len(callbacks) == 1
            stale.refresh_from_db()
            assert stale.queued_at == now
            # A doubled run changes nothing.
            with capture(execute=False) as again:
                assert services.requeue_stale_deliveries() == 0
            assert again == []
            callbacks[0]()
        stale.refresh_from_db()
        assert stale.status == "sent"
        assert DevSmsMessage.objects.count() == 1
        for row, status in ((fresh, "queued"), (sent, "sent"), (failed, "failed"), (held, "queued")):
            row.refresh_from_db()
            assert row.status == status

    def test_a_row_still_lost_is_requeued_again_later(self, django_capture_on_commit_callbacks):
        capture = django_capture_on_commit_callbacks
        self._queued(make_user("alice", phone=PHONE), T0, capture)
        later = T0 + services.STALE_AFTER
        with time_machine.travel(later, tick=False), capture(execute=False):
            assert services.requeue_stale_deliveries() == 1
        with time_machine.travel(later + datetime.timedelta(minutes=5), tick=False), capture(execute=False):
            assert services.requeue_stale_deliveries() == 0
        with time_machine.travel(later + services.STALE_AFTER, tick=False), capture(execute=False):
            assert services.requeue_stale_deliveries() == 1
