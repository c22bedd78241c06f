"""Shared by the signed-in schemathesis runs."""

from django.conf import settings
from django.test import Client
from schemathesis.core.parameters import ParameterLocation

# A well-formed CSRF secret; the cookie and the X-CSRFToken header must agree.
CSRF = "abcdefghijklmnopqrstuvwxyzABCDEF"
# Answers uncompressed: the WSGI transport hands schemathesis the body as sent, and the app gzips on request.
IDENTITY = {"Accept-Encoding": "identity"}


def session_cookies(user) -> dict[str, str]:
    """A signed-in session for `user`, plus the CSRF cookie."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value, "csrftoken": CSRF}


def breaks_the_cookie(case) -> bool:
    """Cases where schemathesis mangled the session cookie itself: those test the login, not the endpoint."""
    meta = case.meta
    if meta is None:
        return False
    cookie = meta.components.get(ParameterLocation.COOKIE)
    if cookie is not None and cookie.mode.is_negative:
        return True
    data = meta.phase.data
    locations = {getattr(data, "parameter_location", None)}
    locations.update(getattr(m, "parameter_location", None) for m in (getattr(data, "mutations", None) or ()))
    return ParameterLocation.COOKIE in locations
