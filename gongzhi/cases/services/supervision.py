"""督办: an upper level (its command centre or a supervisor) orders a case handled by a date. The order has
its own limit, which the sweep (`cases.sweep`) watches; the transition that first brings the case to a
handled state stamps the order fulfilled."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.cases import notices, policies
from gongzhi.cases.models import Case, SupervisionOrder
from gongzhi.cases.services.transition import transition
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import DomainError

# A 督办 limit must lie ahead, and not absurdly far.
SUPERVISION_MAX_DAYS = 365


@transaction.atomic
def issue_supervision(*, actor: User, case: Case, note: str, due_at: datetime.datetime | None) -> SupervisionOrder:
    """督办: an upper level (its command centre or a supervisor) orders `case` handled by `due_at`.

    Scope (404), capacity SUPERVISOR (403), state and note are checked by `transition`; a `due_at` not in the
    future (or more than a year ahead) is refused with field "due_at", and nothing is written."""
    case = transition(actor=actor, case=case, action=Action.SUPERVISE, note=note)
    now = timezone.now()
    if due_at is None or timezone.is_naive(due_at) or due_at <= now:
        raise DomainError(_("请填写今后的督办期限。"), field="due_at")
    if due_at > now + datetime.timedelta(days=SUPERVISION_MAX_DAYS):
        raise DomainError(_("督办期限不能超过一年。"), field="due_at")
    log = case.logs.filter(action=Action.SUPERVISE).order_by("-seq").first()
    assert log is not None
    issuing_unit_id = policies.supervising_unit_id(actor, case)
    if issuing_unit_id is None:  # pragma: no cover - transition has checked the SUPERVISOR capacity
        raise DomainError(_("您不能督办该事件。"))
    order = SupervisionOrder.objects.create(case=case, log=log, issued_by=actor, issuing_unit_id=issuing_unit_id,
                                            due_at=due_at)
    with translation.override(settings.LANGUAGE_CODE):
        notices.send(
            notice="case.supervised", recipients=notices.handlers_of(case), title=_("事件被督办"),
            body=_("事件%(number)s已被督办，请在%(due)s前办结：%(note)s") % {
                "number": case.number, "due": f"{timezone.localtime(due_at):%Y-%m-%d %H:%M}", "note": log.note},
            target_id=case.pk, dedupe_key=f"case:{case.pk}:supervision:{order.pk}", actor_id=actor.pk)
    return order
