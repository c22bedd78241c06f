"""Reads of the category tree and its time limits, from a copy every process keeps.

The tree is small (a few hundred nodes) and read on every submission and every limit computed, while it
changes only when an administrator edits it; so each process holds it whole and checks one token per use
(`core.cache_versions`). Saving or deleting a category or a time limit changes the token (see
`cases.apps`), and the next read anywhere rebuilds the copy.

The cached `Category` objects are shared between threads: read them, never change them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from gongzhi.cases import presets
from gongzhi.cases.models import Category, TimeLimit
from gongzhi.core import cache_versions

CATEGORY_TREE = "cases.categories"  # its cache_versions name


@dataclass(frozen=True)
class Limits:
    respond_hours: int
    handle_working_days: int


@dataclass(frozen=True)
class _Tree:
    token: str
    by_id: dict[int, Category]
    by_code: dict[str, Category]
    limits: dict[tuple[int, str], Limits]


_cache: _Tree | None = None
_build_lock = threading.Lock()


def _tree() -> _Tree:
    global _cache
    token = cache_versions.current(CATEGORY_TREE)
    cached = _cache
    if cached is not None and cached.token == token:
        return cached
    with _build_lock:
        cached = _cache
        if cached is None or cached.token != token:
            categories = list(Category.objects.order_by("pk"))
            limits = {(category_id, level): Limits(respond, handle)
                      for category_id, level, respond, handle in TimeLimit.objects.values_list(
                          "category_id", "level", "respond_hours", "handle_working_days")}
            _cache = cached = _Tree(token, {c.pk: c for c in categories}, {c.code: c for c in categories},
                                    limits)
        return cached


def by_code(code: str) -> Category | None:
    """The category with this code, active or not."""
    return _tree().by_code.get(code)


def by_id(category_id: int) -> Category | None:
    """The category with this id, active or not."""
    return _tree().by_id.get(category_id)


def active() -> list[Category]:
    """The active categories, in the admin's order (sort, then id)."""
    return sorted((c for c in _tree().by_id.values() if c.is_active), key=lambda c: (c.sort, c.pk))


def lineage(category: Category) -> list[Category]:
    """The category and its ancestors, nearest first (a corrupt cycle is cut where it closes)."""
    return _lineage(_tree(), category)


def _lineage(tree: _Tree, category: Category) -> list[Category]:
    chain: list[Category] = []
    node = tree.by_id.get(category.pk)
    while node is not None and node not in chain:
        chain.append(node)
        node = tree.by_id.get(node.parent_id) if node.parent_id is not None else None
    return chain


def limits_for(category: Category, level: str) -> Limits:
    """The nearest limit for `level` up the category tree, else the defaults of the preset file."""
    tree = _tree()
    for node in _lineage(tree, category):
        found = tree.limits.get((node.pk, level))
        if found is not None:
            return found
    return Limits(*presets.default_limits(level))


def handler_type_of(category: Category) -> str:
    """The default handling department type: the nearest one named up the tree ("" for none: the village)."""
    return next((node.handler_type for node in lineage(category) if node.handler_type), "")


def after_photo_required(category: Category) -> bool:
    """Whether a case of `category` must show 处置后 photos when it is completed (set on it or an ancestor)."""
    return any(node.after_photo_required for node in lineage(category))


def with_descendants(category_id: int) -> set[int]:
    """The category and every category below it (a list filtered by a parent category shows its children's
    cases too); empty for an unknown id."""
    tree = _tree()
    if category_id not in tree.by_id:
        return set()
    return {c.pk for c in tree.by_id.values() if any(node.pk == category_id for node in _lineage(tree, c))}


def marriage_family_ids() -> set[int]:
    """Categories that are marriage/family ones themselves or through an ancestor."""
    tree = _tree()
    return {c.pk for c in tree.by_id.values() if any(node.marriage_family for node in _lineage(tree, c))}


def bump() -> None:
    """Mark every process's copy stale (called on every category or time-limit write)."""
    cache_versions.bump(CATEGORY_TREE)
