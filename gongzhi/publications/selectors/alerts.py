"""Reads for urgent alerts: the live ones over a resident's area (the red banner), a sender's counts."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from gongzhi.accounts.models import User
from gongzhi.publications import policies
from gongzhi.publications.models import AlertDelivery, Publication

KIND = "alert"
# At most this many banners on a page (the newest).
BANNER_MAX = 3


def live_alerts(user: User | AnonymousUser, now=None) -> list[Publication]:  # type: ignore[no-untyped-def]
    """Live urgent alerts addressed to the user's area, newest first: verified residents only (no query for
    anyone else), one indexed read (publication_area_idx: kind, status, the few paths of their area)."""
    paths = policies.area_paths(user)
    if not paths:
        return []
    return list(Publication.objects.filter(policies.live_q(now), kind=KIND, audience_path__in=paths)
                .order_by("-published_at", "-id")[:BANNER_MAX])


def delivery_of(publication: Publication) -> AlertDelivery | None:
    """The alert's delivery counts (None before it was published)."""
    return AlertDelivery.objects.filter(publication=publication).first()
