from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core import cache_versions
from gongzhi.core.models import TimeStampedModel


class Level(models.TextChoices):
    CITY = "city", _("市")
    COUNTY = "county", _("县(区)")
    TOWNSHIP = "township", _("乡(镇、街道)")
    VILLAGE = "village", _("村(社区)")
    GRID = "grid", _("网格")


LEVEL_ORDER = [Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID]
# Saving or deleting a unit of these levels makes every process rebuild its grid cache, which holds each
# grid's boundary, its village and its township (org.selectors).
_INDEXED_LEVELS = frozenset({Level.GRID, Level.VILLAGE, Level.TOWNSHIP})
GRID_INDEX = "org.grids"  # its cache_versions name


class UnitKind(models.TextChoices):
    AREA = "area", _("行政区域")
    DEPARTMENT = "department", _("部门/站所")


class DepartmentType(models.TextChoices):
    COMMAND_CENTRE = "command_centre", _("综治中心")
    JUSTICE = "justice", _("司法所")
    POLICE = "police", _("派出所")
    COURT = "court", _("法庭")
    CIVIL_AFFAIRS = "civil_affairs", _("民政所")
    URBAN_CONSTRUCTION = "urban_construction", _("城建办")
    LAND = "land", _("国土资源所")
    PETITION = "petition", _("信访办")
    AGRICULTURE = "agriculture", _("农业农村办")
    OTHER = "other", _("其他")


class OrgUnit(TimeStampedModel):
    """A node of the 市-县-乡-村-网格 tree, or a department/station attached to one of its levels.

    `path` is the materialized path of codes ("620102/620102001/"), so a subtree is a prefix match.
    """

    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("上级"))
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("区划代码/编码"), max_length=40, unique=True)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=10, choices=UnitKind.choices, default=UnitKind.AREA)
    department_type = models.CharField(_("部门类别"), max_length=20, choices=DepartmentType.choices,
                                       blank=True, default="")
    path = models.CharField(_("路径"), max_length=400, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("深度"), editable=False, default=0)
    # GeoJSON Polygon/MultiPolygon geometry in WGS84 (lng, lat); grids always have one.
    boundary = models.JSONField(_("边界"), null=True, blank=True)
    centroid_lat = models.FloatField(_("中心纬度"), null=True, blank=True)
    centroid_lng = models.FloatField(_("中心经度"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("组织单元")
        verbose_name_plural = _("组织单元")
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="area", department_type="")
                | (models.Q(kind="department") & ~models.Q(department_type="")),
                name="org_unit_department_type_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path = (self.parent.path if self.parent else "") + self.code + "/"
        self.depth = self.path.count("/") - 1
        super().save(*args, **kwargs)
        # After the row is written, so a process that sees the new stamp also sees the new row.
        if self.level in _INDEXED_LEVELS:
            bump_grid_index_version()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        if self.level in _INDEXED_LEVELS:
            bump_grid_index_version()
        return result

    @property
    def is_department(self) -> bool:
        return self.kind == UnitKind.DEPARTMENT

    def ancestor_paths(self) -> list[str]:
        parts = self.path.rstrip("/").split("/")
        return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts) - 1)]

    def ancestors(self) -> "models.QuerySet[OrgUnit]":
        """Ancestors from the root down, excluding self."""
        return OrgUnit.objects.filter(path__in=self.ancestor_paths()).order_by("depth")

    def inner_point(self) -> tuple[float, float] | None:
        """(lat, lng) of a point inside the unit, to place a report "in my grid": the stored centroid, else a
        point shapely guarantees to lie inside the boundary (a centroid may not, for a concave shape)."""
        if self.centroid_lat is not None and self.centroid_lng is not None:
            return self.centroid_lat, self.centroid_lng
        if not self.boundary:
            return None
        from shapely.geometry import shape

        point = shape(self.boundary).representative_point()
        return point.y, point.x

    def contains(self, other: "OrgUnit") -> bool:
        return other.path.startswith(self.path)


def grid_index_token() -> str:
    """The current token of the grid cache (org.selectors)."""
    return cache_versions.current(GRID_INDEX)


def bump_grid_index_version() -> None:
    """Mark the grid cache stale everywhere. `OrgUnit.save()`/`delete()` call it for grids and townships;
    code that changes them with `QuerySet.update()`, `bulk_create()` or raw SQL must call it itself."""
    cache_versions.bump(GRID_INDEX)
