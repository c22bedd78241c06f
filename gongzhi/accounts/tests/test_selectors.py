import pytest

from gongzhi.accounts import selectors
from gongzhi.accounts.models import Membership, Role, User
from gongzhi.accounts.tests.helpers import make_resident_account, valid_id

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role,portal", [
    (Role.RESIDENT, "resident"), (Role.MERCHANT, "resident"),
    (Role.GRID_WORKER, "worker"), (Role.GRID_LEADER, "worker"), (Role.GRID_PART_TIME, "worker"),
    (Role.GENERAL_GRID_LEADER, "worker"), (Role.VILLAGE_ADMIN, "worker"),
    (Role.DISPATCHER, "command"), (Role.DEPT_HANDLER, "command"), (Role.SUPERVISOR, "command"),
    (Role.SYSTEM_ADMIN, "command"),
])
def test_primary_portal_by_role(tree, make_staff, role, portal):
    assert selectors.primary_portal(make_staff("u", tree["grid"], role)) == portal


def test_command_post_wins_over_a_field_post_and_inactive_posts_do_not_count(tree, make_staff):
    user = make_staff("both", tree["grid"], Role.GRID_LEADER)
    Membership.objects.create(user=user, unit=tree["town"], role=Role.DISPATCHER, is_active=False)
    assert selectors.primary_portal(User.objects.get(pk=user.pk)) == "worker"
    Membership.objects.filter(user=user, role=Role.DISPATCHER).update(is_active=True)
    assert selectors.primary_portal(User.objects.get(pk=user.pk)) == "command"


def test_posts_of_lists_active_posts_highest_unit_first(tree, make_staff):
    user = make_staff("u", tree["grid"], Role.GRID_LEADER)
    Membership.objects.create(user=user, unit=tree["town"], role=Role.DISPATCHER)
    Membership.objects.create(user=user, unit=tree["grid2"], role=Role.GRID_LEADER, is_active=False)
    assert [(p.unit, p.role) for p in selectors.posts_of(user)] == [
        (tree["town"], Role.DISPATCHER), (tree["grid"], Role.GRID_LEADER)]


def test_unmatched_resident_is_not_verified(tree):
    user = make_resident_account(id_number=valid_id(), phone="13812345678")
    assert not selectors.is_verified_resident(user) and not selectors.is_verified_household_head(user)
    assert selectors.resident_grid(user) is None


def test_totp_offered_to_command_centre_only(tree, make_staff):
    assert selectors.totp_offered(make_staff("d", tree["town"], Role.DISPATCHER))
    assert not selectors.totp_offered(make_staff("h", tree["justice"], Role.DEPT_HANDLER))
    assert not selectors.totp_offered(make_staff("g", tree["grid"], Role.GRID_WORKER))
