"""`Cache-Control: no-store` on every answer that may carry personal data, so that neither a shared proxy nor
the browser of a shared phone or office computer keeps a copy (the back button after logging out included).

The rule is simple on purpose, rather than per page: every API answer, every answer to a request carrying a
session cookie (a signed-in person, or one mid-way through signing up), every answer that sets one, and every
answer to a POST (a form shown again holds what was typed). A view that is public and may be cached says so
itself with Django's `cache_control` (or `never_cache`): an answer that already has a Cache-Control header is
left alone. Static files are answered by WhiteNoise before this middleware, with their own long-lived headers.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        session_cookie = settings.SESSION_COOKIE_NAME
        if (request.path_info.startswith("/api/") or request.method not in ("GET", "HEAD")
                or session_cookie in request.COOKIES or session_cookie in response.cookies):
            response["Cache-Control"] = "no-store"
        return response
