"""Volunteers' writes (M26): teams and applications, an activity's facts, sign-ups, attendance and hours.

Slots: a sign-up locks the activity row (`select_for_update`) and counts the taken slots under that lock, so
two residents taking the last slot at once get one slot between them; the (activity, user) constraint keeps a
double tap to one sign-up. Hours: recorded by the activity's staff (default: the activity's length), and when
the township's catalogue has an item triggered by volunteer hours, points go to the volunteer's household
through `points.services.awards.award_for_event`, keyed by the participation ("volunteer:<id>"), so recording
again never gives twice; changing hours afterwards does not change points (a correction is made in 积分管理).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit
from gongzhi.points.models import Trigger
from gongzhi.points.services import awards
from gongzhi.publications import policies, volunteer_notices
from gongzhi.publications import volunteer_policies as vp
from gongzhi.publications.models import (
    Participation,
    Publication,
    Status,
    TeamMember,
    VolunteerActivity,
    VolunteerTeam,
)
from gongzhi.publications.services import core

NAME_MAX = 40
DESCRIPTION_MAX = 500
NOTE_MAX = 200
SLOTS_MAX = 500
HOURS_MAX = Decimal(24)
ACTIVITY_MAX_DAYS = 7


# Teams ------------------------------------------------------------------------------------------------------

@dataclass
class TeamFields:
    name: str
    kind: str = VolunteerTeam.Kind.FIXED
    description: str = ""
    leader_name: str = ""
    order: int = 0
    is_active: bool = True


def _clean_team(fields: TeamFields) -> dict[str, object]:
    if fields.kind not in VolunteerTeam.Kind.values:
        raise DomainError(_("请选择队伍类型。"), field="kind")
    return {"name": clean_text(fields.name, field="name", max_length=NAME_MAX, required_message=_("请填写队伍名称。")),
            "kind": fields.kind,
            "description": clean_text(fields.description, field="description", max_length=DESCRIPTION_MAX),
            "leader_name": clean_text(fields.leader_name, field="leader_name", max_length=30),
            "order": max(0, min(int(fields.order or 0), 999)), "is_active": bool(fields.is_active)}


def _unique_name(unit: OrgUnit, name: object, exclude: int | None = None) -> None:
    clash = VolunteerTeam.objects.filter(unit=unit, name=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise DomainError(_("本村已有同名的服务队。"), code="team_exists", field="name")


@transaction.atomic
def create_team(*, actor: User | None, unit: OrgUnit, fields: TeamFields) -> VolunteerTeam:
    """A village's (or a township's) team; `actor=None` for the demo loader."""
    if unit.level not in (Level.VILLAGE, Level.TOWNSHIP) or unit.is_department:
        raise DomainError(_("服务队只能建在村(社区)或乡镇(街道)。"), field="unit")
    if actor is not None and not vp.can_manage_unit_teams(actor, unit.path):
        raise Forbidden(_("您不能管理该单位的志愿服务队。"))
    values = _clean_team(fields)
    _unique_name(unit, values["name"])
    return VolunteerTeam.objects.create(unit=unit, path=unit.path, **values)


@transaction.atomic
def update_team(*, actor: User, team: VolunteerTeam, fields: TeamFields) -> VolunteerTeam:
    team = VolunteerTeam.objects.select_for_update().get(pk=team.pk)
    if not vp.can_manage_team(actor, team):
        raise NotFound()
    values = _clean_team(fields)
    _unique_name(team.unit, values["name"], exclude=team.pk)
    for name, value in values.items():
        setattr(team, name, value)
    team.save()
    return team


def apply_to_team(*, user: User, team: VolunteerTeam, note: str = "") -> TeamMember:
    """A verified resident of the team's village applies; applying again while waiting or after joining
    answers with the same row; after a refusal or leaving, the application is made anew."""
    if not vp.can_join(user, team):
        if not vp.is_verified(user):
            raise Forbidden(_("请先完成实名核验后再申请加入服务队。"), code="unverified")
        raise NotFound()
    note = clean_text(note, field="note", max_length=NOTE_MAX)
    with transaction.atomic():
        member = TeamMember.objects.select_for_update().filter(team=team, user=user).first()
        if member is None:
            try:
                with transaction.atomic():
                    member = TeamMember.objects.create(team=team, user=user, note=note)
            except IntegrityError:  # the same form sent twice at once
                return TeamMember.objects.get(team=team, user=user)
            transaction.on_commit(lambda: volunteer_notices.applied(member))
            return member
        if member.status in (TeamMember.Status.APPLIED, TeamMember.Status.APPROVED):
            return member
        member.status, member.note, member.created_at = TeamMember.Status.APPLIED, note, timezone.now()
        member.review_note, member.reviewed_by, member.reviewed_at = "", None, None
        member.save()
        transaction.on_commit(lambda: volunteer_notices.applied(member))
        return member


@transaction.atomic
def review_member(*, actor: User, member: TeamMember, approve: bool, note: str = "") -> TeamMember:
    """批准 or 不批准 an application (with a reason); the applicant is told. The same decision again answers
    with the row as it is."""
    member = TeamMember.objects.select_for_update(of=("self",)).select_related("team").get(pk=member.pk)
    if not vp.can_manage_team(actor, member.team):
        raise NotFound()
    done = TeamMember.Status.APPROVED if approve else TeamMember.Status.REJECTED
    if member.status == done:
        return member
    if member.status != TeamMember.Status.APPLIED:
        raise Conflict(_("该申请当前为“%(status)s”，不能再审核。") % {"status": member.get_status_display()},
                       code="invalid_state")
    note = clean_text(note, field="note", max_length=NOTE_MAX,
                      required_message=None if approve else _("请填写不批准的原因。"))
    member.status, member.review_note = done, note
    member.reviewed_by, member.reviewed_at = actor, timezone.now()
    member.save()
    transaction.on_commit(lambda: volunteer_notices.reviewed(member))
    return member


@transaction.atomic
def leave_team(*, user: User, member: TeamMember) -> TeamMember:
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    if member.user_id != user.pk:
        raise NotFound()
    if member.status in (TeamMember.Status.APPLIED, TeamMember.Status.APPROVED):
        member.status = TeamMember.Status.LEFT
        member.save(update_fields=["status"])
    return member


@transaction.atomic
def remove_member(*, actor: User, member: TeamMember) -> TeamMember:
    """Staff take someone off a team (moved away, asked to)."""
    member = TeamMember.objects.select_for_update(of=("self",)).select_related("team").get(pk=member.pk)
    if not vp.can_manage_team(actor, member.team):
        raise NotFound()
    if member.status == TeamMember.Status.APPROVED:
        member.status = TeamMember.Status.LEFT
        member.save(update_fields=["status"])
    return member


# Activities -------------------------------------------------------------------------------------------------

@dataclass
class ActivityFields:
    place: str
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    slots: int | None
    team_ids: Sequence[int] = ()
    members_only: bool = False


def _locked_activity_publication(publication: Publication) -> Publication:
    publication = (Publication.objects.select_for_update(of=("self",)).select_related("author_unit", "audience_unit")
                   .get(pk=publication.pk))
    if publication.kind != "volunteer_activity":
        raise DomainError(_("该事项不是志愿活动。"), code="publication_invalid")
    return publication


@transaction.atomic
def save_activity(*, actor: User, publication: Publication, fields: ActivityFields) -> VolunteerActivity:
    """Set a volunteer activity's place, time, slots and teams: freely while a draft; once published, by its
    staff, never below the slots already taken."""
    publication = _locked_activity_publication(publication)
    if publication.status == Status.DRAFT:
        if not policies.can_edit(actor, publication):
            raise Forbidden()
    elif publication.status != Status.PUBLISHED or not policies.can_manage(actor, publication):
        raise Conflict(_("该事项当前状态为“%(status)s”，不能这样操作。") % {"status": publication.get_status_display()})
    place = clean_text(fields.place, field="place", max_length=100, required_message=_("请填写活动地点。"))
    if fields.starts_at is None:
        raise DomainError(_("请填写开始时间。"), field="starts_at")
    if fields.ends_at is None:
        raise DomainError(_("请填写结束时间。"), field="ends_at")
    if fields.ends_at <= fields.starts_at:
        raise DomainError(_("结束时间必须晚于开始时间。"), field="ends_at")
    if fields.ends_at - fields.starts_at > datetime.timedelta(days=ACTIVITY_MAX_DAYS):
        raise DomainError(_("一次活动不能超过%(n)d天。") % {"n": ACTIVITY_MAX_DAYS}, field="ends_at")
    if not fields.slots or fields.slots < 1 or fields.slots > SLOTS_MAX:
        raise DomainError(_("招募人数应在1到%(n)d之间。") % {"n": SLOTS_MAX}, field="slots")
    teams = list(VolunteerTeam.objects.filter(pk__in=list(fields.team_ids), is_active=True))
    if len(teams) != len(set(fields.team_ids)) or any(
            not (t.path.startswith(publication.author_unit.path) or publication.author_unit.path.startswith(t.path))
            for t in teams):
        raise DomainError(_("请选择本村的服务队。"), field="teams")
    if fields.members_only and not teams:
        raise DomainError(_("仅限服务队成员报名时，请至少选择一支服务队。"), field="teams")
    activity = VolunteerActivity.objects.select_for_update().filter(publication=publication).first()
    if activity is not None and publication.status == Status.PUBLISHED:
        taken = activity.participants.filter(status=Participation.Status.SIGNED_UP).count()
        if fields.slots < taken:
            raise DomainError(_("已有%(n)d人报名，招募人数不能少于报名人数。") % {"n": taken}, field="slots")
    values = {"place": place, "starts_at": fields.starts_at, "ends_at": fields.ends_at, "slots": fields.slots,
              "members_only": fields.members_only, "updated_at": timezone.now()}
    if activity is None:
        activity = VolunteerActivity.objects.create(publication=publication, **values)
    else:
        for name, value in values.items():
            setattr(activity, name, value)
        activity.save()
    activity.teams.set(teams)
    core.log_step(publication=publication, actor=actor, note=_("设置活动时间、地点和招募人数"))
    return activity


def check_ready(publication: Publication) -> None:
    if not VolunteerActivity.objects.filter(publication=publication).exists():
        raise DomainError(_("请先填写活动地点、时间和招募人数再发布。"), code="publication_incomplete", field="place")


def _locked_activity(publication: Publication) -> VolunteerActivity:
    activity = (VolunteerActivity.objects.select_for_update(of=("self",))
                .select_related("publication__author_unit", "publication__audience_unit")
                .filter(publication_id=publication.pk).first())
    if activity is None:
        raise NotFound()
    return activity


def taken_slots(activity: VolunteerActivity) -> int:
    return activity.participants.filter(status=Participation.Status.SIGNED_UP).count()


@transaction.atomic
def sign_up(*, user: User, publication: Publication) -> Participation:
    """Take a slot of a live activity that has not started (see the module text for the lock)."""
    if not policies.can_view(user, publication):
        raise NotFound()
    activity = _locked_activity(publication)
    publication = activity.publication
    if not publication.is_live():
        raise NotFound()
    if activity.starts_at <= timezone.now():
        raise Conflict(_("活动已开始，不能再报名。"), code="activity_started")
    refusal = vp.sign_up_refusal(user, publication, activity)
    if refusal:
        raise Forbidden(refusal, code="sign_up_refused")
    existing = Participation.objects.filter(activity=activity, user=user).first()
    if existing is not None and existing.status == Participation.Status.SIGNED_UP:
        return existing
    if taken_slots(activity) >= activity.slots:
        raise Conflict(_("名额已满。"), code="activity_full")
    if existing is not None:
        existing.status, existing.created_at = Participation.Status.SIGNED_UP, timezone.now()
        existing.save(update_fields=["status", "created_at"])
        return existing
    return Participation.objects.create(activity=activity, user=user)


@transaction.atomic
def cancel_sign_up(*, user: User, publication: Publication) -> Participation | None:
    """Give the slot back before the activity starts (nothing to do when not signed up)."""
    activity = _locked_activity(publication)
    participation = Participation.objects.filter(activity=activity, user=user).first()
    if participation is None or participation.status == Participation.Status.CANCELLED:
        return participation
    if activity.starts_at <= timezone.now():
        raise Conflict(_("活动已开始，不能取消报名，请联系村里。"), code="activity_started")
    participation.status = Participation.Status.CANCELLED
    participation.save(update_fields=["status"])
    return participation


def parse_hours(raw: object, *, field: str = "hours") -> Decimal | None:
    """"2", "2.5", "２．５" → Decimal in half hours; "" → None; anything else DomainError."""
    text = str(raw if raw is not None else "").strip().translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(_("服务时长请填写数字，如 2 或 2.5。"), field=field) from None
    if not value.is_finite() or value < 0 or value > HOURS_MAX or (value * 2) % 1:
        raise DomainError(_("服务时长应在0到24小时之间，按半小时计。"), field=field)
    return value


@dataclass
class AttendanceEntry:
    participation_id: int
    attended: bool
    hours: Decimal | None = None  # None: the activity's length when attended


def record_attendance(*, actor: User, publication: Publication,
                      entries: Sequence[AttendanceEntry]) -> list[Participation]:
    """The activity's staff mark who came and their hours (after it has started). Points for hours are given
    once per participant (see the module text)."""
    with transaction.atomic():
        activity = _locked_activity(publication)
        publication = activity.publication
        if not policies.can_manage(actor, publication):
            raise NotFound()
        if publication.status != Status.PUBLISHED:
            raise Conflict(_("活动未发布或已撤回。"), code="invalid_state")
        if activity.starts_at > timezone.now():
            raise Conflict(_("活动还没有开始，开始后再记录签到和时长。"), code="activity_not_started")
        rows = {p.pk: p for p in Participation.objects.select_for_update().filter(
            activity=activity, pk__in=[e.participation_id for e in entries]).select_related("user")}
        now = timezone.now()
        changed = []
        for entry in entries:
            participation = rows.get(entry.participation_id)
            if participation is None:
                raise NotFound()
            hours = (entry.hours if entry.hours is not None else activity.duration_hours) if entry.attended \
                else Decimal(0)
            if entry.hours is not None and (entry.hours < 0 or entry.hours > HOURS_MAX):
                raise DomainError(_("服务时长应在0到24小时之间，按半小时计。"), field="hours")
            participation.attended, participation.hours = entry.attended, hours
            participation.recorded_by, participation.recorded_at = actor, now
            participation.save(update_fields=["attended", "hours", "recorded_by", "recorded_at"])
            changed.append(participation)
        core.log_step(publication=publication, actor=actor,
                      note=_("记录签到和服务时长%(n)d人") % {"n": len(changed)})
        for participation in changed:
            if participation.attended and participation.hours and participation.award_id is None:
                award = awards.award_for_event(
                    trigger=Trigger.VOLUNTEER_HOURS, resident_user=participation.user,
                    source_key=f"volunteer:{participation.pk}", quantity=participation.hours,
                    memo=_("志愿服务：%(title)s，%(hours)s小时") % {"title": publication.title[:80],
                                                               "hours": f"{participation.hours:g}"})
                if award is not None:
                    participation.award = award
                    participation.save(update_fields=["award"])
    return changed


def signed_up_q() -> Q:
    return Q(status=Participation.Status.SIGNED_UP)
