"""Claims, reviews, direct awards and deductions, corrections and event awards: the workflow, the caps, who
may act where, and that every credit lands in the ledger once."""

import datetime

import pytest
import time_machine

from gongzhi.accounts.models import Role
from gongzhi.cases.factories import report
from gongzhi.cases.tests.helpers import closed
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification
from gongzhi.points.models import Award, Claim, RuleItem
from gongzhi.points.selectors.accounts import standing
from gongzhi.points.selectors.integrity import verify_ledger
from gongzhi.points.services import awards, rules
from gongzhi.testing.fieldwork import phone_photo

pytestmark = pytest.mark.django_db


def _balance(world):
    world.account.refresh_from_db()
    return world.account.balance


def _claim(world, item_part="邻里和睦", **kwargs):
    kwargs.setdefault("note", "调解了邻居的纠纷")
    return awards.submit_claim(user=world.resident_user, item=world.rule(item_part), **kwargs)


# Claims ------------------------------------------------------------------------------------------------------

def test_an_approved_claim_credits_the_household_once(points_world, django_capture_on_commit_callbacks):
    w = points_world
    with django_capture_on_commit_callbacks(execute=True):
        claim = _claim(w)
    assert claim.status == Claim.Status.SUBMITTED and claim.account == w.account
    assert Notification.objects.filter(recipient=w.village_admin, kind="points.claim_submitted").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")
        awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")  # a replay
    assert _balance(w) == 5
    assert Award.objects.get().claim == claim
    assert Notification.objects.filter(recipient=w.resident_user, kind="points.claim_reviewed").count() == 1
    assert verify_ledger().ok


def test_a_claim_decided_one_way_cannot_be_decided_another(points_world):
    w = points_world
    claim = _claim(w)
    awards.review_claim(actor=w.village_admin, claim=claim, decision="reject", note="事迹不属实")
    with pytest.raises(Conflict):
        awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")
    assert _balance(w) == 0


@pytest.mark.parametrize("decision, message", [("reject", "请填写驳回原因"), ("more", "请写明需要补充的材料")])
def test_reject_and_more_need_a_reason(points_world, decision, message):
    w = points_world
    claim = _claim(w)
    with pytest.raises(DomainError) as refused:
        awards.review_claim(actor=w.village_admin, claim=claim, decision=decision, note="  ")
    assert message in str(refused.value.message)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED


def test_more_needed_then_supplemented_then_approved(points_world):
    w = points_world
    claim = _claim(w)
    awards.review_claim(actor=w.village_admin, claim=claim, decision="more", note="请补充调解照片")
    claim = awards.supplement_claim(user=w.resident_user, claim=claim, note="已补充照片", photos=[phone_photo()])
    assert claim.status == Claim.Status.SUBMITTED and claim.photos.count() == 1
    assert "已补充照片" in claim.note
    awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")
    assert _balance(w) == 5


def test_a_withdrawn_claim_cannot_be_approved(points_world):
    w = points_world
    claim = awards.withdraw_claim(user=w.resident_user, claim=_claim(w))
    assert claim.status == Claim.Status.WITHDRAWN
    with pytest.raises(Conflict):
        awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")


def test_the_same_form_sent_twice_makes_one_claim(points_world):
    w = points_world
    first = _claim(w, client_key="k1")
    again = _claim(w, client_key="k1")
    assert first.pk == again.pk and Claim.objects.count() == 1


def test_a_second_pending_claim_for_the_same_item_is_refused(points_world):
    w = points_world
    _claim(w)
    with pytest.raises(DomainError) as refused:
        _claim(w)
    assert refused.value.code == "claim_pending"


def test_photo_required_items_need_a_photo(points_world):
    w = points_world
    with pytest.raises(DomainError) as refused:
        _claim(w, "孝老敬亲")
    assert "须上传照片" in str(refused.value.message)
    assert _claim(w, "孝老敬亲", photos=[phone_photo()]).photos.count() == 1


def test_unverified_residents_and_deductions_cannot_claim(points_world, resident):
    w = points_world
    with pytest.raises(Forbidden) as refused:
        awards.submit_claim(user=resident, item=w.rule("邻里和睦"), note="x")
    assert "实名核验" in str(refused.value.message)
    with pytest.raises(DomainError):
        _claim(w, "乱倒垃圾")


def test_the_cap_counts_per_period(points_world):
    w = points_world
    item = w.rule("家庭子女考入大学")  # once a year
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC), tick=False):
        claim = _claim(w, "家庭子女考入大学", photos=[phone_photo()])
        awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")
        with pytest.raises(DomainError) as refused:
            _claim(w, "家庭子女考入大学", photos=[phone_photo()])
        assert refused.value.code == "cap_reached" and "每年最多1次" in str(refused.value.message)
    with time_machine.travel(datetime.datetime(2027, 1, 2, 10, tzinfo=datetime.UTC), tick=False):
        assert _claim(w, "家庭子女考入大学", photos=[phone_photo()]).rule_item == item


# Who may act -------------------------------------------------------------------------------------------------

def test_only_the_villages_administrator_reviews_village_items(points_world, make_staff, tree):
    w = points_world
    claim = _claim(w)
    other_admin = make_staff("cunguan2", tree["village2"], Role.VILLAGE_ADMIN)
    supervisor = make_staff("ducha", tree["town"], Role.SUPERVISOR)
    other_town = make_staff("odisp", tree["other_town"], Role.DISPATCHER)
    with pytest.raises(NotFound):
        awards.review_claim(actor=other_admin, claim=claim, decision="approve")
    with pytest.raises(NotFound):
        awards.review_claim(actor=other_town, claim=claim, decision="approve")
    with pytest.raises(Forbidden):
        awards.review_claim(actor=supervisor, claim=claim, decision="approve")
    awards.review_claim(actor=w.dispatcher, claim=claim, decision="approve")  # the township covers its villages
    assert _balance(w) == 5


def test_township_items_need_the_townships_dispatcher(points_world):
    w = points_world
    claim = _claim(w, "带动5户以上村民增收致富")
    with pytest.raises(Forbidden) as refused:
        awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")
    assert "乡镇(街道)管理员" in str(refused.value.message)
    awards.review_claim(actor=w.dispatcher, claim=claim, decision="approve")
    assert _balance(w) == 15


# Direct awards, deductions, corrections ----------------------------------------------------------------------

def test_a_direct_award_with_evidence_and_its_replay(points_world, django_capture_on_commit_callbacks):
    w = points_world
    with django_capture_on_commit_callbacks(execute=True):
        award = awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("参加义务巡逻"),
                                      reason="参加春节治安巡逻", photos=[phone_photo()], client_key="f1")
    again = awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("参加义务巡逻"),
                                  reason="参加春节治安巡逻", client_key="f1")
    assert again.pk == award.pk and award.photos.count() == 1
    assert _balance(w) == 3
    assert Notification.objects.filter(recipient=w.resident_user, kind="points.award").count() == 1


def test_a_deduction_larger_than_the_balance_books_what_there_is(points_world):
    w = points_world
    awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("参加义务巡逻"), reason="巡逻")
    deduction = awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("乱倒垃圾"),
                                      reason="往河道倾倒垃圾")
    assert (deduction.points, deduction.booked) == (-5, -3)
    assert _balance(w) == 0
    assert standing(w.account).earned == -2  # the stars count the deduction in full
    assert verify_ledger().ok


def test_a_deduction_on_an_empty_account_books_nothing_but_is_recorded(points_world):
    w = points_world
    deduction = awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("乱倒垃圾"), reason="倾倒")
    assert deduction.booked == 0 and _balance(w) == 0
    assert verify_ledger().ok


def test_a_direct_award_needs_a_reason_and_the_right_post(points_world, make_staff, tree):
    w = points_world
    with pytest.raises(DomainError) as refused:
        awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("参加义务巡逻"), reason=" ")
    assert "请填写事由" in str(refused.value.message)
    grid_worker = make_staff("wgy", tree["grid"], Role.GRID_WORKER)
    with pytest.raises(NotFound):
        awards.award_directly(actor=grid_worker, resident=w.head, item=w.rule("参加义务巡逻"), reason="巡逻")
    assert _balance(w) == 0


def test_a_correction_reverses_exactly_what_was_booked(points_world):
    w = points_world
    award = awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("参加义务巡逻"), reason="巡逻")
    correction = awards.reverse_award(actor=w.village_admin, award=award, reason="重复登记")
    assert (correction.points, correction.booked, correction.reverses) == (-3, -3, award)
    assert _balance(w) == 0
    with pytest.raises(Conflict):
        awards.reverse_award(actor=w.village_admin, award=award, reason="再次更正")
    # A reversed award no longer counts against the cap, nor for the stars.
    assert standing(w.account).earned == 0
    assert verify_ledger().ok


# Versions ----------------------------------------------------------------------------------------------------

def test_changing_an_item_keeps_past_awards_on_the_old_version(points_world):
    w = points_world
    item = w.rule("参加义务巡逻")
    award = awards.award_directly(actor=w.village_admin, resident=w.head, item=item, reason="巡逻")
    new = rules.change_item(actor=w.dispatcher, item=item, fields=rules.ItemFields(
        name=item.name, points=4, cap_count=24, cap_period="year"))
    award.refresh_from_db()
    assert award.rule_item.points == 3 and award.rule_item.retired_at is not None
    assert new.previous == item and new.lineage == item.lineage
    with pytest.raises(DomainError) as refused:
        awards.award_directly(actor=w.village_admin, resident=w.head, item=item, reason="巡逻")
    assert refused.value.code == "item_retired"
    awards.award_directly(actor=w.village_admin, resident=w.head, item=new, reason="巡逻")
    assert _balance(w) == 7


def test_the_preset_has_seven_categories_and_sixty_two_items(points_world):
    assert RuleItem.objects.filter(category__township=points_world.town).count() == 62
    assert rules.install_preset(actor=None, township=points_world.town) == 0  # twice changes nothing


# Events ------------------------------------------------------------------------------------------------------

def test_closing_a_residents_report_awards_the_household_once(points_world, people, cats, tree):
    w = points_world
    case = closed(people, tree, report(w.resident_user, cats["env"]))
    award = Award.objects.get(source_key=f"case:{case.pk}")
    assert award.origin == Award.Origin.EVENT and award.points == 2
    assert _balance(w) == 2
    assert awards.award_for_event(trigger="report_closed", resident_user=w.resident_user,
                                  source_key=f"case:{case.pk}", memo="x") == award
    assert _balance(w) == 2


def test_no_event_award_for_an_unverified_reporter(points_world, resident):
    assert awards.award_for_event(trigger="report_closed", resident_user=resident, source_key="case:1",
                                  memo="x") is None
    assert not Award.objects.exists()
