"""The demo's 三务公开 and 村民说事 (demo/publications_affairs.py) load through the services on the test tree."""

import pytest

from gongzhi.demo import publications_affairs
from gongzhi.publications.models import Disclosure, FinanceLine, Meeting, MeetingEvaluation, Stage, Status
from gongzhi.publications.selectors import affairs as selectors

pytestmark = pytest.mark.django_db


def test_every_village_with_an_administrator_gets_its_disclosures_and_meetings(pub):
    made = publications_affairs.load([pub.tree["town"]], seed=7)
    assert made == 2 * (3 + 3 + 2)  # 小山村 and 大湾村: 3 finance, 低保, 党费, 村道硬化, 2 meetings
    assert Disclosure.objects.filter(publication__status=Status.PUBLISHED).count() == 12
    assert FinanceLine.objects.count() == 2 * 3 * 6
    finance = selectors.readable_disclosures(pub.resident, selectors.DisclosureFilter(category="finance"))
    assert finance.count() == 3
    view = selectors.disclosure_view(finance.first())
    assert view.totals.income > 0 and view.totals.expense > 0
    stages = sorted(Meeting.objects.values_list("published_stage", flat=True))
    assert stages == [Stage.DO, Stage.DO, Stage.EVALUATE, Stage.EVALUATE]
    assert MeetingEvaluation.objects.exists()
