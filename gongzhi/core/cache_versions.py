"""Tokens that tell every process when its cached reference data is stale (see `CacheVersion`).

    cached = ...                        # (token, data) kept by the process
    if cached.token != current(NAME):   # one primary-key read per use
        rebuild from the database

A writer calls `bump(NAME)` in the same transaction as its change, after writing the rows, so a process
that sees the new token also sees the new rows.
"""

import uuid

from django.db import connection
from django.utils import timezone

from gongzhi.core.models import CacheVersion


def current(name: str) -> str:
    """The token for `name`. A missing row (a fresh or flushed database, data loaded by a migration) is
    created here, so no cache is ever kept under a token that the next change could leave as it was.

    Plain SQL: it is read on every case submission, and the ORM's query building costs fifteen times the
    read itself."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {connection.ops.quote_name(CacheVersion._meta.db_table)} "
                       "WHERE name = %s", [name])
        row = cursor.fetchone()
    if row is None:
        bump(name)
        return current(name)
    return str(row[0])


def bump(name: str) -> None:
    """Mark every process's cache of `name` stale."""
    token = uuid.uuid4().hex
    if not CacheVersion.objects.filter(name=name).update(token=token, changed_at=timezone.now()):
        CacheVersion.objects.get_or_create(name=name, defaults={"token": token})  # safe against a racing twin
