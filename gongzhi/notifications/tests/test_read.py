import datetime

import pytest
import time_machine

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.notifications import services
from gongzhi.notifications.models import Notification
from gongzhi.notifications.tests.helpers import make_user

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)


def note(user, title="通知"):
    return services.notify(recipients=[user], kind="case.accepted", title=title, body="")[0]


def test_mark_read_marks_only_unread_and_keeps_the_first_read_time():
    alice = make_user("alice")
    first, second = note(alice), note(alice)
    with time_machine.travel(T0, tick=False):
        assert services.mark_read(user=alice, notification_ids=[first.pk]) == 1
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        assert services.mark_read(user=alice, notification_ids=[first.pk, second.pk]) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at == T0
    assert second.read_at == T0 + datetime.timedelta(hours=1)
    assert services.mark_read(user=alice, notification_ids=[]) == 0


def test_mark_read_cannot_touch_another_users_rows():
    alice, bob = make_user("alice"), make_user("bob")
    mine, theirs = note(alice), note(bob)
    with pytest.raises(NotFound):
        services.mark_read(user=alice, notification_ids=[theirs.pk])
    # All or nothing: with a foreign (or missing) id in the list, even the caller's own stay unread.
    with pytest.raises(NotFound):
        services.mark_read(user=alice, notification_ids=[mine.pk, theirs.pk])
    with pytest.raises(NotFound):
        services.mark_read(user=alice, notification_ids=[mine.pk, 999_999])
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_mark_read_refuses_too_many_ids():
    alice = make_user("alice")
    with pytest.raises(DomainError) as caught:
        services.mark_read(user=alice, notification_ids=range(1, services.MAX_READ_IDS + 2))
    assert caught.value.field == "ids"


def test_mark_all_read_touches_only_the_callers_rows():
    alice, bob = make_user("alice"), make_user("bob")
    note(alice)
    note(alice)
    theirs = note(bob)
    assert services.mark_all_read(user=alice) == 2
    assert services.mark_all_read(user=alice) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_inactive_user_marks_nothing():
    alice = make_user("alice")
    mine = note(alice)
    alice.is_active = False
    alice.save()
    assert services.mark_all_read(user=alice) == 0
    with pytest.raises(NotFound):
        services.mark_read(user=alice, notification_ids=[mine.pk])
