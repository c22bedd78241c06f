"""The risk warnings (风险预警) a viewer sees: open ones in their scope, newest first, each with the cases it is
about that the viewer may open (a complaint stays hidden from the unit it is about, `cases.policies`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.analytics import policies
from gongzhi.analytics.models import Warning, WarningKind
from gongzhi.cases import policies as case_policies
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.registry.selectors import key_persons as key_person_selectors


@dataclass(frozen=True)
class WarningCase:
    id: int
    number: str


def open_warnings(user: User | AnonymousUser, *, kind: str | None = None) -> QuerySet[Warning]:
    """Open (not cleared) warnings in the viewer's scope, optionally of one kind; newest first."""
    if kind is not None and kind not in WarningKind.values:
        raise DomainError(_("未知的预警类型。"), field="kind")
    queryset = policies.warnings_visible_to(user).filter(cleared_at__isnull=True)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    return queryset.select_related("unit", "acknowledged_by").order_by("-raised_at", "-pk")


def warning_for(user: User | AnonymousUser, warning_id: int) -> Warning:
    """One warning in the viewer's scope (open or cleared); NotFound otherwise."""
    found = policies.warnings_visible_to(user).filter(pk=warning_id).first()
    if found is None:
        raise NotFound()
    return found


def warning_cases(user: User | AnonymousUser, warnings: list[Warning]) -> dict[int, list[WarningCase]]:
    """For each warning, the cases it is about that the viewer may open (one query for the whole page)."""
    ids = {case_id for w in warnings for case_id in w.case_ids}
    visible = {case.pk: WarningCase(case.pk, case.number)
               for case in case_policies.cases_visible_to(user).filter(pk__in=ids).only("pk", "created_at")}
    return {w.pk: [visible[i] for i in w.case_ids if i in visible] for w in warnings}


def warning_key_persons(user: User, warnings: list[Warning]) -> dict[int, key_person_selectors.Brief]:
    """For each unvisited-key-person warning, the person's name and grid if the viewer may see key persons
    there (the page shows the name only then; one query for the whole page)."""
    wanted = {w.pk: w.details.get("key_person") for w in warnings if w.kind == WarningKind.UNVISITED_KEY_PERSON}
    found = key_person_selectors.briefs(user, [pk for pk in wanted.values() if isinstance(pk, int)])
    return {warning_id: found[pk] for warning_id, pk in wanted.items() if pk in found}


def may_acknowledge(user: User | AnonymousUser, warning: Warning) -> bool:
    return warning.acknowledged_at is None and policies.can_acknowledge_warning(user, warning)
