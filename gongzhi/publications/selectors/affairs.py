"""Reads of 三务公开 and 村民说事: a disclosure's table with its totals and its projects' progress, a meeting's
five stages as a reader or its staff sees them, and the residents' disclosure list by category and period."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import User
from gongzhi.publications import policies
from gongzhi.publications.models import (
    Disclosure,
    DisclosureCategory,
    FinanceLine,
    Meeting,
    MeetingAction,
    MeetingEvaluation,
    PeriodType,
    Project,
    Publication,
    Rating,
    Stage,
)
from gongzhi.publications.selectors import core


def yuan(fen: int) -> str:
    """Fen as the page shows money: 123456 → "¥1,234.56", -5 → "-¥0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


# 三务公开 -----------------------------------------------------------------------------------------------------

@dataclass
class Totals:
    income: int = 0
    expense: int = 0

    @property
    def balance(self) -> int:
        return self.income - self.expense

    @property
    def income_shown(self) -> str:
        return yuan(self.income)

    @property
    def expense_shown(self) -> str:
        return yuan(self.expense)

    @property
    def balance_shown(self) -> str:
        return yuan(self.balance)


@dataclass
class LineRow:
    line: FinanceLine
    amount_shown: str


@dataclass
class ProjectView:
    project: Project
    milestones: list[Any]
    done: int
    budget_shown: str

    @property
    def total(self) -> int:
        return len(self.milestones)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class DisclosureView:
    disclosure: Disclosure | None
    income: list[LineRow] = field(default_factory=list)
    expense: list[LineRow] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    projects: list[ProjectView] = field(default_factory=list)

    @property
    def is_finance(self) -> bool:
        return self.disclosure is not None and self.disclosure.category == DisclosureCategory.FINANCE

    @property
    def has_lines(self) -> bool:
        return bool(self.income or self.expense)


def disclosure_view(publication: Publication) -> DisclosureView:
    disclosure = Disclosure.objects.filter(publication=publication).first()
    view = DisclosureView(disclosure=disclosure)
    if disclosure is None:
        return view
    for line in disclosure.lines.order_by("date", "position", "id"):
        row = LineRow(line=line, amount_shown=yuan(line.amount_fen))
        if line.direction == FinanceLine.Direction.INCOME:
            view.income.append(row)
            view.totals.income += line.amount_fen
        else:
            view.expense.append(row)
            view.totals.expense += line.amount_fen
    for project in disclosure.projects.prefetch_related("milestones"):
        milestones = list(project.milestones.all())
        view.projects.append(ProjectView(project=project, milestones=milestones,
                                         done=sum(1 for m in milestones if m.done_on),
                                         budget_shown=yuan(project.budget_fen) if project.budget_fen else ""))
    return view


@dataclass(frozen=True)
class DisclosureFilter:
    category: str = ""
    year: int | None = None
    period_type: str = ""
    period: int | None = None

    @classmethod
    def from_query(cls, query: Any) -> DisclosureFilter:
        """From a request's GET; anything unrecognised is ignored (the whole list)."""
        def number(name: str, low: int, high: int) -> int | None:
            raw = str(query.get(name) or "")
            return int(raw) if raw.isdigit() and low <= int(raw) <= high else None

        category = query.get("category") or ""
        period_type = query.get("period_type") or ""
        return cls(category=category if category in DisclosureCategory.values else "",
                   year=number("year", 2000, 2100),
                   period_type=period_type if period_type in PeriodType.values else "",
                   period=number("period", 1, 12))


def readable_disclosures(user: User | AnonymousUser, f: DisclosureFilter | None = None) -> QuerySet[Publication]:
    """Live disclosures the user may read, filtered by category and period, newest period first."""
    f = f or DisclosureFilter()
    qs = core.readable(user, kind="disclosure").select_related("disclosure")
    if f.category:
        qs = qs.filter(disclosure__category=f.category)
    if f.year:
        qs = qs.filter(disclosure__year=f.year)
    if f.period_type:
        qs = qs.filter(disclosure__period_type=f.period_type)
    if f.period:
        qs = qs.filter(disclosure__period=f.period)
    return qs.order_by("-pinned", "-disclosure__year", "-disclosure__period", "-published_at", "-id")


def disclosure_years(user: User | AnonymousUser) -> list[int]:
    return sorted(set(core.readable(user, kind="disclosure").exclude(disclosure__isnull=True)
                      .values_list("disclosure__year", flat=True)), reverse=True)


# 村民说事 -----------------------------------------------------------------------------------------------------

STAGES = ((Stage.SAY, gettext_lazy("说事")), (Stage.DISCUSS, gettext_lazy("议事")), (Stage.DO, gettext_lazy("办理")),
          (Stage.SUPERVISE, gettext_lazy("督办")), (Stage.EVALUATE, gettext_lazy("评议")))


@dataclass
class ActionRow:
    action: MeetingAction
    overdue: bool


@dataclass
class StageRow:
    number: int
    short: str
    title: str
    public: bool
    is_next: bool
    ready: bool = True  # its record is there (a decision, an action, a note) to publish it


@dataclass
class MeetingView:
    meeting: Meeting | None
    stages: list[StageRow]
    actions: list[ActionRow]
    notes: list[Any]
    counts: dict[str, int]
    ratings: list[tuple[str, str, int]]
    mine: MeetingEvaluation | None
    can_evaluate: bool
    overdue: bool
    published_stage: int

    @property
    def evaluations(self) -> int:
        return sum(self.counts.values())

    def shows(self, stage: int) -> bool:
        return self.published_stage >= stage


def _overdue(action: MeetingAction, today: datetime.date) -> bool:
    return action.done_on is None and action.due_on < today


def meeting_view(user: User | AnonymousUser, publication: Publication, *, staff: bool) -> MeetingView:
    """The meeting as its staff see it (every stage's record) or as a reader does (the public stages only:
    the caller shows a stage's record when `view.shows(stage)`)."""
    meeting = Meeting.objects.filter(publication=publication).select_related("case").first()
    published = meeting.published_stage if meeting else 0
    today = timezone.localdate()
    actions: list[ActionRow] = []
    notes: list[Any] = []
    counts = {rating: 0 for rating in Rating.values}
    mine = None
    if meeting is not None:
        if staff or published >= Stage.DO:
            actions = [ActionRow(a, _overdue(a, today)) for a in meeting.actions.all()]
        if staff or published >= Stage.SUPERVISE:
            notes = list(meeting.notes.select_related("author"))
        if staff or published >= Stage.EVALUATE:
            counts.update({row["rating"]: row["n"] for row in
                           meeting.evaluations.values("rating").annotate(n=Count("id"))})
        if user.is_authenticated:
            mine = meeting.evaluations.filter(user=user).first()
    ready = {Stage.SAY: bool(meeting and meeting.matter), Stage.DISCUSS: bool(meeting and meeting.decision),
             Stage.DO: bool(meeting and meeting.actions.exists()), Stage.SUPERVISE: bool(notes),
             Stage.EVALUATE: True}
    stages = [StageRow(number=int(n), short=str(n.label), title=str(title), public=published >= n,
                       is_next=published + 1 == n, ready=ready[n]) for n, title in STAGES]
    can_evaluate = (not staff and meeting is not None and published >= Stage.EVALUATE and mine is None
                    and publication.is_live() and publication.audience_path in policies.area_paths(user))
    return MeetingView(meeting=meeting, stages=stages, actions=actions, notes=notes, counts=counts,
                       ratings=[(value, str(label), counts[value]) for value, label in Rating.choices],
                       mine=mine, can_evaluate=can_evaluate, overdue=any(a.overdue for a in actions),
                       published_stage=published)
