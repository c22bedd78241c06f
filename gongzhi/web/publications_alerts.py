"""An urgent alert's delivery counts for its sender: the fragment the staff item page polls while texts go out
(web/publications/kinds/alert.html, static/js/status-poll.js)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from gongzhi.publications.selectors import alerts as alert_selectors
from gongzhi.publications.selectors import core as publication_selectors


def alert_status(request: HttpRequest, publication_id: int) -> HttpResponse:
    """The counts of an alert the user manages (404 otherwise)."""
    publication = publication_selectors.managed_one(request.user, publication_id, kind="alert")
    return render(request, "web/publications/_alert_delivery.html",
                  {"publication": publication, "delivery": alert_selectors.delivery_of(publication)})


def urlpatterns_for(guard: Callable[..., Any]) -> list[URLPattern]:
    """For a staff portal's urls.py (worker, command): `*publications_alerts.urlpatterns_for(guard)`."""
    return [path("publications/alerts/<int:publication_id>/status/", guard(alert_status),
                 name="publication_alert_status")]
