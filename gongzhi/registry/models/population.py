"""Real population (实有人口): households (户), their members and everyone else living in a grid (tenants,
lodgers, people from abroad), with the configurable list of special groups (低保, 特困, 残疾 …)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.pii import PiiField, PiiHashField
from gongzhi.org.models import OrgUnit


class ListEntry(models.Model):
    """An entry of a list the county keeps in the back office (seeded with the usual entries): switched off, not
    deleted, once in use, so past records keep their label. `code` is what import files and the API use."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class SpecialGroup(ListEntry):
    """A group the village cares for in particular (低保, 特困, 残疾, 留守老人 …)."""

    class Meta(ListEntry.Meta):
        verbose_name = _("特殊人群类别")
        verbose_name_plural = verbose_name


class Household(TimeStampedModel):
    """A registered household (户), identified by its 户号 (the natural key of imports)."""

    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("村(社区)"))
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="households",
                             verbose_name=_("网格"))
    number = models.CharField(_("户号"), max_length=30, unique=True)
    address = models.CharField(_("住址"), max_length=200)
    standard_address = models.ForeignKey("registry.Address", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="households", verbose_name=_("标准地址"))
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return f"{self.number} {self.address}"


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("户籍人口")
    FLOATING = "floating", _("流动人口")
    LODGING = "lodging", _("寄住人口")
    OVERSEAS = "overseas", _("境外人员")


class Resident(TimeStampedModel):
    """A person living in a grid. Household members carry their household's grid; a tenant or lodger may have
    no household here, so the grid is the person's own field (kept equal to the household's by the services).
    The ID number (the natural key of imports) and the phone are encrypted, with keyed hashes for lookups."""

    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        GRANDCHILD = "grandchild", _("孙子女")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在册")
        MOVED_OUT = "moved_out", _("已迁出")
        DECEASED = "deceased", _("已死亡")

    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="members", verbose_name=_("户"))
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    id_number = PiiField(_("身份证号"), kind="id_number")
    id_number_hash = PiiHashField(source="id_number", unique=True)
    phone = PiiField(_("手机号"), kind="phone")
    phone_hash = PiiHashField(source="phone", db_index=True)
    gender = models.CharField(_("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    birth_date = models.DateField(_("出生日期"))
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices, blank=True, default="")
    residence_type = models.CharField(_("人口类型"), max_length=12, choices=ResidenceType.choices,
                                      default=ResidenceType.REGISTERED)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True, default="")
    # Where a tenant or lodger lives (a household member lives at the household's address).
    standard_address = models.ForeignKey("registry.Address", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="residents", verbose_name=_("居住地址"))
    groups = models.ManyToManyField(SpecialGroup, blank=True, related_name="residents",
                                    verbose_name=_("特殊人群"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="resident_record", verbose_name=_("账号"))

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.grid_id is None and self.household_id is not None:  # a member lives in the household's grid
            self.grid_id = Household.objects.values_list("grid_id", flat=True).get(pk=self.household_id)
        super().save(*args, **kwargs)

    @property
    def is_head(self) -> bool:
        return self.relation == self.Relation.HEAD

    @property
    def lives_at(self) -> str:
        """Where the person lives: their household's address, else their own standard address."""
        if self.household is not None:
            return self.household.address
        return self.standard_address.label if self.standard_address is not None else ""

    @property
    def is_floating(self) -> bool:
        return self.residence_type != ResidenceType.REGISTERED
