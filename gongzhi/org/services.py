"""Writes to the org tree: importing grids and changing a grid's boundary.

Every write here checks the whole input first and writes nothing when anything is wrong.

Permission: the caller's scope (the unit paths whose subtrees they may manage: for a user,
`accounts.policies.scope_paths(user)`) must contain the grid's village; `scope=None` is the system
operator on the command line, who may manage everything. Posts and scopes are accounts' business and
accounts sits above org, so org takes the scope as paths rather than asking accounts about a user.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.org.geo import Polygonal, overlapping_pairs, overlapping_with, parse_boundary
from gongzhi.org.models import Level, OrgUnit, UnitKind, bump_grid_index_version

# The unit paths whose subtrees the caller may manage; None: everything (the operator on the command line).
Scope = Sequence[str] | None

_CODE = re.compile(r"^[0-9A-Za-z_-]{1,40}$")
# get_field() by name returns a generic Field whose max_length may be None; a CharField always has one.
NAME_MAX_LENGTH: int = OrgUnit._meta.get_field("name").max_length  # type: ignore[assignment]

Progress = Callable[[int, int], None]


class GridImportError(DomainError):
    """The import was refused; `errors` lists every problem found, one line per problem."""

    code = "grid_import_invalid"

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        head = ngettext("发现%(count)d处错误，没有导入任何网格：", "发现%(count)d处错误，没有导入任何网格：",
                        len(errors)) % {"count": len(errors)}
        super().__init__("\n".join([head, *self.errors]))


@dataclass(frozen=True)
class GridImportResult:
    created: int
    updated: int
    dry_run: bool


@dataclass
class _Feature:
    number: int
    code: str | None = None
    name: str | None = None
    parent_code: str | None = None
    boundary: dict[str, Any] | None = None
    shape: Polygonal | None = None
    parent: OrgUnit | None = None
    existing: OrgUnit | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.code:
            return _("第%(number)d个要素（编码 %(code)s）") % {"number": self.number, "code": self.code}
        return _("第%(number)d个要素") % {"number": self.number}


def _may_manage(scope: Scope, path: str) -> bool:
    return scope is None or any(path.startswith(prefix) for prefix in scope)


def _require_some_scope(scope: Scope) -> None:
    if scope is not None and not scope:
        raise Forbidden(_("只有工作人员才能导入或修改网格。"))


def _load(geojson: dict[str, Any] | str | Path) -> list[object]:
    if isinstance(geojson, str | Path):
        try:
            text = Path(geojson).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError(_("文件不是 UTF-8 编码的文本。")) from None
        except OSError:
            raise DomainError(_("无法读取文件 %(path)s。") % {"path": geojson}) from None
        try:
            geojson = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DomainError(_("文件不是有效的 JSON（第%(line)d行第%(column)d列）。")
                              % {"line": exc.lineno, "column": exc.colno}) from None
    if not isinstance(geojson, dict) or geojson.get("type") != "FeatureCollection" \
            or not isinstance(geojson.get("features"), list):
        raise DomainError(_("需要一个 GeoJSON FeatureCollection（要素集合）。"))
    features: list[object] = geojson["features"]
    if not features:
        raise DomainError(_("文件中没有任何要素。"))
    return features


def _text(properties: dict[str, Any], key: str) -> str | None:
    value = properties.get(key)
    # GIS tools often write numeric codes as numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _read_feature(number: int, raw: object) -> _Feature:
    feature = _Feature(number=number)
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        feature.errors.append(_("不是 GeoJSON 要素（Feature）。"))
        return feature
    properties = raw.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    feature.code = _text(properties, "code")
    feature.name = _text(properties, "name")
    feature.parent_code = _text(properties, "parent_code")
    if feature.code is None:
        feature.errors.append(_("缺少网格编码（properties.code）。"))
    elif not _CODE.match(feature.code):
        feature.errors.append(_("编码 %(code)s 无效：只能包含字母、数字、“-”和“_”，最长40个字符。")
                              % {"code": feature.code})
        feature.code = None
    if feature.name is None:
        feature.errors.append(_("缺少网格名称（properties.name）。"))
    elif len(feature.name) > NAME_MAX_LENGTH:
        feature.errors.append(_("网格名称不能超过%(max)d个字符。") % {"max": NAME_MAX_LENGTH})
    if feature.parent_code is None:
        feature.errors.append(_("缺少所属村(社区)编码（properties.parent_code）。"))
    try:
        feature.boundary, feature.shape = parse_boundary(raw.get("geometry"))
    except DomainError as exc:
        feature.errors.append(str(exc.message))
    return feature


def _check_parent(feature: _Feature, parent: OrgUnit | None, scope: Scope) -> None:
    if parent is None or not _may_manage(scope, parent.path):
        feature.errors.append(_("所属村(社区)编码 %(code)s 不存在，或不在您的管辖范围内。")
                              % {"code": feature.parent_code})
    elif parent.level != Level.VILLAGE or parent.kind != UnitKind.AREA:
        feature.errors.append(_("「%(name)s」（编码 %(code)s）不是村(社区)，网格只能设在村(社区)之下。")
                              % {"name": parent.name, "code": parent.code})
    elif not parent.is_active:
        feature.errors.append(_("所属村(社区)「%(name)s」已停用。") % {"name": parent.name})
    else:
        feature.parent = parent


def _check_existing(feature: _Feature, existing: OrgUnit | None) -> None:
    if existing is None:
        return
    if existing.level != Level.GRID or existing.kind != UnitKind.AREA:
        feature.errors.append(_("编码 %(code)s 已被一个不是网格的单位使用。") % {"code": feature.code})
    elif feature.parent is not None and existing.parent_id != feature.parent.pk:
        feature.errors.append(_("网格 %(code)s 已属于另一个村(社区)，导入不能改变网格所属的村(社区)。")
                              % {"code": feature.code})
    else:
        feature.existing = existing


def _other_grids(exclude_ids: set[int]) -> tuple[list[OrgUnit], list[Polygonal]]:
    """Active grids with a readable boundary, except those in `exclude_ids` (the ones being replaced)."""
    units, shapes = [], []
    queryset = (OrgUnit.objects.filter(level=Level.GRID, is_active=True, boundary__isnull=False)
                .exclude(pk__in=exclude_ids).only("id", "code", "name", "boundary"))
    for unit in queryset.iterator(chunk_size=2000):
        try:
            shape = shapely.geometry.shape(unit.boundary)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError, shapely.errors.ShapelyError):
            continue
        if isinstance(shape, Polygonal) and shape.is_valid:
            units.append(unit)
            shapes.append(shape)
    return units, shapes


def _overlap_with_grids_message(unit: OrgUnit) -> str:
    return _("与已有网格「%(name)s」（编码 %(code)s）重叠。") % {"name": unit.name, "code": unit.code}


def _apply_boundary(unit: OrgUnit, boundary: dict[str, Any], shape: Polygonal) -> None:
    unit.boundary = boundary
    centroid = shape.centroid
    unit.centroid_lng, unit.centroid_lat = centroid.x, centroid.y


@transaction.atomic
def import_grids(*, scope: Scope, geojson: dict[str, Any] | str | Path, dry_run: bool = False,
                 progress: Progress | None = None) -> GridImportResult:
    """Create or update grids from a GeoJSON FeatureCollection (see docs/grids.md for the format).

    Each feature carries `code`, `name` and `parent_code` (the village) in its properties and a Polygon or
    MultiPolygon geometry. A feature whose code is an existing grid of the same village updates that
    grid's name and boundary. Raises GridImportError listing every problem, and then writes nothing.
    With `dry_run` everything is checked and counted but nothing is written. `progress(done, total)` is
    called while writing.
    """
    _require_some_scope(scope)
    raw_features = _load(geojson)
    # Taken first: the row lock makes concurrent grid writes queue, so two imports cannot each miss the
    # other's overlapping grids.
    bump_grid_index_version()

    features = [_read_feature(number, raw) for number, raw in enumerate(raw_features, start=1)]
    first_use: dict[str, int] = {}
    for feature in features:
        if feature.code is None:
            continue
        if feature.code in first_use:
            feature.errors.append(_("编码 %(code)s 在文件中重复出现（第%(first)d个要素已使用）。")
                                  % {"code": feature.code, "first": first_use[feature.code]})
        else:
            first_use[feature.code] = feature.number

    parents = {u.code: u for u in OrgUnit.objects.filter(code__in={f.parent_code for f in features})}
    existing = {u.code: u for u in OrgUnit.objects.filter(code__in=set(first_use))}
    for feature in features:
        if feature.parent_code is not None:
            _check_parent(feature, parents.get(feature.parent_code), scope)
        if feature.code is not None:
            _check_existing(feature, existing.get(feature.code))

    shaped = [f for f in features if f.shape is not None]
    for i, j in overlapping_pairs([f.shape for f in shaped]):
        shaped[j].errors.append(_("与%(other)s重叠。") % {"other": shaped[i].label})
    replaced = {f.existing.pk for f in features if f.existing is not None}
    others, other_shapes = _other_grids(replaced)
    for i, k in overlapping_with([f.shape for f in shaped], other_shapes):
        shaped[i].errors.append(_overlap_with_grids_message(others[k]))

    errors = [_("%(feature)s：%(error)s") % {"feature": f.label, "error": error}
              for f in features for error in f.errors]
    if errors:
        raise GridImportError(errors)

    created = updated = 0
    for done, feature in enumerate(features, start=1):
        # Every check passed, so each feature has all of these.
        assert feature.code is not None and feature.name is not None and feature.boundary is not None
        unit = feature.existing or OrgUnit(code=feature.code, level=Level.GRID, kind=UnitKind.AREA,
                                           parent=feature.parent)
        unit.name = feature.name
        _apply_boundary(unit, feature.boundary, feature.shape)
        if feature.existing is None:
            created += 1
        else:
            updated += 1
        if not dry_run:
            unit.save()
        if progress is not None:
            progress(done, len(features))
    if dry_run:
        transaction.set_rollback(True)
    return GridImportResult(created=created, updated=updated, dry_run=dry_run)


def _village_path(grid: OrgUnit) -> str:
    ancestors = grid.ancestor_paths()
    return ancestors[-1] if ancestors else grid.path


@transaction.atomic
def set_grid_boundary(*, scope: Scope, grid: OrgUnit, geometry: dict[str, Any]) -> OrgUnit:
    """Replace one grid's boundary after the same checks as an import. Raises DomainError, NotFound
    (grid outside the scope) or Forbidden (in scope, but only from below the village)."""
    if not _may_manage(scope, grid.path):
        raise NotFound()
    if not _may_manage(scope, _village_path(grid)):
        raise Forbidden(_("只有所属村(社区)及以上的工作人员才能修改网格边界。"))
    if grid.level != Level.GRID or grid.kind != UnitKind.AREA:
        raise DomainError(_("只有网格才能设置边界。"), field="boundary")
    boundary, shape = parse_boundary(geometry)
    bump_grid_index_version()  # first, as in import_grids: the row lock queues concurrent grid writes
    others, other_shapes = _other_grids({grid.pk})
    overlaps = [_overlap_with_grids_message(others[k]) for _i, k in overlapping_with([shape], other_shapes)]
    if overlaps:
        raise DomainError(_("边界无效：%(errors)s") % {"errors": " ".join(overlaps)}, field="boundary")
    _apply_boundary(grid, boundary, shape)
    grid.save()
    return grid
