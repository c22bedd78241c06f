"""Rectangular tilings: every level of the tree splits its parent's rectangle into children.

Break coordinates are rounded once and shared by both neighbours, and the outer breaks are the parent's
own edges, so siblings tile their parent exactly: no gaps, no overlaps, whatever the float rounding.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import NamedTuple

DIGITS = 6  # ~0.1 m; GeoJSON stays short


class Rect(NamedTuple):
    west: float
    south: float
    east: float
    north: float

    @property
    def centre(self) -> tuple[float, float]:
        """(lng, lat) of the middle."""
        return round((self.west + self.east) / 2, DIGITS), round((self.south + self.north) / 2, DIGITS)

    def geojson(self) -> dict:
        w, s, e, n = self
        return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}

    def random_point(self, rng: random.Random, margin: float = 0.05) -> tuple[float, float]:
        """A (lng, lat) strictly inside, kept off the edges so it cannot round onto a neighbour."""
        dx, dy = (self.east - self.west) * margin, (self.north - self.south) * margin
        return (round(rng.uniform(self.west + dx, self.east - dx), DIGITS),
                round(rng.uniform(self.south + dy, self.north - dy), DIGITS))


def _breaks(start: float, end: float, weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    out, acc = [start], 0.0
    for w in weights[:-1]:
        acc += w
        out.append(round(start + (end - start) * acc / total, DIGITS))
    out.append(end)
    return out


def _groups(n: int, k: int) -> list[range]:
    """n items in k consecutive groups whose sizes differ by at most one."""
    base, extra = divmod(n, k)
    out, i = [], 0
    for g in range(k):
        size = base + (1 if g < extra else 0)
        out.append(range(i, i + size))
        i += size
    return out


def tile(rect: Rect, weights: Sequence[float]) -> list[Rect]:
    """Split `rect` into len(weights) rectangles with areas proportional to the weights.

    Columns west→east, each split south→north; the column count keeps cells roughly square on the ground
    (a degree of longitude is cos(lat) of a degree of latitude).
    """
    n = len(weights)
    if n == 0:
        return []
    ground_w = (rect.east - rect.west) * math.cos(math.radians((rect.south + rect.north) / 2))
    ground_h = rect.north - rect.south
    cols = min(n, max(1, round(math.sqrt(n * ground_w / ground_h))))
    groups = _groups(n, cols)
    xs = _breaks(rect.west, rect.east, [sum(weights[i] for i in g) for g in groups])
    out: list[Rect] = []
    for c, group in enumerate(groups):
        ys = _breaks(rect.south, rect.north, [weights[i] for i in group])
        out.extend(Rect(xs[c], ys[r], xs[c + 1], ys[r + 1]) for r in range(len(group)))
    return out
