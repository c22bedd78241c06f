import pytest
from django.db import IntegrityError, transaction

from gongzhi.core.errors import DomainError
from gongzhi.notifications import selectors, services
from gongzhi.notifications.models import Delivery, Notification
from gongzhi.notifications.tests.helpers import make_user

pytestmark = pytest.mark.django_db


def notify(recipients, **kwargs):
    kwargs.setdefault("kind", "case.accepted")
    kwargs.setdefault("title", "您的诉求已受理")
    kwargs.setdefault("body", "您反映的路灯问题已由八里镇受理。")
    return services.notify(recipients=recipients, **kwargs)


def test_writes_one_inbox_row_per_active_recipient():
    alice, bob = make_user("alice"), make_user("bob")
    gone = make_user("gone", is_active=False)
    written = notify([alice, bob, gone, alice], target_id=12)
    assert sorted(n.recipient_id for n in written) == sorted([alice.pk, bob.pk])
    assert not Notification.objects.filter(recipient=gone).exists()
    row = Notification.objects.get(recipient=alice)
    assert (row.kind, row.title, row.target_type, row.target_id, row.read_at) == (
        "case.accepted", "您的诉求已受理", "case", 12, None)


def test_same_dedupe_key_twice_gives_one_row_per_recipient():
    alice, bob = make_user("alice"), make_user("bob")
    first = notify([alice], dedupe_key="case:1:accepted")
    again = notify([alice, bob], dedupe_key="case:1:accepted")
    assert len(first) == 1
    assert [n.recipient_id for n in again] == [bob.pk]  # only the recipient who did not have it yet
    assert Notification.objects.filter(recipient=alice, dedupe_key="case:1:accepted").count() == 1
    assert Notification.objects.filter(recipient=bob, dedupe_key="case:1:accepted").count() == 1
    assert notify([alice, bob], dedupe_key="case:1:accepted") == []


def test_without_or_with_another_key_every_call_notifies():
    alice = make_user("alice")
    notify([alice])
    notify([alice])
    notify([alice], dedupe_key="case:1:accepted")
    notify([alice], dedupe_key="case:1:dispatched")
    assert Notification.objects.filter(recipient=alice).count() == 4


def test_the_database_itself_refuses_a_second_row_with_the_same_key():
    alice = make_user("alice")
    Notification.objects.create(recipient=alice, kind="x", title="t", dedupe_key="k")
    Notification.objects.create(recipient=alice, kind="x", title="t")  # empty keys never collide
    Notification.objects.create(recipient=alice, kind="x", title="t")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=alice, kind="x", title="t", dedupe_key="k")


def test_no_active_recipients_writes_nothing():
    assert notify([make_user("gone", is_active=False)], channels=["sms"]) == []
    assert notify([]) == []
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(("field", "kwargs"), [
    ("kind", {"kind": "Case Accepted"}),
    ("kind", {"kind": ""}),
    ("title", {"title": "  "}),
    ("title", {"title": "长" * 101}),
    ("kind", {"kind": "case.unheard_of"}),  # not a registered notice type
    ("target_id", {"kind": "system.message", "target_id": 1}),  # a type that opens nothing
    ("channels", {"channels": ["fax"]}),
])
def test_malformed_input_is_refused_and_writes_nothing(field, kwargs):
    alice = make_user("alice")
    with pytest.raises(DomainError) as caught:
        notify([alice], **kwargs)
    assert caught.value.field == field
    assert not Notification.objects.exists()


def test_an_unconfigured_channel_is_skipped(settings):
    settings.NOTIFICATION_CHANNELS = {"sms": "gongzhi.notifications.channels.SmsChannel"}
    alice = make_user("alice", phone="13812345678")
    written = notify([alice], channels=["wechat"])
    assert len(written) == 1
    assert not Delivery.objects.exists()


def test_inbox_is_newest_first_and_counts_unread(django_assert_max_num_queries):
    alice, bob = make_user("alice"), make_user("bob")
    older = notify([alice], title="旧通知")[0]
    newer = notify([alice], title="新通知")[0]
    notify([bob], title="别人的")
    assert list(selectors.inbox_for(alice)) == [newer, older]
    services.mark_read(user=alice, notification_ids=[older.pk])
    assert list(selectors.inbox_for(alice, unread_only=True)) == [newer]
    assert selectors.unread_count(alice) == 1
    with django_assert_max_num_queries(1):
        selectors.unread_count(bob)


def test_an_inactive_user_sees_an_empty_inbox():
    alice = make_user("alice")
    notify([alice])
    alice.is_active = False
    alice.save()
    assert list(selectors.inbox_for(alice)) == []
    assert selectors.unread_count(alice) == 0
