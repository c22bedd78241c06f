"""Volunteers' reads (M26): teams for residents and staff, an activity with its slots and participants, a
resident's record (teams, activities, hours, points)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.core.errors import NotFound
from gongzhi.publications import volunteer_policies as vp
from gongzhi.publications.models import Participation, Publication, TeamMember, VolunteerActivity, VolunteerTeam
from gongzhi.publications.selectors import core

_SIGNED = Q(participants__status=Participation.Status.SIGNED_UP)


def activity_of(publication: Publication) -> VolunteerActivity | None:
    return (VolunteerActivity.objects.filter(publication_id=publication.pk)
            .annotate(taken=Count("participants", filter=_SIGNED)).prefetch_related("teams").first())


# Residents ----------------------------------------------------------------------------------------------------

@dataclass
class TeamView:
    team: VolunteerTeam
    members: int
    mine: TeamMember | None


def teams_for_resident(user: User | AnonymousUser) -> list[TeamView]:
    teams = list(VolunteerTeam.objects.filter(vp.teams_visible_q(user)).select_related("unit").annotate(
        approved=Count("members", filter=Q(members__status=TeamMember.Status.APPROVED))).order_by("path", "order",
                                                                                                  "id"))
    mine = {m.team_id: m for m in TeamMember.objects.filter(user=user, team__in=teams)} \
        if user.is_authenticated else {}
    return [TeamView(team, team.approved, mine.get(team.pk)) for team in teams]


def visible_team(user: User | AnonymousUser, team_id: int) -> VolunteerTeam:
    team = VolunteerTeam.objects.filter(vp.teams_visible_q(user), pk=team_id).first()
    if team is None:
        raise NotFound()
    return team


@dataclass
class ActivityView:
    publication: Publication
    activity: VolunteerActivity
    mine: Participation | None

    @property
    def signed(self) -> Participation | None:
        return self.mine if self.mine is not None and self.mine.status == Participation.Status.SIGNED_UP else None

    @property
    def left(self) -> int:
        taken: int = self.activity.taken  # type: ignore[attr-defined]
        return max(0, self.activity.slots - taken)


def activities_for_resident(user: User | AnonymousUser, *, upcoming: bool = True) -> list[ActivityView]:
    """Live volunteer activities the user may read: not yet ended (soonest first), or all (newest first)."""
    items = core.readable(user, kind="volunteer_activity")
    activities = VolunteerActivity.objects.filter(publication__in=items).annotate(
        taken=Count("participants", filter=_SIGNED)).select_related("publication", "publication__author_unit")
    if upcoming:
        activities = activities.filter(ends_at__gt=timezone.now()).order_by("starts_at", "id")
    else:
        activities = activities.order_by("-starts_at", "-id")
    rows = list(activities[:50])
    mine = {p.activity_id: p for p in Participation.objects.filter(user=user, activity__in=rows)} \
        if user.is_authenticated else {}
    return [ActivityView(a.publication, a, mine.get(a.pk)) for a in rows]


def my_participation(user: User | AnonymousUser, activity: VolunteerActivity) -> Participation | None:
    if not user.is_authenticated:
        return None
    return Participation.objects.filter(activity=activity, user=user).first()


@dataclass
class VolunteerRecord:
    memberships: list[TeamMember]
    participations: list[Participation]
    total_hours: Decimal
    activities_attended: int
    points: int
    extra: dict[str, object] = field(default_factory=dict)


def record_of(user: User) -> VolunteerRecord:
    """我的志愿服务: the user's teams, the activities they signed up for (newest first), their total hours and
    the points their hours earned."""
    memberships = list(TeamMember.objects.filter(user=user).exclude(status=TeamMember.Status.LEFT)
                       .select_related("team", "team__unit").order_by("-created_at"))
    participations = list(Participation.objects.filter(user=user).select_related(
        "activity", "activity__publication", "award").order_by("-activity__starts_at", "-id")[:100])
    totals = Participation.objects.filter(user=user, attended=True).aggregate(
        hours=Sum("hours"), n=Count("id"), points=Sum("award__points"))
    return VolunteerRecord(memberships=memberships, participations=participations,
                           total_hours=totals["hours"] or Decimal(0), activities_attended=totals["n"] or 0,
                           points=totals["points"] or 0)


# Staff -------------------------------------------------------------------------------------------------------

def managed_teams(user: User | AnonymousUser) -> QuerySet[VolunteerTeam]:
    return (VolunteerTeam.objects.filter(vp.teams_managed_q(user)).select_related("unit").annotate(
        approved=Count("members", filter=Q(members__status=TeamMember.Status.APPROVED)),
        waiting=Count("members", filter=Q(members__status=TeamMember.Status.APPLIED)))
        .order_by("path", "order", "id"))


def managed_team(user: User | AnonymousUser, team_id: int) -> VolunteerTeam:
    team = VolunteerTeam.objects.filter(vp.teams_managed_q(user), pk=team_id).select_related("unit").first()
    if team is None:
        raise NotFound()
    return team


def team_members(team: VolunteerTeam) -> list[TeamMember]:
    order: dict[str, int] = {TeamMember.Status.APPLIED: 0, TeamMember.Status.APPROVED: 1, TeamMember.Status.REJECTED: 2,
             TeamMember.Status.LEFT: 3}
    members = list(team.members.select_related("user", "reviewed_by"))
    return sorted(members, key=lambda m: (order.get(m.status, 9), m.created_at))


def participants(activity: VolunteerActivity) -> list[Participation]:
    return list(activity.participants.filter(status=Participation.Status.SIGNED_UP)
                .select_related("user", "award", "recorded_by").order_by("created_at", "id"))


def managed_activity(user: User | AnonymousUser, pk: int) -> tuple[Publication, VolunteerActivity | None]:
    publication = core.managed_one(user, pk, kind="volunteer_activity")
    return publication, activity_of(publication)
