"""The categories a resident picks from: grouped, each matter once, the most reported first."""

import pytest

from gongzhi.cases import categories
from gongzhi.cases.factories import report
from gongzhi.cases.models import CategoryKind
from gongzhi.web.forms import POPULAR_COUNT, category_choices

pytestmark = pytest.mark.django_db


def test_each_matter_is_offered_once_in_a_few_groups(cats):
    popular, *groups = category_choices()
    assert popular[0] == "常用事项" and len(popular[1]) == POPULAR_COUNT
    labels = [label for _name, options in groups for _value, label in options]
    assert len(labels) == len(set(labels)), "a villager meets each matter once"
    assert labels.count("婚姻家庭纠纷") == 1 and labels.count("邻里纠纷") == 1
    assert len(groups) <= 12
    offered = {int(value) for _name, options in groups for value, _label in options}
    assert all(categories.by_id(pk).is_active and categories.by_id(pk).kind != CategoryKind.GRID_AFFAIR
               for pk in offered)
    assert {int(value) for value, _label in popular[1]} <= offered


def test_the_most_reported_matters_come_first(cats, resident):
    sewage = categories.by_code("talk-environment-sewage")
    for _ in range(3):
        report(resident, sewage)
    report(resident, cats["env"])
    _name, popular = category_choices()[0]
    assert popular[0] == (str(sewage.pk), "污水排放")
    assert popular[1][0] == str(cats["env"].pk)
    assert len(popular) == POPULAR_COUNT  # filled up from the preset
