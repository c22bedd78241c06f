"""The points tests' fixtures, as a pytest plugin (the root conftest.py loads it): `points_world`, 八里镇 with
the preset catalogue, a verified household, its village administrator, a dispatcher, a merchant and a shop
(see points.factories.make_points_world)."""

import pytest

from gongzhi.points.factories import make_points_world


@pytest.fixture
def points_world(tree, media):
    return make_points_world(tree)
