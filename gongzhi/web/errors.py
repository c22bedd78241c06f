"""Error pages in the portal's own chrome, and the middleware that maps domain errors onto them.

Views let `NotFound` and `Forbidden` from services and selectors propagate; `DomainErrorMiddleware` answers
them with the 404 or 403 page of the portal the request is in, and a write that waited too long for the
database with the 503 page (Retry-After; nothing was changed; /healthz is told through `core.writes`).
Django's own `Http404` and `PermissionDenied` reach the same pages through `handler404`/`handler403` in the
URL conf, a refused CSRF check through `CSRF_FAILURE_VIEW`, a bad request (`SuspiciousOperation`, a host
not allowed) through `handler400` and an unhandled exception through `handler500`.

The 400 and 500 pages are static: they come from the templates alone, never from the database, the session
or the user (any of which may be what failed), in the portal's look (`web/_static_frame.html`). The JSON API
maps its own errors (gongzhi.api.main) before any middleware sees them; what reaches these handlers from
under /api/ (an unknown address, an exception the API does not map) is answered in the API's shape,
`{"detail", "code", "field"}`, never with a page.
"""

import logging
from types import FrameType
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.debug import SafeExceptionReporterFilter

from gongzhi.core.errors import DatabaseBusy, DomainError, Forbidden, NotFound, is_database_busy
from gongzhi.core.writes import note_write_refused
from gongzhi.web.portals import API_PREFIX, RESIDENT, portal_of

logger = logging.getLogger(__name__)

# The last resort when even the static template cannot be rendered (a template or static-files problem).
_BARE_PAGE = ('<!doctype html><html lang="zh-Hans"><meta charset="utf-8">'
              '<meta name="viewport" content="width=device-width, initial-scale=1"><title>出错了 · 共治</title>'
              '<main><h1>出错了</h1><p>页面暂时无法显示，请稍后再试。</p><p><a href="/">返回首页</a></p></main></html>')


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _api_error(error: DomainError) -> JsonResponse:
    """The API's error shape (api.schemas.ErrorOut), as its own handlers answer."""
    return JsonResponse({"detail": str(error.message), "code": error.code, "field": error.field},
                        status=error.status, content_type="application/json; charset=utf-8")


def _home(request: HttpRequest) -> str:
    portal = portal_of(request)
    try:
        return reverse(f"{portal.name}:home")
    except NoReverseMatch:
        return portal.prefix


def _frame(request: HttpRequest) -> dict[str, str]:
    """The portal's chrome; a signed-out visitor to a staff portal gets the portal's bar without its staff
    menus (the static frame)."""
    portal = portal_of(request)
    base = portal.base
    if portal is not RESIDENT and not request.user.is_authenticated:
        base = "web/_static_frame.html"
    return {"base": base, "home": _home(request)}


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(exception if isinstance(exception, NotFound) else NotFound())
    return render(request, "web/404.html", _frame(request), status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(exception if isinstance(exception, Forbidden) else Forbidden())
    message = exception.message if isinstance(exception, Forbidden) else (str(exception) if exception else "")
    return render(request, "web/403.html", {**_frame(request), "message": message}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: most often a page left open across a sign-out or sent again
    from the browser's history. The portal's 403 page says what to do (Django's reason is for developers)."""
    return permission_denied(request, Forbidden(_("页面已过期，您的操作没有保存。请返回上一页，刷新后重新提交。"),
                                                code="csrf_failed"))


def _static_page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    """A page from the templates alone: no request context (so no context processor asks the session, the
    user or the database anything), the portal found from the URL only."""
    body: str
    try:
        body = loader.render_to_string(template, {"portal": portal_of(request).name, "home": _home(request)})
    except Exception:
        logger.exception("the %s page could not be rendered", status)
        body = _BARE_PAGE
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(_BadRequest())
    return _static_page(request, "web/400.html", 400)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(_ServerError())
    return _static_page(request, "web/500.html", 500)


def database_busy(request: HttpRequest) -> HttpResponse:
    note_write_refused()  # /healthz reports degraded for a while
    response = render(request, "web/503.html", _frame(request), status=503)
    response["Retry-After"] = str(DatabaseBusy.retry_after)
    return response


class _BadRequest(DomainError):
    status = 400
    code = "bad_request"


class _ServerError(DomainError):
    status = 500
    code = "server_error"

    def __init__(self) -> None:
        super().__init__(_("服务器出错，请稍后重试。"))


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
