import pytest
from django.contrib.auth.models import Permission

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.accounts.services import reveal_pii
from gongzhi.accounts.tests.helpers import make_resident_account, valid_id
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.models import PiiAccessLog

pytestmark = pytest.mark.django_db

ID = valid_id()
PHONE = "13512345678"


def grant_unmask(user):
    user.user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    return type(user).objects.get(pk=user.pk)  # fresh object: permissions are cached per instance


@pytest.fixture
def subject(tree):
    return make_resident_account(id_number=ID, phone=PHONE, grid=tree["grid"])


def test_permitted_staff_in_scope_sees_the_number_and_one_row_is_logged(tree, make_staff, subject):
    actor = grant_unmask(make_staff("gw", tree["grid"], Role.GRID_WORKER))
    assert reveal_pii(actor=actor, subject=subject, field="id_number", reason="核实低保申请") == ID
    log = PiiAccessLog.objects.get()
    assert (log.actor, log.subject_type, log.subject_id, log.field, log.reason) == (
        actor, "accounts.user", subject.pk, "id_number", "核实低保申请")
    assert reveal_pii(actor=actor, subject=subject, field="phone", reason="回访") == PHONE
    assert PiiAccessLog.objects.count() == 2


def test_without_the_permission_forbidden(tree, make_staff, subject):
    actor = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    with pytest.raises(Forbidden):
        reveal_pii(actor=actor, subject=subject, field="phone", reason="回访")
    assert not PiiAccessLog.objects.exists()


def test_out_of_scope_not_found_even_with_the_permission(tree, make_staff, subject):
    actor = grant_unmask(make_staff("gw2", tree["grid2"], Role.GRID_WORKER))
    with pytest.raises(NotFound):
        reveal_pii(actor=actor, subject=subject, field="phone", reason="回访")
    unpermitted = make_staff("far", tree["other_town"], Role.DISPATCHER)
    with pytest.raises(NotFound):  # not Forbidden: that would confirm the person exists
        reveal_pii(actor=unpermitted, subject=subject, field="phone", reason="回访")
    assert not PiiAccessLog.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", "很" * 201])
def test_reason_is_required_and_bounded(tree, make_staff, subject, reason):
    actor = grant_unmask(make_staff("disp", tree["town"], Role.DISPATCHER))
    with pytest.raises(DomainError) as exc:
        reveal_pii(actor=actor, subject=subject, field="phone", reason=reason)
    assert exc.value.field == "reason" and not PiiAccessLog.objects.exists()


def test_only_id_or_phone_fields(tree, make_staff, subject):
    actor = grant_unmask(make_staff("disp", tree["town"], Role.DISPATCHER))
    with pytest.raises(DomainError):
        reveal_pii(actor=actor, subject=subject, field="password", reason="x")


def with_phone(user, phone=PHONE):
    user.phone = phone
    user.save(update_fields=["phone"])
    return user


def test_a_staff_member_is_in_scope_through_any_of_their_posts(tree, make_staff):
    colleague = with_phone(make_staff("gw", tree["grid"], Role.GRID_WORKER))
    Membership.objects.create(user=colleague, unit=tree["other_grid"], role=Role.GRID_PART_TIME)
    for place in ("town", "other_town"):
        actor = grant_unmask(make_staff(f"disp-{place}", tree[place], Role.DISPATCHER))
        assert reveal_pii(actor=actor, subject=colleague, field="phone", reason="联系工作") == PHONE
    assert PiiAccessLog.objects.filter(subject_type="accounts.user", subject_id=colleague.pk).count() == 2


def test_a_staff_member_in_another_township_is_not_found(tree, make_staff):
    actor = grant_unmask(make_staff("disp", tree["town"], Role.DISPATCHER))
    stranger = with_phone(make_staff("far", tree["other_grid"], Role.GRID_WORKER))
    Membership.objects.create(user=stranger, unit=tree["grid"], role=Role.GRID_WORKER, is_active=False)
    with pytest.raises(NotFound):  # a former post in scope does not count
        reveal_pii(actor=actor, subject=stranger, field="phone", reason="联系工作")
    assert not PiiAccessLog.objects.exists()


def test_an_account_without_posts_only_for_those_who_see_everything(tree, make_staff):
    loner = make_resident_account(id_number=ID, phone=PHONE)
    county = grant_unmask(make_staff("county", tree["county"], Role.DISPATCHER))
    with pytest.raises(NotFound):
        reveal_pii(actor=county, subject=loner, field="phone", reason="核实身份")
    admin = User.objects.create_superuser(username="root", password="Gongzhi#2026")
    assert reveal_pii(actor=admin, subject=loner, field="phone", reason="核实身份") == PHONE
    assert PiiAccessLog.objects.get().actor == admin
