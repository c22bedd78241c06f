"""Tokens that tell every process when its cached reference data is stale (see `CacheVersion`).

    cached = ...                        # (token, data) kept by the process
    if cached.token != current(NAME):   # one read per request, whatever the number of caches
        rebuild from the database

A writer calls `bump(NAME)` in the same transaction as its change, after writing the rows, so a process
that sees the new token also sees the new rows.

Within a request every token is read once, together, and remembered until the request ends (a request
sees the reference data as it was when it first looked; a change is seen by the next request). Outside
requests (tasks, commands) every call reads the table.
"""

import threading
import uuid

from django.core.signals import request_finished, request_started
from django.db import connection
from django.utils import timezone

from gongzhi.core.models import CacheVersion


class _RequestTokens(threading.local):
    in_request = False
    tokens: dict[str, str] | None = None


_request = _RequestTokens()


def _start(**kwargs) -> None:
    _request.in_request, _request.tokens = True, None


def _finish(**kwargs) -> None:
    _request.in_request, _request.tokens = False, None


request_started.connect(_start, dispatch_uid="cache_versions.start")
request_finished.connect(_finish, dispatch_uid="cache_versions.finish")


def _read_all() -> dict[str, str]:
    """Plain SQL: the ORM's query building costs fifteen times the read itself, on every submission."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, token FROM {connection.ops.quote_name(CacheVersion._meta.db_table)}")
        return {name: str(token) for name, token in cursor.fetchall()}


def current(name: str) -> str:
    """The token for `name`. A missing row (a fresh or flushed database, data loaded by a migration) is
    created here, so no cache is ever kept under a token that the next change could leave as it was."""
    tokens = _request.tokens
    if tokens is None:
        tokens = _read_all()
        if _request.in_request:
            _request.tokens = tokens
    if name not in tokens:
        bump(name)
        return current(name)
    return tokens[name]


def bump(name: str) -> None:
    """Mark every process's cache of `name` stale."""
    _request.tokens = None  # this request reads again, after the change (or after its rollback)
    token = uuid.uuid4().hex
    if not CacheVersion.objects.filter(name=name).update(token=token, changed_at=timezone.now()):
        CacheVersion.objects.get_or_create(name=name, defaults={"token": token})  # safe against a racing twin
