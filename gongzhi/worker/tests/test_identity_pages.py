"""The village's identity desk in the worker portal: the 当面核验 queue and re-binding a phone."""

import datetime

import pytest
from django.urls import reverse

from gongzhi.accounts import selectors
from gongzhi.accounts.models import AccountEvent, Role, User
from gongzhi.accounts.tests.helpers import last_code, make_resident_account, valid_id
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

ID = valid_id(birth="19700506", seq="222")


@pytest.fixture
def waiting(tree):
    """王秀英 is in the register; an account claiming her ID number signed up on another phone."""
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H001", address="小山村1号")
    Resident.objects.create(household=home, name="王秀英", id_number=ID, phone="13900000000", gender="F",
                            birth_date=datetime.date(1970, 5, 6), relation=Resident.Relation.HEAD)
    return make_resident_account(id_number=ID, phone="13700000000", name="王秀英")


@pytest.fixture
def desk(client, tree, make_staff):
    client.force_login(make_staff("va", tree["village"], Role.VILLAGE_ADMIN))
    return client


def test_the_village_admin_sees_the_queue_masked_and_verifies_in_person(desk, waiting):
    home = desk.get(reverse("worker:home")).content.decode()
    assert "1人待核验" in home
    page = desk.get(reverse("worker:identity")).content.decode()
    assert "王秀英" in page and "137****0000" in page and "139****0000" in page and "13700000000" not in page
    response = desk.post(reverse("worker:identity_verify", args=[waiting.pk]), {"reason": "查验身份证原件"})
    assert response.status_code == 302
    assert selectors.is_verified_household_head(User.objects.get(pk=waiting.pk))
    assert "已核实王秀英的身份" in desk.get(response["Location"]).content.decode()


def test_a_missing_reason_is_shown_at_its_field_and_changes_nothing(desk, waiting):
    response = desk.post(reverse("worker:identity_verify", args=[waiting.pk]), {"reason": " "})
    assert response.status_code == 422
    page = response.content.decode()
    assert "请填写核验方式" in page and f'id="v{waiting.pk}-reason"' in page
    assert not selectors.is_verified_resident(User.objects.get(pk=waiting.pk))


def test_rebinding_a_phone_from_the_desk(desk, waiting, tree):
    owner = make_resident_account(id_number=valid_id(seq="333"), phone="13600000000", name="李四")
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H002", address="小山村2号")
    Resident.objects.create(household=home, name="李四", id_number=valid_id(seq="333"), phone="13600000000",
                            gender="M", birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD,
                            user=owner)
    url = reverse("worker:identity_rebind")
    typed = {"id_number": valid_id(seq="333"), "phone": "13500000000", "reason": "原手机丢失"}
    bad = desk.post(url, {**typed, "phone": "1", "send_code": "1"})
    assert bad.status_code == 422 and "手机号" in bad.content.decode()
    page = desk.post(url, {**typed, "send_code": "1"})
    assert page.status_code == 200 and "验证码已发送到135****0000" in page.content.decode()
    assert 'value="原手机丢失"' in page.content.decode()  # what was typed stays for the second press
    wrong = desk.post(url, {**typed, "code": "000000" if last_code("13500000000") != "000000" else "111111"})
    assert wrong.status_code == 422 and "验证码错误" in wrong.content.decode()
    assert User.objects.get(pk=owner.pk).phone == "13600000000"
    response = desk.post(url, {**typed, "code": last_code("13500000000")})
    assert response.status_code == 302
    assert User.objects.get(pk=owner.pk).phone == "13500000000"
    assert AccountEvent.objects.filter(user=owner, kind=AccountEvent.Kind.PHONE_REBOUND).count() == 1


@pytest.mark.parametrize("role,unit", [(Role.GRID_WORKER, "grid"), (Role.VILLAGE_ADMIN, "village2")])
def test_others_cannot_see_or_verify(client, tree, make_staff, waiting, role, unit):
    client.force_login(make_staff("other", tree[unit], role))
    if role == Role.GRID_WORKER:
        assert client.get(reverse("worker:identity")).status_code == 404
        assert client.post(reverse("worker:identity_rebind"), {"id_number": ID}).status_code == 404
    else:
        assert "王秀英" not in client.get(reverse("worker:identity")).content.decode()
    assert client.post(reverse("worker:identity_verify", args=[waiting.pk]),
                       {"reason": "查验身份证原件"}).status_code == 404
    assert not selectors.is_verified_resident(User.objects.get(pk=waiting.pk))
