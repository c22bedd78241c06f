"""红黑榜 and 建言献策: the writes of the two kinds beyond the core (see models/boards.py).

Boards: criteria (创评标准) of a village or township, a board's settings (the period it judges, how much the
black list shows), entries added and removed while the board is a draft (the village's own nominations, or
proposed from the points ranking or from finished cases), residents' appeals and the village's decisions.
The board itself goes through the core: submit, the township approves (four eyes), the period ends it.

Suggestions: a verified resident writes to their village (a publication waiting for the village, created here
because residents are no authors in the core); the village replies, publishes it (only when the resident
allowed it) or keeps it private; residents of the area support a published one, once each.

Every write checks `boards_policies` first; a form sent twice changes nothing twice (client keys, unique rows).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core import throttle
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit
from gongzhi.publications import boards_notices, boards_policies, kinds, notices, policies
from gongzhi.publications.models import (
    BlackDisplay,
    Board,
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
from gongzhi.publications.services import core
from gongzhi.registry.models import Household

NAME_MAX = 30
REASON_MAX = 300
APPEAL_MAX = 500
DECISION_MAX = 300
CRITERION_NAME_MAX = 30
CRITERION_DESCRIPTION_MAX = 200
SUGGESTION_TITLE_MAX = 60
SUGGESTION_BODY_MAX = 2000
REPLY_MAX = 2000
CLIENT_KEY_MAX = 64
# New suggestions per resident: (how many, per seconds).
SUGGESTION_LIMIT = (10, 24 * 3600)

# 创评标准 a village starts with (seed 000: 孝老敬亲, 邻里和睦, 贡献爱心 on the red list; 不赡养老人, 赌博败家,
# 酗酒家暴 and the 陈规陋习 of 村规民约 on the black list).
PRESET_CRITERIA: list[tuple[str, str, str]] = [
    (BoardList.RED, "孝老爱亲", "孝敬老人、关爱家人，家庭和睦"),
    (BoardList.RED, "邻里和睦", "团结邻里、互帮互助、调解纠纷"),
    (BoardList.RED, "好人好事", "见义勇为、拾金不昧、助人为乐"),
    (BoardList.RED, "贡献爱心", "捐资助学、扶贫济困、志愿服务"),
    (BoardList.RED, "环境卫生示范户", "庭院整洁、门前三包落实、垃圾分类到位"),
    (BoardList.BLACK, "不赡养老人", "有赡养能力而不履行赡养义务"),
    (BoardList.BLACK, "高价彩礼", "索要高价彩礼，超出村规民约标准"),
    (BoardList.BLACK, "大操大办", "红白喜事大操大办、铺张浪费"),
    (BoardList.BLACK, "赌博败家", "参与赌博，经教育不改"),
    (BoardList.BLACK, "酗酒家暴", "酗酒滋事、家庭暴力"),
    (BoardList.BLACK, "乱堆乱放", "柴草、垃圾、建材乱堆乱放，经劝导不整改"),
]


def _bad(message: str, field: str) -> DomainError:
    return DomainError(message, code="board_invalid", field=field)


def _locked(publication: Publication) -> Publication:
    return (Publication.objects.select_for_update(of=("self",)).select_related("author_unit", "audience_unit")
            .get(pk=publication.pk))


# Criteria -----------------------------------------------------------------------------------------------------

def _check_criteria_unit(actor: User | None, unit: OrgUnit) -> None:
    if unit.level not in (Level.VILLAGE, Level.TOWNSHIP) or unit.is_department:
        raise _bad(_("红黑榜标准只能由村(社区)或乡镇制定。"), "unit")
    if actor is not None and not policies.can_author(actor, "board", unit):
        raise NotFound()


@transaction.atomic
def add_criterion(*, actor: User | None, unit: OrgUnit, board_list: str, name: str, description: str = "",
                  order: int | None = None) -> BoardCriterion:
    """A new 创评标准 of `unit` (a village, or a township for all its villages); the same name on the same list
    again returns the existing one (switched on)."""
    _check_criteria_unit(actor, unit)
    if board_list not in BoardList.values:
        raise _bad(_("请选择红榜或黑榜。"), "list")
    name = clean_text(name, field="name", max_length=CRITERION_NAME_MAX, required_message=_("请填写标准名称。"),
                      code="board_invalid")
    description = clean_text(description, field="description", max_length=CRITERION_DESCRIPTION_MAX,
                             code="board_invalid")
    existing = BoardCriterion.objects.filter(unit=unit, list=board_list, name=name).first()
    if existing is not None:
        if not existing.is_active:
            existing.is_active = True
            existing.save(update_fields=["is_active"])
        return existing
    if order is None:
        order = BoardCriterion.objects.filter(unit=unit, list=board_list).count()
    return BoardCriterion.objects.create(unit=unit, list=board_list, name=name, description=description, order=order)


def install_preset_criteria(*, actor: User | None, unit: OrgUnit) -> int:
    """The preset 创评标准 for `unit` (those it lacks); returns how many were added."""
    _check_criteria_unit(actor, unit)
    before = BoardCriterion.objects.filter(unit=unit).count()
    for order, (board_list, name, description) in enumerate(PRESET_CRITERIA):
        add_criterion(actor=actor, unit=unit, board_list=board_list, name=name, description=description, order=order)
    return BoardCriterion.objects.filter(unit=unit).count() - before


@transaction.atomic
def set_criterion_active(*, actor: User, criterion: BoardCriterion, active: bool) -> BoardCriterion:
    """Switch a criterion off (no new entries under it; entries already made keep it) or on again."""
    _check_criteria_unit(actor, criterion.unit)
    criterion.is_active = active
    criterion.save(update_fields=["is_active"])
    return criterion


# A board's settings -------------------------------------------------------------------------------------------

def board_settings(publication: Publication) -> Board:
    """The board's own row (made on first use, with the defaults)."""
    board, _created = Board.objects.get_or_create(publication=publication)
    return board


def _require_editable(actor: User, publication: Publication) -> None:
    if publication.kind != "board":
        raise NotFound()
    if not boards_policies.can_manage_board(actor, publication):
        raise NotFound()
    if not boards_policies.can_edit_board(actor, publication):
        if publication.status != Status.DRAFT:
            raise Conflict(_("红黑榜提交审核后不能再修改条目；如需修改，请审核人员退回。"))
        raise Forbidden()


@transaction.atomic
def update_board(*, actor: User, publication: Publication, black_display: str,
                 period_start: datetime.date | None = None, period_end: datetime.date | None = None) -> Board:
    """How much the black list shows, and the period the board judges (used by the points nominations)."""
    publication = _locked(publication)
    _require_editable(actor, publication)
    if black_display not in BlackDisplay.values:
        raise _bad(_("请选择黑榜公开方式。"), "black_display")
    if period_start and period_end and period_end < period_start:
        raise _bad(_("评选期结束日期不能早于开始日期。"), "period_end")
    board = board_settings(publication)
    board.black_display, board.period_start, board.period_end = black_display, period_start, period_end
    board.save()
    core.log_step(publication=publication, actor=actor,
                  note=_("红黑榜设置：黑榜%(display)s") % {"display": board.get_black_display_display()})
    return board


@transaction.atomic
def create_board(*, actor: User, author_unit: OrgUnit, title: str, body: str = "",
                 period_start: datetime.date | None = None, period_end: datetime.date | None = None,
                 publish_from: datetime.datetime | None = None, publish_until: datetime.datetime | None = None,
                 black_display: str = BlackDisplay.SURNAME, client_key: str = "") -> Publication:
    """A new board draft with its settings (the shared "new item" page makes the draft alone; this is the one
    call for the demo and the tests)."""
    publication = core.create_draft(actor=actor, kind="board", author_unit=author_unit, title=title, body=body,
                                    publish_from=publish_from, publish_until=publish_until, client_key=client_key)
    board = board_settings(publication)
    if black_display not in BlackDisplay.values:
        raise _bad(_("请选择黑榜公开方式。"), "black_display")
    board.black_display, board.period_start, board.period_end = black_display, period_start, period_end
    board.save()
    return publication


# Entries ------------------------------------------------------------------------------------------------------

def criteria_for(unit: OrgUnit, *, active_only: bool = True):  # type: ignore[no-untyped-def]
    """The criteria a board of `unit` may use: the unit's own and those of the units above it."""
    qs = BoardCriterion.objects.filter(unit__path__in=policies.path_chain(unit.path))
    return qs.filter(is_active=True) if active_only else qs


@transaction.atomic
def add_entry(*, actor: User, publication: Publication, criterion: BoardCriterion, name: str, reason: str,
              household: Household | None = None, household_number: str = "",
              source: str = BoardEntry.Source.STAFF, source_ref: str = "", client_key: str = "") -> BoardEntry:
    """Put a person or household on the board's red or black list (the criterion's list). A draft only. The
    household may be given by its number (户号) in the register, for a black list showing numbers only."""
    publication = _locked(publication)
    _require_editable(actor, publication)
    if not criteria_for(publication.author_unit).filter(pk=criterion.pk).exists():
        raise _bad(_("请选择本村（镇）启用的标准。"), "criterion")
    name = clean_text(name, field="name", max_length=NAME_MAX, required_message=_("请填写姓名或户名。"),
                      code="board_invalid")
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, required_message=_("请填写事由。"),
                        code="board_invalid")
    if source not in BoardEntry.Source.values:
        raise _bad(_("来源无效。"), "source")
    household_number = clean_text(household_number, field="household_number", max_length=30,
                                  code="board_invalid")
    if household is None and household_number:
        household = Household.objects.filter(number=household_number,
                                             village__path__startswith=publication.author_unit.path).first()
        if household is None:
            raise _bad(_("本村没有这个户号。"), "household_number")
    if household is not None and not household.village.path.startswith(publication.author_unit.path):
        raise _bad(_("该户不在本村。"), "household")
    client_key = (client_key or "")[:CLIENT_KEY_MAX]
    source_ref = source_ref[:40]
    if client_key and (same := BoardEntry.objects.filter(publication=publication, client_key=client_key).first()):
        return same
    if source_ref and BoardEntry.objects.filter(publication=publication, source=source,
                                                source_ref=source_ref).exists():
        raise _bad(_("该提名已在榜上。"), "source_ref")
    board_settings(publication)
    entry = BoardEntry.objects.create(
        publication=publication, list=criterion.list, criterion=criterion, name=name, reason=reason,
        household=household, household_number=household.number if household else "", source=source,
        source_ref=source_ref, created_by=actor, client_key=client_key)
    publication.updated_at = timezone.now()
    publication.save(update_fields=["updated_at"])
    return entry


@transaction.atomic
def remove_entry(*, actor: User, entry: BoardEntry) -> None:
    """Take an entry off a draft board (before anyone has seen it, so nothing is kept)."""
    publication = _locked(Publication(pk=entry.publication_id))
    _require_editable(actor, publication)
    BoardEntry.objects.filter(pk=entry.pk).delete()


# Appeals ------------------------------------------------------------------------------------------------------

@transaction.atomic
def file_appeal(*, actor: User, entry: BoardEntry, reason: str) -> BoardAppeal:
    """A resident of the board's area appeals an entry while the board is shown; the village's staff are told.
    One open appeal per resident and entry (a second sent returns the first)."""
    entry = BoardEntry.objects.select_related("publication__author_unit", "publication__audience_unit",
                                              "criterion").get(pk=entry.pk)
    publication = entry.publication
    if not policies.can_view(actor, publication) or entry.removed_at is not None:
        raise NotFound()
    if not boards_policies.can_appeal(actor, publication):
        raise Forbidden(_("只有本村核验居民可以在公示期内申诉。"))
    reason = clean_text(reason, field="reason", max_length=APPEAL_MAX, required_message=_("请填写申诉理由。"),
                        code="appeal_invalid")
    open_appeal = BoardAppeal.objects.filter(entry=entry, appellant=actor, status=BoardAppeal.Status.PENDING)
    if (existing := open_appeal.first()) is not None:
        return existing
    try:
        with transaction.atomic():
            appeal = BoardAppeal.objects.create(entry=entry, publication=publication, appellant=actor,
                                                reason=reason)
    except IntegrityError:  # the same appeal sent twice at once: the other request's
        return open_appeal.get()
    core.log_step(publication=publication, actor=actor,
                  note=_("收到申诉：%(list)s·%(criterion)s") % {"list": entry.get_list_display(),
                                                          "criterion": entry.criterion.name})
    with translation.override(settings.LANGUAGE_CODE):
        boards_notices.appeal_filed(appeal)
    return appeal


@transaction.atomic
def decide_appeal(*, actor: User, appeal: BoardAppeal, upheld: bool, decision: str) -> BoardAppeal:
    """The village decides an appeal: upheld takes the entry off the board (kept, with the reason, in the
    record); rejected keeps it, with the reason the appellant is told."""
    appeal = (BoardAppeal.objects.select_for_update(of=("self",))
              .select_related("entry__criterion", "publication__author_unit").get(pk=appeal.pk))
    if not boards_policies.can_manage_board(actor, appeal.publication):
        raise NotFound()
    if appeal.status != BoardAppeal.Status.PENDING:
        raise Conflict(_("该申诉已处理。"))
    decision = clean_text(decision, field="decision", max_length=DECISION_MAX,
                          required_message=_("请填写处理意见。") if not upheld else None, code="appeal_invalid")
    now = timezone.now()
    appeal.status = BoardAppeal.Status.UPHELD if upheld else BoardAppeal.Status.REJECTED
    appeal.decision, appeal.decided_by, appeal.decided_at = decision, actor, now
    appeal.save(update_fields=["status", "decision", "decided_by", "decided_at"])
    entry = appeal.entry
    if upheld and entry.removed_at is None:
        entry.removed_at = now
        entry.removed_reason = decision or _("申诉成立")
        entry.save(update_fields=["removed_at", "removed_reason"])
        # Other open appeals against the same entry are settled with it.
        BoardAppeal.objects.filter(entry=entry, status=BoardAppeal.Status.PENDING).exclude(pk=appeal.pk).update(
            status=BoardAppeal.Status.UPHELD, decision=appeal.decision, decided_by=actor, decided_at=now)
    note = (_("申诉成立，已撤下%(list)s“%(criterion)s”条目") if upheld
            else _("申诉不成立，%(list)s“%(criterion)s”条目保留")) % {"list": entry.get_list_display(),
                                                                   "criterion": entry.criterion.name}
    core.log_step(publication=appeal.publication, actor=actor, note=f"{note}：{decision}" if decision else note)
    with translation.override(settings.LANGUAGE_CODE):
        boards_notices.appeal_decided(appeal)
    return appeal


@kinds.on("published", "board")
def _board_published(actor: User, publication: Publication) -> None:
    """A black list is never shown forever: a board with black-list entries needs an end to its period."""
    if publication.publish_until is None and BoardEntry.objects.filter(
            publication=publication, list=BoardList.BLACK, removed_at__isnull=True).exists():
        raise DomainError(_("有黑榜条目的红黑榜须设定公示截止时间。"), code="board_invalid", field="publish_until")


# Suggestions --------------------------------------------------------------------------------------------------

def submit_suggestion(*, actor: User, title: str, body: str, may_publish: bool = False,
                      client_key: str = "") -> Publication:
    """A verified resident's suggestion to their village, waiting for the village's reply (its reviewers are
    told). The same `client_key` again returns the first; at most SUGGESTION_LIMIT new ones a day."""
    village = boards_policies.home_village(actor)
    if village is None:
        raise Forbidden(_("请先完成实名核验，再提建议。"))
    client_key = (client_key or "")[:CLIENT_KEY_MAX]
    if client_key and (same := Publication.objects.filter(created_by=actor, client_key=client_key).first()):
        return same
    # Counted outside the transaction, so a refusal keeps the count that caused it.
    throttle.enforce(f"suggestion:user:{actor.pk}", SUGGESTION_LIMIT)
    return _create_suggestion(actor=actor, village=village, title=title, body=body, may_publish=may_publish,
                              client_key=client_key)


@transaction.atomic
def _create_suggestion(*, actor: User, village: OrgUnit, title: str, body: str, may_publish: bool,
                       client_key: str) -> Publication:
    title = clean_text(title, field="title", max_length=SUGGESTION_TITLE_MAX, required_message=_("请填写标题。"),
                       code="suggestion_invalid")
    body = clean_text(body, field="body", max_length=SUGGESTION_BODY_MAX, required_message=_("请填写建议内容。"),
                      code="suggestion_invalid")
    now = timezone.now()
    try:
        with transaction.atomic():
            publication = Publication.objects.create(
                kind="suggestion", title=title, body=body, author_unit=village, audience_unit=village,
                audience_path=village.path, status=Status.IN_REVIEW, comments=kinds.KINDS["suggestion"].comments,
                created_by=actor, client_key=client_key, created_at=now, updated_at=now)
    except IntegrityError:
        same = Publication.objects.filter(created_by=actor, client_key=client_key).first()
        if same is None or not client_key:
            raise
        return same
    Suggestion.objects.create(publication=publication, author=actor, village=village, may_publish=may_publish)
    PublicationEvent.objects.create(publication=publication, actor=actor, action=PublicationEvent.Action.SUBMIT,
                                    from_status="", to_status=Status.IN_REVIEW)
    with translation.override(settings.LANGUAGE_CODE):
        notices.submitted(publication)
    return publication


def _managed_suggestion(actor: User, publication: Publication) -> tuple[Publication, Suggestion]:
    publication = _locked(publication)
    if not boards_policies.can_manage_suggestion(actor, publication):
        raise NotFound()
    suggestion = Suggestion.objects.select_for_update(of=("self",)).get(publication=publication)
    return publication, suggestion


@transaction.atomic
def reply_suggestion(*, actor: User, publication: Publication, reply: str) -> Suggestion:
    """The village's reply (shown under the suggestion, to its author and, once public, to the area); replying
    again replaces it. The author is told."""
    publication, suggestion = _managed_suggestion(actor, publication)
    suggestion.reply = clean_text(reply, field="reply", max_length=REPLY_MAX, required_message=_("请填写答复。"),
                                  code="suggestion_invalid")
    suggestion.state = Suggestion.State.REPLIED
    suggestion.replied_by, suggestion.replied_at = actor, timezone.now()
    suggestion.save(update_fields=["reply", "state", "replied_by", "replied_at"])
    core.log_step(publication=publication, actor=actor, note=_("答复建议"))
    with translation.override(settings.LANGUAGE_CODE):
        boards_notices.suggestion_replied(suggestion, publication)
    return suggestion


@transaction.atomic
def publish_suggestion(*, actor: User, publication: Publication) -> Publication:
    """Make a suggestion public to its village (only when its author chose 可公开)."""
    publication, suggestion = _managed_suggestion(actor, publication)
    if not suggestion.may_publish:
        raise Conflict(_("建议人未同意公开，不能发布。"))
    return core.approve(actor=actor, publication=publication, note=_("公开建议"))


@transaction.atomic
def keep_private(*, actor: User, publication: Publication, note: str = "") -> Publication:
    """The village keeps a waiting suggestion private: it leaves the review queue and is seen only by the
    village's staff and its author (with the reply)."""
    publication, suggestion = _managed_suggestion(actor, publication)
    if publication.status != Status.IN_REVIEW:
        raise Conflict(_("该建议当前状态为“%(status)s”，不能这样操作。") % {
            "status": publication.get_status_display()})
    note = clean_text(note, field="note", max_length=200, code="suggestion_invalid")
    suggestion.kept_private = True
    suggestion.save(update_fields=["kept_private"])
    publication.status, publication.withdrawn_at = Status.WITHDRAWN, timezone.now()
    publication.updated_at = publication.withdrawn_at
    publication.save(update_fields=["status", "withdrawn_at", "updated_at"])
    PublicationEvent.objects.create(publication=publication, actor=actor, action=PublicationEvent.Action.STEP,
                                    from_status=Status.IN_REVIEW, to_status=Status.WITHDRAWN,
                                    note=note or _("不公开，仅村干部和建议人可见"))
    return publication


@kinds.on("published", "suggestion")
def _suggestion_published(actor: User, publication: Publication) -> None:
    """Only a suggestion whose author chose 可公开, and not kept private, is published (whichever page asks)."""
    suggestion = Suggestion.objects.filter(publication=publication).first()
    if suggestion is None or not suggestion.may_publish or suggestion.kept_private:
        raise Conflict(_("建议人未同意公开，不能发布。"))


def support(*, actor: User, publication: Publication) -> bool:
    """The resident supports a published suggestion of their area, once: True when this call counted."""
    if not policies.can_view(actor, publication) or publication.kind != "suggestion":
        raise NotFound()
    if not boards_policies.can_support(actor, publication):
        raise Forbidden(_("只有本村核验居民可以支持。"))
    try:
        with transaction.atomic():
            SuggestionSupport.objects.create(publication=publication, user=actor)
            Suggestion.objects.filter(publication=publication).update(support_count=F("support_count") + 1)
    except IntegrityError:  # supported before (or the same tap twice at once)
        return False
    return True
