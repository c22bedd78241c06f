"""`take_action`: the one way a person acts on a case, from every portal and the API.

`action` is the workflow's own name (`workflow.Action`; the API's action names are `workflow.PERSON_ACTIONS`)
and the payload names are the keyword names of the service that does the work:

    plain steps (accept, reject, resolve_on_spot, dispatch, sign, return, complete, defer, resume, escalate,
    close, remind, request_extension, approve_extension, refuse_extension …)
                            → transition: note, lead_unit, assist_units, review_on, extend_to (申请延期: the
                              note is the reason, extend_to the date asked for)
    follow_up               → ask_follow_up: question
    reply                   → answer_follow_up: follow_up (the FollowUp of this case), answer
    confirm / visit_failed  → record_return_visit: method, note (the action says whether it is settled)
    rate / rate_unsatisfied → rate_case: score, comment (rate: 满意 or 基本满意; rate_unsatisfied: 不满意,
                              its score may be left out)
    merge                   → merge_case: merge_into, note
    supervise               → issue_supervision: due_at, note

The 回访 form and the rating form pick the name (settled or not; the score), so one table name is one
outcome. A name the action's service does not take is a programming error (TypeError); `payload_names`
tells an interface which of its fields an action takes.

Idempotency: with a `client_key` (a fresh one per form shown, or per action an offline phone queued), the
case is locked and its log is searched for that key before anything else is checked — before the state,
so a replay of an action the case has since moved past still answers. A row written by the same actor
for the same action is the first result, returned with `created=False` and nothing written; a row of
another actor or another action is a Conflict. Otherwise the action runs and its log row keeps the key;
`CaseLog`'s unique (case, client_key) settles two replays running at once, and the loser answers with
the winner's result.
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.cases import policies, selectors
from gongzhi.cases.models import (
    CLIENT_KEY_MAX_LENGTH,
    Case,
    CaseLog,
    ExtensionRequest,
    FollowUp,
    Rating,
    ReturnVisit,
    SupervisionOrder,
)
from gongzhi.cases.services.feedback import answer_follow_up, ask_follow_up, rate_case, record_return_visit
from gongzhi.cases.services.merge import merge_case
from gongzhi.cases.services.supervision import issue_supervision
from gongzhi.cases.services.transition import transition
from gongzhi.cases.workflow import Action, transition_for
from gongzhi.core.errors import Conflict, DomainError, NotFound
from gongzhi.core.text import clean_text

Record = FollowUp | Rating | ReturnVisit | SupervisionOrder | ExtensionRequest


@dataclass(frozen=True)
class ActionResult:
    """What an action did: the case as it is now, the log row the action wrote, whether it was written by
    this call (False: a replay answered with the first result) and the row the action keeps besides the log
    (the FollowUp asked or answered, the Rating, the ReturnVisit, the SupervisionOrder, the ExtensionRequest
    asked for or decided on), if any."""

    case: Case
    log: CaseLog
    created: bool
    record: Record | None = None


# --------------------------------------------------------------------------------------------- handlers
# One per kind of action: the keyword names after `action` are the action's payload names.


def _step(*, actor: User, case: Case, action: str, **payload: Any) -> None:
    """A plain step: `transition` with its own keyword names (its input for a person's step: not the sweep's
    step_key, and merge_into only through the merge service)."""
    transition(actor=actor, case=case, action=action, **payload)


def _follow_up(*, actor: User, case: Case, action: str, question: str = "") -> FollowUp:
    return ask_follow_up(actor=actor, case=case, question=question)


def _reply(*, actor: User, case: Case, action: str, follow_up: FollowUp | None = None, answer: str = "") -> FollowUp:
    if follow_up is None or follow_up.case_id != case.pk:
        raise NotFound()
    return answer_follow_up(actor=actor, follow_up=follow_up, answer=answer)


def _visit(*, actor: User, case: Case, action: str, method: str = "", note: str = "") -> ReturnVisit:
    return record_return_visit(actor=actor, case=case, method=method, settled=action == Action.CONFIRM, note=note)


def _rate(*, actor: User, case: Case, action: str, score: str = "", comment: str = "") -> Rating:
    unsatisfied = action == Action.RATE_UNSATISFIED
    if unsatisfied and not score:
        score = Rating.Score.UNSATISFIED
    if score in Rating.Score.values and (score == Rating.Score.UNSATISFIED) != unsatisfied:
        raise DomainError(_("所选评价与操作不符。"), field="score")
    return rate_case(actor=actor, case=case, score=score, comment=comment)


def _merge(*, actor: User, case: Case, action: str, merge_into: Case | None = None, note: str = "") -> None:
    merge_case(actor=actor, case=case, merge_into=merge_into, note=note)


def _supervise(*, actor: User, case: Case, action: str, due_at: datetime.datetime | None = None,
               note: str = "") -> SupervisionOrder:
    return issue_supervision(actor=actor, case=case, note=note, due_at=due_at)


_Handler = Callable[..., Record | None]
_HANDLERS: dict[str, _Handler] = {
    Action.FOLLOW_UP: _follow_up, Action.REPLY: _reply,
    Action.CONFIRM: _visit, Action.VISIT_FAILED: _visit,
    Action.RATE: _rate, Action.RATE_UNSATISFIED: _rate,
    Action.MERGE: _merge, Action.SUPERVISE: _supervise,
}
_NAMES: dict[_Handler, frozenset[str]] = {
    handler: frozenset(inspect.signature(handler).parameters) - {"actor", "case", "action"}
    for handler in _HANDLERS.values()}
_NAMES[_step] = frozenset(inspect.signature(transition).parameters) - {"actor", "case", "action", "step_key",
                                                                        "merge_into"}


def _rating_of(log: CaseLog) -> Rating | None:
    round_ = selectors.current_round(log.case, before_seq=log.seq)
    return Rating.objects.filter(case_id=log.case_id, rater_id=log.actor_id, round=round_).first()


# The row an action keeps besides its log row, found from that log row (for a replay).
_RECORDS: dict[str, Callable[[CaseLog], Record | None]] = {
    Action.FOLLOW_UP: lambda log: FollowUp.objects.filter(question_log=log).first(),
    Action.REPLY: lambda log: FollowUp.objects.filter(answer_log=log).first(),
    Action.CONFIRM: lambda log: ReturnVisit.objects.filter(log=log).first(),
    Action.VISIT_FAILED: lambda log: ReturnVisit.objects.filter(log=log).first(),
    Action.RATE: _rating_of, Action.RATE_UNSATISFIED: _rating_of,
    Action.SUPERVISE: lambda log: SupervisionOrder.objects.filter(log=log).first(),
    Action.REQUEST_EXTENSION: lambda log: ExtensionRequest.objects.filter(log=log).first(),
    Action.APPROVE_EXTENSION: lambda log: ExtensionRequest.objects.filter(decision_log=log).first(),
    Action.REFUSE_EXTENSION: lambda log: ExtensionRequest.objects.filter(decision_log=log).first(),
}


def payload_names(action: str) -> frozenset[str]:
    """The payload names `take_action` accepts with `action` (none for an unknown one)."""
    if transition_for(action) is None:
        return frozenset()
    return _NAMES[_HANDLERS.get(action, _step)]


# --------------------------------------------------------------------------------------------- the action


def take_action(*, actor: User, case: Case, action: str, client_key: str = "", **payload: Any) -> ActionResult:
    """Take `action` on `case` as `actor` through the service that does it (see the module note); refusals
    raise DomainError and change nothing. With `client_key`, a replay answers with the first result."""
    if transition_for(action) is None:
        raise DomainError(_("未知的操作。"), field="action")
    handler: _Handler = _HANDLERS.get(action, _step)
    unexpected = set(payload) - _NAMES[handler]
    if unexpected:
        raise TypeError(f"take_action({action!r}) takes no {', '.join(sorted(unexpected))}")
    key = clean_text(client_key, field="client_key", max_length=CLIENT_KEY_MAX_LENGTH)
    try:
        with transaction.atomic():
            if key:
                first = _first_result(actor=actor, case=case, action=action, key=key, lock=True)
                if first is not None:
                    return first
            record = handler(actor=actor, case=case, action=action, **payload)
            # The case stays locked (by transition) until the end of this transaction: the actor's latest
            # row on it is the one just written.
            log = CaseLog.objects.select_related("case").filter(case_id=case.pk, actor=actor).latest("seq")
            if key:
                log.client_key = key
                log.save(update_fields=["client_key"])
            if record is None and action in _RECORDS:  # a plain step that keeps a row (延期)
                record = _RECORDS[action](log)
    except IntegrityError:
        # Two replays at once: the unique (case, client_key) let the other one write; answer with its result.
        first = _first_result(actor=actor, case=case, action=action, key=key, lock=False) if key else None
        if first is None:
            raise
        return first
    return ActionResult(case=log.case, log=log, created=True, record=record)


def _first_result(*, actor: User, case: Case, action: str, key: str, lock: bool) -> ActionResult | None:
    """The result of the action already taken with this key on this case, or None. Scope is checked first
    (404, as for any action); then a key used by someone else, or for another action, is a Conflict."""
    if lock:
        Case.objects.select_for_update(of=("self",)).only("pk").filter(pk=case.pk).first()
    if not policies.cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotFound()
    log = CaseLog.objects.select_related("case").filter(case_id=case.pk, client_key=key).first()
    if log is None:
        return None
    if log.actor_id != actor.pk or log.action != action:
        raise Conflict(_("这个提交编号已用于另一次操作。"), code="client_key_used", field="client_key")
    lookup = _RECORDS.get(action)
    return ActionResult(case=log.case, log=log, created=False, record=lookup(log) if lookup else None)
