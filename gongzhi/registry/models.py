"""一标三实 base data. This issue needs households and residents (sign-up matching, generated data);
addresses, houses, units and key persons come with the registry capability (M3)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.pii import PiiField, PiiHashField
from gongzhi.org.models import OrgUnit


class Household(TimeStampedModel):
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("村(社区)"))
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="households",
                             verbose_name=_("网格"))
    number = models.CharField(_("户号"), max_length=30, unique=True)
    address = models.CharField(_("住址"), max_length=200)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return f"{self.number} {self.address}"


class Resident(TimeStampedModel):
    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        GRANDCHILD = "grandchild", _("孙子女")
        OTHER = "other", _("其他")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members",
                                  verbose_name=_("户"))
    name = models.CharField(_("姓名"), max_length=50)
    id_number = PiiField(_("身份证号"), kind="id_number")
    id_number_hash = PiiHashField(source="id_number", unique=True)
    phone = PiiField(_("手机号"), kind="phone")
    phone_hash = PiiHashField(source="phone", db_index=True)
    gender = models.CharField(_("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    birth_date = models.DateField(_("出生日期"))
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices)
    is_floating = models.BooleanField(_("流动人口"), default=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="resident_record", verbose_name=_("账号"))

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")

    def __str__(self) -> str:
        return self.name

    @property
    def is_head(self) -> bool:
        return self.relation == self.Relation.HEAD
