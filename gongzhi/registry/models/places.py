"""Standard addresses (标准地址), real houses (实有房屋) with their tenancies, and real units (实有单位)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.pii import PiiField, PiiHashField
from gongzhi.org.models import OrgUnit


class Address(TimeStampedModel):
    """A standard address: village › road, lane or estate › door number › building › unit › room, bound to a
    grid and a point. The components are the hierarchy (a building's rooms share the first four), and together
    they are the natural key of imports; `code` is the 标准地址编码 where the police have issued one."""

    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("村(社区)"))
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    road = models.CharField(_("街路巷/小区"), max_length=60)
    number = models.CharField(_("门牌号"), max_length=20, blank=True, default="")
    building = models.CharField(_("楼栋"), max_length=20, blank=True, default="")
    unit_no = models.CharField(_("单元"), max_length=10, blank=True, default="")
    room = models.CharField(_("室"), max_length=20, blank=True, default="")
    # The components joined for display and search (e.g. 幸福路12号3栋2单元301室).
    label = models.CharField(_("地址"), max_length=200, db_index=True)
    code = models.CharField(_("标准地址编码"), max_length=40, blank=True, default="")
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        verbose_name = _("标准地址")
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["village", "road", "number", "building", "unit_no", "room"],
                                    name="address_unique_in_village"),
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="address_unique_code"),
        ]

    def __str__(self) -> str:
        return self.label


class House(TimeStampedModel):
    """A real house: the dwelling or premises at one standard address, how it is used, and its owner (the
    landlord of a rented house). The owner may live elsewhere, so the owner is named here, not linked."""

    class Use(models.TextChoices):
        OWN = "own", _("自住")
        RENTED = "rented", _("出租")
        VACANT = "vacant", _("闲置")
        SHOP = "shop", _("商铺")
        OTHER = "other", _("其他")

    address = models.OneToOneField(Address, on_delete=models.PROTECT, related_name="house",
                                   verbose_name=_("标准地址"))
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    use = models.CharField(_("房屋用途"), max_length=10, choices=Use.choices)
    area = models.DecimalField(_("建筑面积(平方米)"), max_digits=8, decimal_places=1, null=True, blank=True)
    owner_name = models.CharField(_("房主姓名"), max_length=50, blank=True, default="")
    owner_id_number = PiiField(_("房主身份证号"), kind="id_number")
    owner_id_number_hash = PiiHashField(source="owner_id_number", db_index=True)
    owner_phone = PiiField(_("房主手机号"), kind="phone")
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("实有房屋")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return str(self.address)


class Tenancy(TimeStampedModel):
    """A tenant of a rented house, from move-in to move-out (open while `ended_on` is empty)."""

    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="tenancies", verbose_name=_("房屋"))
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="tenancies",
                                 verbose_name=_("租住人"))
    started_on = models.DateField(_("入住日期"))
    ended_on = models.DateField(_("搬离日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("租住登记")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["house", "resident"], condition=models.Q(ended_on__isnull=True),
                                               name="tenancy_one_open_per_tenant")]

    def __str__(self) -> str:
        return f"{self.house} {self.resident}"


class Establishment(TimeStampedModel):
    """A real unit (实有单位): a shop, an enterprise, a public body or a social organisation, with its licence
    number (统一社会信用代码, the natural key of imports when given), legal person and safety contact."""

    class Kind(models.TextChoices):
        SHOP = "shop", _("商铺/个体工商户")
        ENTERPRISE = "enterprise", _("企业")
        PUBLIC = "public", _("机关事业单位")
        ORGANISATION = "organisation", _("社会组织")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("正常经营")
        CLOSED = "closed", _("停业")
        DEREGISTERED = "deregistered", _("已注销")

    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    name = models.CharField(_("单位名称"), max_length=100, db_index=True)
    kind = models.CharField(_("单位类型"), max_length=15, choices=Kind.choices)
    licence_number = models.CharField(_("统一社会信用代码/营业执照号"), max_length=30, blank=True, default="")
    industry = models.CharField(_("行业"), max_length=30, blank=True, default="")
    address = models.ForeignKey(Address, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="establishments", verbose_name=_("标准地址"))
    address_text = models.CharField(_("经营地址"), max_length=200, blank=True, default="")
    legal_person = models.CharField(_("法定代表人/负责人"), max_length=50, blank=True, default="")
    legal_person_phone = PiiField(_("负责人手机号"), kind="phone")
    staff_count = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    safety_contact = models.CharField(_("安全联系人"), max_length=50, blank=True, default="")
    safety_contact_phone = PiiField(_("安全联系人手机号"), kind="phone")
    status = models.CharField(_("经营状态"), max_length=15, choices=Status.choices, default=Status.OPEN)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("实有单位")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["licence_number"], condition=~models.Q(licence_number=""),
                                               name="establishment_unique_licence")]

    def __str__(self) -> str:
        return self.name
