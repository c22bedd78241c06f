"""The preset category tree (data/categories.json): loaded once by a data migration, and the source of
the default time limits used when neither a category nor its ancestors set one."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PRESETS_PATH = Path(__file__).parent / "data" / "categories.json"


@functools.cache
def presets() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PRESETS_PATH.read_text(encoding="utf-8"))
    return data


def default_limits(level: str) -> tuple[int, int]:
    """(respond_hours, handle_working_days) at `level` when nothing more specific is set."""
    defaults = presets()["defaults"]
    return int(defaults["respond_hours"]), int(defaults["handle_working_days"][level])


def walk(nodes: list[dict[str, Any]] | None = None, parent: dict[str, Any] | None = None,
         ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None, str]]:
    """Every preset node with its parent node and its (inherited) kind, parents before children."""
    for node in presets()["categories"] if nodes is None else nodes:
        kind = node.get("kind") or (parent or {}).get("_kind", "")
        node = {**node, "_kind": kind}
        yield node, parent, kind
        yield from walk(node.get("children", []), node)
