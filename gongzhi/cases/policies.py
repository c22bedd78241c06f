"""Who sees a case and in what capacities they may act on it (see workflow.Capacity)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import FIELD_ROLES, Membership, Role, User
from gongzhi.cases.models import Assignment, Case, Follower
from gongzhi.cases.workflow import Capacity


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
        | Exists(following))


def is_follower(user: User, case: Case) -> bool:
    """The reporter of the case or of a duplicate merged into it: kept informed and asked to rate."""
    return case.reporter_id == user.pk or Follower.objects.filter(case=case, user=user).exists()


def _posts(user: User) -> list[tuple[str, str, int]]:
    cached: list[tuple[str, str, int]] | None = getattr(user, "_case_posts", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user, is_active=True, unit__is_active=True)
                      .values_list("role", "unit__path", "unit_id"))
        user._case_posts = cached  # type: ignore[attr-defined]  # per-request cache, like scope_paths
    return cached


def capacities(user: User | AnonymousUser, case: Case) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    held: set[str] = set()
    if is_follower(user, case):
        held.add(Capacity.REPORTER)  # followers ask, and rate, like the reporter
    lead_units = {a.unit_id for a in case.assignments.all() if a.is_active and a.role == Assignment.Role.LEAD}
    holder_path = case.holder.path
    for role, path, unit_id in _posts(user):
        if role == Role.DISPATCHER and unit_id == case.holder_id:
            held.add(Capacity.DISPATCHER)
        elif role == Role.DISPATCHER and holder_path.startswith(path):
            held.add(Capacity.SUPERVISOR)  # an upper command centre supervises the level below
        if role == Role.SUPERVISOR and case.area_path.startswith(path):
            held.add(Capacity.SUPERVISOR)
        if unit_id in lead_units and role != Role.RESIDENT:
            held.add(Capacity.ASSIGNEE)
        if role in FIELD_ROLES and case.area_path.startswith(path):
            held.add(Capacity.GRID_STAFF)
    return held


def is_subject_of_complaint(user: User, case: Case) -> bool:
    """Separation of duties: staff of the unit a complaint is about (or of a unit under it)."""
    if case.subject_unit is None:
        return False
    subject_path = case.subject_unit.path
    return any(path.startswith(subject_path) for role, path, _ in _posts(user) if role != Role.RESIDENT)
