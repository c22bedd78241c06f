"""The reveal-a-number pages of the command and worker portals (one shared view)."""

import datetime

import pytest
from django.contrib.auth.models import Permission

from gongzhi.accounts.models import Role
from gongzhi.core.models import PiiAccessLog
from gongzhi.core.validators import id_check_digit
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

WORKER_PHONE = "13712345678"
HEAD_PHONE = "13912345678"
HEAD_ID = "62110219800101001" + id_check_digit("62110219800101001")


def grant_unmask(user):
    user.user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    return user


@pytest.fixture
def grid_worker(tree, make_staff):
    user = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    user.phone = WORKER_PHONE
    user.save(update_fields=["phone"])
    return user


@pytest.fixture
def head(tree):
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001",
                                    address="小山村一社12号")
    return Resident.objects.create(household=home, name="张三", id_number=HEAD_ID, phone=HEAD_PHONE, gender="M",
                                   birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD)


@pytest.fixture
def dispatcher(client, tree, make_staff):
    user = grant_unmask(make_staff("调度员", tree["town"], Role.DISPATCHER))
    client.force_login(user)
    return user


def url(user, field="phone"):
    return f"/command/pii/user/{user.pk}/{field}/"


def test_unit_page_offers_the_reveal_link_only_with_the_permission(client, tree, make_staff, grid_worker):
    client.force_login(grant_unmask(make_staff("调度员", tree["town"], Role.DISPATCHER)))
    page = client.get(f"/command/units/{tree['grid'].pk}/").content.decode()
    assert "137****5678" in page and WORKER_PHONE not in page
    assert f'href="{url(grid_worker)}?next=/command/units/{tree["grid"].pk}/"' in page
    client.force_login(make_staff("督查", tree["town"], Role.SUPERVISOR))
    page = client.get(f"/command/units/{tree['grid'].pk}/").content.decode()
    assert "137****5678" in page and "/command/pii/" not in page


def test_get_shows_the_masked_number_and_logs_nothing(client, dispatcher, grid_worker):
    response = client.get(url(grid_worker))
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "王网格" in page and "137****5678" in page and WORKER_PHONE not in page
    assert 'value="联系工作"' in page and 'name="reason"' in page
    assert not PiiAccessLog.objects.exists()


def test_a_reason_shows_the_full_number_once_and_logs_one_row(client, dispatcher, grid_worker):
    response = client.post(url(grid_worker) + "?next=/command/", {"purpose": "联系工作", "reason": "通知开会"})
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert WORKER_PHONE in page and "本次查看已记录" in page and 'href="/command/"' in page
    log = PiiAccessLog.objects.get()
    assert (log.actor, log.subject_type, log.subject_id, log.field, log.reason) == (
        dispatcher, "accounts.user", grid_worker.pk, "phone", "联系工作：通知开会")
    assert WORKER_PHONE not in str(dict(client.session))


@pytest.mark.parametrize("data, error", [
    ({"purpose": "", "reason": "  "}, "请填写查看事由。"),
    ({"reason": "很" * 201}, "查看事由不能超过200个字。"),
    ({"purpose": "随便看看"}, "选择一个有效的选项"),  # Django's own (translated) message
])
def test_bad_reasons_are_explained_and_nothing_is_logged(client, dispatcher, grid_worker, data, error):
    page = client.post(url(grid_worker), data).content.decode()
    assert error in page and WORKER_PHONE not in page and 'name="reason"' in page
    assert not PiiAccessLog.objects.exists()


def test_an_unknown_field_is_explained_and_nothing_is_logged(client, dispatcher, grid_worker):
    page = client.post(url(grid_worker, "password"), {"purpose": "核实身份"}).content.decode()
    assert "只能查看身份证号或手机号。" in page and "pbkdf2" not in page and "md5" not in page
    assert not PiiAccessLog.objects.exists()


def test_without_the_permission_403_and_nothing_is_logged(client, tree, make_staff, grid_worker):
    client.force_login(make_staff("督查", tree["town"], Role.SUPERVISOR))
    for response in (client.get(url(grid_worker)), client.post(url(grid_worker), {"purpose": "联系工作"})):
        assert response.status_code == 403
        assert "您没有查看完整个人信息的权限。" in response.content.decode()
    assert not PiiAccessLog.objects.exists()


def test_out_of_scope_404_and_nothing_is_logged(client, tree, make_staff, dispatcher, head):
    stranger = make_staff("far", tree["other_grid"], Role.GRID_WORKER)
    for target in (url(stranger), "/command/pii/resident/999999/phone/", f"/command/pii/household/{head.pk}/phone/"):
        assert client.get(target).status_code == 404
        assert client.post(target, {"purpose": "联系工作"}).status_code == 404
    client.force_login(grant_unmask(make_staff("far-disp", tree["other_town"], Role.DISPATCHER)))
    assert client.post(f"/command/pii/resident/{head.pk}/phone/", {"purpose": "联系工作"}).status_code == 404
    assert not PiiAccessLog.objects.exists()


def test_village_admin_reveals_a_household_head_in_the_worker_portal(client, tree, make_staff, head):
    admin = grant_unmask(make_staff("村管", tree["village"], Role.VILLAGE_ADMIN))
    client.force_login(admin)
    page = client.get(f"/worker/grids/{tree['grid'].pk}/?tab=households").content.decode()
    link = f"/worker/pii/resident/{head.pk}/id_number/?next=/worker/grids/{tree['grid'].pk}/%3Ftab%3Dhouseholds"
    assert f'href="{link}"' in page
    page = client.get(link).content.decode()
    assert "张三" in page and HEAD_ID[:6] + "********" + HEAD_ID[-4:] in page and HEAD_ID not in page
    assert "网格端" in page  # the worker portal's frame, not the command centre's
    page = client.post(link, {"purpose": "核实身份"}).content.decode()
    assert HEAD_ID in page
    log = PiiAccessLog.objects.get()
    assert (log.actor, log.subject_type, log.subject_id, log.field, log.reason) == (
        admin, "registry.resident", head.pk, "id_number", "核实身份")


def test_grid_workers_get_no_reveal_links(client, grid_worker, tree, head):
    client.force_login(grid_worker)
    page = client.get(f"/worker/grids/{tree['grid'].pk}/?tab=households").content.decode()
    assert "张三" in page and "/worker/pii/" not in page
    assert client.get(f"/worker/pii/resident/{head.pk}/phone/").status_code == 403
