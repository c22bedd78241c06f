import pytest

from gongzhi.accounts import policies
from gongzhi.accounts.models import Membership, Role, User
from gongzhi.org.models import OrgUnit

pytestmark = pytest.mark.django_db


def visible_codes(user):
    return set(policies.units_visible_to(user).values_list("code", flat=True))


def test_township_dispatcher_sees_own_township_subtree_only(tree, make_staff):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    codes = visible_codes(user)
    assert tree["grid3"].code in codes and tree["justice"].code in codes
    assert tree["other_grid"].code not in codes and tree["county"].code not in codes


def test_grid_worker_sees_own_grid_only(tree, make_staff):
    user = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    assert visible_codes(user) == {tree["grid"].code}
    assert not policies.can_view_unit(user, tree["grid2"])


def test_posts_in_two_places_union_and_nested_posts_collapse(tree, make_staff):
    user = make_staff("multi", tree["village"], Role.VILLAGE_ADMIN)
    from gongzhi.accounts.models import Membership

    Membership.objects.create(user=user, unit=tree["other_grid"], role=Role.GRID_LEADER)
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.GRID_LEADER)
    assert set(policies.scope_paths(user)) == {tree["village"].path, tree["other_grid"].path}
    assert visible_codes(user) == {tree["village"].code, tree["grid"].code, tree["grid2"].code,
                                   tree["other_grid"].code}


def test_sibling_code_prefix_is_not_inside_scope(tree, make_staff):
    # 621102101201 must not see a unit whose code merely starts with the same digits.
    lookalike = OrgUnit.objects.create(name="x", code="6211021012019", level="village", parent=tree["town"])
    user = make_staff("va", tree["village"], Role.VILLAGE_ADMIN)
    assert lookalike.code not in visible_codes(user)


def test_resident_and_inactive_posts_have_no_scope(tree, make_staff):
    resident = make_staff("res", tree["grid"], Role.RESIDENT)
    assert visible_codes(resident) == set()
    retired = make_staff("old", tree["town"], Role.DISPATCHER, is_active=False)
    assert visible_codes(retired) == set()


def test_system_admin_sees_everything(tree, make_staff):
    admin = make_staff("root", tree["grid"], Role.SYSTEM_ADMIN)
    assert visible_codes(admin) == set(OrgUnit.objects.values_list("code", flat=True))


def test_a_post_in_a_deactivated_unit_gives_no_role_and_no_scope(tree, make_staff):
    dispatcher = make_staff("disp", tree["other_town"], Role.DISPATCHER)
    assert policies.roles_of(dispatcher) == {Role.DISPATCHER} and policies.can_report_on_behalf(dispatcher)
    tree["other_town"].is_active = False
    tree["other_town"].save()
    dispatcher = User.objects.get(pk=dispatcher.pk)  # the per-object caches start afresh
    assert policies.roles_of(dispatcher) == set() and visible_codes(dispatcher) == set()
    assert not policies.can_report_on_behalf(dispatcher)


def test_reporting_on_behalf_is_limited_to_command_posts(tree, make_staff):
    """A dispatcher who is also a grid worker in another township sees that grid, but files for residents only
    where they dispatch."""
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    Membership.objects.create(user=user, unit=tree["other_grid"], role=Role.GRID_WORKER)
    user = User.objects.get(pk=user.pk)
    assert policies.in_scope(user, tree["other_grid"].path)
    assert policies.on_behalf_paths(user) == (tree["town"].path,)
    assert policies.on_behalf_paths(make_staff("gw", tree["grid"], Role.GRID_WORKER)) == ()
    assert policies.on_behalf_paths(make_staff("root", tree["grid"], Role.SYSTEM_ADMIN)) == ("",)


def test_a_post_in_a_deactivated_unit_counts_nowhere(tree, make_staff):
    """Membership.objects.active() is the one definition of a post that counts: every reader uses it."""
    from gongzhi.accounts import selectors

    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    resident = User.objects.create_user(username="res", password="x", kind=User.Kind.RESIDENT)
    Membership.objects.create(user=resident, unit=tree["grid"], role=Role.RESIDENT)
    assert policies.place_in_scope(disp, resident) == tree["grid"].path
    assert selectors.resident_grid(resident) == tree["grid"]
    OrgUnit.objects.filter(pk=tree["grid"].pk).update(is_active=False)
    resident = User.objects.get(pk=resident.pk)
    # The account now has no post that counts: it belongs to the root, which only system administrators see.
    assert policies.place_in_scope(disp, resident) is None
    assert selectors.resident_grid(resident) is None
    assert list(Membership.objects.active().filter(user=resident)) == []
