"""Abuse limits shared by every web process: fixed-window counters and growing delays after failures.

Counters live in one table (`core.Throttle`, a row per key, named by its `bucket`), so all server
processes count together; each count is a single upsert. Keys name what is counted and for whom, e.g.
"sms:client:10.0.0.7" or "login:staff:<keyed hash of the user name>:10.0.0.7"; never put personal data
in a key in the clear.

Two kinds of limit:
- `hit(key, limit=, window=)`: at most `limit` events per fixed window of `window` seconds (sign-ups and
  SMS codes per client address, per number prefix, per hour for the whole site). Once a key is over its
  limit this process remembers it until the window ends, so a client that keeps hammering is refused from
  memory without another write.
- `blocked_for` / `record_failure` / `clear`: failed logins per (account, client address). The first few
  are free; each one after that blocks the key for twice as long as the last, up to a ceiling. The
  failures are forgotten a day after the last one, or at once on success.

Throttle writes commit on their own (they are small atomic blocks): a refusal that follows must not roll
back the count that caused it.
"""

from __future__ import annotations

import math
import threading
import time

from django.db import connection, transaction
from django.utils.translation import gettext as _

from gongzhi.core.errors import RateLimited
from gongzhi.core.models import Throttle

# Failures are forgotten this long after the last one.
FAILURE_MEMORY_SECONDS = 24 * 3600

_TABLE = Throttle._meta.db_table
_over: dict[str, float] = {}  # key → end of the window in which it went over its limit (this process)
_over_lock = threading.Lock()
_OVER_MAX_KEYS = 10_000


def _remember_over(key: str, until: float) -> None:
    with _over_lock:
        if len(_over) >= _OVER_MAX_KEYS:  # a flood of distinct keys: drop what has run out, else start over
            now = time.time()
            for stale in [k for k, t in _over.items() if t <= now]:
                del _over[stale]
            if len(_over) >= _OVER_MAX_KEYS:
                _over.clear()
        _over[key] = until


def forget_local_state() -> None:
    """Tests: start from a clean process memory (the table is rolled back by the test's transaction)."""
    with _over_lock:
        _over.clear()


def hit(key: str, *, limit: int, window: int, now: float | None = None) -> float:
    """Count one event for `key`: 0 while within `limit` per `window` seconds, else the seconds until the
    window ends (the event is refused, and still counted)."""
    now = time.time() if now is None else now
    until = _over.get(key)
    if until is not None:
        if until > now:
            return until - now
        with _over_lock:
            _over.pop(key, None)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (bucket, hits, window_ends, blocked_until) VALUES (%s, 1, %s, 0) "
            f"ON CONFLICT (bucket) DO UPDATE SET "
            f"hits = CASE WHEN {_TABLE}.window_ends <= %s THEN 1 ELSE {_TABLE}.hits + 1 END, "
            f"blocked_until = CASE WHEN {_TABLE}.window_ends <= %s THEN 0 ELSE {_TABLE}.blocked_until END, "
            f"window_ends = CASE WHEN {_TABLE}.window_ends <= %s THEN %s ELSE {_TABLE}.window_ends END "
            f"RETURNING hits, window_ends",
            [key, now + window, now, now, now, now + window])
        count, window_ends = cursor.fetchone()
        if count == limit + 1:  # the first refusal in this window: recorded for `over_limit`
            cursor.execute(f"UPDATE {_TABLE} SET blocked_until = %s WHERE bucket = %s", [window_ends, key])
    if count <= limit:
        return 0.0
    _remember_over(key, window_ends)
    return window_ends - now


def over_limit(prefix: str, *, now: float | None = None) -> bool:
    """Whether any key starting with `prefix` went over its limit in its current window (for /healthz)."""
    now = time.time() if now is None else now
    return Throttle.objects.filter(bucket__startswith=prefix, blocked_until__gt=now).exists()


def blocked_for(key: str, *, now: float | None = None) -> float:
    """Seconds until `key` may try again after failures; 0 when it may try now."""
    now = time.time() if now is None else now
    blocked_until = Throttle.objects.filter(bucket=key).values_list("blocked_until", flat=True).first()
    return max(0.0, (blocked_until or 0.0) - now)


def record_failure(key: str, *, free: int, delay: int, max_delay: int, now: float | None = None) -> float:
    """Count a failure for `key`; return the seconds it is now blocked for (0 within the free failures).

    After `free` failures the key is blocked for `delay` seconds, then twice that after the next failure,
    and so on up to `max_delay`."""
    now = time.time() if now is None else now
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (bucket, hits, window_ends, blocked_until) VALUES (%s, 1, %s, 0) "
            f"ON CONFLICT (bucket) DO UPDATE SET "
            f"hits = CASE WHEN {_TABLE}.window_ends <= %s THEN 1 ELSE {_TABLE}.hits + 1 END, "
            f"window_ends = %s RETURNING hits",
            [key, now + FAILURE_MEMORY_SECONDS, now, now + FAILURE_MEMORY_SECONDS])
        (count,) = cursor.fetchone()
        if count < free:
            return 0.0
        # 2**n overflows nothing here: the exponent is capped well before floats would.
        seconds = float(min(max_delay, delay * 2 ** min(count - free, 30)))
        cursor.execute(f"UPDATE {_TABLE} SET blocked_until = %s WHERE bucket = %s", [now + seconds, key])
    return seconds


def clear(key: str) -> None:
    with transaction.atomic():
        Throttle.objects.filter(bucket=key).delete()


def clear_prefix(prefix: str) -> None:
    """Forget every key starting with `prefix` (an administrator lifting an account's delays everywhere)."""
    with transaction.atomic():
        Throttle.objects.filter(bucket__startswith=prefix).delete()


def wait_text(seconds: float) -> str:
    """"45秒", "3分钟": how long to wait, for messages."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return _("%(n)d秒") % {"n": seconds}
    return _("%(n)d分钟") % {"n": math.ceil(seconds / 60)}


def too_many(seconds: float, *, field: str | None = None) -> RateLimited:
    return RateLimited(_("尝试次数过多，请%(wait)s后再试。") % {"wait": wait_text(seconds)}, retry_after=seconds,
                       field=field)


def enforce(key: str, limit: tuple[int, int], *, field: str | None = None) -> None:
    """`hit` with `limit` = (events, seconds), raising RateLimited (429, Retry-After) when over it."""
    wait = hit(key, limit=limit[0], window=limit[1])
    if wait:
        raise too_many(wait, field=field)
