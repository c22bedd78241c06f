"""The demo's 红黑榜 and 建言献策 (demo.publications_boards) on the tiny demo: every village gets last quarter's board
(published, red and black entries naming registered households, the black list masked) and this quarter's draft,
and residents' suggestions with replies and supports."""

import pytest

from gongzhi.demo import generate as gen
from gongzhi.demo import publications_boards
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.publications.models import BoardEntry, Publication, Status, Suggestion
from gongzhi.publications.selectors import boards as selectors

SEED = 7


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_boards_and_suggestions_for_every_village(db):
    gen.generate(scale="tiny", seed=SEED, progress=False)  # loads the boards (demo.generate.publications)
    townships = list(OrgUnit.objects.filter(level=Level.TOWNSHIP, kind=UnitKind.AREA))
    made = Publication.objects.filter(kind__in=["board", "suggestion"]).count()
    assert publications_boards.load(townships, seed=SEED) == 0  # run again: nothing more
    villages = OrgUnit.objects.filter(level=Level.VILLAGE, kind=UnitKind.AREA, parent__in=townships)
    assert made >= 2 * villages.count()
    for village in villages:
        shown = Publication.objects.get(kind="board", author_unit=village, status=Status.PUBLISHED)
        assert shown.is_live()
        entries = BoardEntry.objects.filter(publication=shown)
        assert entries.filter(list="red").exists() and entries.filter(list="black").exists()
        assert entries.filter(household__isnull=False).exists()
        black = selectors.reader_board(shown.created_by, shown).black
        assert all("某某" in s.shown_name for s in black)
        assert Publication.objects.filter(kind="board", author_unit=village, status=Status.DRAFT).count() == 1
    assert Suggestion.objects.filter(support_count__gt=0).exists()
    suggestions = Publication.objects.filter(kind="suggestion").count()
    assert publications_boards.load(townships, seed=SEED) == 0  # again: nothing new
    assert Publication.objects.filter(kind="board").count() == 2 * villages.count()
    assert Publication.objects.filter(kind="suggestion").count() == suggestions
