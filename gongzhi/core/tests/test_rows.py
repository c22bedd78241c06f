"""Prepared one-row statements (core.rows) give exactly what the ORM gives, and step aside for signals."""

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.models import User
from gongzhi.core.rows import RowByPk, insert_row
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db


def row(model, pk):
    return model.objects.filter(pk=pk).values().get()


def test_an_inserted_row_is_the_row_save_would_write():
    by_save = User(username="a", kind=User.Kind.RESIDENT, real_name="王秀兰", id_number="110101199003074514",
                   phone="13800001111")
    by_save.save()
    by_insert = insert_row(User(username="b", kind=User.Kind.RESIDENT, real_name="王秀兰",
                                id_number="110101199003074530", phone="13800002222"))
    assert by_insert.pk and not by_insert._state.adding
    saved, inserted = row(User, by_save.pk), row(User, by_insert.pk)
    assert inserted["id_number_hash"] and inserted["phone_hash"]  # hashed on the way in, as save() does
    assert inserted["date_joined"] is not None
    assert set(saved) == set(inserted)
    stored = User.objects.get(pk=by_insert.pk)
    assert stored.id_number.reveal() == "110101199003074530" and stored.phone.reveal() == "13800002222"


def test_an_insert_is_one_statement():
    recipient = User.objects.create(username="r")
    with CaptureQueriesContext(connection) as queries:
        insert_row(Notification(recipient=recipient, kind="test", title="标题"))
    assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT")


def test_a_connected_receiver_is_not_skipped():
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.title, created))

    post_save.connect(receiver, sender=Notification)
    try:
        insert_row(Notification(recipient=User.objects.create(username="r"), kind="test", title="通知"))
    finally:
        post_save.disconnect(receiver, sender=Notification)
    assert seen == [("通知", True)]


def test_a_row_read_by_key_is_the_row_get_would_read():
    user = User.objects.create(username="a", kind=User.Kind.RESIDENT, real_name="王秀兰",
                               id_number="110101199003074514", phone="13800001111", is_active=False)
    by_key = RowByPk(User)
    found = by_key.get(user.pk)
    expected = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.is_active is False and found.date_joined == expected.date_joined  # converted, not raw text
    assert not found._state.adding
    assert by_key.get(str(user.pk)).pk == user.pk  # as a session stores it
    assert by_key.get(user.pk + 1) is None
    assert by_key.get("not a number") is None
