"""Reads of 红黑榜 and 建言献策: a board as a reader sees it (the black list masked as the village decided), a
board as its staff see it (entries, nominations, appeals), suggestions for their author, their village and
the residents of the area."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.cases.models import Case
from gongzhi.cases.workflow import Status as CaseStatus
from gongzhi.core.errors import NotFound
from gongzhi.org.models import Level, OrgUnit
from gongzhi.points.models import Award
from gongzhi.publications import boards_policies, policies
from gongzhi.publications.models import (
    BlackDisplay,
    Board,
    BoardAppeal,
    BoardCriterion,
    BoardEntry,
    BoardList,
    Publication,
    Status,
    Suggestion,
    SuggestionSupport,
)
from gongzhi.registry.models import Household, Resident

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

NOMINATIONS_MAX = 8


def mask_name(name: str) -> str:
    """王秀兰 → 王某某, 王秀兰家 → 王某某家 (the surname only)."""
    name = name.strip()
    if not name:
        return ""
    suffix = "家" if name.endswith("家") and len(name) > 2 else ""
    return f"{name[0]}某某{suffix}"


@dataclass
class ShownEntry:
    entry: BoardEntry
    shown_name: str
    shown_detail: str
    my_appeal: BoardAppeal | None = None


@dataclass
class CriterionCount:
    criterion: str
    count: int


@dataclass
class ReaderBoard:
    board: Board | None
    red: list[ShownEntry] = field(default_factory=list)
    black: list[ShownEntry] = field(default_factory=list)
    black_counts: list[CriterionCount] = field(default_factory=list)
    counts_only: bool = False
    may_appeal: bool = False
    my_appeals: dict[int, BoardAppeal] = field(default_factory=dict)


def _board_row(publication: Publication) -> Board | None:
    return Board.objects.filter(publication=publication).first()


def _shown(entry: BoardEntry, display: str) -> ShownEntry:
    if entry.list == BoardList.RED or display == BlackDisplay.FULL:
        return ShownEntry(entry, entry.name, entry.reason)
    if display == BlackDisplay.HOUSEHOLD:
        number = entry.household_number or _("户号未登记")
        return ShownEntry(entry, _("户号：%(number)s") % {"number": number}, "")
    # Surname only: the reason may name the person, so it is not shown either.
    return ShownEntry(entry, mask_name(entry.name), "")


def shown_entries(publication: Publication) -> QuerySet[BoardEntry]:
    return (BoardEntry.objects.filter(publication=publication, removed_at__isnull=True)
            .select_related("criterion").order_by("list", "criterion__order", "criterion_id", "id"))


def reader_board(user: User | AnonymousUser, publication: Publication) -> ReaderBoard:
    """What a reader sees of a live board (the caller has checked it is readable)."""
    board = _board_row(publication)
    display = board.black_display if board else BlackDisplay.SURNAME
    result = ReaderBoard(board=board, counts_only=display == BlackDisplay.COUNTS,
                         may_appeal=boards_policies.can_appeal(user, publication))
    black_counts: dict[str, int] = {}
    for entry in shown_entries(publication):
        if entry.list == BoardList.RED:
            result.red.append(_shown(entry, display))
        elif display == BlackDisplay.COUNTS:
            black_counts[entry.criterion.name] = black_counts.get(entry.criterion.name, 0) + 1
        else:
            result.black.append(_shown(entry, display))
    result.black_counts = [CriterionCount(name, n) for name, n in black_counts.items()]
    if result.may_appeal:
        result.my_appeals = {a.entry_id: a for a in BoardAppeal.objects.filter(
            publication=publication, appellant_id=user.pk).order_by("created_at", "id")}
        for shown in result.red + result.black:
            shown.my_appeal = result.my_appeals.get(shown.entry.pk)
    return result


def readable_entry(user: User | AnonymousUser, entry_id: int) -> BoardEntry:
    """An entry shown on a board the user may read (NotFound otherwise)."""
    entry = (BoardEntry.objects.filter(pk=entry_id, removed_at__isnull=True, publication__kind="board")
             .select_related("publication__author_unit", "publication__audience_unit", "criterion").first())
    if entry is None or not policies.can_view(user, entry.publication):
        raise NotFound()
    return entry


# Staff --------------------------------------------------------------------------------------------------------

@dataclass
class Nomination:
    source: str
    source_ref: str
    name: str
    household_id: int | None
    household_number: str
    reason: str


@dataclass
class StaffBoard:
    board: Board | None
    editable: bool
    may_decide: bool
    entries: list[BoardEntry]
    removed: list[BoardEntry]
    criteria: list[BoardCriterion]
    pending_appeals: list[BoardAppeal]
    decided_appeals: list[BoardAppeal]
    points_nominations: list[Nomination]
    case_nominations: list[Nomination]
    black_display_choices: list[tuple[str, StrOrPromise]]
    # A fresh key for the add form: sent twice, it adds one entry.
    client_key: str = field(default_factory=lambda: uuid.uuid4().hex)


def _period(publication: Publication, board: Board | None) -> tuple[datetime.datetime, datetime.datetime]:
    """The judged period as datetimes (default: the last 90 days up to now)."""
    now = timezone.now()
    start = end = None
    if board is not None and board.period_start:
        start = timezone.make_aware(datetime.datetime.combine(board.period_start, datetime.time.min))
    if board is not None and board.period_end:
        end = timezone.make_aware(datetime.datetime.combine(board.period_end + datetime.timedelta(days=1),
                                                            datetime.time.min))
    return start or now - datetime.timedelta(days=90), end or now


def points_nominations(publication: Publication, board: Board | None) -> list[Nomination]:
    """The households of the village that earned the most points in the board's period and are not on it yet:
    proposals for the red list (the village still chooses the criterion and writes the reason)."""
    start, end = _period(publication, board)
    taken = set(BoardEntry.objects.filter(publication=publication, source=BoardEntry.Source.POINTS)
                .values_list("source_ref", flat=True))
    rows = (Award.objects.filter(path__startswith=publication.author_unit.path, account__household__isnull=False,
                                 created_at__gte=start, created_at__lt=end)
            .values("account__household_id").annotate(total=Sum("points")).filter(total__gt=0)
            .order_by("-total", "account__household_id")[:NOMINATIONS_MAX + len(taken)])
    totals = {row["account__household_id"]: row["total"] for row in rows}
    households = Household.objects.in_bulk(list(totals))
    heads = dict(Resident.objects.filter(household_id__in=list(totals), relation=Resident.Relation.HEAD)
                 .values_list("household_id", "name"))
    result = []
    for household_id, total in totals.items():
        ref = f"household:{household_id}"
        household = households.get(household_id)
        if ref in taken or household is None:
            continue
        name = f"{heads[household_id]}家" if household_id in heads else household.number
        result.append(Nomination(BoardEntry.Source.POINTS, ref, name, household_id, household.number,
                                 _("本期获得积分%(n)d分") % {"n": total}))
    return result[:NOMINATIONS_MAX]


def case_nominations(publication: Publication, board: Board | None) -> list[Nomination]:
    """Finished cases (事件) of the village in the board's period: the village may put the household a case was
    about on a list, citing the case (the case records no offender, so the name is written by the village)."""
    start, end = _period(publication, board)
    taken = set(BoardEntry.objects.filter(publication=publication, source=BoardEntry.Source.CASE)
                .values_list("source_ref", flat=True))
    cases = (Case.objects.filter(area_path__startswith=publication.author_unit.path, merged_into__isnull=True,
                                 status__in=[CaseStatus.CLOSED, CaseStatus.RATED],
                                 closed_at__gte=start, closed_at__lt=end)
             .select_related("category").order_by("-closed_at", "-id")[:NOMINATIONS_MAX + len(taken)])
    result = []
    for case in cases:
        ref = f"case:{case.pk}"
        if ref in taken:
            continue
        text = " ".join(case.description.split())[:40]
        result.append(Nomination(BoardEntry.Source.CASE, ref, "", None, "",
                                 _("事件%(id)d（%(category)s）：%(text)s") % {
                                     "id": case.pk, "category": case.category.name, "text": text}))
    return result[:NOMINATIONS_MAX]


def staff_board(user: User | AnonymousUser, publication: Publication) -> StaffBoard:
    board = _board_row(publication)
    editable = boards_policies.can_edit_board(user, publication)
    entries = sorted(BoardEntry.objects.filter(publication=publication).select_related("criterion", "created_by"),
                     key=lambda e: (e.list != BoardList.RED, e.criterion.order, e.criterion_id, e.pk))
    appeals = list(BoardAppeal.objects.filter(publication=publication)
                   .select_related("entry__criterion", "appellant", "decided_by").order_by("created_at", "id"))
    return StaffBoard(
        board=board, editable=editable, may_decide=boards_policies.can_manage_board(user, publication),
        entries=[e for e in entries if e.removed_at is None], removed=[e for e in entries if e.removed_at],
        criteria=list(BoardCriterion.objects.filter(
            unit__path__in=policies.path_chain(publication.author_unit.path), is_active=True)
            .select_related("unit").order_by("list", "order", "id")),
        pending_appeals=[a for a in appeals if a.status == BoardAppeal.Status.PENDING],
        decided_appeals=[a for a in appeals if a.status != BoardAppeal.Status.PENDING],
        points_nominations=points_nominations(publication, board) if editable else [],
        case_nominations=case_nominations(publication, board) if editable else [],
        black_display_choices=list(BlackDisplay.choices))


def managed_board(user: User | AnonymousUser, pk: int) -> Publication:
    publication = (Publication.objects.filter(pk=pk, kind="board").select_related("author_unit", "audience_unit")
                   .first())
    if publication is None or not boards_policies.can_manage_board(user, publication):
        raise NotFound()
    return publication


def managed_entry(user: User | AnonymousUser, entry_id: int) -> BoardEntry:
    entry = BoardEntry.objects.filter(pk=entry_id).select_related("publication__author_unit").first()
    if entry is None or not boards_policies.can_manage_board(user, entry.publication):
        raise NotFound()
    return entry


def managed_appeal(user: User | AnonymousUser, appeal_id: int) -> BoardAppeal:
    appeal = BoardAppeal.objects.filter(pk=appeal_id).select_related("publication__author_unit").first()
    if appeal is None or not boards_policies.can_manage_board(user, appeal.publication):
        raise NotFound()
    return appeal


def managed_criterion(user: User | AnonymousUser, criterion_id: int) -> BoardCriterion:
    criterion = BoardCriterion.objects.filter(pk=criterion_id).select_related("unit").first()
    if criterion is None or not policies.can_author(user, "board", criterion.unit):
        raise NotFound()
    return criterion


def criteria_units(user: User | AnonymousUser) -> list[OrgUnit]:
    """Villages and townships whose criteria the user may set (under their board author posts)."""
    paths = policies.author_paths(user, "board")
    if not paths:
        return []
    return list(OrgUnit.objects.filter(account_policies.paths_q(paths), level__in=[Level.VILLAGE, Level.TOWNSHIP],
                                       is_active=True).order_by("path")[:200])


def criteria_of(unit: OrgUnit) -> list[BoardCriterion]:
    return list(BoardCriterion.objects.filter(unit=unit).order_by("list", "order", "id"))


# Suggestions --------------------------------------------------------------------------------------------------

def my_suggestions(user: User) -> QuerySet[Publication]:
    return (Publication.objects.filter(kind="suggestion", created_by=user).select_related("suggestion")
            .order_by("-created_at", "-id"))


def my_suggestion(user: User | AnonymousUser, pk: int) -> Publication:
    if not user.is_authenticated:
        raise NotFound()
    publication = (Publication.objects.filter(kind="suggestion", created_by=user, pk=pk)
                   .select_related("suggestion", "author_unit").first())
    if publication is None:
        raise NotFound()
    return publication


def managed_suggestion(user: User | AnonymousUser, pk: int) -> Publication:
    publication = (Publication.objects.filter(pk=pk, kind="suggestion")
                   .select_related("author_unit", "audience_unit", "suggestion").first())
    if publication is None or not boards_policies.can_manage_suggestion(user, publication):
        raise NotFound()
    return publication


def suggestion_of(publication: Publication) -> Suggestion | None:
    return Suggestion.objects.filter(publication=publication).select_related("replied_by").first()


def has_supported(user: User | AnonymousUser, publication: Publication) -> bool:
    return user.is_authenticated and SuggestionSupport.objects.filter(publication=publication, user=user).exists()


def suggestion_counts(user: User | AnonymousUser) -> dict[str, int]:
    """The village's suggestions by state (for staff lists)."""
    qs = Publication.objects.filter(policies.manageable_q(user), kind="suggestion")
    return {row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("id"))}


def is_live(publication: Publication) -> bool:
    return publication.status == Status.PUBLISHED and publication.is_live()


def readable_suggestion(user: User | AnonymousUser, pk: int) -> Publication:
    """A published suggestion the user may read (NotFound otherwise)."""
    publication = (Publication.objects.filter(policies.publications_visible_to(user), pk=pk, kind="suggestion")
                   .select_related("author_unit", "audience_unit").first())
    if publication is None:
        raise NotFound()
    return publication
