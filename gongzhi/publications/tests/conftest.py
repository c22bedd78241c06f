import pytest

from gongzhi.publications.factories import make_pub_world


@pytest.fixture
def pub(tree):
    """The publications cast (see factories.PubWorld) on the `tree` fixture's org tree."""
    return make_pub_world(tree)
