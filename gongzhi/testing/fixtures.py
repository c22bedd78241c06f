"""The shared test fixtures, as a pytest plugin (the root conftest.py loads it): the org tree, staff posts,
the preset categories and the cast of people the case tests share. Defined once, used by every app's tests
and the browser tests."""

import pytest
from django.conf import settings

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases.factories import make_categories, make_resident
from gongzhi.core import throttle
from gongzhi.org.factories import make_tree


@pytest.fixture(autouse=True)
def _fresh_throttle_memory():
    """Each test starts with no over-limit keys remembered by this process (the table rolls back anyway)."""
    throttle.forget_local_state()
    yield
    throttle.forget_local_state()


@pytest.fixture(autouse=True)
def _no_refused_writes_from_other_tests():
    """A write refused as busy in one test must not make another's /healthz degraded (core.writes)."""
    path = settings.WRITES_REFUSED_FILE
    path.unlink(missing_ok=True)
    yield
    path.unlink(missing_ok=True)


@pytest.fixture
def tree(db):
    return make_tree()


@pytest.fixture
def make_staff(db):
    """make_staff("username", unit, role, ...) → a staff user holding that post; password "Gongzhi#2026"."""

    def make(username, unit, role, **post):
        user = User.objects.create_user(username=username, password="Gongzhi#2026", real_name=username,
                                        kind=User.Kind.STAFF)
        Membership.objects.create(user=user, unit=unit, role=role, **post)
        return user

    return make


@pytest.fixture
def cats(db):
    """A few preset categories by short name (see cases.factories.make_categories)."""
    return make_categories()


@pytest.fixture
def resident(tree):
    """王秀兰 (username "res"), a resident of tree["grid"]; she reports most cases in these tests."""
    return make_resident("res", "王秀兰", tree["grid"])


@pytest.fixture
def people(tree, make_staff, resident):
    """The cast of the case tests, by role, on the org tree of the `tree` fixture.

    Some tests count who hears of a step, so the staff of each unit are exactly these:
    八里镇 (town) one dispatcher; 安定区 (county) one dispatcher and one supervisor; 城关镇 (other_town) one
    dispatcher and one supervisor; 八里镇司法所 (justice) two handlers; 八里派出所 (police) one handler;
    tree["grid"] and tree["grid2"] one grid worker each. Three residents live in tree["grid"]: the reporter,
    a neighbour and a stranger to the reporter's cases. Add anyone else in the test that needs them.
    """
    return {
        "resident": resident,
        "neighbour": make_resident("res2", "李建国", tree["grid"]),
        "stranger": make_resident("res3", "赵六", tree["grid"]),
        "dispatcher": make_staff("disp", tree["town"], Role.DISPATCHER),
        "county_dispatcher": make_staff("cdisp", tree["county"], Role.DISPATCHER),
        "county_supervisor": make_staff("cdc", tree["county"], Role.SUPERVISOR),
        "other_dispatcher": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
        "other_supervisor": make_staff("odc", tree["other_town"], Role.SUPERVISOR),
        "justice": make_staff("sifa", tree["justice"], Role.DEPT_HANDLER),
        "justice2": make_staff("sifa2", tree["justice"], Role.DEPT_HANDLER),
        "police": make_staff("jingcha", tree["police"], Role.DEPT_HANDLER),
        "grid_worker": make_staff("wgy", tree["grid"], Role.GRID_WORKER),
        "other_grid_worker": make_staff("wgy2", tree["grid2"], Role.GRID_WORKER),
    }
