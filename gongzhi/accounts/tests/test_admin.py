import pytest
from django.test import Client

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.tests.helpers import make_resident_account, valid_id
from gongzhi.core.models import PiiAccessLog

pytestmark = pytest.mark.django_db

ID = valid_id()
PHONE = "13812345678"


@pytest.fixture
def admin_client(tree, make_staff):
    root = make_staff("root", tree["city"], Role.SYSTEM_ADMIN)
    User.objects.filter(pk=root.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    return client


def test_user_list_shows_numbers_masked_and_finds_them_by_hash(admin_client, tree):
    make_resident_account(id_number=ID, phone=PHONE, grid=tree["grid"], name="王秀英")
    page = admin_client.get("/admin/accounts/user/", {"q": "+86 138 1234 5678"}).content.decode()
    assert "王秀英" in page and "138****5678" in page and PHONE not in page and ID not in page
    assert "王秀英" not in admin_client.get("/admin/accounts/user/", {"q": "13900000000"}).content.decode()


def test_user_change_page_never_puts_a_number_in_a_form_field(admin_client, tree):
    user = make_resident_account(id_number=ID, phone=PHONE, grid=tree["grid"])
    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "138****5678" in page and PHONE not in page and 'name="phone"' not in page


def test_admin_login_is_delayed_like_the_staff_login(tree, make_staff):
    user = make_staff("boss", tree["town"], Role.DISPATCHER)
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    page = client.post("/admin/login/", {"username": "boss", "password": "Gongzhi#2026"}).content.decode()
    assert "尝试次数过多" in page
    assert "_auth_user_id" not in client.session
    # Another address is not held up.
    other = Client(REMOTE_ADDR="198.51.100.3")
    other.post("/admin/login/", {"username": "boss", "password": "Gongzhi#2026"})
    assert "_auth_user_id" in other.session


def test_access_log_is_read_only(admin_client, tree):
    actor = User.objects.get(username="root")
    row = PiiAccessLog.objects.create(actor=actor, subject_type="accounts.user", subject_id=1, field="phone",
                                      reason="核实")
    assert admin_client.get("/admin/core/piiaccesslog/").status_code == 200
    assert admin_client.get("/admin/core/piiaccesslog/add/").status_code == 403
    assert admin_client.post(f"/admin/core/piiaccesslog/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PiiAccessLog.objects.filter(pk=row.pk).exists()
