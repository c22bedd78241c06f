"""Key persons (重点人员) and their visit plans."""

from __future__ import annotations

import datetime

from django.utils import timezone

from gongzhi.registry.models import KeyPerson, VisitFrequency


def interval_days(key_person: KeyPerson) -> int:
    """Days between visits: the person's own plan, else the frequency of their risk level."""
    if key_person.interval_days:
        return key_person.interval_days
    return VisitFrequency.objects.values_list("interval_days", flat=True).get(risk_level=key_person.risk_level)


def advance_plan(key_person: KeyPerson, visited_at: datetime.datetime) -> None:
    """After a visit: the next one is owed `interval_days` after it (a late visit restarts the clock from its own
    day; an earlier visit recorded after a later one changes nothing). Call inside the visit's transaction."""
    if key_person.last_visit_at is not None and key_person.last_visit_at >= visited_at:
        return
    key_person.last_visit_at = visited_at
    key_person.next_visit_due = timezone.localdate(visited_at) + datetime.timedelta(days=interval_days(key_person))
    key_person.save(update_fields=["last_visit_at", "next_visit_due", "updated_at"])
