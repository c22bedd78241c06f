"""The publishing core: the lifecycle with its history, who may do each step, and the audience rule (a live
item is seen exactly by its area's residents; a withdrawn or out-of-period one by nobody)."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification
from gongzhi.publications import kinds
from gongzhi.publications.factories import published
from gongzhi.publications.models import Comment, Publication, PublicationEvent, ReadMark, Status
from gongzhi.publications.selectors import core as selectors
from gongzhi.publications.services import core

pytestmark = pytest.mark.django_db


def _readers(pub, item):
    people = {"resident": pub.resident, "neighbour": pub.neighbour, "village2": pub.village2_resident,
              "other_town": pub.other_town_resident, "unverified": pub.unverified, "anonymous": AnonymousUser()}
    return {name for name, user in people.items() if selectors.readable(user).filter(pk=item.pk).exists()}


def test_a_village_item_is_seen_exactly_by_the_village_residents(pub):
    item = published(pub.village_admin, "news", pub.tree["village"], title="村里修路通知")
    assert _readers(pub, item) == {"resident", "neighbour"}
    grid_item = published(pub.village_admin, "news", pub.tree["village"], pub.tree["grid2"])
    assert _readers(pub, grid_item) == {"neighbour"}
    town_item = published(pub.dispatcher, "news", pub.tree["town"])
    assert _readers(pub, town_item) == {"resident", "neighbour", "village2"}
    county_item = published(pub.county_dispatcher, "policy", pub.tree["county"])
    assert _readers(pub, county_item) == {"resident", "neighbour", "village2", "other_town", "unverified",
                                          "anonymous"}
    with pytest.raises(NotFound):
        selectors.readable_one(pub.village2_resident, item.pk)
    assert selectors.readable_one(pub.resident, item.pk) == item


def test_drafts_items_in_review_and_withdrawn_items_are_seen_by_no_resident(pub):
    draft = core.create_draft(actor=pub.village_admin, kind="news", author_unit=pub.tree["village"], title="草稿")
    assert _readers(pub, draft) == set()
    core.submit(actor=pub.village_station, publication=draft)
    assert _readers(pub, draft) == set()
    core.approve(actor=pub.village_admin, publication=draft)
    assert _readers(pub, draft) == {"resident", "neighbour"}
    core.withdraw(actor=pub.village_station, publication=draft, reason="内容有误")
    assert _readers(pub, draft) == set()
    assert selectors.managed(pub.village_admin).filter(pk=draft.pk).exists()  # its staff still see it
    events = list(PublicationEvent.objects.filter(publication=draft).values_list("action", "actor__username",
                                                                                  "to_status", "note"))
    assert events == [("create", "pub_cunguan", "draft", ""), ("submit", "pub_gzz", "in_review", ""),
                      ("approve", "pub_cunguan", "published", ""), ("withdraw", "pub_gzz", "withdrawn", "内容有误")]


def test_the_publication_period_opens_and_closes_the_item(pub):
    start = timezone.now() + datetime.timedelta(days=1)
    item = published(pub.village_admin, "news", pub.tree["village"], publish_from=start,
                     publish_until=start + datetime.timedelta(days=7))
    assert _readers(pub, item) == set()
    with time_machine.travel(start + datetime.timedelta(hours=1)):
        assert _readers(pub, item) == {"resident", "neighbour"}
    with time_machine.travel(start + datetime.timedelta(days=7)):
        assert _readers(pub, item) == set()


def test_a_period_must_end_after_it_starts(pub):
    now = timezone.now()
    with pytest.raises(DomainError) as err:
        core.create_draft(actor=pub.village_admin, kind="news", author_unit=pub.tree["village"], title="x",
                          publish_from=now, publish_until=now)
    assert err.value.field == "publish_until"
    assert not Publication.objects.exists()


def test_four_eyes_kinds_need_a_second_person(pub):
    item = core.create_draft(actor=pub.dispatcher, kind="board", author_unit=pub.tree["village"], title="红榜")
    with pytest.raises(Forbidden):
        core.publish_now(actor=pub.dispatcher, publication=item)
    core.submit(actor=pub.dispatcher, publication=item)
    with pytest.raises(Forbidden):
        core.approve(actor=pub.dispatcher, publication=item)  # the author cannot approve their own
    assert selectors.review_queue(pub.dispatcher).count() == 0
    assert list(selectors.review_queue(pub.dispatcher2)) == [item]
    core.approve(actor=pub.dispatcher2, publication=item)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED


def test_a_village_cannot_publish_its_own_disclosure_without_the_township(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                             title="2026年11月财务公开")
    with pytest.raises(Forbidden):
        core.publish_now(actor=pub.village_admin, publication=item)
    core.submit(actor=pub.village_admin, publication=item)
    with pytest.raises(Forbidden):
        core.approve(actor=pub.village_admin, publication=item)
    with pytest.raises(Forbidden):
        core.approve(actor=pub.other_dispatcher, publication=item)  # another township
    core.return_for_changes(actor=pub.dispatcher, publication=item, reason="请补充支出明细")
    item.refresh_from_db()
    assert item.status == Status.DRAFT
    note = Notification.objects.get(recipient=pub.village_admin, kind="publication.reviewed")
    assert "请补充支出明细" in note.body and note.target_id == item.pk


def test_submitting_tells_the_reviewers_over_the_author_unit(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"], title="x")
    core.submit(actor=pub.village_admin, publication=item)
    told = set(Notification.objects.filter(kind="publication.submitted").values_list("recipient__username",
                                                                                       flat=True))
    assert told == {"pub_disp", "pub_disp2", "pub_cdisp"}


def test_authors_write_only_in_their_own_units_and_audience_stays_under_the_author(pub):
    with pytest.raises(Forbidden):
        core.create_draft(actor=pub.other_village_admin, kind="news", author_unit=pub.tree["village"], title="x")
    with pytest.raises(Forbidden):
        core.create_draft(actor=pub.village_admin, kind="policy", author_unit=pub.tree["village"], title="x")
    with pytest.raises(DomainError) as err:
        core.create_draft(actor=pub.dispatcher, kind="news", author_unit=pub.tree["village"],
                          audience_unit=pub.tree["town"], title="x")
    assert err.value.field == "audience_unit"
    with pytest.raises(DomainError):
        core.create_draft(actor=pub.village_admin, kind="nonsense", author_unit=pub.tree["village"], title="x")
    with pytest.raises(DomainError) as err:
        core.create_draft(actor=pub.village_admin, kind="news", author_unit=pub.tree["village"], title="  ")
    assert err.value.field == "title"
    assert not Publication.objects.exists()


def test_out_of_scope_staff_cannot_find_an_item(pub):
    item = published(pub.village_admin, "news", pub.tree["village"])
    with pytest.raises(NotFound):
        selectors.managed_one(pub.other_village_admin, item.pk)
    with pytest.raises(Forbidden):
        core.withdraw(actor=pub.other_dispatcher, publication=item, reason="x")
    assert selectors.managed_one(pub.county_dispatcher, item.pk) == item


def test_steps_out_of_order_are_refused_and_change_nothing(pub):
    item = published(pub.village_admin, "news", pub.tree["village"])
    with pytest.raises(Conflict):
        core.submit(actor=pub.village_admin, publication=item)
    with pytest.raises(Conflict):
        core.update_draft(actor=pub.village_admin, publication=item, title="改标题")
    with pytest.raises(DomainError):
        core.withdraw(actor=pub.village_admin, publication=item, reason="")
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED and item.title == "测试公开事项"


def test_the_same_form_sent_twice_makes_one_draft(pub):
    first = core.create_draft(actor=pub.village_admin, kind="news", author_unit=pub.tree["village"], title="x",
                              client_key="k1")
    again = core.create_draft(actor=pub.village_admin, kind="news", author_unit=pub.tree["village"], title="x",
                              client_key="k1")
    assert first == again and Publication.objects.count() == 1


def test_tags_are_cleaned_and_found_whole(pub):
    item = published(pub.dispatcher, "policy", pub.tree["town"], tags="低保，医保 养老、低保")
    assert item.tags == ",低保,医保,养老,"
    assert list(selectors.readable(pub.resident, tag="医保")) == [item]
    assert not selectors.readable(pub.resident, tag="医").exists()
    assert list(selectors.readable(pub.resident, search="养老")) == [item]


def test_comments_wait_for_moderation_and_answers_show_them(pub):
    item = published(pub.village_admin, "meeting", pub.tree["village"], comments="moderated")
    comment = core.add_comment(actor=pub.resident, publication=item, body="什么时候开会？")
    assert comment.state == Comment.State.PENDING
    assert list(selectors.comments_for_reader(pub.resident, item)) == [comment]  # their own
    assert not selectors.comments_for_reader(pub.neighbour, item).exists()
    core.answer_comment(actor=pub.village_admin, comment=comment, answer="本周五下午三点")
    assert list(selectors.comments_for_reader(pub.neighbour, item)) == [comment]
    core.moderate_comment(actor=pub.village_admin, comment=comment, show=False, reason="涉及个人信息")
    assert not selectors.comments_for_reader(pub.neighbour, item).exists()
    with pytest.raises(NotFound):
        core.moderate_comment(actor=pub.other_village_admin, comment=comment, show=True)


def test_only_residents_of_the_area_may_comment_and_only_when_open(pub):
    item = published(pub.village_admin, "meeting", pub.tree["village"], comments="open")
    with pytest.raises(NotFound):
        core.add_comment(actor=pub.village2_resident, publication=item, body="x")
    closed = published(pub.village_admin, "news", pub.tree["village"])
    with pytest.raises(Forbidden):
        core.add_comment(actor=pub.resident, publication=closed, body="x")
    assert core.add_comment(actor=pub.resident, publication=item, body="赞成").state == Comment.State.VISIBLE


def test_a_hook_that_refuses_undoes_the_publishing(pub, monkeypatch):
    def refuse(actor, publication):
        raise DomainError("不行")

    monkeypatch.setitem(kinds._HOOKS, ("published", "news"), [refuse])
    item = core.create_draft(actor=pub.village_admin, kind="news", author_unit=pub.tree["village"], title="x")
    with pytest.raises(DomainError):
        core.publish_now(actor=pub.village_admin, publication=item)
    item.refresh_from_db()
    assert item.status == Status.DRAFT
    assert not PublicationEvent.objects.filter(publication=item, action="publish").exists()


def test_reading_marks_once(pub):
    item = published(pub.village_admin, "news", pub.tree["village"])
    core.mark_read(user=pub.resident, publication=item)
    core.mark_read(user=pub.resident, publication=item)
    assert ReadMark.objects.filter(user=pub.resident).count() == 1
