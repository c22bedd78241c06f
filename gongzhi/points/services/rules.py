"""The rule catalogue and the star scale: installing the preset, adding and versioning items."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import DomainError, Forbidden
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit
from gongzhi.points import policies
from gongzhi.points.models import Awarder, CapPeriod, RuleCategory, RuleItem, StarScale, Trigger
from gongzhi.points.presets import PRESET_CATALOGUE, PRESET_STAR_THRESHOLDS

MAX_POINTS = 1000


@dataclass(frozen=True)
class ItemFields:
    """What an administrator sets on an item (the form's cleaned values)."""

    name: str
    points: int
    evidence: str = ""
    photo_required: bool = False
    claimable: bool = True
    cap_count: int | None = None
    cap_period: str = CapPeriod.YEAR
    awarder: str = Awarder.VILLAGE
    trigger: str = Trigger.NONE


def _check_manager(actor: User | None, category: RuleCategory) -> None:
    if actor is None:
        return
    allowed = (policies.can_manage_village(actor, category.village) if category.village is not None
               else policies.can_manage_township(actor, category.township))
    if not allowed:
        raise Forbidden(_("您不能修改该积分细则。"))


def _clean(fields: ItemFields, *, village_item: bool) -> ItemFields:
    name = clean_text(fields.name, field="name", max_length=100, required_message=_("请填写积分事项。"))
    evidence = clean_text(fields.evidence, field="evidence", max_length=200)
    if not fields.points or abs(fields.points) > MAX_POINTS:
        raise DomainError(_("分值须为-%(n)d到%(n)d之间的非零整数。") % {"n": MAX_POINTS}, field="points")
    if fields.cap_count is not None and not 1 <= fields.cap_count <= 1000:
        raise DomainError(_("次数上限须为1到1000之间的整数，不限次数请留空。"), field="cap_count")
    if fields.cap_period not in CapPeriod.values:
        raise DomainError(_("请选择上限周期。"), field="cap_period")
    if fields.awarder not in Awarder.values:
        raise DomainError(_("请选择审核给予的层级。"), field="awarder")
    if fields.trigger not in Trigger.values:
        raise DomainError(_("请选择自动给予的方式。"), field="trigger")
    if village_item and fields.awarder == Awarder.TOWNSHIP:
        raise DomainError(_("村级自定事项由村级管理员审核给予。"), field="awarder")
    claimable = fields.claimable and fields.points > 0 and not fields.trigger
    return ItemFields(name=name, points=fields.points, evidence=evidence, photo_required=fields.photo_required,
                      claimable=claimable, cap_count=fields.cap_count, cap_period=fields.cap_period,
                      awarder=fields.awarder, trigger=fields.trigger)


@transaction.atomic
def add_category(*, actor: User | None, township: OrgUnit, village: OrgUnit | None = None, name: str) -> RuleCategory:
    if township.level != Level.TOWNSHIP or (village is not None and not village.path.startswith(township.path)):
        raise DomainError(_("请选择乡镇(街道)及其所辖村(社区)。"), field="village")
    name = clean_text(name, field="name", max_length=30, required_message=_("请填写类别名称。"))
    category = RuleCategory(township=township, village=village, name=name)
    _check_manager(actor, category)
    same = RuleCategory.objects.filter(township=township, village=village, name=name).first()
    if same is not None:
        if not same.is_active:
            same.is_active = True
            same.save(update_fields=["is_active"])
        return same
    category.order = RuleCategory.objects.filter(township=township, village=village).count() + 1
    category.save()
    return category


def _same(item: RuleItem, clean: ItemFields) -> bool:
    return all(getattr(item, name) == value for name, value in clean.__dict__.items())


@transaction.atomic
def add_item(*, actor: User | None, category: RuleCategory, fields: ItemFields) -> RuleItem:
    """A new item of the category. Its name is unique among the category's live items: the same form sent
    again answers with the item it added; another item of that name is refused."""
    _check_manager(actor, category)
    clean = _clean(fields, village_item=category.village_id is not None)
    RuleCategory.objects.select_for_update().filter(pk=category.pk).first()  # one adding at a time
    same = RuleItem.objects.filter(category=category, name=clean.name, retired_at__isnull=True).first()
    if same is not None:
        if _same(same, clean):
            return same
        raise DomainError(_("该类别已有同名事项“%(name)s”，请修改该事项或换一个名称。") % {"name": clean.name},
                          field="name", code="duplicate")
    return RuleItem.objects.create(category=category, created_by=actor, order=category.items.count() + 1,
                                   **clean.__dict__)


@transaction.atomic
def change_item(*, actor: User | None, item: RuleItem, fields: ItemFields) -> RuleItem:
    """A new version of `item` with `fields`; the old one is retired, and awards keep pointing at it."""
    item = RuleItem.objects.select_for_update().select_related("category").get(pk=item.pk)
    _check_manager(actor, item.category)
    clean = _clean(fields, village_item=item.category.village_id is not None)
    if item.retired_at is not None:
        following = RuleItem.objects.filter(previous=item).first()
        if following is not None and following.created_by_id == (actor.pk if actor else None) \
                and _same(following, clean):
            return following  # the same edit sent again
        raise DomainError(_("该事项已有新版本或已停用，请刷新后再改。"), code="stale")
    item.retired_at = timezone.now()
    item.save(update_fields=["retired_at"])
    return RuleItem.objects.create(category=item.category, previous=item, created_by=actor, order=item.order,
                                   **clean.__dict__)


@transaction.atomic
def retire_item(*, actor: User | None, item: RuleItem) -> RuleItem:
    item = RuleItem.objects.select_for_update().select_related("category").get(pk=item.pk)
    _check_manager(actor, item.category)
    if item.retired_at is None:
        item.retired_at = timezone.now()
        item.save(update_fields=["retired_at"])
    return item


@transaction.atomic
def install_preset(*, actor: User | None, township: OrgUnit) -> int:
    """The preset catalogue and star scale for a township that has none yet; returns the items added
    (0 when it already has a catalogue: installing twice changes nothing)."""
    if township.level != Level.TOWNSHIP:
        raise DomainError(_("积分细则按乡镇(街道)设置。"), field="township")
    if actor is not None and not policies.can_manage_township(actor, township):
        raise Forbidden(_("您不能修改该积分细则。"))
    StarScale.objects.get_or_create(township=township, defaults={"thresholds": PRESET_STAR_THRESHOLDS})
    if RuleCategory.objects.filter(township=township, village__isnull=True).exists():
        return 0
    added = 0
    for order, (name, items) in enumerate(PRESET_CATALOGUE, start=1):
        category = RuleCategory.objects.create(township=township, name=name, order=order)
        for position, preset in enumerate(items, start=1):
            RuleItem.objects.create(
                category=category, name=preset.name, points=preset.points, evidence=preset.evidence,
                photo_required=preset.photo, claimable=preset.claimable and preset.points > 0,
                cap_count=preset.cap, cap_period=preset.period, awarder=preset.awarder, trigger=preset.trigger,
                order=position, created_by=actor)
            added += 1
    return added


@transaction.atomic
def set_star_scale(*, actor: User | None, township: OrgUnit, basis: str, thresholds: list[int]) -> StarScale:
    if actor is not None and not policies.can_manage_township(actor, township):
        raise Forbidden(_("您不能修改十星等级标准。"))
    if basis not in StarScale.Basis.values:
        raise DomainError(_("请选择计星方式。"), field="basis")
    if (len(thresholds) != 10 or any(t <= 0 for t in thresholds)
            or any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False))):
        raise DomainError(_("请按一星到十星填写10个逐级递增的正整数。"), field="thresholds")
    scale, _created = StarScale.objects.update_or_create(township=township,
                                                         defaults={"basis": basis, "thresholds": thresholds})
    return scale
