"""Writes of a resident's merged messages (see selectors/inbox.py): marking area notices read."""

from __future__ import annotations

import datetime

from django.db import transaction

from gongzhi.accounts.models import User
from gongzhi.publications.models import ReadMark
from gongzhi.publications.selectors.inbox import unread_notices


@transaction.atomic
def mark_notices_read(*, user: User, now: datetime.datetime | None = None) -> int:
    """Mark the area notices still counted unread as read (one ReadMark each, never twice); returns how many."""
    ids = list(unread_notices(user, now).values_list("pk", flat=True))
    if ids:
        ReadMark.objects.bulk_create([ReadMark(user=user, publication_id=pk) for pk in ids], ignore_conflicts=True)
    return len(ids)
