"""The volunteer_activity kind (M26): its hooks (published only with a place, time and slots; a withdrawn
activity tells those signed up) and its part of the item pages: slots and the sign-up button for residents,
participants, attendance and hours for staff. Teams, sign-ups and hours: `services.volunteers`."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.publications import kinds, policies, volunteer_notices
from gongzhi.publications import volunteer_policies as vp
from gongzhi.publications.models import Publication
from gongzhi.publications.selectors import volunteers as selectors
from gongzhi.publications.services import volunteers as services

volunteer_notices.register()


@kinds.on("published", "volunteer_activity")
def _ready(actor: User, publication: Publication) -> None:
    services.check_ready(publication)


@kinds.on("withdrawn", "volunteer_activity")
def _called_off(actor: User, publication: Publication) -> None:
    transaction.on_commit(lambda: volunteer_notices.activity_cancelled(publication))


@kinds.page_context("reader", "volunteer_activity")
def reader_context(user: User, publication: Publication) -> dict:
    activity = selectors.activity_of(publication)
    if activity is None:
        return {}
    mine = selectors.my_participation(user, activity)
    return {"activity": activity, "left": max(0, activity.slots - activity.taken),  # type: ignore[attr-defined]
            "mine": mine if mine is not None and mine.status == mine.Status.SIGNED_UP else None,
            "started": activity.starts_at <= timezone.now(),
            "refusal": vp.sign_up_refusal(user, publication, activity) if user.is_authenticated else ""}


@kinds.page_context("staff", "volunteer_activity")
def staff_context(user: User, publication: Publication) -> dict:
    activity = selectors.activity_of(publication)
    return {"activity": activity, "participants": selectors.participants(activity) if activity else [],
            "may_edit": policies.can_edit(user, publication)
            or (publication.status == "published" and policies.can_manage(user, publication)),
            "started": activity is not None and activity.starts_at <= timezone.now()}
