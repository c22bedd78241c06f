"""Who sees a case and in what capacities they may act on it (see workflow.Capacity).

One rule says which capacity a staff post gives on a case (`_post_capacities`); the reporter capacity comes
from `is_follower`. Everything else is built on these two, so a check, a list and a recipient list cannot
disagree:
- `capacities(user, case)`: what one person holds on one case (the workflow's checks, the action buttons);
- `users_with_capacity(case, capacity)` / `users_with_capacity_in(cases, capacity)`: everyone who holds it
  (who is told of a step, who handles a case, the sweep's digests);
- `capacity_q(user, capacity)`: the cases on which a person holds it, as a filter (work lists);
- `supervising_unit_id(user, case)`: the post through which a person supervises a case (督办 orders);
- `extension_refusal(action, held, state)`: the 延期 rules beyond the workflow table, which `transition`
  enforces and the case page follows when it offers the buttons.
Only posts that count give a capacity: active staff posts in active units, of active users.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import FIELD_ROLES, HOLDING_ROLES, Membership, Role, User
from gongzhi.cases.models import (
    Assignment,
    Attachment,
    Case,
    CategoryKind,
    ExtensionRequest,
    Follower,
    MediationAgreement,
    PendingUpload,
)
from gongzhi.cases.workflow import FINAL_STATES, Action, Capacity, Status, Transition, actions_available
from gongzhi.org.models import OrgUnit

# Capacities that come from a staff post (the others: REPORTER from the case's followers, SYSTEM the sweep).
POST_CAPACITIES = frozenset({Capacity.DISPATCHER, Capacity.ASSIGNEE, Capacity.GRID_STAFF, Capacity.SUPERVISOR})


def cases_visible_to(user: User | AnonymousUser) -> QuerySet[Case]:
    """Staff: cases placed in their scope or assigned to a unit in it. Residents: the cases they reported or
    follow (a duplicate of theirs was merged into it)."""
    if not user.is_authenticated:
        return Case.objects.none()
    assigned_in_scope = Assignment.objects.filter(
        account_policies.scope_q(user, "unit__path"), case=OuterRef("pk"))
    following = Follower.objects.filter(user=user, case=OuterRef("pk"))
    return Case.objects.filter(
        account_policies.scope_q(user, "area_path") | Exists(assigned_in_scope) | Q(reporter=user)
        | Exists(following)).exclude(complained_about_q(user))


def cases_seen_as_staff(user: User | AnonymousUser) -> QuerySet[Case]:
    """The cases a user sees through a staff post (placed in their scope or assigned to a unit in it), not
    merely as their reporter or a follower."""
    if not user.is_authenticated or not account_policies.scope_paths(user):
        return Case.objects.none()
    assigned_in_scope = Assignment.objects.filter(
        account_policies.scope_q(user, "unit__path"), case=OuterRef("pk"))
    return (Case.objects.filter(account_policies.scope_q(user, "area_path") | Exists(assigned_in_scope))
            .exclude(complained_about_q(user)))


# Files: each is seen by exactly those who may see what it belongs to (a check and a filter per kind).


def attachments_visible_to(user: User | AnonymousUser) -> QuerySet[Attachment]:
    """A case's photos and voice notes: for whoever may see the case (its reporter, anonymous or not, the
    followers of a case their duplicate was merged into, staff in scope)."""
    return Attachment.objects.filter(case__in=cases_visible_to(user))


def can_view_attachment(user: User | AnonymousUser, attachment: Attachment) -> bool:
    """Staff who see the case as staff open every file; its reporter and followers those of the report and
    of the public steps (an internal step's 整改通知书 is not theirs)."""
    if cases_seen_as_staff(user).filter(pk=attachment.case_id).exists():
        return True
    internal = attachment.log is not None and not attachment.log.is_public
    return not internal and cases_visible_to(user).filter(pk=attachment.case_id).exists()


def agreements_visible_to(user: User | AnonymousUser) -> QuerySet[MediationAgreement]:
    """The mediation agreements whose 调解协议书 the user may open: staff who see the dispute as staff. A dispute
    is never public, and its reporter is not shown the signed agreement here (the mediator hands it over)."""
    return MediationAgreement.objects.filter(case__in=cases_seen_as_staff(user)).exclude(file="")


def can_view_agreement(user: User | AnonymousUser, agreement: MediationAgreement) -> bool:
    return bool(agreement.file) and cases_seen_as_staff(user).filter(pk=agreement.case_id).exists()


def pending_uploads_visible_to(user: User | AnonymousUser) -> QuerySet[PendingUpload]:
    """Photos and documents uploaded for a report or step not sent yet: their uploader's alone."""
    if not user.is_authenticated:
        return PendingUpload.objects.none()
    return PendingUpload.objects.filter(owner=user)


def can_use_pending_upload(user: User | AnonymousUser, upload: PendingUpload) -> bool:
    return user.is_authenticated and upload.owner_id == user.pk


# ---------------------------------------------------------------------------------------------------------
# Disputes (矛盾纠纷): parties, mediation sessions, agreements. Never public, never shown to residents.

# Who records a dispute's parties, sessions, agreements and performance follow-ups: the command centre of the
# level holding it, the lead unit (the 司法所 it was dispatched to, say) and the staff of its grid and village
# (grid workers and village staff: the village's 人民调解委员会 settles most disputes where they arise, and a
# grid worker registers the parties when first on the scene). Upper levels and assisting units (协办: the 派出所
# of 两所联动) see the records and may be named as mediators, but do not write them.
DISPUTE_RECORDERS = frozenset({Capacity.DISPATCHER, Capacity.ASSIGNEE, Capacity.GRID_STAFF})


def disputes_visible_to(user: User | AnonymousUser) -> QuerySet[Case]:
    """The dispute cases whose records (parties, sessions, agreements, risk flags) the user may see: staff who
    see the case as staff. Not its reporter: the parties and how mediation went are not theirs to read here."""
    return cases_seen_as_staff(user).filter(category__kind=CategoryKind.DISPUTE)


def can_view_dispute(user: User | AnonymousUser, case: Case) -> bool:
    return disputes_visible_to(user).filter(pk=case.pk).exists()


def can_record_dispute(user: User | AnonymousUser, case: Case) -> bool:
    return bool(capacities(user, case) & DISPUTE_RECORDERS)


def dispute_takes_records(case: Case, *, performance: bool = False) -> bool:
    """Whether a dispute's records may still change in its present state: not once it is finished (rejected,
    closed or rated), merged into another or anonymised. A performance follow-up of an agreement (履行回访)
    comes after the dispute was settled, so it is also taken on a closed or rated case (not a rejected one)."""
    if case.personal_data_removed_at is not None or case.merged_into_id is not None:
        return False
    if performance:
        return case.status != Status.REJECTED
    return case.status not in FINAL_STATES


def can_unmask_parties(user: User | AnonymousUser, case: Case) -> bool:
    """Whether the user may see the parties' full names (each time logged): the permission to unmask personal
    data (group 查看完整个人信息), for a place in their scope, as for ID and phone numbers."""
    return account_policies.can_unmask_pii(user, case.area_path) and can_view_dispute(user, case)


def is_follower(user: User, case: Case) -> bool:
    """The reporter of the case or of a duplicate merged into it: kept informed and asked to rate."""
    return case.reporter_id == user.pk or Follower.objects.filter(case=case, user=user).exists()


# ---------------------------------------------------------------------------------------------------------
# The rule


def _post_capacities(role: str, path: str, unit_id: int, case: Case, lead_units: AbstractSet[int]) -> set[str]:
    """The capacities one staff post (`role` in the unit `unit_id` at `path`) gives on `case`."""
    held: set[str] = set()
    if role in HOLDING_ROLES and unit_id == case.holder_id:
        held.add(Capacity.DISPATCHER)  # the command centre (or village station) of the level holding the case
    elif role == Role.DISPATCHER and case.holder.path.startswith(path):
        held.add(Capacity.SUPERVISOR)  # an upper command centre supervises the level below
    if role == Role.SUPERVISOR and case.area_path.startswith(path):
        held.add(Capacity.SUPERVISOR)
    if unit_id in lead_units:
        held.add(Capacity.ASSIGNEE)
    if role in FIELD_ROLES and case.area_path.startswith(path):
        held.add(Capacity.GRID_STAFF)
    return held


def _lead_units(cases: Sequence[Case]) -> dict[int, frozenset[int]]:
    """Each case's active lead unit (a set: empty before dispatch), in one query."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = Assignment.objects.filter(case__in=[case.pk for case in cases], is_active=True,
                                     role=Assignment.Role.LEAD).values_list("case_id", "unit_id")
    for case_id, unit_id in rows:
        found[case_id].add(unit_id)
    return {case.pk: frozenset(found[case.pk]) for case in cases}


def _posts(user: User) -> list[tuple[str, str, int]]:
    cached: list[tuple[str, str, int]] | None = getattr(user, "_case_posts", None)
    if cached is None:
        cached = list(Membership.objects.staff().filter(user=user).values_list("role", "unit__path", "unit_id"))
        user._case_posts = cached  # type: ignore[attr-defined]  # per-request cache, like scope_paths
    return cached


def _wanted(capacity: str | AbstractSet[str]) -> frozenset[str]:
    return frozenset({capacity}) if isinstance(capacity, str) else frozenset(capacity)


def _path_and_ancestors(path: str) -> set[str]:
    """"a/b/c/" → {"a/", "a/b/", "a/b/c/"}: the units whose posts can reach a case placed at `path`."""
    parts = path.rstrip("/").split("/")
    return {"/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)}


# ---------------------------------------------------------------------------------------------------------
# One person, one case


def capacities(user: User | AnonymousUser, case: Case) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    held: set[str] = set()
    if is_follower(user, case):
        held.add(Capacity.REPORTER)  # followers ask, and rate, like the reporter
    posts = _posts(user)
    if posts and not is_subject_of_complaint(user, case):
        lead_units = _lead_units([case])[case.pk]
        for role, path, unit_id in posts:
            held |= _post_capacities(role, path, unit_id, case, lead_units)
    return held


def supervising_unit_id(user: User, case: Case) -> int | None:
    """The unit of the user's post that makes them a supervisor of `case`, the nearest one above it."""
    found = [(len(path), unit_id) for role, path, unit_id in _posts(user)
             if Capacity.SUPERVISOR in _post_capacities(role, path, unit_id, case, frozenset())]
    return max(found)[1] if found else None


# The unit a step is taken for, when a person's posts give more than one capacity on the case: the work
# itself first (承办), then the field (网格), the command centre (调度), supervision (督办).
_ACTING_ORDER = (Capacity.ASSIGNEE, Capacity.GRID_STAFF, Capacity.DISPATCHER, Capacity.SUPERVISOR)


def acting_unit_id(user: User, case: Case, allowed: AbstractSet[str]) -> int | None:
    """The unit `user` acts for in a step that the capacities `allowed` may take on `case` (kept on the log
    row: who handled it is what assessments count): their deepest post granting the first capacity of
    _ACTING_ORDER they hold; None for a resident's step."""
    posts = _posts(user)
    if not posts:
        return None
    lead_units = _lead_units([case])[case.pk]
    for capacity in _ACTING_ORDER:
        if capacity in allowed:
            found = [(len(path), unit_id) for role, path, unit_id in posts
                     if capacity in _post_capacities(role, path, unit_id, case, lead_units)]
            if found:
                return max(found)[1]
    return None


# 延期 steps: the request, and the two decisions on it.
EXTENSION_DECISIONS = frozenset({Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION})
EXTENSION_ACTIONS = EXTENSION_DECISIONS | {Action.REQUEST_EXTENSION}


class ExtensionRefusal:
    """Why an extension step may not be taken now (see `extension_refusal`)."""

    PENDING = "extension_pending"  # a request already waits for a decision
    NONE_PENDING = "no_extension_pending"  # nothing to decide on
    OWN_REQUEST = "own_extension"  # the unit handling the case would decide on its own request
    USED_UP = "extensions_used_up"  # granted CASE_EXTENSIONS_MAX times already


@dataclass(frozen=True)
class ExtensionState:
    """A case's 延期 requests as the rules need them: the one waiting (if any), how many were granted."""

    pending: ExtensionRequest | None
    approved: int


def extension_state(case: Case) -> ExtensionState:
    rows = list(ExtensionRequest.objects.filter(
        case=case, decision__in=[ExtensionRequest.Decision.PENDING, ExtensionRequest.Decision.APPROVED]))
    return ExtensionState(pending=next((r for r in rows if r.decision == ExtensionRequest.Decision.PENDING), None),
                          approved=sum(r.decision == ExtensionRequest.Decision.APPROVED for r in rows))


def extension_refusal(action: str, held: AbstractSet[str], state: ExtensionState) -> str:
    """The 延期 rules the workflow table cannot say, for someone holding `held` on a case in `state`: "" when
    `action` may be taken, else an `ExtensionRefusal` code. `transition` refuses with it and the case page
    offers a step only when it is "", so the two cannot disagree.

    One request waits at a time, and a case is granted at most CASE_EXTENSIONS_MAX of them. The decision is
    the holding command centre's (DISPATCHER), or the level above it (SUPERVISOR: the upper command centre, a
    supervisor), which also steps in when the holding command centre is itself the unit handling the case:
    whoever holds ASSIGNEE on the case asked, and does not approve their own request (as the handler does not
    do the case's 回访)."""
    if action == Action.REQUEST_EXTENSION:
        if state.pending is not None:
            return ExtensionRefusal.PENDING
        return ExtensionRefusal.USED_UP if state.approved >= settings.CASE_EXTENSIONS_MAX else ""
    if action in EXTENSION_DECISIONS:
        if Capacity.ASSIGNEE in held:
            return ExtensionRefusal.OWN_REQUEST
        return "" if state.pending is not None else ExtensionRefusal.NONE_PENDING
    return ""


# Separation of duties (B5): whoever handled a case does not check it. (The staff of a unit a complaint is
# about hold no capacity on it and do not see it at all: `is_subject_of_complaint`.)
RETURN_VISIT = frozenset({Action.CONFIRM, Action.VISIT_FAILED})


def barred(user: User, case: Case, action: str) -> str | None:
    """Why separation of duties bars `user` from `action` on `case`, though a capacity allows it; None if
    it does not. `services.transition` refuses with this message; `actions_for` leaves the button out."""
    if action in RETURN_VISIT and (Capacity.ASSIGNEE in capacities(user, case) or _handled_by(user, case)):
        return _("办理该事件的单位或人员不能回访本事件。")
    return None


def actions_for(user: User | AnonymousUser, case: Case) -> list[Transition]:
    """The workflow actions `user` may take on `case` now: what their capacities allow in its status, less
    what separation of duties bars and the 延期 rules refuse. Pages offer exactly these; `services.transition`
    checks the same."""
    held = capacities(user, case)
    if not held:
        return []
    assert isinstance(user, User)
    allowed = [t for t in actions_available(case.status, held) if barred(user, case, t.action) is None]
    if any(t.action in EXTENSION_ACTIONS for t in allowed):
        state = extension_state(case)
        allowed = [t for t in allowed
                   if t.action not in EXTENSION_ACTIONS or not extension_refusal(t.action, held, state)]
    return allowed


# Who phones a case's reporter (电话回访, asking for details): whoever handles it or visits it.
PHONING_CAPACITIES = frozenset({Capacity.DISPATCHER, Capacity.ASSIGNEE, Capacity.GRID_STAFF})


def can_phone_reporter(user: User | AnonymousUser, case: Case) -> bool:
    """Whether `user` may see the phone number of the case's reporter (each time logged, with a reason):
    staff handling or visiting the case, for a reporter who gave their name and whose data is still kept.
    An anonymous reporter's number would name them, so it is never shown."""
    return (case.reporter_id is not None and not case.is_anonymous and case.personal_data_removed_at is None
            and bool(capacities(user, case) & PHONING_CAPACITIES))


def _handled_by(user: User, case: Case) -> bool:
    last_handled = case.logs.filter(to_status=Status.HANDLED).order_by("-seq").first()
    return last_handled is not None and last_handled.actor_id == user.pk


def is_subject_of_complaint(user: User, case: Case) -> bool:
    """Separation of duties (B5): staff with a post in the unit a complaint is about (or a unit under it)
    neither see it nor hold any capacity on it, whatever their other posts; it is handled a level above."""
    subject = case.subject_unit if case.subject_unit_id is not None else None
    if subject is None:
        return False
    return any(path.startswith(subject.path) for _role, path, _unit in _posts(user))


def complained_about_q(user: User | AnonymousUser) -> Q:
    """The cases that are complaints about a unit where `user` holds a post (or about a unit above one):
    `is_subject_of_complaint` as a filter."""
    if not isinstance(user, User):
        return Q(pk__in=[])
    paths = set().union(*(_path_and_ancestors(path) for _role, path, _unit in _posts(user)))
    if not paths:
        return Q(pk__in=[])
    return Q(subject_unit__in=OrgUnit.objects.filter(path__in=paths).values("pk"))


# ---------------------------------------------------------------------------------------------------------
# Everyone who holds a capacity


def users_with_capacity(case: Case, capacity: str | AbstractSet[str], *,
                        units: Iterable[OrgUnit] | None = None) -> list[User]:
    """The active users who hold `capacity` (or any of a set) on `case`, as `capacities` finds it for each:
    the reporter and followers (REPORTER), and the people whose staff posts give it. `units` narrows the
    posts to those units (the reporter capacity is no post and ignores it). In the order of their posts."""
    return users_with_capacity_in([case], capacity, units=units)[case.pk]


def users_with_capacity_in(cases: Sequence[Case], capacity: str | AbstractSet[str], *,
                           units: Iterable[OrgUnit] | None = None) -> dict[int, list[User]]:
    """`users_with_capacity` for many cases at once (case id → users), in three queries whatever their
    number: the cases' lead units, the posts that can reach them, and (for REPORTER) their followers."""
    wanted = _wanted(capacity)
    people: dict[int, dict[int, User]] = {case.pk: {} for case in cases}
    if not cases:
        return {}
    if Capacity.REPORTER in wanted:
        _add_followers(cases, people)
    if wanted & POST_CAPACITIES:
        _add_post_holders(cases, wanted, people, units)
        _drop_complained_about(cases, people)
    return {pk: list(found.values()) for pk, found in people.items()}


def _drop_complained_about(cases: Sequence[Case], people: dict[int, dict[int, User]]) -> None:
    """Leave out the staff of the unit each complaint is about (`is_subject_of_complaint`), by all their
    posts, not only the one that gave the capacity."""
    complaints = [(case, case.subject_unit) for case in cases if case.subject_unit_id is not None and people[case.pk]]
    if not complaints:
        return
    user_ids = {user_id for case, _subject in complaints for user_id in people[case.pk]}
    paths: dict[int, list[str]] = defaultdict(list)
    for user_id, path in Membership.objects.staff().filter(user_id__in=user_ids).values_list("user_id",
                                                                                               "unit__path"):
        paths[user_id].append(path)
    for case, subject in complaints:
        assert subject is not None
        for user_id in [u for u in people[case.pk] if any(p.startswith(subject.path) for p in paths[u])]:
            del people[case.pk][user_id]


def _add_followers(cases: Sequence[Case], people: dict[int, dict[int, User]]) -> None:
    ids: dict[int, set[int]] = {case.pk: {case.reporter_id} if case.reporter_id is not None else set()
                                for case in cases}
    for case_id, user_id in Follower.objects.filter(case__in=list(ids)).values_list("case_id", "user_id"):
        ids[case_id].add(user_id)
    users = User.objects.in_bulk({user_id for found in ids.values() for user_id in found})
    for case_id, user_ids in ids.items():
        for user_id in sorted(user_ids):
            user = users.get(user_id)
            if user is not None and user.is_active:
                people[case_id].setdefault(user.pk, user)


def _add_post_holders(cases: Sequence[Case], wanted: frozenset[str], people: dict[int, dict[int, User]],
                      units: Iterable[OrgUnit] | None) -> None:
    lead = _lead_units(cases)
    reach = {case.pk: _path_and_ancestors(case.holder.path) | _path_and_ancestors(case.area_path)
             for case in cases}
    posts = (Membership.objects.staff().filter(user__is_active=True)
             .filter(Q(unit__path__in=set().union(*reach.values())) | Q(unit_id__in=set().union(*lead.values())))
             .select_related("user", "unit").order_by("pk"))
    if units is not None:
        posts = posts.filter(unit__in=[unit.pk for unit in units])
    by_path: dict[str, list[Membership]] = defaultdict(list)
    by_unit: dict[int, list[Membership]] = defaultdict(list)
    for post in posts:
        by_path[post.unit.path].append(post)
        by_unit[post.unit_id].append(post)
    for case in cases:
        candidates = {post.pk: post for path in reach[case.pk] for post in by_path.get(path, ())}
        candidates.update((post.pk, post) for unit_id in lead[case.pk] for post in by_unit.get(unit_id, ()))
        for _pk, post in sorted(candidates.items()):
            if _post_capacities(post.role, post.unit.path, post.unit_id, case, lead[case.pk]) & wanted:
                people[case.pk].setdefault(post.user_id, post.user)


# ---------------------------------------------------------------------------------------------------------
# The cases on which one person holds a capacity (work lists)


def capacity_q(user: User | AnonymousUser, capacity: str) -> Q:
    """A filter on cases: those on which `user` holds `capacity` — `_post_capacities` read as SQL, post by
    post, so a work list shows exactly the cases whose buttons the user gets."""
    nothing = Q(pk__in=[])
    if not isinstance(user, User) or not user.is_active:
        return nothing
    if capacity == Capacity.REPORTER:
        return Q(reporter=user) | Q(Exists(Follower.objects.filter(user=user, case=OuterRef("pk"))))
    q = nothing
    posts = _posts(user)
    if capacity == Capacity.ASSIGNEE and posts:
        q |= Q(Exists(Assignment.objects.filter(case=OuterRef("pk"), is_active=True, role=Assignment.Role.LEAD,
                                                unit_id__in={unit_id for _role, _path, unit_id in posts})))
    for role, path, unit_id in posts:
        if capacity == Capacity.DISPATCHER and role in HOLDING_ROLES:
            q |= Q(holder_id=unit_id)
        elif capacity == Capacity.SUPERVISOR and role == Role.DISPATCHER:
            q |= Q(holder__path__startswith=path) & ~Q(holder_id=unit_id)
        elif capacity == Capacity.SUPERVISOR and role == Role.SUPERVISOR:
            q |= Q(area_path__startswith=path)
        elif capacity == Capacity.GRID_STAFF and role in FIELD_ROLES:
            q |= Q(area_path__startswith=path)
    return q & ~complained_about_q(user) if posts else q
