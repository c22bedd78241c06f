"""Test helpers for notifications."""

import datetime

from huey.contrib.djhuey import HUEY

from gongzhi.accounts.models import User


def make_user(username: str, *, phone: str = "", is_active: bool = True, **extra) -> User:
    user = User(username=username, real_name=username, phone=phone, is_active=is_active, **extra)
    user.set_unusable_password()
    user.save()
    return user


def run_scheduled_retries(limit: int = 20) -> int:
    """Run the retries Huey scheduled (immediate mode keeps them in memory) until none are left."""
    far_future = datetime.datetime(2100, 1, 1)
    runs = 0
    while runs < limit:
        due = HUEY.read_schedule(far_future)
        if not due:
            return runs
        for task in due:
            HUEY.execute(task, timestamp=far_future)
            runs += 1
    raise AssertionError("retries did not stop")
