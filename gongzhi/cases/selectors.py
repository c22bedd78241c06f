"""Reads of cases, always given the user: everything starts from `policies.cases_visible_to(user)`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case as SqlCase
from django.db.models import CharField, DateTimeField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import STAFF_ROLES, Membership, Role, User
from gongzhi.cases import policies
from gongzhi.cases.models import (
    Assignment,
    Attachment,
    Case,
    CaseLog,
    Follower,
    FollowUp,
    Rating,
    SupervisionOrder,
    number_q,
)
from gongzhi.cases.sweep import HANDLE_PENDING, NO_FLAG, RESPOND_PENDING, Flag, horizons
from gongzhi.cases.workflow import OPEN_STATES, Action, Status
from gongzhi.core.errors import DomainError, NotFound

# ---------------------------------------------------------------------------------------------------------
# Work lists with red/yellow/green flags (supervision)
#
# red: a running limit has passed (the response limit while the case waits to be taken up, the handling
# limit while a unit works on it), or an open 督办 order's limit has; yellow: a running limit is coming due
# (see `sweep.horizons`: ≤ 6 h left on a response limit, a handling limit due before the close of the
# next working day); green: any other open case; "" for cases that run against no limit (deferred, final).


def with_flags(queryset: QuerySet[Case], *, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """Annotate `flag` (sweep.Flag or ""), `flag_rank` (red 0 … none 3) and `due` (the running limit)."""
    h = horizons(now)
    respond_running = Q(status__in=RESPOND_PENDING, respond_due__isnull=False)
    handle_running = Q(status__in=HANDLE_PENDING, handle_due__isnull=False)
    # An uncorrelated IN: the database reads the few overdue orders once, not once per case.
    order_overdue = Q(pk__in=SupervisionOrder.objects.filter(fulfilled_at__isnull=True, due_at__lt=h.now)
                      .values("case_id"))
    flag = SqlCase(
        When(respond_running & Q(respond_due__lt=h.now), then=Value(Flag.RED.value)),
        When(handle_running & Q(handle_due__lt=h.now), then=Value(Flag.RED.value)),
        When(Q(status__in=OPEN_STATES) & order_overdue, then=Value(Flag.RED.value)),
        When(respond_running & Q(respond_due__lte=h.respond_warn_until), then=Value(Flag.YELLOW.value)),
        When(handle_running & Q(handle_due__lte=h.handle_warn_until), then=Value(Flag.YELLOW.value)),
        When(status__in=OPEN_STATES, then=Value(Flag.GREEN.value)),
        default=Value(NO_FLAG), output_field=CharField(),
    )
    rank = SqlCase(
        When(flag=Flag.RED.value, then=Value(0)), When(flag=Flag.YELLOW.value, then=Value(1)),
        When(flag=Flag.GREEN.value, then=Value(2)), default=Value(3), output_field=IntegerField(),
    )
    due = SqlCase(
        When(respond_running, then=F("respond_due")), When(handle_running, then=F("handle_due")),
        default=None, output_field=DateTimeField(),
    )
    return queryset.annotate(flag=flag).annotate(flag_rank=rank, due=due)


def cases_for(user: User | AnonymousUser, *, status: str | None = None, flag: str | None = None,
              now: datetime.datetime | None = None) -> QuerySet[Case]:
    """The cases `user` may see, flagged, red first, then yellow, then green, each by the nearest limit."""
    if status is not None and status not in Status.values:
        raise DomainError(_("未知的事件状态。"), field="status")
    if flag is not None and flag not in Flag.values:
        raise DomainError(_("未知的时限标记。"), field="flag")
    queryset = policies.cases_visible_to(user)
    if status is not None:
        queryset = queryset.filter(status=status)
    queryset = with_flags(queryset, now=now or timezone.now())
    if flag is not None:
        queryset = queryset.filter(Q(flag=flag))
    return queryset.order_by("flag_rank", F("due").asc(nulls_last=True), "-created_at", "-pk")


# Statuses a command centre takes up: new reports, cases escalated to it and cases its units sent back.
INTAKE_STATES = (Status.REPORTED, Status.ESCALATED, Status.RETURNED)


def intake_for(user: User | AnonymousUser) -> QuerySet[Case]:
    """事件受理: the flagged cases waiting for a command centre where the user is a dispatcher."""
    if not user.is_authenticated:
        return Case.objects.none()
    centres = Membership.objects.filter(user=user, is_active=True, role=Role.DISPATCHER, unit__is_active=True)
    return cases_for(user).filter(status__in=INTAKE_STATES, holder_id__in=centres.values("unit_id"))


def tasks_for(user: User | AnonymousUser) -> QuerySet[Case]:
    """我的任务: flagged cases led by one of the user's units, and handled cases in the user's scope that
    wait for a return visit; `has_unread`: a question to the user's units is unread."""
    if not isinstance(user, User):  # anonymous
        return Case.objects.none()
    units = Membership.objects.filter(user=user, is_active=True, unit__is_active=True).values("unit_id")
    led = Exists(Assignment.objects.filter(case=OuterRef("pk"), unit_id__in=units, is_active=True,
                                           role=Assignment.Role.LEAD))
    unread = _questions_to(user).filter(case=OuterRef("pk"), read_at__isnull=True)
    return cases_for(user).filter(led | Q(status=Status.HANDLED)).annotate(has_unread=Exists(unread))


def _questions_to(user: User) -> QuerySet[FollowUp]:
    units = Membership.objects.filter(user=user, is_active=True, role__in=STAFF_ROLES, unit__is_active=True)
    return FollowUp.objects.filter(addressed_to__in=units.values("unit_id"))


def unread_follow_ups(user: User | AnonymousUser) -> int:
    """Questions addressed to the user's units not read yet: the number on the handler's badge."""
    if not isinstance(user, User):  # anonymous
        return 0
    return _questions_to(user).filter(read_at__isnull=True).count()


def cases_with_questions(user: User | AnonymousUser) -> QuerySet[Case]:
    """群众追问: flagged cases with a question to one of the user's units still unanswered, those with an
    unread one first, then by flag."""
    if not isinstance(user, User):  # anonymous
        return Case.objects.none()
    waiting = _questions_to(user).filter(case=OuterRef("pk"), answer_log__isnull=True)
    return (cases_for(user).filter(Exists(waiting))
            .annotate(has_unread=Exists(waiting.filter(read_at__isnull=True)))
            .order_by("-has_unread", "flag_rank", F("due").asc(nulls_last=True), "-pk"))


def my_cases(user: User | AnonymousUser) -> QuerySet[Case]:
    """The cases a person reported or follows (duplicates of theirs merged into them), newest first."""
    if not user.is_authenticated:
        return Case.objects.none()
    following = Follower.objects.filter(user=user, case=OuterRef("pk"))
    return (Case.objects.filter(Q(reporter=user) | Exists(following))
            .select_related("category", "merged_into").order_by("-created_at", "-pk"))


# ---------------------------------------------------------------------------------------------------------
# One case
#
# What a page about one case reads besides the case itself (get it through `case_for` first).


def case_for(user: User | AnonymousUser, case_id: int) -> Case:
    """One case the user may see (a resident: one they reported or follow); NotFound otherwise."""
    found = (policies.cases_visible_to(user).filter(pk=case_id)
             .select_related("category", "holder", "grid", "merged_into").first())
    if found is None:
        raise NotFound()
    return found


def case_by_number(user: User | AnonymousUser, number: str) -> Case | None:
    """The case with this number (编号) among those the user may see, else None."""
    by_number = number_q(number)
    return policies.cases_visible_to(user).filter(by_number).first() if by_number is not None else None


def attachments_of(case: Case) -> list[Attachment]:
    return list(case.attachments.order_by("pk"))


def open_follow_ups(case: Case) -> list[FollowUp]:
    """The case's unanswered questions, oldest first (the caller has checked the user may answer)."""
    return list(FollowUp.objects.filter(case=case, answer_log__isnull=True).select_related("question_log")
                .order_by("pk"))


def follow_up_of(case: Case, follow_up_id: int) -> FollowUp:
    """One question asked on `case` (already checked to be visible); NotFound for any other id."""
    found = FollowUp.objects.filter(case=case, pk=follow_up_id).select_related("answer_log").first()
    if found is None:
        raise NotFound()
    return found


def current_round(case: Case) -> int:
    """Handling rounds: the first, then one more for each reopening (failed return visit, 不满意)."""
    return case.logs.filter(to_status=Status.REOPENED).count() + 1


def has_rated_this_round(user: User | AnonymousUser, case: Case) -> bool:
    """Whether the user has rated the current handling round (a reopening starts a new one)."""
    return Rating.objects.filter(case=case, rater_id=user.pk, round=current_round(case)).exists()


# ---------------------------------------------------------------------------------------------------------
# Timelines
#
# The staff's full timeline, the public one for residents (reporters never named when anonymous).
# (gongzhi.cases.feedback holds the writes.)


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    action: str
    action_label: str
    status: str
    status_label: str
    at: datetime.datetime
    note: str
    actor_name: str
    is_public: bool


def _hidden_people(case: Case) -> set[int]:
    """People never named on this case's timelines: its reporter if anonymous, and the reporters of
    anonymous duplicates merged into it."""
    hidden = set(Follower.objects.filter(case=case, via__is_anonymous=True).values_list("user_id", flat=True))
    if case.is_anonymous and case.reporter_id is not None:
        hidden.add(case.reporter_id)
    return hidden


def _masked_name(name: str) -> str:
    name = name.strip()
    if not name:
        return _("群众")
    return name[0] + "*" * max(1, len(name) - 1)


def _entries(case: Case, logs: QuerySet[CaseLog], *, for_staff: bool,
             viewer: User | AnonymousUser | None = None) -> list[TimelineEntry]:
    hidden = _hidden_people(case)
    entries = []
    for log in logs.select_related("actor"):
        actor = log.actor
        if actor is None:
            name = _("系统")
        elif viewer is not None and actor.pk == viewer.pk:
            name = _("我")
        elif actor.pk in hidden:
            name = _("匿名群众")
        elif actor.kind == User.Kind.RESIDENT and not for_staff:
            name = _masked_name(actor.real_name)
        else:
            name = actor.real_name or actor.username
        entries.append(TimelineEntry(
            seq=log.seq, action=log.action, action_label=str(Action(log.action).label), status=log.to_status,
            status_label=str(Status(log.to_status).label), at=log.created_at, note=log.note, actor_name=name,
            is_public=log.is_public))
    return entries


def public_timeline(case: Case, viewer: User | AnonymousUser | None = None) -> list[TimelineEntry]:
    """What a resident sees of a case's progress: public steps only; the viewer's own steps as 我, other
    residents masked (王**), anonymous reporters never named, staff by name. Get the case through `case_for`
    first."""
    return _entries(case, CaseLog.objects.filter(case=case, is_public=True).order_by("seq"), for_staff=False,
                    viewer=viewer)


def _staff_sees(user: User | AnonymousUser, case: Case) -> bool:
    """In the user's scope as staff (not merely as its reporter or a follower)."""
    if not account_policies.is_staff_member(user):
        return False
    placed = account_policies.scope_q(user, "area_path")
    assigned = Assignment.objects.filter(account_policies.scope_q(user, "unit__path"), case=OuterRef("pk"))
    return Case.objects.filter(placed | Exists(assigned), pk=case.pk).exists()


def timeline_for(user: User | AnonymousUser, case: Case) -> list[TimelineEntry]:
    """The full log for staff in scope (internal steps included, anonymous reporters still unnamed); the
    public timeline for a resident following the case; NotFound for anyone else."""
    if not policies.cases_visible_to(user).filter(pk=case.pk).exists():
        raise NotFound()
    if _staff_sees(user, case):
        return _entries(case, CaseLog.objects.filter(case=case).order_by("seq"), for_staff=True)
    return public_timeline(case, viewer=user)
