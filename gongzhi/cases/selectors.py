"""Reads of cases. Lists and pages start from `policies.cases_visible_to(user)`; the reads about one case
(its handling unit, its dispute risks, …) are given a case the caller already got that way.

Sections: work lists with flags; one case; timelines; who handles a case; duplicates nearby; dispute risks.

Archived cases (归档, `Case.archived_at`, set by the sweep) are left out of every work list unless a list
asks for them (`cases_for(archived=…)`); their page and the search by number find them as before.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
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
from gongzhi.cases import categories, policies
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
    MediationSession,
    PendingUpload,
    Rating,
    SupervisionOrder,
    number_q,
)
from gongzhi.cases.workflow import NO_FLAG, OPEN_STATES, Action, Capacity, Flag, Status
from gongzhi.core import files
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.org.models import Level, OrgUnit, UnitKind

# ---------------------------------------------------------------------------------------------------------
# Work lists with red/yellow/green flags (supervision)
#
# red: a running limit has passed (the response limit while the case waits to be taken up, the handling
# limit while a unit works on it), or an open 督办 order's limit has; yellow: a running limit is coming due
# (see `deadlines.horizons`: ≤ 6 h left on a response limit, a handling limit due before the close of the
# next working day); green: any other open case; "" for cases that run against no limit (deferred, final).


def with_flags(queryset: QuerySet[Case], *, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """Annotate `flag` (workflow.Flag or ""), `flag_rank` (red 0 … none 3) and `due` (the running limit)."""
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
    return cases_for(user).filter(policies.capacity_q(user, Capacity.DISPATCHER), status__in=INTAKE_STATES)


def tasks_for(user: User | AnonymousUser) -> QuerySet[Case]:
    """我的任务: flagged cases led by one of the user's units, and handled cases in the user's scope that
    wait for a return visit; `has_unread`: a question to the user's units is unread."""
    if not isinstance(user, User):  # anonymous
        return Case.objects.none()
    led = policies.capacity_q(user, Capacity.ASSIGNEE)
    unread = questions_to(user).filter(case=OuterRef("pk"), read_at__isnull=True)
    return cases_for(user).filter(led | Q(status=Status.HANDLED)).annotate(has_unread=Exists(unread))


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

    A case's photo, thumbnail or voice note: whoever may see the case. A photo uploaded for a report not yet
    sent: its uploader. A 调解协议书: staff who see the dispute as staff. Each lookup is one indexed equality
    on the name, then the owner's policy.
    """
    if not user.is_authenticated:
        return None
    if name.startswith("cases/"):
        field = "thumbnail" if "/thumbs/" in name else "file"
        attachment = Attachment.objects.filter(**{field: name}).first()
        if attachment is not None:
            if not policies.can_view_attachment(user, attachment):
                return None
            if field == "thumbnail":
                return files.served(attachment.thumbnail)  # always a JPEG (core.uploads)
            return files.served(attachment.file, content_type=attachment.content_type)
        pending = PendingUpload.objects.filter(**{field: name}).first()
        if pending is not None and policies.can_use_pending_upload(user, pending):
            return files.served(getattr(pending, field))
    elif name.startswith("mediation/"):
        session = MediationSession.objects.filter(agreement=name).select_related("case").first()
        if session is not None and policies.can_view_agreement(user, session):
            extension = name.rpartition(".")[2]
            return files.served(session.agreement, document=True, download_name=_(
                "调解协议书-%(number)s.%(extension)s") % {"number": session.case.number, "extension": extension})
    return None


def pending_uploads(user: User | AnonymousUser, tokens: list[str]) -> list[PendingUpload]:
    """The user's own photos uploaded for a report not yet sent, for these tokens, in their order (others'
    and unknown tokens are left out)."""
    wanted = list(dict.fromkeys(tokens))
    if not wanted:
        return []
    found = {p.token: p for p in policies.pending_uploads_visible_to(user).filter(token__in=wanted)}
    return [found[token] for token in wanted if token in found]


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
            status_label=str(Status(log.to_status).label), at=timezone.localtime(log.created_at),
            note=log.note if for_staff else _public_note(log), actor_name=name, is_public=log.is_public))
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
# Duplicates nearby

DUPLICATE_RADIUS_M = 250.0
DUPLICATE_WINDOW = datetime.timedelta(days=30)
_EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE_LAT = math.pi * _EARTH_RADIUS_M / 180


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def suggest_duplicates(*, category: Category, lat: float, lng: float, now: datetime.datetime | None = None,
                       exclude: Case | None = None, user: User | None = None) -> list[Case]:
    """Open cases of the same category reported within 250 m in the last 30 days, nearest first.

    A bounding box narrows the rows in SQL; the exact distance is measured here. With `user`, only cases
    that user may see (pass it whenever the list is shown to someone).
    """
    now = now or timezone.now()
    dlat = DUPLICATE_RADIUS_M / _METRES_PER_DEGREE_LAT
    dlng = dlat / max(math.cos(math.radians(lat)), 1e-6)
    rows = Case.objects.filter(
        category=category, status__in=OPEN_STATES, merged_into__isnull=True,
        created_at__gte=now - DUPLICATE_WINDOW, created_at__lte=now,
        lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng)
    if user is not None:
        rows = rows.filter(pk__in=policies.cases_visible_to(user).values("pk"))
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    found: list[tuple[float, int, Case]] = []
    for candidate in rows:
        if candidate.lat is None or candidate.lng is None:
            continue
        metres = distance_m(lat, lng, candidate.lat, candidate.lng)
        if metres <= DUPLICATE_RADIUS_M:
            found.append((metres, candidate.pk, candidate))
    found.sort(key=lambda item: (item[0], item[1]))
    return [candidate for _metres, _pk, candidate in found]


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


@dataclass(frozen=True)
class Risk:
    code: str
    message: str


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
            "days": REPEAT_WINDOW_DAYS, "n": REPEAT_THRESHOLD}))
    if case.status in UNRESOLVED_STATES and _is_marriage_family(case.category):
        risks.append(Risk(RiskCode.MARRIAGE_FAMILY_OPEN,
                          _("婚姻家庭纠纷尚未化解，请防范“民转刑”风险。")))
    return risks


def dispute_cases_at_risk(user: User, *, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """The dispute cases `user` may see that carry at least one risk flag, for a list page.

    Each case is annotated with `risk_repeat` and `risk_marriage_family` (booleans), so a page can show
    which flag applies; it is one SQL query (plus one small read of the category tree).
    """
    now = now or timezone.now()
    repeat = Exists(DisputeParty.objects.filter(case=OuterRef("pk")).filter(_repeat_party_q(now)))
    marriage_family = Q(category_id__in=categories.marriage_family_ids(), status__in=UNRESOLVED_STATES)
    return (policies.cases_visible_to(user)
            .filter(category__kind=CategoryKind.DISPUTE)
            .annotate(risk_repeat=repeat,
                      risk_marriage_family=ExpressionWrapper(marriage_family, output_field=BooleanField()))
            .filter(Q(risk_repeat=True) | Q(risk_marriage_family=True)))
