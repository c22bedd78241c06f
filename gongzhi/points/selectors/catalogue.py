"""Reads for the points administration pages: which townships and villages a user may open there, the rule
catalogue of a unit (a township's, with its villages' own items; a village's own beside its township's), an
item's versions, the star scale, the shops with their managers and items.

A unit is *open* to the user when it lies under one of their view paths (`policies.view_paths`: village
administrators and stations, dispatchers, supervisors, system administrators). A township's catalogue is
also open to those who see one of its villages (a village administrator sees the catalogue their village
uses). Anything else answers NotFound, so ids cannot be probed; whether the user may change what they see is
`policies.can_manage_*`, given with every view.

A page asks these many times, so the user's view paths (`policies.view_paths`) and their open units are read
once per request and kept on the user object, as `accounts.policies.scope_paths` keeps the scope; lists decide
"may manage" for all their villages from one `policies.manageable_units_q` query, never one check per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Membership, Role, User
from gongzhi.core.errors import NotFound
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.points import policies
from gongzhi.points.models import RuleCategory, RuleItem, Shop, ShopItem, StarScale
from gongzhi.points.presets import PRESET_STAR_THRESHOLDS

POINTS_LEVELS = (Level.TOWNSHIP, Level.VILLAGE)


# Units -------------------------------------------------------------------------------------------------------

def _view_paths(user: User) -> tuple[str, ...]:
    """`policies.view_paths`, read once per request (kept on the user object)."""
    cached: tuple[str, ...] | None = getattr(user, "_points_view_paths", None)
    if cached is None:
        cached = policies.view_paths(user)
        user._points_view_paths = cached  # type: ignore[attr-defined]
    return cached


def _viewable_q(user: User, path_field: str = "path") -> Q:
    """`policies.viewable_q` from the kept paths."""
    return account_policies.paths_q(_view_paths(user), path_field)


def _sees(user: User, path: str) -> bool:
    """`policies.can_view_village` (any unit) from the kept paths."""
    return any(path.startswith(p) for p in _view_paths(user))


def _manageable_ids(user: User, units: list[OrgUnit]) -> set[int]:
    """Which of `units` the user may manage as a village (`policies.can_manage_village`), in one query."""
    if not units:
        return set()
    return set(OrgUnit.objects.filter(policies.manageable_units_q(user), pk__in=[u.pk for u in units])
               .values_list("pk", flat=True))


def _related(paths: tuple[str, ...], path: str) -> bool:
    """The unit at `path` lies under one of `paths`, or one of them lies under it."""
    return any(path.startswith(p) or p.startswith(path) for p in paths)


def points_units(user: User) -> list[OrgUnit]:
    """The townships and villages the user may open the points pages of, in tree order: those under their view
    paths, and the township of each village they see (its catalogue and scale, to read)."""
    cached: list[OrgUnit] | None = getattr(user, "_points_units", None)
    if cached is not None:
        return cached
    paths = _view_paths(user)
    units: list[OrgUnit] = []
    if paths:
        above_paths = {a for p in paths for a in _ancestor_paths(p)}
        units = list(OrgUnit.objects.filter(
            (_viewable_q(user) & Q(level__in=POINTS_LEVELS)) | Q(path__in=above_paths, level=Level.TOWNSHIP),
            kind=UnitKind.AREA, is_active=True).order_by("path"))
    user._points_units = units  # type: ignore[attr-defined]
    return units


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[:n]) + "/" for n in range(1, len(parts))] + ([path] if path else [])


def may_use_points_admin(user: User) -> bool:
    """Whether the portals show the user the points administration (细则, 商铺, 统计)."""
    return policies.may_use_points_office(user)


def points_unit(user: User, unit_id: int | None) -> OrgUnit:
    """The unit a points page is about: `unit_id` when open to the user, else (no id) the first one open to
    them; NotFound when it is not open to them or they have none."""
    units = points_units(user)
    if unit_id is None:
        if not units:
            raise NotFound()
        return _default(user, units)
    found = next((unit for unit in units if unit.pk == unit_id), None)
    if found is None:
        raise NotFound()
    return found


def _default(user: User, units: list[OrgUnit]) -> OrgUnit:
    """The unit of the user's own post when it is one of `units` (a village administrator's village, a
    township dispatcher's township), else the first township, else the first unit."""
    posts = set(Membership.objects.active().filter(user=user).values_list("unit_id", flat=True))
    return (next((u for u in units if u.pk in posts), None)
            or next((u for u in units if u.level == Level.TOWNSHIP), None) or units[0])


def township_of(unit: OrgUnit) -> OrgUnit:
    if unit.level == Level.TOWNSHIP:
        return unit
    found = OrgUnit.objects.filter(path__in=unit.ancestor_paths(), level=Level.TOWNSHIP).first()
    if found is None:
        raise NotFound()
    return found


def statistics_units(user: User) -> list[OrgUnit]:
    """The units whose figures the user may see (of `points_units`: those they see whole)."""
    return [unit for unit in points_units(user) if _sees(user, unit.path)]


def statistics_open(user: User, unit: OrgUnit) -> bool:
    """Figures of a unit are for those who see it all (a village administrator does not see the township's)."""
    return _sees(user, unit.path)


# The catalogue ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemRow:
    item: RuleItem
    version: int  # 第N版: the item's place among its versions


@dataclass(frozen=True)
class CategoryBlock:
    category: RuleCategory
    items: list[ItemRow]
    may_manage: bool
    # The village of a village's own category (None for the township's).
    village: OrgUnit | None = None


@dataclass(frozen=True)
class Catalogue:
    unit: OrgUnit
    township: OrgUnit
    # The township's categories, then (one block each) the villages' own ones open to the user.
    township_blocks: list[CategoryBlock]
    village_blocks: list[CategoryBlock]
    may_manage_township: bool
    # Villages the user may add their own categories for (one for a village administrator).
    manageable_villages: list[OrgUnit] = field(default_factory=list)

    @property
    def has_township_catalogue(self) -> bool:
        return bool(self.township_blocks)

    @property
    def may_install_preset(self) -> bool:
        return self.may_manage_township and not self.township_blocks


def _versions(lineages: set[int]) -> dict[int, int]:
    """How many versions each lineage has (the live one is the last)."""
    rows = RuleItem.objects.filter(lineage__in=lineages).values("lineage").annotate(n=Count("id"))
    return {row["lineage"]: row["n"] for row in rows}


def catalogue(user: User, unit: OrgUnit) -> Catalogue:
    """The live catalogue seen from `unit` (open to the user): the township's categories and items, and the
    villages' own (all open ones for a township, the village's for a village). Retired items are left out;
    categories switched off are shown, empty."""
    township = township_of(unit)
    categories = RuleCategory.objects.filter(township=township).select_related("village").prefetch_related(
        Prefetch("items", queryset=RuleItem.objects.filter(retired_at__isnull=True).order_by("order", "id")))
    if unit.level == Level.VILLAGE:
        categories = categories.filter(Q(village__isnull=True) | Q(village=unit))
    else:
        categories = categories.filter(Q(village__isnull=True) | _viewable_q(user, "village__path"))
    categories = categories.order_by("village__path", "order", "id")
    listed = list(categories)
    versions = _versions({item.lineage for c in listed for item in c.items.all() if item.lineage})
    may_township = policies.can_manage_township(user, township)
    villages = [unit] if unit.level == Level.VILLAGE else list(
        OrgUnit.objects.filter(path__startswith=unit.path, level=Level.VILLAGE, kind=UnitKind.AREA, is_active=True)
        .filter(_viewable_q(user)).order_by("path"))
    manageable = _manageable_ids(user, villages + [c.village for c in listed if c.village is not None])
    township_blocks, village_blocks = [], []
    for category in listed:
        rows = [ItemRow(item, versions.get(item.lineage or 0, 1)) for item in category.items.all()]
        if category.village is None:
            township_blocks.append(CategoryBlock(category, rows, may_township))
        else:
            village_blocks.append(CategoryBlock(category, rows, category.village_id in manageable, category.village))
    return Catalogue(unit=unit, township=township, township_blocks=township_blocks, village_blocks=village_blocks,
                     may_manage_township=may_township,
                     manageable_villages=[v for v in villages if v.pk in manageable])


def _category_open(user: User, category: RuleCategory) -> bool:
    if category.village is not None:
        return _sees(user, category.village.path)
    return _related(_view_paths(user), category.township.path)


def may_manage_category(user: User, category: RuleCategory) -> bool:
    if category.village is not None:
        return policies.can_manage_village(user, category.village)
    return policies.can_manage_township(user, category.township)


def category_for(user: User, category_id: int) -> RuleCategory:
    category = RuleCategory.objects.select_related("township", "village").filter(pk=category_id).first()
    if category is None or not _category_open(user, category):
        raise NotFound()
    return category


def item_for(user: User, item_id: int) -> RuleItem:
    """An item (any version) of a catalogue open to the user."""
    item = RuleItem.objects.select_related("category__township", "category__village").filter(pk=item_id).first()
    if item is None or not _category_open(user, item.category):
        raise NotFound()
    return item


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Version:
    item: RuleItem
    number: int
    awards: int
    changes: list[Change] = field(default_factory=list)  # what differs from the version before


VERSIONED_FIELDS = ("name", "points", "evidence", "photo_required", "claimable", "cap_count", "cap_period",
                    "awarder", "trigger")


def _shown(item: RuleItem, name: str) -> str:
    value = getattr(item, name)
    if name in {"cap_period", "awarder", "trigger"}:
        return str(getattr(item, f"get_{name}_display")()) or "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if value is None:
        return str(_("不限"))
    return str(value) if value != "" else "—"


def _changes(before: RuleItem | None, after: RuleItem) -> list[Change]:
    if before is None:
        return []
    return [Change(_label(name), _shown(before, name), _shown(after, name))
            for name in VERSIONED_FIELDS if getattr(before, name) != getattr(after, name)]


def _label(name: str) -> str:
    model_field = RuleItem._meta.get_field(name)
    return str(getattr(model_field, "verbose_name", name))


@dataclass(frozen=True)
class ItemHistory:
    item: RuleItem  # the one asked for
    current: RuleItem | None  # the live version (None once retired without a successor)
    versions: list[Version]  # oldest first
    may_manage: bool

    @property
    def number(self) -> int:
        return next(v.number for v in self.versions if v.item.pk == self.item.pk)


def item_history(user: User, item_id: int) -> ItemHistory:
    """An item with all its versions (when each began and ended, the awards given under each)."""
    item = item_for(user, item_id)
    rows = list(RuleItem.objects.filter(lineage=item.lineage).select_related("created_by")
                .annotate(award_count=Count("awards")).order_by("id"))
    versions = [Version(row, n, row.award_count, _changes(rows[n - 2] if n > 1 else None, row))
                for n, row in enumerate(rows, start=1)]
    current = next((row for row in rows if row.retired_at is None), None)
    return ItemHistory(item=item, current=current, versions=versions,
                       may_manage=may_manage_category(user, item.category))


# The star scale ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    township: OrgUnit
    basis: str
    thresholds: list[int]
    is_preset: bool  # the township has set none: the preset applies
    may_manage: bool


def star_scale(user: User, unit: OrgUnit) -> Scale:
    """The scale of the unit's township (open to the user)."""
    township = township_of(unit)
    scale = StarScale.objects.filter(township=township).first()
    return Scale(township=township, basis=scale.basis if scale else StarScale.Basis.YEAR,
                 thresholds=list(scale.thresholds) if scale else list(PRESET_STAR_THRESHOLDS),
                 is_preset=scale is None, may_manage=policies.can_manage_township(user, township))


# Shops ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShopRow:
    shop: Shop
    items: int
    may_manage: bool


def shops(user: User, unit: OrgUnit) -> list[ShopRow]:
    """The shops seen from `unit`: a township's own (alliance merchants, online shops) and its villages' open
    to the user; for a village its own 爱心超市 and its township's merchants."""
    township = township_of(unit)
    found = Shop.objects.filter(township=township)
    if unit.level == Level.VILLAGE:
        found = found.filter(Q(village__isnull=True) | Q(village=unit))
    else:
        found = found.filter(Q(village__isnull=True) | _viewable_q(user, "village__path"))
    listed = list(found.select_related("township", "village").annotate(item_count=Count("items")).order_by(
        "village__path", "kind", "name", "id"))
    may_township = policies.can_manage_township(user, township)
    manageable = _manageable_ids(user, [shop.village for shop in listed if shop.village is not None])
    return [ShopRow(shop, shop.item_count,  # policies.can_manage_shop, decided for the whole list at once
                    shop.village_id in manageable if shop.village_id is not None else may_township)
            for shop in listed]


def shop_for(user: User, shop_id: int) -> Shop:
    """A shop of a unit open to the user (a village's only to those who see the village)."""
    shop = Shop.objects.select_related("township", "village").filter(pk=shop_id).first()
    if shop is None:
        raise NotFound()
    open_ = (_sees(user, shop.village.path) if shop.village is not None
             else _related(_view_paths(user), shop.township.path))
    if not open_:
        raise NotFound()
    return shop


@dataclass(frozen=True)
class ShopPage:
    shop: Shop
    managers: list[User]
    items: list[ShopItem]
    may_manage: bool


def shop_page(user: User, shop_id: int) -> ShopPage:
    shop = shop_for(user, shop_id)
    return ShopPage(shop=shop, managers=list(shop.managers.order_by("real_name", "username")),
                    items=list(shop.items.order_by("-is_active", "price", "id")),
                    may_manage=policies.can_manage_shop(user, shop))


def shop_item_for(user: User, item_id: int) -> ShopItem:
    item = ShopItem.objects.select_related("shop").filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    shop_for(user, item.shop_id)
    return item


def manager_choices(user: User, shop: Shop) -> QuerySet[User]:
    """The accounts that may be the shop's managers (商铺管理员): merchant accounts of its township, and the
    village administrators and stations of the shop's village (or of the township's villages, for a
    township's shop); active ones only. Shown only to those who may manage the shop."""
    if not policies.can_manage_shop(user, shop):
        return User.objects.none()
    where = (shop.village or shop.township).path
    posts = Membership.objects.active().filter(
        Q(role=Role.MERCHANT, unit__path__startswith=shop.township.path)
        | Q(role__in=[Role.VILLAGE_ADMIN, Role.VILLAGE_STATION], unit__path__startswith=where))
    return User.objects.filter(pk__in=posts.values("user_id"), is_active=True).order_by("real_name", "username")


def shop_units(user: User, unit: OrgUnit) -> list[OrgUnit]:
    """Where the user may open a shop from `unit`'s page: the township (for its managers) and its villages they
    manage (a village administrator: their own village)."""
    township = township_of(unit)
    found = [township] if policies.can_manage_township(user, township) else []
    villages = [unit] if unit.level == Level.VILLAGE else list(
        OrgUnit.objects.filter(path__startswith=township.path, level=Level.VILLAGE, kind=UnitKind.AREA,
                               is_active=True).filter(_viewable_q(user)).order_by("path"))
    manageable = _manageable_ids(user, villages)
    return found + [v for v in villages if v.pk in manageable]
