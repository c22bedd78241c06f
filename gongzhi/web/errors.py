"""Error pages in the portal's own chrome, and the middleware that maps domain errors onto them.

Views let `NotFound` and `Forbidden` from services and selectors propagate; `DomainErrorMiddleware` answers
them with the 404 or 403 page of the portal the request is in, and a write that waited too long for the
database with the 503 page (Retry-After; nothing was changed; /healthz is told through `core.writes`).
Django's own `Http404` and `PermissionDenied` reach the same pages through `handler404`/`handler403` in the
URL conf. The JSON API maps the same errors itself (gongzhi.api.main), before any middleware sees them.
"""

from types import FrameType
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.debug import SafeExceptionReporterFilter

from gongzhi.core.errors import DatabaseBusy, Forbidden, NotFound, is_database_busy
from gongzhi.core.writes import note_write_refused
from gongzhi.web.portals import RESIDENT, portal_of


def _base(request: HttpRequest) -> str:
    """The portal's chrome; a signed-out visitor to a staff portal gets the plain frame (no staff menus)."""
    portal = portal_of(request)
    if portal is not RESIDENT and not request.user.is_authenticated:
        return "mobile_base.html"
    return portal.base


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/404.html", {"base": _base(request)}, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = exception.message if isinstance(exception, Forbidden) else (str(exception) if exception else "")
    return render(request, "web/403.html", {"base": _base(request), "message": message}, status=403)


def database_busy(request: HttpRequest) -> HttpResponse:
    note_write_refused()  # /healthz reports degraded for a while
    response = render(request, "web/503.html", {"base": _base(request)}, status=503)
    response["Retry-After"] = str(DatabaseBusy.retry_after)
    return response


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return page_not_found(request, exception)
        if isinstance(exception, Forbidden):
            return permission_denied(request, exception)
        if is_database_busy(exception):
            return database_busy(request)
        return None


class PrivateReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (the mail to ADMINS, a 500 report) without any submitted value or local variable
    outside DEBUG, not only those a view marked sensitive: forms and services hold login codes, passwords, ID
    and phone numbers and what residents wrote, and a report must not carry them off (docs/architecture.md,
    "Nothing personal goes into logs"). The traceback's lines, names and exception stay."""

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        cleansed = QueryDict(mutable=True)
        for name in request.POST:
            cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: FrameType) -> Any:
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
