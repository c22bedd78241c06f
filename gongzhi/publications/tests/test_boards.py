"""红黑榜 and 建言献策: criteria, entries while a draft, the township's four-eyes review, the period, the black
list shown only as far as the village decided, appeals and their decisions; suggestions from residents, the
village's reply and publishing, supports once each."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from gongzhi.cases import factories as case_factories
from gongzhi.cases.models import Case
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification
from gongzhi.points.factories import make_verified_resident
from gongzhi.points.models import Award
from gongzhi.points.services import ledger
from gongzhi.publications import boards_policies
from gongzhi.publications.models import (
    BlackDisplay,
    BoardAppeal,
    BoardCriterion,
    BoardEntry,
    BoardList,
    Publication,
    PublicationEvent,
    Status,
    Suggestion,
    SuggestionSupport,
)
from gongzhi.publications.selectors import boards as selectors
from gongzhi.publications.selectors import core as core_selectors
from gongzhi.publications.services import boards as services
from gongzhi.publications.services import core
from gongzhi.registry.models import Household

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)


def _criterion(pub, board_list: str, name: str) -> BoardCriterion:
    return BoardCriterion.objects.get(unit=pub.tree["village"], list=board_list, name=name)


@pytest.fixture
def board(pub):
    """小山村's draft board for 2026 Q4 with one red and one black entry, shown until the end of January."""
    services.install_preset_criteria(actor=pub.village_admin, unit=pub.tree["village"])
    item = services.create_board(
        actor=pub.village_admin, author_unit=pub.tree["village"], title="小山村2026年第四季度红黑榜",
        period_start=datetime.date(2026, 10, 1), period_end=datetime.date(2026, 12, 31),
        publish_until=NOW + datetime.timedelta(days=55))
    services.add_entry(actor=pub.village_admin, publication=item, criterion=_criterion(pub, "red", "孝老爱亲"),
                       name="王秀兰家", reason="常年照顾瘫痪在床的婆婆，十年如一日")
    services.add_entry(actor=pub.village_admin, publication=item, criterion=_criterion(pub, "black", "高价彩礼"),
                       name="李大海", reason="嫁女索要彩礼28万元，经劝导不改")
    return item


def _publish(pub, item):
    core.submit(actor=pub.village_admin, publication=item)
    return core.approve(actor=pub.dispatcher, publication=item)


# Criteria -----------------------------------------------------------------------------------------------------

def test_preset_criteria_once_per_unit_and_only_by_its_authors(pub):
    assert services.install_preset_criteria(actor=pub.village_admin, unit=pub.tree["village"]) == len(
        services.PRESET_CRITERIA)
    assert services.install_preset_criteria(actor=pub.village_admin, unit=pub.tree["village"]) == 0
    with pytest.raises(NotFound):
        services.install_preset_criteria(actor=pub.other_village_admin, unit=pub.tree["village"])
    with pytest.raises(DomainError):
        services.add_criterion(actor=pub.village_admin, unit=pub.tree["grid"], board_list="red", name="好人好事")
    with pytest.raises(DomainError):
        services.add_criterion(actor=pub.village_admin, unit=pub.tree["village"], board_list="grey", name="x")
    # A township's criteria serve its villages.
    town = services.add_criterion(actor=pub.dispatcher, unit=pub.tree["town"], board_list="red", name="最美家庭")
    assert services.criteria_for(pub.tree["village"]).filter(pk=town.pk).exists()
    assert not services.criteria_for(pub.tree["other_village"]).filter(pk=town.pk).exists()


# Entries and review -------------------------------------------------------------------------------------------

def test_entries_change_only_while_a_draft_and_only_by_the_village(pub, board):
    with pytest.raises(NotFound):
        services.add_entry(actor=pub.other_village_admin, publication=board,
                           criterion=_criterion(pub, "red", "好人好事"), name="张三", reason="拾金不昧")
    with pytest.raises(DomainError) as err:
        services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "red", "好人好事"),
                           name="  ", reason="拾金不昧")
    assert err.value.field == "name"
    other = services.add_criterion(actor=pub.other_village_admin, unit=pub.tree["village2"], board_list="red",
                                   name="好人好事")
    with pytest.raises(DomainError):
        services.add_entry(actor=pub.village_admin, publication=board, criterion=other, name="张三", reason="x")
    # The same form twice adds one entry.
    for _ in range(2):
        services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "red", "好人好事"),
                           name="张三", reason="拾金不昧", client_key="k1")
    assert BoardEntry.objects.filter(publication=board).count() == 3
    core.submit(actor=pub.village_admin, publication=board)
    entry = BoardEntry.objects.filter(publication=board).first()
    with pytest.raises(Conflict):
        services.remove_entry(actor=pub.village_admin, entry=entry)
    with pytest.raises(Conflict):
        services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "red", "好人好事"),
                           name="赵四", reason="见义勇为")


def test_the_township_approves_a_board_the_village_cannot_publish_it_itself(pub, board):
    core.submit(actor=pub.village_admin, publication=board)
    with pytest.raises(Forbidden):
        core.approve(actor=pub.village_admin, publication=board)
    core.approve(actor=pub.dispatcher, publication=board)
    board.refresh_from_db()
    assert board.status == Status.PUBLISHED
    assert core_selectors.readable(pub.resident, kind="board").filter(pk=board.pk).exists()
    assert not core_selectors.readable(pub.village2_resident, kind="board").filter(pk=board.pk).exists()


def test_a_black_list_without_an_end_is_not_published(pub):
    services.install_preset_criteria(actor=pub.village_admin, unit=pub.tree["village"])
    endless = services.create_board(actor=pub.village_admin, author_unit=pub.tree["village"], title="无期限")
    services.add_entry(actor=pub.village_admin, publication=endless, criterion=_criterion(pub, "black", "大操大办"),
                       name="张三", reason="大摆宴席")
    core.submit(actor=pub.village_admin, publication=endless)
    with pytest.raises(DomainError):
        core.approve(actor=pub.dispatcher, publication=endless)
    assert Publication.objects.get(pk=endless.pk).status == Status.IN_REVIEW


def test_the_board_disappears_when_its_period_ends(pub, board):
    with time_machine.travel(NOW, tick=False):
        _publish(pub, board)
        assert core_selectors.readable(pub.resident).filter(pk=board.pk).exists()
    with time_machine.travel(NOW + datetime.timedelta(days=56), tick=False):
        assert not core_selectors.readable(pub.resident).filter(pk=board.pk).exists()
        entry = BoardEntry.objects.filter(publication=board).first()
        with pytest.raises(NotFound):
            services.file_appeal(actor=pub.resident, entry=entry, reason="不属实")


# What readers see ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("display", "shown", "detail"), [
    (BlackDisplay.FULL, "李大海", "嫁女索要彩礼28万元，经劝导不改"),
    (BlackDisplay.SURNAME, "李某某", ""),
    (BlackDisplay.HOUSEHOLD, "户号：H-009", ""),
])
def test_the_black_list_shows_what_the_village_decided(pub, board, display, shown, detail):
    entry = BoardEntry.objects.get(publication=board, list=BoardList.BLACK)
    entry.household_number = "H-009"
    entry.save()
    services.update_board(actor=pub.village_admin, publication=board, black_display=display)
    board = _publish(pub, board)
    seen = selectors.reader_board(pub.resident, board)
    assert [s.shown_name for s in seen.red] == ["王秀兰家"]
    assert seen.red[0].shown_detail == "常年照顾瘫痪在床的婆婆，十年如一日"
    assert [(s.shown_name, s.shown_detail) for s in seen.black] == [(shown, detail)]


def test_counts_only_shows_no_one_on_the_black_list(pub, board):
    services.update_board(actor=pub.village_admin, publication=board, black_display=BlackDisplay.COUNTS)
    board = _publish(pub, board)
    seen = selectors.reader_board(pub.resident, board)
    assert seen.black == []
    assert [(c.criterion, c.count) for c in seen.black_counts] == [("高价彩礼", 1)]


def test_mask_name():
    assert selectors.mask_name("王秀兰") == "王某某"
    assert selectors.mask_name("王秀兰家") == "王某某家"
    assert selectors.mask_name("") == ""


# Appeals ------------------------------------------------------------------------------------------------------

def test_any_verified_resident_of_the_area_may_appeal_while_the_board_is_shown(pub, board):
    entry = BoardEntry.objects.get(publication=board, list=BoardList.BLACK)
    with pytest.raises(NotFound):  # not shown yet
        services.file_appeal(actor=pub.resident, entry=entry, reason="不属实")
    board = _publish(pub, board)
    for outsider in (pub.village2_resident, pub.unverified):
        with pytest.raises(NotFound):
            services.file_appeal(actor=outsider, entry=entry, reason="不属实")
    assert not boards_policies.can_appeal(AnonymousUser(), board)
    with pytest.raises(DomainError):
        services.file_appeal(actor=pub.resident, entry=entry, reason=" ")
    first = services.file_appeal(actor=pub.resident, entry=entry, reason="彩礼是男方自愿给的，已退回大部分")
    again = services.file_appeal(actor=pub.resident, entry=entry, reason="再次申诉")
    assert first.pk == again.pk
    services.file_appeal(actor=pub.neighbour, entry=entry, reason="情况不属实")
    assert BoardAppeal.objects.filter(entry=entry).count() == 2
    assert Notification.objects.filter(recipient=pub.village_admin, kind="board.appeal_filed").exists()


def test_an_upheld_appeal_takes_the_entry_off_and_tells_the_appellant(pub, board):
    board = _publish(pub, board)
    entry = BoardEntry.objects.get(publication=board, list=BoardList.BLACK)
    appeal = services.file_appeal(actor=pub.resident, entry=entry, reason="彩礼是男方自愿给的")
    other = services.file_appeal(actor=pub.neighbour, entry=entry, reason="不属实")
    with pytest.raises(NotFound):
        services.decide_appeal(actor=pub.other_village_admin, appeal=appeal, upheld=True, decision="")
    services.decide_appeal(actor=pub.village_admin, appeal=appeal, upheld=True, decision="经核实，情况不属实")
    entry.refresh_from_db()
    assert entry.removed_at is not None
    assert selectors.reader_board(pub.resident, board).black == []
    other.refresh_from_db()
    assert other.status == BoardAppeal.Status.UPHELD
    assert PublicationEvent.objects.filter(publication=board, action="step", note__contains="申诉成立").exists()
    assert Notification.objects.filter(recipient=pub.resident, kind="board.appeal_decided").exists()
    with pytest.raises(Conflict):
        services.decide_appeal(actor=pub.village_admin, appeal=appeal, upheld=False, decision="x")
    with pytest.raises(NotFound):  # the entry is off the board
        services.file_appeal(actor=pub.neighbour, entry=entry, reason="再申诉")


def test_a_rejected_appeal_needs_a_reason_and_keeps_the_entry(pub, board):
    board = _publish(pub, board)
    entry = BoardEntry.objects.get(publication=board, list=BoardList.BLACK)
    appeal = services.file_appeal(actor=pub.resident, entry=entry, reason="不属实")
    with pytest.raises(DomainError):
        services.decide_appeal(actor=pub.village_admin, appeal=appeal, upheld=False, decision=" ")
    assert BoardAppeal.objects.get(pk=appeal.pk).status == BoardAppeal.Status.PENDING
    services.decide_appeal(actor=pub.village_admin, appeal=appeal, upheld=False, decision="经村民代表核实，情况属实")
    entry.refresh_from_db()
    assert entry.removed_at is None
    note = Notification.objects.get(recipient=pub.resident, kind="board.appeal_decided")
    assert "情况属实" in note.body
    shown = selectors.reader_board(pub.resident, board).black[0]
    assert shown.my_appeal.status == BoardAppeal.Status.REJECTED


# Nominations --------------------------------------------------------------------------------------------------

def test_nominations_from_points_and_from_finished_cases(pub, board, tree):
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-101",
                                         address="小山村一社3号")
    make_verified_resident(grid=tree["grid"], household=household, username="hh", name="陈玉梅",
                           id_number="621102196504123826")
    account = ledger.account_for_household(household)
    Award.objects.create(account=account, village=tree["village"], path=tree["village"].path,
                         origin=Award.Origin.DIRECT, points=30, booked=30, reason="义务巡逻",
                         created_at=datetime.datetime(2026, 11, 3, tzinfo=datetime.UTC),
                         rule_item_id=_any_rule_item())
    proposals = selectors.points_nominations(board, board.board)
    assert [(n.name, n.household_number) for n in proposals] == [("陈玉梅家", "H-101")]
    services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "red", "好人好事"),
                       name=proposals[0].name, reason=proposals[0].reason, household=household,
                       source="points", source_ref=proposals[0].source_ref)
    assert selectors.points_nominations(board, board.board) == []
    with pytest.raises(DomainError):  # nominated once
        services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "red", "好人好事"),
                           name="陈玉梅家", reason="x", source="points", source_ref=proposals[0].source_ref)
    categories = case_factories.make_categories()
    case = case_factories.report(pub.resident, categories["env"], description="村口柴草乱堆乱放，堵住了路")
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=datetime.datetime(2026, 11, 20,
                                                                                       tzinfo=datetime.UTC))
    cases = selectors.case_nominations(board, board.board)
    assert [n.source_ref for n in cases] == [f"case:{case.pk}"]
    assert "乱堆乱放" in cases[0].reason


def _any_rule_item() -> int:
    from gongzhi.points.models import RuleItem
    from gongzhi.points.services import rules

    if not RuleItem.objects.exists():
        from gongzhi.org.models import OrgUnit

        rules.install_preset(actor=None, township=OrgUnit.objects.get(name="八里镇"))
    return RuleItem.objects.values_list("pk", flat=True).first()


def test_staff_context_renders_for_a_board_without_its_own_row(pub):
    item = core.create_draft(actor=pub.village_admin, kind="board", author_unit=pub.tree["village"], title="新榜")
    staff = selectors.staff_board(pub.village_admin, item)
    assert staff.board is None and staff.editable and staff.entries == []
    assert selectors.reader_board(pub.resident, item).red == []


# Suggestions --------------------------------------------------------------------------------------------------

def test_a_resident_suggests_to_their_village_and_the_village_is_told(pub):
    item = services.submit_suggestion(actor=pub.resident, title="建议在村口装路灯", body="晚上回家太黑。",
                                      may_publish=True, client_key="s1")
    assert services.submit_suggestion(actor=pub.resident, title="建议在村口装路灯", body="晚上回家太黑。",
                                      may_publish=True, client_key="s1").pk == item.pk
    assert item.status == Status.IN_REVIEW and item.author_unit == pub.tree["village"]
    assert Notification.objects.filter(recipient=pub.village_admin, kind="publication.submitted").exists()
    assert list(core_selectors.review_queue(pub.village_admin)) == [item]
    assert not core_selectors.readable(pub.neighbour).filter(pk=item.pk).exists()
    with pytest.raises(Forbidden):
        services.submit_suggestion(actor=pub.unverified, title="x", body="y")
    with pytest.raises(DomainError):
        services.submit_suggestion(actor=pub.resident, title="", body="y")
    assert selectors.my_suggestion(pub.resident, item.pk) == item
    with pytest.raises(NotFound):
        selectors.my_suggestion(pub.neighbour, item.pk)
    with pytest.raises(NotFound):
        selectors.managed_suggestion(pub.other_village_admin, item.pk)


def test_reply_publish_and_support_once(pub):
    item = services.submit_suggestion(actor=pub.resident, title="建议修缮村文化广场", body="广场地砖破损。",
                                      may_publish=True)
    with pytest.raises(NotFound):
        services.reply_suggestion(actor=pub.other_village_admin, publication=item, reply="收到")
    services.reply_suggestion(actor=pub.village_admin, publication=item, reply="已列入明年村级项目。")
    assert Notification.objects.filter(recipient=pub.resident, kind="suggestion.replied").exists()
    with pytest.raises(NotFound):  # not public yet
        services.support(actor=pub.neighbour, publication=item)
    services.publish_suggestion(actor=pub.village_admin, publication=item)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    assert core_selectors.readable(pub.neighbour, kind="suggestion").filter(pk=item.pk).exists()
    assert services.support(actor=pub.neighbour, publication=item) is True
    assert services.support(actor=pub.neighbour, publication=item) is False
    assert services.support(actor=pub.resident, publication=item) is True
    with pytest.raises(NotFound):
        services.support(actor=pub.village2_resident, publication=item)
    assert Suggestion.objects.get(publication=item).support_count == 2
    assert SuggestionSupport.objects.filter(publication=item).count() == 2


def test_a_private_suggestion_is_never_published(pub):
    item = services.submit_suggestion(actor=pub.resident, title="反映村干部作风问题", body="……", may_publish=False)
    with pytest.raises(Conflict):
        services.publish_suggestion(actor=pub.village_admin, publication=item)
    with pytest.raises(Conflict):  # nor through the core's approve
        core.approve(actor=pub.village_admin, publication=item)
    services.keep_private(actor=pub.village_admin, publication=item)
    item.refresh_from_db()
    assert item.status == Status.WITHDRAWN
    assert list(core_selectors.review_queue(pub.village_admin)) == []
    assert selectors.my_suggestion(pub.resident, item.pk) == item
    assert not core_selectors.readable(pub.neighbour).filter(pk=item.pk).exists()


# Demo ---------------------------------------------------------------------------------------------------------

def test_the_demo_makes_boards_and_suggestions_and_can_run_twice(pub, tree):
    from gongzhi.demo import publications_boards as demo

    made = demo.load([tree["town"]], seed=1)
    assert made > 0
    boards_made = Publication.objects.filter(kind="board")
    assert boards_made.filter(status=Status.PUBLISHED).count() == 2  # last quarter's, one per village
    assert boards_made.filter(status=Status.DRAFT).count() == 2
    assert core_selectors.readable(pub.resident, kind="board").count() == 1
    assert core_selectors.readable(pub.resident, kind="suggestion").exists()
    assert Suggestion.objects.filter(support_count__gt=0).exists()
    assert BoardAppeal.objects.filter(status=BoardAppeal.Status.REJECTED).exists()
    demo.load([tree["town"]], seed=1)
    assert Publication.objects.filter(kind="board").count() == 4


def test_an_entry_by_household_number(pub, board, tree):
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-202",
                                         address="小山村二社5号")
    Household.objects.create(village=tree["village2"], grid=tree["grid3"], number="H-909", address="大湾村")
    messy = _criterion(pub, "black", "乱堆乱放")
    entry = services.add_entry(actor=pub.village_admin, publication=board, criterion=messy, name="赵四",
                               reason="柴草堆在村道上", household_number="H-202")
    assert entry.household == household and entry.household_number == "H-202"
    with pytest.raises(DomainError) as err:
        services.add_entry(actor=pub.village_admin, publication=board, criterion=messy, name="钱五", reason="x",
                           household_number="H-909")
    assert err.value.field == "household_number"


def test_suggestions_per_day_are_limited(pub, monkeypatch):
    from gongzhi.core.errors import RateLimited

    monkeypatch.setattr(services, "SUGGESTION_LIMIT", (2, 3600))
    for n in range(2):
        services.submit_suggestion(actor=pub.resident, title=f"建议{n}", body="内容", client_key=f"k{n}")
    assert services.submit_suggestion(actor=pub.resident, title="建议0", body="内容", client_key="k0")  # a retry
    with pytest.raises(RateLimited):
        services.submit_suggestion(actor=pub.resident, title="建议3", body="内容", client_key="k3")
    assert Publication.objects.filter(kind="suggestion").count() == 2
