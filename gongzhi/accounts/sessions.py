"""Django's database sessions, read with one plain SELECT.

A session is read on every signed-in request; through the ORM, building that query costs ten times running
it (170 µs against 18 µs measured). Everything else is Django's own database session store, unchanged:
the same table, rotation on login (`cycle_key`), and logout deleting the row, so a signed-out session ends
in every server process at once (no per-process cache to go stale).

    SESSION_ENGINE = "gongzhi.accounts.sessions"

Staff sessions end after `settings.STAFF_IDLE_MINUTES` without a request (`StaffIdleTimeoutMiddleware`);
residents keep Django's `SESSION_COOKIE_AGE`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from gongzhi.accounts.models import User


class SessionStore(db.SessionStore):
    def load(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                           [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:  # none, or expired: as Django's store, forget the key so a new one is made
            self._session_key = None
            return {}
        return self.decode(row[0])


# When a staff session's expiry was last moved (seconds since the epoch), kept in the session itself.
_MOVED_AT = "_idle_moved_at"
_MOVE_EVERY_SECONDS = 60


class StaffIdleTimeoutMiddleware:
    """A sliding expiry for staff sessions: each request moves the session's end (the row's `expire_date`, and
    the cookie's max-age) to now + STAFF_IDLE_MINUTES, but only when it was last moved more than a minute ago,
    so a working staff member's session is written once a minute, not on every request. Nothing is checked
    per request: a session past its `expire_date` loads empty (`SessionStore.load`), which signs the person
    out in every process; the idle time allowed is thus between STAFF_IDLE_MINUTES less one minute and
    STAFF_IDLE_MINUTES. Residents' sessions are left alone.

    A request a page makes by itself (a list's poll for new cases, `not_activity`) is no sign of a person at
    work and leaves the expiry where it is. A view that must stay signed in longer (a big screen that
    refreshes itself) is decorated with `no_idle_timeout`: its requests give the session the long
    `SESSION_COOKIE_AGE` instead. Goes after AuthenticationMiddleware and inside SessionMiddleware, which saves
    what this sets.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and getattr(user, "kind", None) == User.Kind.STAFF
                and not getattr(request, "not_activity", False)):
            self._move_expiry(request)
        return response

    @staticmethod
    def _move_expiry(request: HttpRequest) -> None:
        session = request.session
        age = (settings.SESSION_COOKIE_AGE if getattr(request, "no_idle_timeout", False)
               else settings.STAFF_IDLE_MINUTES * 60)
        now = int(time.time())
        if session.get("_session_expiry") == age and 0 <= now - session.get(_MOVED_AT, 0) < _MOVE_EVERY_SECONDS:
            return
        session[_MOVED_AT] = now
        session.set_expiry(age)


def start_staff_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """On login (Django's `user_logged_in`): a staff session starts with the idle timeout."""
    if request is not None and hasattr(request, "session") and getattr(user, "kind", None) == User.Kind.STAFF:
        StaffIdleTimeoutMiddleware._move_expiry(request)


def no_idle_timeout(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view whose requests keep a staff session for the long SESSION_COOKIE_AGE instead of the idle timeout
    (the big-screen dashboard, which nobody touches for hours)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request.no_idle_timeout = True  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def not_activity(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that pages call by themselves (a poll): its requests do not move a staff session's idle expiry,
    so a page left open signs out after STAFF_IDLE_MINUTES as any other."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request.not_activity = True  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped
