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


def load(category_model: Any, time_limit_model: Any) -> None:
    """Create the preset tree with the given model classes (historical ones in the migration)."""
    by_code: dict[str, Any] = {}
    for sort, (node, parent, kind) in enumerate(walk()):
        category = category_model.objects.create(
            code=node["code"], name=node["name"], kind=kind, is_public=node["public"],
            handler_type=node["handler"], marriage_family=node.get("marriage_family", False), sort=sort,
            parent=by_code[parent["code"]] if parent else None,
        )
        by_code[node["code"]] = category
        for level, limit in node.get("limits", {}).items():
            time_limit_model.objects.create(category=category, level=level, respond_hours=limit["respond_hours"],
                                            handle_working_days=limit["handle_working_days"])
