"""The resident side of a case and what closes the loop: follow-up questions (追问) and their answers,
return visits (回访) and ratings (满意/基本满意/不满意).

Every workflow step goes through `transition` (scope → 404, capacity → 403, state, note, one log row,
notices); the rows kept here (FollowUp, ReturnVisit, Rating) belong to that step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import services as account_services
from gongzhi.accounts.models import User
from gongzhi.cases import deadlines, policies, selectors
from gongzhi.cases.models import Case, FollowUp, Rating, ReturnVisit
from gongzhi.cases.services.transition import NOTE_MAX_LENGTH, last_log, transition
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text

# Unanswered questions one case may carry at a time: a resident waits for an answer before asking more.
MAX_OPEN_FOLLOW_UPS = 3
COMMENT_MAX_LENGTH = 500  # Rating.comment


def _visible(actor: User, case: Case) -> Case:
    found = policies.cases_visible_to(actor).filter(pk=case.pk).select_related("holder").first()
    if found is None:
        raise NotFound()
    return found


# ---------------------------------------------------------------------------------------------------------
# Follow-up questions


@transaction.atomic
def ask_follow_up(*, actor: User, case: Case, question: str) -> FollowUp:
    """The reporter (or a follower) asks whoever works on the case now: the active lead unit, else the
    holding command centre. Its staff are notified and see an unread badge until they read it."""
    question = clean_text(question, field="question", max_length=NOTE_MAX_LENGTH,
                          required_message=_("请填写您要追问的内容。"))
    _visible(actor, case)
    open_count = FollowUp.objects.filter(case=case, answer_log__isnull=True).count()
    if open_count >= MAX_OPEN_FOLLOW_UPS and policies.is_follower(actor, case):
        raise DomainError(_("您已追问%(n)d次，请等待答复后再追问。") % {"n": open_count},
                          code="too_many_follow_ups", field="question")
    case = transition(actor=actor, case=case, action=Action.FOLLOW_UP, note=question)
    addressed_to = selectors.lead_unit(case) or case.holder
    return FollowUp.objects.create(case=case, question_log=last_log(case), addressed_to=addressed_to)


@transaction.atomic
def answer_follow_up(*, actor: User, follow_up: FollowUp, answer: str) -> FollowUp:
    """The lead unit or the holding command centre answers a question; the residents are told."""
    answer = clean_text(answer, field="answer", max_length=NOTE_MAX_LENGTH,
                        required_message=_("请填写答复内容。"))
    locked = FollowUp.objects.select_for_update().filter(pk=follow_up.pk).first()
    if locked is None:
        raise NotFound()
    follow_up = locked
    case = _visible(actor, follow_up.case)
    if follow_up.answer_log_id is not None:
        raise Conflict(_("这条追问已经答复过了。"), field="answer")
    case = transition(actor=actor, case=case, action=Action.REPLY, note=answer)
    follow_up.answer_log = last_log(case)
    if follow_up.read_at is None:
        follow_up.read_at = timezone.now()
    follow_up.save(update_fields=["answer_log", "read_at"])
    return follow_up


@transaction.atomic
def mark_follow_ups_read(*, actor: User, case: Case) -> int:
    """Mark read the questions on `case` addressed to the actor's units; returns how many were unread."""
    _visible(actor, case)
    return selectors.questions_to(actor).filter(case=case, read_at__isnull=True).update(read_at=timezone.now())


# ---------------------------------------------------------------------------------------------------------
# Return visits and ratings


@transaction.atomic
def record_return_visit(*, actor: User, case: Case, method: str, settled: bool, note: str) -> ReturnVisit:
    """回访 by a grid worker or dispatcher: settled confirms the case, not settled reopens it and counts
    against the handling unit. Whoever handled the case may not visit it (separation of duties)."""
    if method not in ReturnVisit.Method.values:
        raise DomainError(_("请选择回访方式。"), field="method")
    note = clean_text(note, field="note", max_length=NOTE_MAX_LENGTH,
                      required_message=_("请填写回访情况。"))
    case = _visible(actor, case)  # who may visit is the workflow's check (policies.barred), in transition
    unit = selectors.handling_unit(case)
    action = Action.CONFIRM if settled else Action.VISIT_FAILED
    case = transition(actor=actor, case=case, action=action, note=note)
    return ReturnVisit.objects.create(case=case, log=last_log(case), visitor=actor, method=method,
                                      settled=settled, handling_unit=unit)


@transaction.atomic
def rate_case(*, actor: User, case: Case, score: str, comment: str = "") -> Rating:
    """The reporter or a follower rates the handling, once per person per round. 满意/基本满意 once the case
    is closed; 不满意 (a comment required) from handled on, which reopens it and counts against the unit. A
    closed case may be rated within the rating window (`deadlines.rating_open`); then it is archived."""
    if score not in Rating.Score.values:
        raise DomainError(_("请选择满意、基本满意或不满意。"), field="score")
    unsatisfied = score == Rating.Score.UNSATISFIED
    comment = clean_text(comment, field="comment", max_length=COMMENT_MAX_LENGTH,
                         required_message=_("请说明不满意的原因。") if unsatisfied else None)
    case = _visible(actor, case)
    if not deadlines.rating_open(case):
        raise DomainError(_("评价期限已过：结案后%(days)d天内可以评价。") % {"days": settings.CASE_RATING_WINDOW_DAYS},
                          code="rating_closed", field="score")
    round_ = selectors.current_round(case)
    if Rating.objects.filter(case=case, rater=actor, round=round_).exists():
        raise Conflict(_("您已经评价过本轮办理。"), code="already_rated", field="score")
    unit = selectors.handling_unit(case)
    action = Action.RATE_UNSATISFIED if unsatisfied else Action.RATE
    case = transition(actor=actor, case=case, action=action, note=comment)
    return Rating.objects.create(case=case, rater=actor, handling_unit=unit, score=score, comment=comment,
                                 round=round_)


def reporter_phone(*, actor: User, case: Case, reason: str) -> str:
    """The reporter's phone number for a call (电话回访), logged like every reveal. NotFound outside the
    actor's cases, Forbidden unless `policies.can_phone_reporter`, DomainError without a reason or number."""
    case = _visible(actor, case)
    if not policies.can_phone_reporter(actor, case):
        raise Forbidden(_("只有办理或回访该事件的工作人员可以查看实名反映人的电话。"))
    assert case.reporter is not None
    return account_services.reveal_logged(actor=actor, subject=case.reporter, field="phone", reason=reason)
