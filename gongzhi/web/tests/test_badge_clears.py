"""Opening a case reads the messages about it: the badge stops counting what the user has just looked at."""

import pytest

from gongzhi.cases.factories import report
from gongzhi.notifications import selectors as notification_selectors
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _message(user, case):
    return Notification.objects.create(recipient=user, kind="case.test", title="事件有新进展",
                                       target_type="case", target_id=case.pk)


@pytest.mark.parametrize("who,url", [("resident", "/cases/{pk}/"), ("grid_worker", "/worker/cases/{pk}/"),
                                     ("dispatcher", "/command/cases/{pk}/")])
def test_opening_the_case_clears_its_messages_and_only_those(client, people, cats, who, url):
    user = people[who]
    case, other = report(people["resident"], cats["env"]), report(people["resident"], cats["env"])
    Notification.objects.filter(recipient=user).delete()  # what reporting sent: not this test's
    about, elsewhere = _message(user, case), _message(user, other)
    someone_elses = _message(people["neighbour"], case)
    client.force_login(user)
    page = client.get(url.format(pk=case.pk))
    assert page.status_code == 200
    assert notification_selectors.unread_count(user) == 1
    assert Notification.objects.get(pk=about.pk).read_at is not None
    assert Notification.objects.get(pk=elsewhere.pk).read_at is None
    assert Notification.objects.get(pk=someone_elses.pk).read_at is None
