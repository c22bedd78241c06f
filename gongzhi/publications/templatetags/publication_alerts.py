"""`{% load publication_alerts %}{% alert_banner %}`: the red banner of live urgent alerts over the signed-in
resident's area, for the resident portal's pages (home, base). Verified residents only; one indexed query,
none for anyone else."""

from __future__ import annotations

from django import template

from gongzhi.publications.selectors.alerts import live_alerts

register = template.Library()


@register.inclusion_tag("resident/publications/_alert_banner.html", takes_context=True)
def alert_banner(context: template.Context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {"alerts": []}
    cached = getattr(request, "_gongzhi_live_alerts", None)
    if cached is None:
        cached = live_alerts(user)
        request._gongzhi_live_alerts = cached
    # Not over the alert's own page.
    reading = getattr(context.get("publication"), "pk", None)
    return {"alerts": [alert for alert in cached if alert.pk != reading]}
