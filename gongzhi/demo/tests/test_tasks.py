"""The demo's task lists (demo.tasks): every state and colour, written through the services at past moments."""

import datetime
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from gongzhi.analytics import selectors
from gongzhi.analytics.models import Task, TaskAttachment, TaskLog
from gongzhi.demo import tasks as demo
from gongzhi.demo.tests.test_cases import make_township

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Wednesday


def test_the_demo_tasks_show_every_state_and_colour(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    township = make_township()
    made = demo.make_demo_tasks(now=NOW)
    assert made == Task.objects.count() >= 9
    assert Counter(Task.objects.values_list("status", flat=True)) == Counter({
        "in_progress": 4, "not_started": 1, "done": 2, "submitted": 1, "cancelled": 1})
    flags = Counter(selectors.flag_of(t, today=NOW.date(), soon=selectors.due_soon_until(NOW))
                    for t in Task.objects.all())
    assert flags["red"] == 1 and flags["yellow"] == 1 and flags["green"] == 2
    assert Task.objects.filter(parent__isnull=False, owner_path__startswith=township.path).count() == 2
    assert TaskAttachment.objects.filter(kind="photo").count() == 2
    assert TaskLog.objects.filter(action="overdue").count() == 1  # the sweep ran at the end
    assert Task.objects.get(title="安全生产大检查").on_time is False
    assert Task.objects.get(title="防汛检查").on_time is True
    assert demo.make_demo_tasks(now=NOW) == 0  # not twice
