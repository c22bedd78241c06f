"""The PostgreSQL connection as the server opens it (`settings.database_from_url`): a row lock is waited for
at most GONGZHI_LOCK_TIMEOUT_MS, and queries are never JIT-compiled (compiling a case list's query took
longer than running it, bench/lists.py)."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL connection's settings")]


def _show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_no_jit():
    assert _show("jit") == "off"


def test_row_locks_are_waited_for_a_bounded_time():
    assert _show("lock_timeout") == "5s"
