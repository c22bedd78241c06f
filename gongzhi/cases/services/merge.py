"""Merging a duplicate (合并) into the case that is worked on; `selectors.suggest_duplicates` finds them."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.cases import policies
from gongzhi.cases.models import Case, Follower
from gongzhi.cases.services.transition import transition
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import DomainError, NotFound


@transaction.atomic
def merge_case(*, actor: User, case: Case, merge_into: Case | None, note: str) -> Case:
    """Merge a duplicate into the case that is worked on: it closes, and everyone following it (its
    reporter among them) follows `merge_into` from now on, hears of its progress and is asked to rate it."""
    if merge_into is None:
        raise DomainError(_("请选择要并入的另一个事件。"), field="merge_into")
    # Fresh from the database and locked: the status checked must be the current one.
    into = (policies.cases_visible_to(actor).select_for_update(of=("self",)).filter(pk=merge_into.pk)
            .first())
    if into is None:
        raise NotFound()
    case = transition(actor=actor, case=case, action=Action.MERGE, note=note, merge_into=into)
    joining = set(Follower.objects.filter(case=case).values_list("user_id", flat=True))
    if case.reporter_id is not None:
        joining.add(case.reporter_id)
    joining -= set(Follower.objects.filter(case=into).values_list("user_id", flat=True)) | {into.reporter_id}
    Follower.objects.bulk_create([Follower(case=into, user_id=user_id, via=case) for user_id in joining],
                                 ignore_conflicts=True)
    return case
