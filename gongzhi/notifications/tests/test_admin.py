import pytest
from django.test import Client

from gongzhi.notifications import services
from gongzhi.notifications.models import Delivery
from gongzhi.notifications.tests.helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    root = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    return client


def test_notifications_and_deliveries_are_read_only(admin_client, django_capture_on_commit_callbacks):
    alice = make_user("alice", phone="13812345678")
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(recipients=[alice], kind="case.accepted", title="您的诉求已受理",
                                       body="", channels=["sms"])[0]
    delivery = Delivery.objects.get()
    assert "您的诉求已受理" in admin_client.get("/admin/notifications/notification/").content.decode()
    page = admin_client.get(f"/admin/notifications/notification/{notification.pk}/change/").content.decode()
    assert "您的诉求已受理" in page and 'name="title"' not in page and "13812345678" not in page
    assert admin_client.get(f"/admin/notifications/delivery/{delivery.pk}/change/").status_code == 200
    assert admin_client.get("/admin/notifications/notification/add/").status_code == 403
    assert admin_client.get("/admin/notifications/delivery/add/").status_code == 403
    assert admin_client.post(f"/admin/notifications/delivery/{delivery.pk}/delete/").status_code == 403
