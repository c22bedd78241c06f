"""The geometry of a patrol's track, without the database: the distance between two positions, which points of a
track count (a phone's fixes drift and jump), the length of a track and a thinned copy to draw."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

EARTH_RADIUS_M = 6_371_008.8
# A fix worse than this is where the phone guesses (indoors, under trees): it neither adds to the distance nor
# becomes the point the next one is measured from.
MAX_ACCURACY_M = 50.0
# Faster than a car on a county road: a fix this far from the last good one is a jump, not a walk.
MAX_SPEED_KMH = 150.0


class Fix(NamedTuple):
    at: datetime.datetime
    lat: float
    lng: float
    accuracy_m: float | None


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance in metres between two WGS84 positions."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def good_fixes(fixes: Iterable[Fix]) -> list[Fix]:
    """The fixes (in time order) the track is measured along: each accurate enough, and not further from the
    previous good one than MAX_SPEED_KMH allows in the time between them."""
    kept: list[Fix] = []
    for fix in fixes:
        if fix.accuracy_m is not None and fix.accuracy_m > MAX_ACCURACY_M:
            continue
        if kept:
            last = kept[-1]
            seconds = (fix.at - last.at).total_seconds()
            if seconds <= 0:
                continue
            if haversine_m(last.lat, last.lng, fix.lat, fix.lng) / seconds * 3.6 > MAX_SPEED_KMH:
                continue
        kept.append(fix)
    return kept


def track_length_m(fixes: Iterable[Fix]) -> float:
    """The length of the track through its good fixes (`good_fixes`), in metres."""
    kept = good_fixes(fixes)
    return sum(haversine_m(a.lat, a.lng, b.lat, b.lng) for a, b in zip(kept, kept[1:], strict=False))


def thinned(items: Sequence[Fix], limit: int) -> list[Fix]:
    """At most `limit` (≥ 2) of the items, evenly spread, the first and the last always among them."""
    if len(items) <= limit:
        return list(items)
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]
