import pytest

from gongzhi.cases.factories import make_categories


@pytest.fixture
def cats(db):
    """A few preset categories by short name (see cases.factories.make_categories)."""
    return make_categories()
