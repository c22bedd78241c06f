"""Property: for any person with any posts, every list filter selects exactly what the per-object checks allow.

The filters (`scope_q`, `cases_visible_to`, `capacity_q`) are SQL; the checks (`in_scope`, `capacities`) are
Python. A filter built by OR-ing pieces once lost "everything" (an empty `Q()` vanishes when OR-ed), so a
system administrator saw only the cases they reported: hypothesis draws people and posts to find such holes.
"""

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases import policies
from gongzhi.cases.models import Assignment, Case, Follower, Source
from gongzhi.cases.workflow import Capacity, Status
from gongzhi.org.factories import make_tree
from gongzhi.org.models import OrgUnit

pytestmark = pytest.mark.django_db

UNITS = ["city", "county", "town", "other_town", "village", "village2", "other_village", "grid", "grid2", "grid3",
         "other_grid", "justice", "police", "county_court"]
ROLES = [role for role in Role if role != Role.MERCHANT]
_serial = itertools.count()


@pytest.fixture
def world(db, cats):
    """The test tree and cases spread over it: placed in each grid or unit, held at each command level,
    some led by a department, some reported by one resident and followed by another, some complaints
    about a unit."""
    tree = make_tree()
    reporter = User.objects.create_user(username="reporter", kind=User.Kind.RESIDENT)
    follower = User.objects.create_user(username="follower", kind=User.Kind.RESIDENT)
    places = ["grid", "grid2", "grid3", "other_grid", "village", "town", "other_town"]
    holders = ["village", "town", "other_town", "county", "city"]
    leads = [None, "justice", "police", "county_court", "village"]
    subjects = [None, None, "village", "town", "justice", "grid"]
    cases = []
    for n, (place, holder, lead) in enumerate(itertools.product(places, holders, leads)):
        case = Case.objects.create(
            client_id=uuid.uuid4(), category=cats["talk"], category_version=cats["talk"].version,
            description="事件", area_path=tree[place].path, holder=tree[holder], grid=None,
            status=Status.DISPATCHED if lead else Status.ACCEPTED, source=Source.RESIDENT,
            reporter=reporter if n % 3 == 0 else None,
            subject_unit=tree[subjects[n % len(subjects)]] if subjects[n % len(subjects)] else None)
        if lead:
            Assignment.objects.create(case=case, unit=tree[lead], role=Assignment.Role.LEAD)
        if n % 4 == 0:
            Follower.objects.create(case=case, user=follower)
        cases.append(case)
    return {"tree": tree, "cases": cases, "residents": {"reporter": reporter, "follower": follower}}


def _person(world, posts, superuser, resident):
    if resident:
        user = world["residents"][resident]
        user.is_superuser = superuser
        return user
    user = User.objects.create_user(username=f"p{next(_serial)}", kind=User.Kind.STAFF, is_superuser=superuser)
    for role, unit in dict.fromkeys(posts):  # one post per (role, unit)
        Membership.objects.create(user=user, unit=world["tree"][unit], role=role)
    return user


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posts=st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(UNITS)), max_size=3),
       superuser=st.booleans(), resident=st.sampled_from([None, None, "reporter", "follower"]))
def test_every_list_filter_selects_what_the_per_object_check_allows(world, posts, superuser, resident):
    user = _person(world, posts, superuser, resident)
    units = list(OrgUnit.objects.all())
    assert ({u.pk for u in OrgUnit.objects.filter(account_policies.scope_q(user))}
            == {u.pk for u in units if account_policies.in_scope(user, u.path)})

    cases = world["cases"]
    lead_paths = {a.case_id: a.unit.path for a in Assignment.objects.select_related("unit")}
    followed = set(Follower.objects.filter(user=user).values_list("case_id", flat=True))
    expected = {c.pk for c in cases
                if (account_policies.in_scope(user, c.area_path)
                    or (c.pk in lead_paths and account_policies.in_scope(user, lead_paths[c.pk]))
                    or c.reporter_id == user.pk or c.pk in followed)
                and not policies.is_subject_of_complaint(user, c)}
    assert set(policies.cases_visible_to(user).values_list("pk", flat=True)) == expected

    held = {c.pk: policies.capacities(user, c) for c in cases}
    for capacity in [*policies.POST_CAPACITIES, Capacity.REPORTER]:
        listed = set(Case.objects.filter(policies.capacity_q(user, capacity)).values_list("pk", flat=True))
        assert listed == {pk for pk, capacities in held.items() if capacity in capacities}, capacity
        # and who is told: everyone holding it, by the same rule
        for c in cases[::14]:
            holders = {u.pk for u in policies.users_with_capacity(c, capacity)}
            assert (user.pk in holders) == (capacity in held[c.pk]) or not user.is_active, (capacity, c.pk)


def test_a_system_administrator_sees_every_case_even_those_placed_nowhere_in_their_posts(world, make_staff):
    admin = make_staff("sysadmin", world["tree"]["city"], Role.SYSTEM_ADMIN)
    assert policies.cases_visible_to(admin).count() == len(world["cases"])
    superuser = User.objects.create_user(username="root", kind=User.Kind.STAFF, is_superuser=True)
    assert policies.cases_visible_to(superuser).count() == len(world["cases"])
    assert policies.cases_seen_as_staff(superuser).count() == len(world["cases"])
