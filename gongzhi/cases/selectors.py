"""Reads of cases. Lists and pages start from `policies.cases_visible_to(user)`; the reads about one case
(its handling unit, its dispute risks, …) are given a case the caller already got that way.

Sections: work lists with flags; one case; timelines; who handles a case; duplicates; dispute risks.

Archived cases (归档, `Case.archived_at`, set by the sweep) are left out of every work list unless a list
asks for them (`cases_for(archived=…)`); their page and the search by number find them as before.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Membership, User
from gongzhi.cases import categories, policies, similarity
from gongzhi.cases.deadlines import HANDLE_PENDING, RESPOND_PENDING, horizons
from gongzhi.cases.models import (
    Assignment,
    Attachment,
    Case,
    CaseLog,
    Category,
    CategoryKind,
    DisputeParty,
    ExtensionRequest,
    Follower,
    FollowUp,
    MediationAgreement,
    MediationSession,
    PendingUpload,
    Rating,
    SupervisionOrder,
    number_q,
)
from gongzhi.cases.workflow import NO_FLAG, OPEN_STATES, Action, Capacity, Flag, Status
from gongzhi.core import files
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.org import selectors as org_selectors
from gongzhi.org.models import Level, OrgUnit, UnitKind

# ---------------------------------------------------------------------------------------------------------
# Work lists with red/yellow/green flags (supervision)
#
# red: a running limit has passed (the response limit while the case waits to be taken up, the handling
# limit while a unit works on it), or an open 督办 order's limit has; yellow: a running limit is coming due
# (see `deadlines.horizons`: ≤ 6 h left on a response limit, a handling limit due before the close of the
# next working day); green: any other open case; "" for cases that run against no limit (deferred, final).


_RESPOND_RUNNING = Q(status__in=RESPOND_PENDING, respond_due__isnull=False)
_HANDLE_RUNNING = Q(status__in=HANDLE_PENDING, handle_due__isnull=False)


def _order_overdue(now: datetime.datetime) -> Q:
    # An uncorrelated IN: the database reads the few overdue orders once, not once per case.
    return Q(pk__in=SupervisionOrder.objects.filter(fulfilled_at__isnull=True, due_at__lt=now).values("case_id"))


def flag_q(flag: str, *, now: datetime.datetime | None = None) -> Q:
    """The cases `with_flags` marks `flag`, as a filter on plain columns: a list of red cases reads the
    deadline indexes (`respond_due`, `(status, handle_due)`) instead of computing every case's flag.
    (RESPOND_PENDING and HANDLE_PENDING do not overlap, so each case runs against one limit at most.)"""
    h = horizons(now)
    order_overdue = Q(status__in=OPEN_STATES) & _order_overdue(h.now)
    if flag == Flag.RED:
        kinds = (_RESPOND_RUNNING & Q(respond_due__lt=h.now), _HANDLE_RUNNING & Q(handle_due__lt=h.now),
                 order_overdue)
        if connection.vendor == "postgresql":
            # An IN over a subquery cannot join a bitmap OR, so the OR read every case (1.3 s a page); the ids of
            # each kind, each read through its own index, as one IN. SQLite's MULTI-INDEX OR is faster than this.
            ids = [Case.objects.filter(q).order_by().values("pk") for q in kinds]
            return Q(pk__in=ids[0].union(*ids[1:], all=True))
        return kinds[0] | kinds[1] | kinds[2]
    warned = ((_RESPOND_RUNNING & Q(respond_due__lte=h.respond_warn_until))
              | (_HANDLE_RUNNING & Q(handle_due__lte=h.handle_warn_until)))
    if flag == Flag.YELLOW:
        coming = ((_RESPOND_RUNNING & Q(respond_due__gte=h.now, respond_due__lte=h.respond_warn_until))
                  | (_HANDLE_RUNNING & Q(handle_due__gte=h.now, handle_due__lte=h.handle_warn_until)))
        return coming & ~order_overdue
    if flag == Flag.GREEN:
        return Q(status__in=OPEN_STATES) & ~warned & ~order_overdue
    raise DomainError(_("未知的时限标记。"), field="flag")


def with_flags(queryset: QuerySet[Case], *, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """Annotate `flag` (workflow.Flag or ""), `flag_rank` (red 0 … none 3) and `due` (the running limit)."""
    h = horizons(now)
    respond_running, handle_running = _RESPOND_RUNNING, _HANDLE_RUNNING
    order_overdue = _order_overdue(h.now)
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
    # The limit the flag is about: for a red case the one that passed (a 督办 order's, when its own limits
    # are still ahead), so "已超期" never stands next to a future date.
    first_overdue_order = (SupervisionOrder.objects.filter(case=OuterRef("pk"), fulfilled_at__isnull=True,
                                                           due_at__lt=h.now)
                           .order_by("due_at").values("due_at")[:1])
    due = SqlCase(
        When(respond_running & Q(respond_due__lt=h.now), then=F("respond_due")),
        When(handle_running & Q(handle_due__lt=h.now), then=F("handle_due")),
        When(Q(status__in=OPEN_STATES) & order_overdue, then=Subquery(first_overdue_order)),
        When(respond_running, then=F("respond_due")), When(handle_running, then=F("handle_due")),
        default=None, output_field=DateTimeField(),
    )
    return queryset.annotate(flag=flag).annotate(flag_rank=rank, due=due)


class Archived:
    """Which cases a list shows by their archiving (归档): the work lists leave archived ones out."""

    EXCLUDE = "exclude"  # not archived (the default of every list)
    ONLY = "only"  # 已归档
    INCLUDE = "include"  # both

    values = (EXCLUDE, ONLY, INCLUDE)


def cases_for(user: User | AnonymousUser, *, status: str | None = None, flag: str | None = None,
              archived: str = Archived.EXCLUDE, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """The cases `user` may see, flagged, red first, then yellow, then green, each by the nearest limit;
    archived ones left out unless `archived` asks for them (`Archived`)."""
    if status is not None and status not in Status.values:
        raise DomainError(_("未知的事件状态。"), field="status")
    if flag is not None and flag not in Flag.values:
        raise DomainError(_("未知的时限标记。"), field="flag")
    if archived not in Archived.values:
        raise DomainError(_("未知的归档筛选。"), field="archived")
    queryset = policies.cases_visible_to(user)
    if archived != Archived.INCLUDE:
        queryset = queryset.filter(archived_at__isnull=archived == Archived.EXCLUDE)
    if status is not None:
        queryset = queryset.filter(status=status)
    now = now or timezone.now()
    if flag is not None:
        queryset = queryset.filter(flag_q(flag, now=now))
    return with_flags(queryset, now=now).order_by("flag_rank", F("due").asc(nulls_last=True), "-created_at", "-pk")


# ---------------------------------------------------------------------------------------------------------
# The command centre's lists, 全部事件 and 超期事件: search, filters, the new-case poll and the export. Each
# reads only what its first page needs: 全部事件 walks the primary key newest first and stops after one page;
# 超期事件 reads the red cases through the deadline indexes (`flag_q`). Neither is counted
# (docs/architecture.md, "Case lists").


@dataclass(frozen=True)
class CaseFilter:
    """What a list is narrowed to; None or "" leaves a field out. `reporter_phone_hash` is the keyed hash of
    the reporter's phone (`core.pii.keyed_hash`), never the number; `area` a unit of `filter_areas`; the dates
    are Asia/Shanghai days, both included."""

    status: str | None = None
    flag: str | None = None
    archived: str = Archived.EXCLUDE
    keyword: str = ""
    reporter_phone_hash: str = ""
    category_id: int | None = None
    area: OrgUnit | None = None
    reported_from: datetime.date | None = None
    reported_to: datetime.date | None = None


def filter_areas(user: User | AnonymousUser) -> list[OrgUnit]:
    """The areas a list may be narrowed to: the area units one and two levels below each unit of the user's
    posts (a county dispatcher: its townships and their villages; a township's: its villages and grids), by
    path. None for a department's staff, whose cases come to them by assignment."""
    near = Q(pk__in=[])
    for path in account_policies.scope_paths(user):
        depth = path.count("/") - 1
        near |= Q(path__startswith=path, depth__in=(depth + 1, depth + 2))
    return list(OrgUnit.objects.filter(near, kind=UnitKind.AREA, is_active=True).order_by("path"))


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone())


def _filtered(user: User | AnonymousUser, f: CaseFilter, now: datetime.datetime) -> QuerySet[Case]:
    if f.status is not None and f.status not in Status.values:
        raise DomainError(_("未知的事件状态。"), field="status")
    if f.archived not in Archived.values:
        raise DomainError(_("未知的归档筛选。"), field="archived")
    queryset = policies.cases_visible_to(user)
    if f.archived != Archived.INCLUDE:
        queryset = queryset.filter(archived_at__isnull=f.archived == Archived.EXCLUDE)
    if f.status is not None:
        queryset = queryset.filter(status=f.status)
    if f.flag is not None:
        queryset = queryset.filter(flag_q(f.flag, now=now))
    if f.keyword:
        queryset = queryset.filter(Q(description__contains=f.keyword) | Q(address__contains=f.keyword))
    if f.reporter_phone_hash:
        # Never an anonymous report: no handler sees who made it (`_hidden_people`), and a hit on their phone
        # would name them.
        accounts = User.objects.filter(phone_hash=f.reporter_phone_hash).values("pk")
        queryset = queryset.filter(reporter__in=accounts, is_anonymous=False)
    if f.category_id is not None:
        queryset = queryset.filter(category_id__in=categories.with_descendants(f.category_id))
    if f.area is not None:  # within what the user sees anyway, so any unit is safe here
        queryset = queryset.filter(area_path__startswith=f.area.path)
    if f.reported_from is not None:
        queryset = queryset.filter(created_at__gte=_day_start(f.reported_from))
    if f.reported_to is not None:
        queryset = queryset.filter(created_at__lt=_day_start(f.reported_to + datetime.timedelta(days=1)))
    return queryset


def with_list_columns(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """What every row of a case list shows besides the case: its category, holder and grid, and
    `lead_unit_name` (the active lead assignment's unit: one probe of its partial unique index per row)."""
    lead = (Assignment.objects.filter(case=OuterRef("pk"), is_active=True, role=Assignment.Role.LEAD)
            .values("unit__name")[:1])
    return (queryset.annotate(lead_unit_name=Subquery(lead, output_field=CharField()))
            .select_related("category", "holder", "grid"))


def with_reporter_names(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """`reporter_name` annotated (for `reporter_shown`), without reading the reporter's encrypted columns."""
    return queryset.annotate(reporter_name=F("reporter__real_name"))


def all_cases(user: User | AnonymousUser, f: CaseFilter, *, now: datetime.datetime | None = None
              ) -> QuerySet[Case]:
    """全部事件: the cases the user may see, narrowed by `f`, newest first. By id, the order cases come in,
    which the primary key serves: a page reads its own rows, not the whole list sorted by a computed flag."""
    now = now or timezone.now()
    return with_list_columns(with_flags(_filtered(user, f, now), now=now)).order_by("-pk")


def overdue_cases(user: User | AnonymousUser, f: CaseFilter, *, now: datetime.datetime | None = None
                  ) -> QuerySet[Case]:
    """超期事件: the red cases among those `f` selects (its own flag is ignored), the longest overdue first. Only
    the red cases are read and sorted, found through the deadline indexes (`flag_q`)."""
    now = now or timezone.now()
    red = _filtered(user, dataclasses.replace(f, flag=Flag.RED), now)
    return with_list_columns(with_flags(red, now=now)).order_by(F("due").asc(nulls_last=True), "-pk")


def newest_case_id() -> int:
    """The highest case id now: where a list's new-case poll starts counting."""
    return Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_cases_count(user: User | AnonymousUser, f: CaseFilter, *, since: int, limit: int) -> int:
    """How many cases of the list `f` selects came in after case `since`, at most `limit`: the primary key read
    from `since` on, so a poll costs the few new rows, not the list."""
    return _filtered(user, f, timezone.now()).filter(pk__gt=since)[:limit].count()


def townships_of(cases: Iterable[Case]) -> dict[str, str]:
    """The name of the township (乡镇/街道) each of these cases lies in, by area path, in one query ("" above a
    township: a case received by a county)."""
    paths = {case.area_path for case in cases}
    prefixes = set().union(*(_path_and_ancestors(path) for path in paths)) if paths else set()
    names = dict(OrgUnit.objects.filter(path__in=prefixes, level=Level.TOWNSHIP, kind=UnitKind.AREA)
                 .values_list("path", "name"))
    return {path: next((names[p] for p in sorted(_path_and_ancestors(path), key=len) if p in names), "")
            for path in paths}


def reporter_shown(case: Case) -> str:
    """The reporter as staff lists and exports name them, as the staff case page does: 匿名 for an anonymous
    report (never the person), "" once the personal data is removed; needs `reporter_name` annotated."""
    if case.is_anonymous:
        return _("匿名")
    return getattr(case, "reporter_name", None) or ""


# Statuses a command centre takes up: new reports, cases escalated to it and cases its units sent back.
INTAKE_STATES = (Status.REPORTED, Status.ESCALATED, Status.RETURNED)


def intake_for(user: User | AnonymousUser) -> QuerySet[Case]:
    """事件受理: the flagged cases waiting for a command centre where the user is a dispatcher."""
    if not user.is_authenticated:
        return Case.objects.none()
    return cases_for(user).filter(policies.capacity_q(user, Capacity.DISPATCHER), status__in=INTAKE_STATES)


def tasks_for(user: User | AnonymousUser) -> QuerySet[Case]:
    """我的任务: flagged cases led by one of the user's units, cases waiting for the user's level to take them
    up, handled cases in the user's scope that wait for a return visit, and the user's own reports still
    open (a worker follows what they found in the field); `has_unread`: a question to the user's units is
    unread; `is_own_report`."""
    if not isinstance(user, User):  # anonymous
        return Case.objects.none()
    led = policies.capacity_q(user, Capacity.ASSIGNEE)
    own_open = Q(reporter=user, status__in=OPEN_STATES)
    # A village 工作站 takes up its village's cases from here (command centres have 事件受理 for it).
    to_take_up = policies.capacity_q(user, Capacity.DISPATCHER) & Q(status__in=INTAKE_STATES)
    unread = questions_to(user).filter(case=OuterRef("pk"), read_at__isnull=True)
    return (cases_for(user).filter(led | Q(status=Status.HANDLED) | own_open | to_take_up)
            .annotate(has_unread=Exists(unread),
                      is_own_report=ExpressionWrapper(Q(reporter=user), output_field=BooleanField())))


def extensions_to_decide(user: User | AnonymousUser) -> QuerySet[Case]:
    """待审批延期: the flagged cases with a request for more time waiting, that the user may decide (the
    holding command centre or the level above, not the unit that asked: `policies.extension_refusal`),
    the nearest limit first; each with `proposed_due`, the limit asked for."""
    if not isinstance(user, User):  # anonymous
        return Case.objects.none()
    # An uncorrelated IN over the few waiting requests (the partial unique index), not a probe per case.
    waiting = ExtensionRequest.objects.filter(decision=ExtensionRequest.Decision.PENDING)
    deciders = policies.capacity_q(user, Capacity.DISPATCHER) | policies.capacity_q(user, Capacity.SUPERVISOR)
    proposed = waiting.filter(case=OuterRef("pk")).values("proposed_due")[:1]
    return (cases_for(user).filter(deciders, pk__in=waiting.values("case_id"))
            .exclude(policies.capacity_q(user, Capacity.ASSIGNEE))
            .annotate(proposed_due=Subquery(proposed, output_field=DateTimeField())))


def questions_to(user: User) -> QuerySet[FollowUp]:
    """Follow-up questions addressed to one of the user's units (where they hold a staff post)."""
    return FollowUp.objects.filter(addressed_to__in=Membership.objects.staff().filter(user=user).values("unit_id"))


def unread_follow_ups(user: User | AnonymousUser) -> int:
    """Questions addressed to the user's units not read yet: the number on the handler's badge."""
    if not isinstance(user, User):  # anonymous
        return 0
    return questions_to(user).filter(read_at__isnull=True).count()


def cases_with_questions(user: User | AnonymousUser) -> QuerySet[Case]:
    """群众追问: flagged cases with a question to one of the user's units still unanswered, those with an
    unread one first, then by flag."""
    if not isinstance(user, User):  # anonymous
        return Case.objects.none()
    waiting = questions_to(user).filter(case=OuterRef("pk"), answer_log__isnull=True)
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


def stored_file(user: User | AnonymousUser, name: str) -> files.ServedFile | None:
    """The uploaded file stored under `name` (relative to MEDIA_ROOT, as in its /media/ URL) when the user
    may see what it belongs to; None for a name nobody owns and for one they may not see alike.

    A case's photo, thumbnail, voice note or document: whoever may see the case and the step it came with. A
    photo or document uploaded for a report or step not yet sent: its uploader. A 调解协议书: staff who see
    the dispute as staff. Each lookup is one indexed equality on the name, then the owner's policy.
    """
    if not user.is_authenticated:
        return None
    if name.startswith("cases/"):
        field = "thumbnail" if "/thumbs/" in name else "file"
        attachment = Attachment.objects.filter(**{field: name}).select_related("log").first()
        if attachment is not None:
            if not policies.can_view_attachment(user, attachment):
                return None
            if field == "thumbnail":
                return files.served(attachment.thumbnail)  # always a JPEG (core.uploads)
            if attachment.kind == Attachment.Kind.DOCUMENT:
                return files.served(attachment.file, document=True, download_name=attachment.name or None)
            return files.served(attachment.file, content_type=attachment.content_type)
        pending = PendingUpload.objects.filter(**{field: name}).first()
        if pending is not None and policies.can_use_pending_upload(user, pending):
            return files.served(getattr(pending, field), document=pending.kind == Attachment.Kind.DOCUMENT,
                                download_name=pending.name or None)
    elif name.startswith("mediation/"):
        agreement = MediationAgreement.objects.filter(file=name).select_related("case").first()
        if agreement is not None and policies.can_view_agreement(user, agreement):
            extension = name.rpartition(".")[2]
            return files.served(agreement.file, document=True, download_name=_(
                "调解协议书-%(number)s.%(extension)s") % {"number": agreement.case.number, "extension": extension})
    return None


def pending_uploads(user: User | AnonymousUser, tokens: list[str]) -> list[PendingUpload]:
    """The user's own photos uploaded for a report not yet sent, for these tokens, in their order (others'
    and unknown tokens are left out)."""
    wanted = list(dict.fromkeys(tokens))
    if not wanted:
        return []
    found = {p.token: p for p in policies.pending_uploads_visible_to(user).filter(token__in=wanted)}
    return [found[token] for token in wanted if token in found]


def attachments_of(user: User | AnonymousUser, case: Case) -> list[Attachment]:
    """The files of the case the user may open: the report's and those of later steps (their `log`,
    `stage`); those of internal steps for staff in scope only."""
    rows = case.attachments.select_related("log").order_by("pk")
    if not _staff_sees(user, case):
        rows = rows.filter(Q(log__isnull=True) | Q(log__is_public=True))
    return list(rows)


@dataclass(frozen=True)
class StepFiles:
    """What was sent with one step after the report: photos (处置前 first, then plain, then 处置后) and PDF
    documents, each in the order sent."""

    photos: list[Attachment]
    documents: list[Attachment]

    def __bool__(self) -> bool:
        return bool(self.photos or self.documents)


def step_files(case: Case) -> dict[int, StepFiles]:
    """The photos and documents sent with the case's steps after the report, by step (log seq); the caller
    shows them with the steps the user may see."""
    order: dict[str, int] = {Attachment.Stage.BEFORE.value: 0, Attachment.Stage.NONE.value: 1,
                             Attachment.Stage.AFTER.value: 2}
    rows = (Attachment.objects.filter(case=case, log__isnull=False,
                                      kind__in=[Attachment.Kind.PHOTO, Attachment.Kind.DOCUMENT])
            .exclude(log__action=Action.REPORT).select_related("log"))
    found: dict[int, StepFiles] = {}
    for attachment in sorted(rows, key=lambda a: (order.get(a.stage, 1), a.pk)):
        assert attachment.log is not None
        step = found.setdefault(attachment.log.seq, StepFiles([], []))
        (step.photos if attachment.kind == Attachment.Kind.PHOTO else step.documents).append(attachment)
    return found


def report_attachments(case: Case) -> list[Attachment]:
    """The files sent with the report itself (a step's photos show with the step on the timeline)."""
    return list(case.attachments.filter(Q(log__isnull=True) | Q(log__action=Action.REPORT)).order_by("pk"))


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


def pending_extension(case: Case) -> ExtensionRequest | None:
    """The case's request for more time waiting for a decision, if any (the caller has the case through a
    selector)."""
    return (ExtensionRequest.objects.filter(case=case, decision=ExtensionRequest.Decision.PENDING)
            .select_related("log", "requesting_unit", "requested_by").first())


def extensions_of(user: User | AnonymousUser, case: Case) -> list[ExtensionRequest]:
    """The case's requests for more time, newest first, for staff who see the case as staff (reasons and
    decisions are internal); none for its residents."""
    if not _staff_sees(user, case):
        return []
    return list(ExtensionRequest.objects.filter(case=case)
                .select_related("log", "decision_log", "requesting_unit", "requested_by", "decided_by")
                .order_by("-pk"))


POPULAR_SAMPLE = 5000


def popular_categories(limit: int) -> list[int]:
    """Ids of the categories most reported lately, most first: counted over the newest 5,000 cases, so the
    cost is the same at any scale (the report form lists them first as 常用)."""
    newest = Case.objects.order_by("-pk").values("pk")[:POPULAR_SAMPLE]
    rows = (Case.objects.filter(pk__in=newest).values("category_id").annotate(n=Count("pk"))
            .order_by("-n", "category_id")[:limit])
    return [row["category_id"] for row in rows]


def current_round(case: Case, *, before_seq: int | None = None) -> int:
    """Handling rounds: the first, then one more for each reopening (failed return visit, 不满意); with
    `before_seq`, the round the step of that number was taken in. Counted by the steps that reopen, not by
    rows ending reopened: a question or a reminder on a reopened case writes one too."""
    reopenings = case.logs.filter(to_status=Status.REOPENED).exclude(from_status=Status.REOPENED)
    if before_seq is not None:
        reopenings = reopenings.filter(seq__lt=before_seq)
    return reopenings.count() + 1


def has_rated_this_round(user: User | AnonymousUser, case: Case) -> bool:
    """Whether the user has rated the current handling round (a reopening starts a new one)."""
    return Rating.objects.filter(case=case, rater_id=user.pk, round=current_round(case)).exists()


# ---------------------------------------------------------------------------------------------------------
# Timelines
#
# The staff's full timeline, the public one for residents (reporters never named when anonymous).


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
    # The limit this step set or moved (a hand-over to another level, an acceptance, a reopening), as text.
    limit: str = ""


def _limit_change(before: dict[str, str | None], after: dict[str, str | None]) -> str:
    """What a step did to the running limits, from the log rows' snapshots: "办理期限：…" / "响应期限：…"."""
    for key, label in (("handle_due", _("办理期限")), ("respond_due", _("响应期限"))):
        value = after.get(key)
        if value and value != before.get(key):
            at = timezone.localtime(datetime.datetime.fromisoformat(value))
            return _("%(label)s：%(at)s") % {"label": label, "at": f"{at:%Y-%m-%d %H:%M}"}
    return ""


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
    before: dict[str, str | None] = {}
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
            status_label=str(Status(log.to_status).label), at=timezone.localtime(log.created_at),
            note=log.note if for_staff else _public_note(log), actor_name=name, is_public=log.is_public,
            limit=_limit_change(before, log.deadlines or {})))
        before = log.deadlines or {}
    return entries


def _public_note(log: CaseLog) -> str:
    """A step's note as residents read it. An approved 延期 shows the new limit (from the row's snapshot), not
    the command centre's note: the reasons for more time are internal, the new date is the resident's."""
    if log.action == Action.APPROVE_EXTENSION:
        due = log.deadlines.get("handle_due")
        if due:
            moment = timezone.localtime(datetime.datetime.fromisoformat(due))
            return _("办理期限延长至%(due)s。") % {"due": f"{moment:%Y-%m-%d %H:%M}"}
        return ""
    return log.note


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


# ---------------------------------------------------------------------------------------------------------
# Who handles a case


def lead_unit(case: Case) -> OrgUnit | None:
    """The unit leading the work on the case now, if any."""
    found = (Assignment.objects.filter(case=case, is_active=True, role=Assignment.Role.LEAD)
             .select_related("unit").first())
    return found.unit if found is not None else None


def handling_unit(case: Case) -> OrgUnit | None:
    """The unit that handled the case in this round: the active lead unit; for a case a grid worker
    answered on the spot, its grid; otherwise the holding level."""
    unit = lead_unit(case)
    if unit is not None:
        return unit
    last_handled = case.logs.filter(to_status=Status.HANDLED).order_by("-seq").first()
    if last_handled is not None and last_handled.action == Action.RESOLVE_ON_SPOT and case.grid_id is not None:
        return case.grid
    return case.holder


def suggest_handler(*, category: Category, grid: OrgUnit) -> OrgUnit | None:
    """Who should normally handle a case of `category` in `grid`: the department of the category's handler
    type (the nearest ancestor category that names one) attached to the grid's township, else its county;
    a category naming none is handled by the grid's village. None when no such unit exists."""
    handler_type = categories.handler_type_of(category)
    ancestors = {unit.level: unit for unit in grid.ancestors().filter(kind=UnitKind.AREA)}
    if not handler_type:
        village = ancestors.get(Level.VILLAGE)
        return village if village is not None and village.is_active else None
    for level in (Level.TOWNSHIP, Level.COUNTY):
        area = ancestors.get(level)
        if area is None:
            continue
        found = (OrgUnit.objects.filter(parent=area, kind=UnitKind.DEPARTMENT, department_type=handler_type,
                                        is_active=True).order_by("path").first())
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------------------------------
# Complaints (投诉举报): whom they can be about, and who handles them


def complaint_targets(grid: OrgUnit) -> list[OrgUnit]:
    """The units a complaint about a matter in `grid` may name: the village, township, county and city above
    it, and the departments attached to them, by level (nearest first) and code."""
    areas = list(grid.ancestors().filter(kind=UnitKind.AREA).exclude(level=Level.GRID))
    departments = OrgUnit.objects.filter(parent__in=areas, kind=UnitKind.DEPARTMENT, is_active=True)
    order = {area.pk: len(areas) - i for i, area in enumerate(sorted(areas, key=lambda a: a.depth))}
    found = [area for area in areas if area.is_active] + list(departments)
    return sorted(found, key=lambda unit: (order.get(unit.pk, order.get(unit.parent_id or 0, 0)),
                                           unit.kind != UnitKind.AREA, unit.code))


def complaint_holder(subject: OrgUnit, township: OrgUnit) -> OrgUnit:
    """The level that holds a complaint about `subject` reported in `township`: the township, unless the
    subject is that township, one of its departments, or a unit above it; then the first area level above
    the subject's own (a township department's complaint goes to the county). The top level holds one
    about itself: nobody is above it."""
    subject_area = subject if subject.kind == UnitKind.AREA else subject.parent
    holder = township
    while subject_area is not None and holder.path.startswith(subject_area.path) and holder.parent is not None:
        holder = holder.parent
    return holder


# ---------------------------------------------------------------------------------------------------------
# Duplicates: by place and by what the reports say
#
# Candidates come from one bounded, indexed query: open cases (not merged) reported in the last 30 days within
# 1 km, found through the `(holder, status)` index as the open cases held by the townships whose grids reach
# that far, or by a level above them (an escalated case), at most the 300 nearest. Everything else is done
# here on that bounded set: the exact distance, the text similarity (`cases.similarity`) and the score.
#
# A candidate is suggested when
#   - it is of the same category and within 250 m, whatever its words (the rule before text was compared: a
#     matter told in other words — 路灯不亮 / 晚上黑得看不见路 — shares no characters, and the category and the
#     place say enough), or
#   - its text is similar (`similarity.SIMILAR`) and it is within 1 km, whatever its category. Residents
#     often pick a wrong or a parallel category (垃圾清运 under 村民说事 and 垃圾乱堆乱放 under 网格事项 are one
#     matter; 邻里纠纷 is in three trees), so the words decide; the category only ranks. 1 km, not 250 m,
#     because "我所在的网格" places a report at its grid's centre, which may be some way from the matter.
#
# They are ranked by
#   score = 0.55·text + 0.20·near + 0.05·same_grid + 0.10·recent + 0.10·category
# with text the similarity (0–1; 0 when no text was given), near = 1 − distance/1 km, same_grid 1 when the
# case lies in the grid of the point, recent = 1 − age/30 days, category 1 for the same category, 0.5 for a
# sibling (same parent), 0 otherwise. Text weighs most: it is the one signal that says what the matter is.
# A similar report a little further away thus ranks above an unrelated one next door (0.55·0.6 outweighs
# what 0.20·near can add), and between two unrelated ones the nearer and newer comes first.

DUPLICATE_RADIUS_M = 250.0
DUPLICATE_TEXT_RADIUS_M = 1000.0
DUPLICATE_WINDOW = datetime.timedelta(days=30)
DUPLICATE_CANDIDATES = 300
DUPLICATE_LIMIT = 5
SCORE_WEIGHTS = {"text": 0.55, "near": 0.20, "same_grid": 0.05, "recent": 0.10, "category": 0.10}
_HOLDING_LEVELS = (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY, Level.CITY)  # where a case can be held
_EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE_LAT = math.pi * _EARTH_RADIUS_M / 180


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class DuplicateSuggestion:
    """An open case that may be the same matter, with what its rank is made of."""

    case: Case
    score: float
    text_similarity: float
    distance_m: float
    same_category: bool
    same_grid: bool

    @property
    def similar_text(self) -> bool:
        return self.text_similarity >= similarity.SIMILAR

    @property
    def about_m(self) -> int:
        """The distance as shown: to 10 m, at least 10."""
        return max(10, int(round(self.distance_m, -1)))


def _duplicate_candidates(*, lat: float, lng: float, now: datetime.datetime) -> QuerySet[Case]:
    dlat = DUPLICATE_TEXT_RADIUS_M / _METRES_PER_DEGREE_LAT
    stretch = max(math.cos(math.radians(lat)), 1e-6)
    dlng = dlat / stretch
    places = org_selectors.places_in_box(south=lat - dlat, west=lng - dlng, north=lat + dlat, east=lng + dlng)
    # A case is held by its village or township or, escalated, by an area above it: all lie on its grid's path.
    on_paths = {place.path[:end + 1] for place in places for end, ch in enumerate(place.path[:-1]) if ch == "/"}
    if not on_paths:
        return Case.objects.none()
    holders = OrgUnit.objects.filter(path__in=on_paths, kind=UnitKind.AREA, level__in=_HOLDING_LEVELS).values("pk")
    # Nearest first by the flat approximation (exact enough to choose the 300; measured exactly afterwards).
    flat = ExpressionWrapper((F("lat") - lat) * (F("lat") - lat)
                             + (F("lng") - lng) * (F("lng") - lng) * (stretch * stretch),
                             output_field=FloatField())
    return (Case.objects.filter(
        holder__in=holders,
        status__in=OPEN_STATES, merged_into__isnull=True, created_at__gte=now - DUPLICATE_WINDOW,
        created_at__lte=now, lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng)
        .annotate(flat_distance=flat).order_by("flat_distance", "pk"))


def suggest_duplicates(*, category: Category, lat: float, lng: float, text: str = "",
                       now: datetime.datetime | None = None, exclude: Case | None = None, user: User | None = None,
                       limit: int = DUPLICATE_LIMIT) -> list[DuplicateSuggestion]:
    """Open cases of the last 30 days that may be the matter being reported at (lat, lng) in `category` and
    described by `text`, best first (at most `limit`). See the comment above for which cases come in and the
    score that ranks them:

        score = 0.55·text + 0.20·(1 − metres/1000) + 0.05·same_grid + 0.10·(1 − age/30 days) + 0.10·category

    Without `text` (older API clients) only the same category within 250 m comes in. With `user`, only cases
    that user may see (pass it whenever the list is shown to someone).
    """
    now = now or timezone.now()
    rows = _duplicate_candidates(lat=lat, lng=lng, now=now)
    if user is not None:
        rows = rows & policies.cases_visible_to(user)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    wanted = similarity.profile(text) if text else None
    own_grid = org_selectors.grid_index().locate(lng, lat)
    window = DUPLICATE_WINDOW.total_seconds()
    scored: list[tuple[float, float, int, float, bool, bool]] = []
    # Plain rows, not model instances: building 300 of those cost as much as everything else here.
    fields = ("pk", "lat", "lng", "category_id", "grid_id", "created_at", "description")
    for pk, case_lat, case_lng, category_id, grid_id, created_at, description in (
            rows.values_list(*fields)[:DUPLICATE_CANDIDATES]):
        if case_lat is None or case_lng is None:
            continue
        metres = distance_m(lat, lng, case_lat, case_lng)
        if metres > DUPLICATE_TEXT_RADIUS_M:
            continue  # a corner of the box
        same_category = category_id == category.pk
        alike = similarity.similarity(wanted, similarity.profile(description)) if wanted else 0.0
        if not (same_category and metres <= DUPLICATE_RADIUS_M) and alike < similarity.SIMILAR:
            continue
        theirs = categories.by_id(category_id)
        related = same_category or (theirs is not None and theirs.parent_id is not None
                                    and theirs.parent_id == category.parent_id)
        same_grid = own_grid is not None and grid_id == own_grid
        age = max(0.0, (now - created_at).total_seconds())
        score = (SCORE_WEIGHTS["text"] * alike
                 + SCORE_WEIGHTS["near"] * (1 - metres / DUPLICATE_TEXT_RADIUS_M)
                 + SCORE_WEIGHTS["same_grid"] * same_grid
                 + SCORE_WEIGHTS["recent"] * max(0.0, 1 - age / window)
                 + SCORE_WEIGHTS["category"] * (1.0 if same_category else 0.5 if related else 0.0))
        scored.append((round(score, 4), metres, pk, round(alike, 4), same_category, same_grid))
    scored.sort(key=lambda row: (-row[0], row[1], row[2]))
    best = scored[:limit]
    cases = Case.objects.in_bulk([pk for _score, _metres, pk, *_rest in best])
    found: list[DuplicateSuggestion] = []
    for score, metres, pk, alike, same_category, same_grid in best:
        case = cases.get(pk)
        if case is None:
            continue
        cached = categories.by_id(case.category_id)
        if cached is not None:
            case.category = cached  # from the cache: the list shows its name
        found.append(DuplicateSuggestion(case=case, score=score, text_similarity=alike, distance_m=metres,
                                         same_category=same_category, same_grid=same_grid))
    return found


# ---------------------------------------------------------------------------------------------------------
# Dispute risks (矛盾纠纷)
#
# - "repeat": a party (same ID-number hash) or a household appears in two or more dispute cases reported in
#   the 90 calendar days up to now (Asia/Shanghai dates; the case itself counts when it lies in that window;
#   cases merged into another are duplicates and do not count; an older case is flagged too when one of its
#   parties has two recent disputes). Cases anywhere count, not only those the viewer sees: the flag tells
#   nothing about the other cases.
# - "marriage_family_open": the category or one of its ancestors is a marriage/family category and the case
#   is not settled yet (an open state, or deferred) — the "民转刑" risk.

REPEAT_WINDOW_DAYS = 90
REPEAT_THRESHOLD = 2
# States in which a dispute is still unresolved for the "民转刑" flag: every open state and 挂账.
UNRESOLVED_STATES = frozenset(OPEN_STATES | {Status.DEFERRED})


class RiskCode:
    REPEAT = "repeat"
    MARRIAGE_FAMILY_OPEN = "marriage_family_open"
    ALL = (REPEAT, MARRIAGE_FAMILY_OPEN)


@dataclass(frozen=True)
class Risk:
    code: str
    message: str
    title: str = ""  # 重复纠纷, 民转刑风险


def _window_start(now: datetime.datetime) -> datetime.datetime:
    """Midnight (Asia/Shanghai) starting the 90-day window that ends today."""
    first_day = timezone.localdate(now) - datetime.timedelta(days=REPEAT_WINDOW_DAYS)
    return timezone.make_aware(datetime.datetime.combine(first_day, datetime.time.min))


def _repeat_party_q(now: datetime.datetime) -> Q:
    """Parties whose ID-number hash or household is found in ≥ 2 dispute cases of the window (as
    subqueries, so the whole check stays one SQL statement)."""
    recent = DisputeParty.objects.filter(
        case__category__kind=CategoryKind.DISPUTE, case__merged_into__isnull=True,
        case__created_at__gte=_window_start(now), case__created_at__lte=now)
    hashes = (recent.exclude(id_number_hash="").values("id_number_hash")
              .annotate(n=Count("case", distinct=True)).filter(n__gte=REPEAT_THRESHOLD)
              .values("id_number_hash"))
    households = (recent.filter(household__isnull=False).values("household")
                  .annotate(n=Count("case", distinct=True)).filter(n__gte=REPEAT_THRESHOLD)
                  .values("household"))
    return Q(id_number_hash__in=hashes) | Q(household__in=households)


def _is_marriage_family(category: Category) -> bool:
    node: Category | None = category
    while node is not None:
        if node.marriage_family:
            return True
        node = node.parent
    return False


def dispute_risks(case: Case, *, now: datetime.datetime | None = None) -> list[Risk]:
    """The risk flags of one dispute case (none for other cases). The caller has already got the case
    through a selector; the flags say nothing about the other cases they were derived from."""
    if case.category.kind != CategoryKind.DISPUTE:
        return []
    now = now or timezone.now()
    risks: list[Risk] = []
    if DisputeParty.objects.filter(case=case).filter(_repeat_party_q(now)).exists():
        risks.append(Risk(RiskCode.REPEAT, _(
            "同一当事人或同一户%(days)d天内已发生%(n)d起以上矛盾纠纷，请重点关注，防止矛盾激化。") % {
            "days": REPEAT_WINDOW_DAYS, "n": REPEAT_THRESHOLD}, title=_("重复纠纷")))
    if case.status in UNRESOLVED_STATES and _is_marriage_family(case.category):
        risks.append(Risk(RiskCode.MARRIAGE_FAMILY_OPEN,
                          _("婚姻家庭纠纷尚未化解，请防范“民转刑”风险。"), title=_("民转刑风险")))
    return risks


def dispute_at_risk_q(now: datetime.datetime) -> Q:
    """Cases that are disputes carrying at least one risk flag at `now` (the rule of `dispute_risks`, as one
    filter for a count over many cases; the caller adds its own scope)."""
    repeat = Exists(DisputeParty.objects.filter(case=OuterRef("pk")).filter(_repeat_party_q(now)))
    marriage_family = Q(category_id__in=categories.marriage_family_ids(), status__in=UNRESOLVED_STATES)
    disputes = Category.objects.filter(kind=CategoryKind.DISPUTE).values_list("pk", flat=True)
    return Q(category_id__in=list(disputes)) & (repeat | marriage_family)


def with_dispute_risks(queryset: QuerySet[Case], *, now: datetime.datetime) -> QuerySet[Case]:
    """`queryset` annotated with `risk_repeat` and `risk_marriage_family` (booleans: the rules of
    `dispute_risks`); the caller adds its own scope (the risk warnings run over every case, as system work)."""
    repeat = Exists(DisputeParty.objects.filter(case=OuterRef("pk")).filter(_repeat_party_q(now)))
    marriage_family = Q(category_id__in=categories.marriage_family_ids(), status__in=UNRESOLVED_STATES)
    return queryset.annotate(risk_repeat=repeat,
                             risk_marriage_family=ExpressionWrapper(marriage_family, output_field=BooleanField()))


def dispute_cases_at_risk(user: User | AnonymousUser, *, risk: str | None = None, within: OrgUnit | None = None,
                          now: datetime.datetime | None = None) -> QuerySet[Case]:
    """风险纠纷: the dispute cases whose records `user` sees (as staff) that carry at least one risk flag, or the
    one named by `risk` (a `RiskCode`), optionally only those placed under `within` (a township); newest first.

    Each case is annotated with `risk_repeat` and `risk_marriage_family` (booleans), so a page can show
    which flag applies; it is one SQL query (plus one small read of the category tree).
    """
    if risk is not None and risk not in RiskCode.ALL:
        raise DomainError(_("未知的风险类型。"), field="risk")
    queryset = with_dispute_risks(policies.disputes_visible_to(user), now=now or timezone.now())
    if risk == RiskCode.REPEAT:
        queryset = queryset.filter(Q(risk_repeat=True))
    elif risk == RiskCode.MARRIAGE_FAMILY_OPEN:
        queryset = queryset.filter(Q(risk_marriage_family=True))
    else:
        queryset = queryset.filter(Q(risk_repeat=True) | Q(risk_marriage_family=True))
    if within is not None:
        queryset = queryset.filter(area_path__startswith=within.path)
    return queryset.order_by("-created_at", "-pk")


def townships_for(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    """The townships (乡镇/街道) in the user's scope, to narrow a county-wide list to one."""
    return (account_policies.units_visible_to(user)
            .filter(level=Level.TOWNSHIP, kind=UnitKind.AREA, is_active=True).order_by("path"))


# ---------------------------------------------------------------------------------------------------------
# A dispute's records as staff see them (parties masked), who may be named as a mediator, and the agreements
# whose performance follow-up (履行回访) is due.


# Outcomes that come with an agreement (调解协议); a session with another outcome takes none.
AGREEMENT_OUTCOMES = frozenset({MediationSession.Outcome.AGREED, MediationSession.Outcome.PARTIAL})
_NAME_SEPARATORS = re.compile(r"[、，,；;\n]+")


@dataclass(frozen=True)
class PartyView:
    id: int
    name: str
    role: str
    role_label: str
    has_id_number: bool
    has_household: bool


@dataclass(frozen=True)
class AgreementView:
    id: int
    url: str | None
    signed_on: datetime.date
    follow_up_on: datetime.date
    performance: str
    performance_label: str
    performance_checked_on: datetime.date | None
    performance_note: str
    follow_up_due: bool


@dataclass(frozen=True)
class SessionView:
    id: int
    kind: str
    kind_label: str
    held_on: datetime.date
    outcome: str
    outcome_label: str
    mediators: list[str]
    summary: str
    recorded_by: str
    agreement: AgreementView | None
    agreement_expected: bool


@dataclass(frozen=True)
class DisputeView:
    """What staff see of a dispute: parties (names masked), sessions with their agreements, risk flags, and what
    the viewer may do now."""

    parties: list[PartyView]
    sessions: list[SessionView]
    risks: list[Risk]
    may_record: bool
    may_record_performance: bool
    may_unmask: bool


def masked_party_name(name: str) -> str:
    """A party's name as pages show it: the first character, the rest as stars (张**, 某*******)."""
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1) if name else ""


def follow_up_due(agreement: MediationAgreement, today: datetime.date) -> bool:
    """Whether the agreement's performance follow-up is due: its date has come and no visit since found it
    performed (a visit that found it partly or not performed may set the next date)."""
    if agreement.follow_up_on > today or agreement.performance == MediationAgreement.Performance.PERFORMED:
        return False
    checked = agreement.performance_checked_on
    return not agreement.performance or checked is None or checked < agreement.follow_up_on


def _follow_up_due_q(today: datetime.date) -> Q:
    """`follow_up_due` as a filter on agreements."""
    return (Q(follow_up_on__lte=today) & ~Q(performance=MediationAgreement.Performance.PERFORMED)
            & (Q(performance="") | Q(performance_checked_on__isnull=True)
               | Q(performance_checked_on__lt=F("follow_up_on"))))


def _staff_name(user: User) -> str:
    return user.real_name or user.username


def agreement_view(agreement: MediationAgreement, *, today: datetime.date) -> AgreementView:
    performance = agreement.performance
    return AgreementView(
        id=agreement.pk, url=agreement.file.url if agreement.file else None, signed_on=agreement.signed_on,
        follow_up_on=agreement.follow_up_on, performance=performance,
        performance_label=str(MediationAgreement.Performance(performance).label) if performance else "",
        performance_checked_on=agreement.performance_checked_on, performance_note=agreement.performance_note,
        follow_up_due=follow_up_due(agreement, today))


def party_view(party: DisputeParty) -> PartyView:
    """A party as staff see it: the name masked."""
    return PartyView(id=party.pk, name=masked_party_name(party.name), role=party.role,
                     role_label=party.get_role_display(), has_id_number=bool(party.id_number_hash),
                     has_household=party.household_id is not None)


def session_view(session: MediationSession, *, today: datetime.date) -> SessionView:
    """A session as staff see it (fetch it with its recorder, mediators and agreement, as `dispute_of` does)."""
    agreement = getattr(session, "agreement", None)  # the reverse one-to-one raises when there is none
    names = [_staff_name(m) for m in sorted(session.mediators.all(), key=lambda m: m.pk)]
    names += [n for n in split_names(session.other_mediators) if n not in names]
    return SessionView(
        id=session.pk, kind=session.kind, kind_label=session.get_kind_display(), held_on=session.held_on,
        outcome=session.outcome, outcome_label=session.get_outcome_display(), mediators=names,
        summary=session.summary, recorded_by=_staff_name(session.recorded_by),
        agreement=agreement_view(agreement, today=today) if agreement is not None else None,
        agreement_expected=agreement is None and session.outcome in AGREEMENT_OUTCOMES)


def dispute_of(user: User | AnonymousUser, case: Case, *, now: datetime.datetime | None = None) -> DisputeView:
    """The records of one dispute for staff who see it as staff (get the case through `case_for` first).
    NotFound for a case that is no dispute; Forbidden for its reporter and followers, who see the case but not
    its parties and mediation."""
    if case.category.kind != CategoryKind.DISPUTE:
        raise NotFound()
    if not policies.can_view_dispute(user, case):
        raise Forbidden(_("只有办理该纠纷的工作人员可以查看当事人和调解情况。"))
    now = now or timezone.now()
    today = timezone.localdate(now)
    sessions = (case.mediations.select_related("recorded_by", "agreement").prefetch_related("mediators")
                .order_by("held_on", "pk"))
    may_record = policies.can_record_dispute(user, case)
    return DisputeView(
        parties=[party_view(p) for p in case.parties.order_by("pk")],
        sessions=[session_view(s, today=today) for s in sessions],
        risks=dispute_risks(case, now=now),
        may_record=may_record and policies.dispute_takes_records(case),
        may_record_performance=may_record and policies.dispute_takes_records(case, performance=True),
        may_unmask=policies.can_unmask_parties(user, case))


def split_names(text: str) -> list[str]:
    """The names in a free-text list of mediators ("王国辉、李某"), in order, each once."""
    return list(dict.fromkeys(name.strip() for name in _NAME_SEPARATORS.split(text) if name.strip()))


def party_of(case: Case, party_id: int) -> DisputeParty:
    """One party of `case` (already checked to be visible); NotFound for any other id."""
    found = DisputeParty.objects.filter(case=case, pk=party_id).first()
    if found is None:
        raise NotFound()
    return found


def session_of(case: Case, session_id: int) -> MediationSession:
    found = MediationSession.objects.filter(case=case, pk=session_id).first()
    if found is None:
        raise NotFound()
    return found


def agreement_of(case: Case, agreement_id: int) -> MediationAgreement:
    found = MediationAgreement.objects.filter(case=case, pk=agreement_id).first()
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class MediatorChoice:
    user: User
    label: str  # 王芳（八里镇司法所）


def mediator_candidates(case: Case) -> list[MediatorChoice]:
    """The staff who may be named as mediators of a dispute: those holding a post in the holding level's
    command centre or one of its departments (司法所, 派出所 …), in the case's village or grid on the way down,
    or in a unit assigned to the case (lead or assisting). Not every grid worker of a county: the list stays
    short enough to tick."""
    chain = {path for path in _path_and_ancestors(case.area_path) if path.startswith(case.holder.path)}
    assigned = Assignment.objects.filter(case=case, is_active=True).values("unit_id")
    units = OrgUnit.objects.filter(
        Q(path__in=chain | {case.holder.path}) | Q(parent_id=case.holder_id, kind=UnitKind.DEPARTMENT)
        | Q(pk__in=assigned), is_active=True)
    posts = (Membership.objects.staff().filter(unit__in=units, user__is_active=True, user__kind=User.Kind.STAFF)
             .select_related("user", "unit").order_by("unit__path", "user__real_name", "user_id"))
    found: dict[int, tuple[User, list[str]]] = {}
    for post in posts:
        user, unit_names = found.setdefault(post.user_id, (post.user, []))
        if post.unit.name not in unit_names:
            unit_names.append(post.unit.name)
    return [MediatorChoice(user, _("%(name)s（%(units)s）") % {"name": _staff_name(user), "units": "、".join(units)})
            for user, units in found.values()]


def _path_and_ancestors(path: str) -> set[str]:
    parts = path.rstrip("/").split("/")
    return {"/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)}


def agreements_due(user: User | AnonymousUser, *, now: datetime.datetime | None = None
                   ) -> QuerySet[MediationAgreement]:
    """履行回访到期: agreements of disputes the user sees as staff whose performance follow-up is due, earliest
    first. Closed cases included: the follow-up comes after the case was closed; not rejected or anonymised
    ones."""
    today = timezone.localdate(now or timezone.now())
    return (MediationAgreement.objects
            .filter(case__in=policies.disputes_visible_to(user).exclude(status=Status.REJECTED)
                    .filter(personal_data_removed_at__isnull=True))
            .filter(_follow_up_due_q(today))
            .select_related("case__category", "case__grid", "session")
            .order_by("follow_up_on", "pk"))
