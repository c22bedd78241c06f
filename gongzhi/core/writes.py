"""Writes refused because the database was busy, remembered where every web process of this host sees them,
so that /healthz can say "degraded" while they happen.

The record is the modification time of one file (`settings.WRITES_REFUSED_FILE`, under VAR_DIR), not a
database row: the database is what is failing. The handlers that answer 503 for a busy database
(`api.main`, `web.errors`) call `note_write_refused`, which touches the file unless it was touched within
the last second; /healthz only stats it. A write probe in /healthz was the other way: it would tell of a held lock
before any request fails, but it adds a write to every poll and, under the load that makes writes fail, it
would itself wait out the busy timeout (five seconds) or steal the lock from real submissions.
"""

import logging
import os
import time

from django.conf import settings

logger = logging.getLogger(__name__)


def note_write_refused() -> None:
    """Remember that a write was refused as busy just now (a stat, and a touch at most once a second)."""
    now = time.time()
    last = last_write_refused()
    if last is not None and abs(now - last) < 1:
        return
    path = settings.WRITES_REFUSED_FILE
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.utime(path, (now, now))
    except OSError as exc:  # a full or read-only disk must not turn a 503 into a 500
        logger.warning("could not record a refused write in %s (%s)", path, type(exc).__name__)


def last_write_refused() -> float | None:
    """When a write was last refused as busy on this host (a time.time() value), or None."""
    try:
        return os.stat(settings.WRITES_REFUSED_FILE).st_mtime
    except OSError:
        return None


def seconds_since_write_refused() -> float | None:
    last = last_write_refused()
    return None if last is None else max(0.0, time.time() - last)
