"""三务公开 and 村民说事 plugged into the publishing core: their checks when an item goes live, and the extra
context of their item pages (`web/publications/kinds/<slug>.html`, `resident/publications/kinds/<slug>.html`).

Writes are in `services/affairs.py`, reads in `selectors/affairs.py`."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import DisclosureCategory, FinanceLine, PeriodType, Publication, Rating
from gongzhi.publications.selectors import affairs as selectors
from gongzhi.publications.services import affairs as services


class Values(dict):
    """A form's values for the templates: a missing one is empty (the page's templates fail on no variable)."""

    def __missing__(self, key: str) -> str:
        return ""


class NoError:
    """The empty refusal (no field, no message) the forms are first shown with."""

    field = ""
    message = ""


def form_values(data: Any) -> Values:
    """A submitted form's values (a QueryDict: its last value of each)."""
    return Values({key: data.get(key) for key in data})


def _blank() -> dict:
    return {"blank": Values(), "no_error": NoError()}


@kinds.on("published", "disclosure")
def _disclosure_published(actor: User, publication: Publication) -> None:
    services.check_disclosure_publishable(publication)


@kinds.on("published", "meeting")
def _meeting_published(actor: User, publication: Publication) -> None:
    services.start_meeting(publication)


@kinds.page_context("reader", "disclosure")
def _disclosure_reader(user: User, publication: Publication) -> dict:
    return {"view": selectors.disclosure_view(publication), **_blank()}


@kinds.page_context("staff", "disclosure")
def _disclosure_staff(user: User, publication: Publication) -> dict:
    today = timezone.localdate()
    view = selectors.disclosure_view(publication)
    d = view.disclosure
    initial = Values({"category": d.category, "year": d.year, "period_type": d.period_type, "period": d.period}
                     if d else {"year": today.year, "period_type": "month", "period": today.month})
    return {
        **_blank(),
        "view": view,
        "sections": [(_("收入"), view.income), (_("支出"), view.expense)],
        "initial": initial,
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
    return {"view": selectors.meeting_view(user, publication, staff=False), "ratings": Rating.choices, **_blank()}


@kinds.page_context("staff", "meeting")
def _meeting_staff(user: User, publication: Publication) -> dict:
    view = selectors.meeting_view(user, publication, staff=True)
    manage = policies.can_manage(user, publication) and publication.status != "withdrawn"
    m = view.meeting
    initial = Values({"raised_by_name": m.raised_by_name, "matter": m.matter, "case_id": m.case_id or "",
                      "raised_on": f"{m.raised_on:%Y-%m-%d}" if m.raised_on else "",
                      "discussed_on": f"{m.discussed_on:%Y-%m-%d}" if m.discussed_on else "",
                      "participants": m.participants, "discussion": m.discussion, "decision": m.decision}
                     if m else {})
    return {
        **_blank(),
        "initial": initial,
        "client_key": uuid.uuid4().hex,
        "view": view,
        "may_edit": policies.can_edit(user, publication),
        "may_manage": manage,
        "may_publish_stage": manage and publication.status == "published",
        "today": timezone.localdate(),
    }
