"""三务公开 and 村民说事 plugged into the publishing core: their checks when an item goes live, and the extra
context of their item pages (`web/publications/kinds/<slug>.html`, `resident/publications/kinds/<slug>.html`).

Writes are in `services/affairs.py`, reads in `selectors/affairs.py`."""

from __future__ import annotations

import uuid

from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import DisclosureCategory, FinanceLine, PeriodType, Publication, Rating
from gongzhi.publications.selectors import affairs as selectors
from gongzhi.publications.services import affairs as services


@kinds.on("published", "disclosure")
def _disclosure_published(actor: User, publication: Publication) -> None:
    services.check_disclosure_publishable(publication)


@kinds.on("published", "meeting")
def _meeting_published(actor: User, publication: Publication) -> None:
    services.start_meeting(publication)


@kinds.page_context("reader", "disclosure")
def _disclosure_reader(user: User, publication: Publication) -> dict:
    return {"view": selectors.disclosure_view(publication)}


@kinds.page_context("staff", "disclosure")
def _disclosure_staff(user: User, publication: Publication) -> dict:
    today = timezone.localdate()
    return {
        "view": selectors.disclosure_view(publication),
        "may_edit": policies.can_edit(user, publication),
        "may_manage": policies.can_manage(user, publication) and publication.status != "withdrawn",
        "categories": DisclosureCategory.choices,
        "period_types": PeriodType.choices,
        "directions": FinanceLine.Direction.choices,
        "this_year": today.year,
        "months": range(1, 13),
        "today": today,
        "client_key": uuid.uuid4().hex,
    }


@kinds.page_context("reader", "meeting")
def _meeting_reader(user: User, publication: Publication) -> dict:
    return {"view": selectors.meeting_view(user, publication, staff=False), "ratings": Rating.choices}


@kinds.page_context("staff", "meeting")
def _meeting_staff(user: User, publication: Publication) -> dict:
    view = selectors.meeting_view(user, publication, staff=True)
    manage = policies.can_manage(user, publication) and publication.status != "withdrawn"
    return {
        "view": view,
        "may_edit": policies.can_edit(user, publication),
        "may_manage": manage,
        "may_publish_stage": manage and publication.status == "published",
        "today": timezone.localdate(),
    }
