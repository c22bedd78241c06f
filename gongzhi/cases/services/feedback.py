"""The resident side of a case and what closes the loop: follow-up questions (追问) and their answers,
return visits (回访), ratings (满意/基本满意/不满意), merging duplicates, and finding them.

Every workflow step goes through `services.transition` (scope → 404, capacity → 403, state, note, one log
row, notices); the rows kept here (FollowUp, ReturnVisit, Rating, Follower) hang off that log row.
"""

from __future__ import annotations

import datetime
import math

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import STAFF_ROLES, Membership, User
from gongzhi.cases import notices, policies, selectors, services
from gongzhi.cases.models import Case, CaseLog, Category, Follower, FollowUp, Rating, ReturnVisit
from gongzhi.cases.workflow import OPEN_STATES, Action, Capacity, Status
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.org.models import OrgUnit

# Unanswered questions one case may carry at a time: a resident waits for an answer before asking more.
MAX_OPEN_FOLLOW_UPS = 3
COMMENT_MAX_LENGTH = 500  # Rating.comment
DUPLICATE_RADIUS_M = 250.0
DUPLICATE_WINDOW = datetime.timedelta(days=30)
_EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE_LAT = math.pi * _EARTH_RADIUS_M / 180


def _visible(actor: User, case: Case) -> Case:
    found = policies.cases_visible_to(actor).filter(pk=case.pk).select_related("holder").first()
    if found is None:
        raise NotFound()
    return found


def _text(value: str, *, field: str, max_length: int, required_message: str | None) -> str:
    value = (value or "").strip()
    if required_message is not None and not value:
        raise DomainError(required_message, field=field)
    if len(value) > max_length:
        raise DomainError(_("内容不能超过%(n)d个字。") % {"n": max_length}, field=field)
    return value


def _last_log(case: Case) -> CaseLog:
    """The row `services.transition` has just written."""
    return CaseLog.objects.filter(case=case).latest("seq")


def handling_unit(case: Case) -> OrgUnit | None:
    """The unit that handled the case in this round: the active lead unit; for a case a grid worker
    answered on the spot, its grid; otherwise the holding level."""
    unit = notices.lead_unit(case)
    if unit is not None:
        return unit
    last_handled = case.logs.filter(to_status=Status.HANDLED).order_by("-seq").first()
    if last_handled is not None and last_handled.action == Action.RESOLVE_ON_SPOT and case.grid_id is not None:
        return case.grid
    return case.holder


# ---------------------------------------------------------------------------------------------------------
# Follow-up questions


@transaction.atomic
def ask_follow_up(*, actor: User, case: Case, question: str) -> FollowUp:
    """The reporter (or a follower) asks whoever works on the case now: the active lead unit, else the
    holding command centre. Its staff are notified and see an unread badge until they read it."""
    question = _text(question, field="question", max_length=services.NOTE_MAX_LENGTH,
                     required_message=_("请填写您要追问的内容。"))
    _visible(actor, case)
    open_count = FollowUp.objects.filter(case=case, answer_log__isnull=True).count()
    if open_count >= MAX_OPEN_FOLLOW_UPS and policies.is_follower(actor, case):
        raise DomainError(_("您已追问%(n)d次，请等待答复后再追问。") % {"n": open_count},
                          code="too_many_follow_ups", field="question")
    case = services.transition(actor=actor, case=case, action=Action.FOLLOW_UP, note=question)
    addressed_to = notices.lead_unit(case) or case.holder
    return FollowUp.objects.create(case=case, question_log=_last_log(case), addressed_to=addressed_to)


@transaction.atomic
def answer_follow_up(*, actor: User, follow_up: FollowUp, answer: str) -> FollowUp:
    """The lead unit or the holding command centre answers a question; the residents are told."""
    answer = _text(answer, field="answer", max_length=services.NOTE_MAX_LENGTH,
                   required_message=_("请填写答复内容。"))
    locked = FollowUp.objects.select_for_update().filter(pk=follow_up.pk).first()
    if locked is None:
        raise NotFound()
    follow_up = locked
    case = _visible(actor, follow_up.case)
    if follow_up.answer_log_id is not None:
        raise Conflict(_("这条追问已经答复过了。"), field="answer")
    case = services.transition(actor=actor, case=case, action=Action.REPLY, note=answer)
    follow_up.answer_log = _last_log(case)
    if follow_up.read_at is None:
        follow_up.read_at = timezone.now()
    follow_up.save(update_fields=["answer_log", "read_at"])
    return follow_up


def _my_unit_ids(user: User) -> list[int]:
    return list(Membership.objects.filter(user=user, is_active=True, role__in=STAFF_ROLES, unit__is_active=True)
                .values_list("unit_id", flat=True))


@transaction.atomic
def mark_follow_ups_read(*, actor: User, case: Case) -> int:
    """Mark read the questions on `case` addressed to the actor's units; returns how many were unread."""
    _visible(actor, case)
    return (FollowUp.objects.filter(case=case, addressed_to_id__in=_my_unit_ids(actor), read_at__isnull=True)
            .update(read_at=timezone.now()))


# ---------------------------------------------------------------------------------------------------------
# Return visits and ratings


@transaction.atomic
def record_return_visit(*, actor: User, case: Case, method: str, settled: bool, note: str) -> ReturnVisit:
    """回访 by a grid worker or dispatcher: settled confirms the case, not settled reopens it and counts
    against the handling unit. Whoever handled the case may not visit it (separation of duties)."""
    if method not in ReturnVisit.Method.values:
        raise DomainError(_("请选择回访方式。"), field="method")
    note = _text(note, field="note", max_length=services.NOTE_MAX_LENGTH,
                 required_message=_("请填写回访情况。"))
    case = _visible(actor, case)
    if Capacity.ASSIGNEE in policies.capacities(actor, case) or _handled_by(actor, case):
        raise Forbidden(_("办理该事件的单位或人员不能回访本事件。"))
    unit = handling_unit(case)
    action = Action.CONFIRM if settled else Action.VISIT_FAILED
    case = services.transition(actor=actor, case=case, action=action, note=note)
    return ReturnVisit.objects.create(case=case, log=_last_log(case), visitor=actor, method=method,
                                      settled=settled, handling_unit=unit)


def _handled_by(actor: User, case: Case) -> bool:
    last_handled = case.logs.filter(to_status=Status.HANDLED).order_by("-seq").first()
    return last_handled is not None and last_handled.actor_id == actor.pk


@transaction.atomic
def rate_case(*, actor: User, case: Case, score: str, comment: str = "") -> Rating:
    """The reporter or a follower rates the handling, once per person per round. 满意/基本满意 once the case
    is closed; 不满意 (a comment required) from handled on, which reopens it and counts against the unit."""
    if score not in Rating.Score.values:
        raise DomainError(_("请选择满意、基本满意或不满意。"), field="score")
    unsatisfied = score == Rating.Score.UNSATISFIED
    comment = _text(comment, field="comment", max_length=COMMENT_MAX_LENGTH,
                    required_message=_("请说明不满意的原因。") if unsatisfied else None)
    case = _visible(actor, case)
    round_ = selectors.current_round(case)
    if Rating.objects.filter(case=case, rater=actor, round=round_).exists():
        raise Conflict(_("您已经评价过本轮办理。"), code="already_rated", field="score")
    unit = handling_unit(case)
    action = Action.RATE_UNSATISFIED if unsatisfied else Action.RATE
    case = services.transition(actor=actor, case=case, action=action, note=comment)
    return Rating.objects.create(case=case, rater=actor, handling_unit=unit, score=score, comment=comment,
                                 round=round_)


# ---------------------------------------------------------------------------------------------------------
# Duplicates


@transaction.atomic
def merge_case(*, actor: User, case: Case, into: Case, note: str) -> Case:
    """Merge a duplicate into the case that is worked on: it closes, and everyone following it (its
    reporter among them) follows `into` from now on, hears of its progress and is asked to rate it."""
    into = _visible(actor, into)  # fresh from the database: the status checked must be the current one
    into = Case.objects.select_for_update(of=("self",)).get(pk=into.pk)
    case = services.transition(actor=actor, case=case, action=Action.MERGE, note=note, merge_into=into)
    joining = set(Follower.objects.filter(case=case).values_list("user_id", flat=True))
    if case.reporter_id is not None:
        joining.add(case.reporter_id)
    joining -= set(Follower.objects.filter(case=into).values_list("user_id", flat=True)) | {into.reporter_id}
    Follower.objects.bulk_create([Follower(case=into, user_id=user_id, via=case) for user_id in joining],
                                 ignore_conflicts=True)
    return case


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
