"""Which villages have a 工作站 (a village station post), from a copy every process keeps.

Every submission asks it (a general matter goes to its village's station, where there is one), and posts
change rarely, so the set is cached per process behind a `core.cache_versions` token. Saving or deleting a
post bumps the token (`accounts.apps`); code that writes posts in bulk, bypassing signals, calls `bump()`.
"""

from __future__ import annotations

import threading

from gongzhi.accounts.models import Membership, Role
from gongzhi.core import cache_versions

STATIONS = "accounts.stations"  # its cache_versions name

_cache: tuple[str, frozenset[int]] | None = None
_lock = threading.Lock()


def village_ids() -> frozenset[int]:
    """The ids of the units holding at least one active village station post."""
    global _cache
    token = cache_versions.current(STATIONS)
    cached = _cache
    if cached is not None and cached[0] == token:
        return cached[1]
    with _lock:
        ids = frozenset(Membership.objects.staff().filter(role=Role.VILLAGE_STATION)
                        .values_list("unit_id", flat=True))
        _cache = (token, ids)
        return ids


def bump() -> None:
    cache_versions.bump(STATIONS)
