"""The forms of the points administration (web/points_admin.py): catalogue categories and items, the star
scale, shops, their managers and items, the statistics period. Each turns its cleaned data into the
service's input; the services check everything again and name the field of a refusal, which
`forms.add_domain_error` shows there."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from gongzhi.accounts.models import User
from gongzhi.org.models import OrgUnit
from gongzhi.points.models import Awarder, CapPeriod, RuleItem, Shop, ShopItem, StarScale, Trigger
from gongzhi.points.selectors.stats import Period, this_month, this_year
from gongzhi.points.services import rules, shops
from gongzhi.web.forms import Form

INTEGER = {"invalid": _("请输入整数。"), "required": _("请填写此项。")}


def _integer(label: Any, *, required: bool = True, help_text: Any = "", min_value: int | None = None,
             max_value: int | None = None) -> forms.IntegerField:
    messages = dict(INTEGER)
    if min_value is not None:
        messages["min_value"] = _("不能小于%(limit_value)s。")
    if max_value is not None:
        messages["max_value"] = _("不能大于%(limit_value)s。")
    return forms.IntegerField(label=label, required=required, help_text=help_text, min_value=min_value,
                              max_value=max_value, error_messages=messages,
                              widget=forms.NumberInput(attrs={"inputmode": "numeric"}))


def _unit_label(unit: OrgUnit) -> str:
    return str(unit.name)


class CategoryForm(Form):
    """添加类别: of the township's catalogue, or of one village's own items."""

    name = forms.CharField(label=_("类别名称"), max_length=30, error_messages={
        "required": _("请填写类别名称。"), "max_length": _("类别名称不能超过30个字。")})
    owner = forms.ChoiceField(label=_("适用范围"))

    def __init__(self, *args: Any, township: OrgUnit, may_township: bool, villages: list[OrgUnit],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("全乡镇适用：%(name)s") % {"name": township.name})] if may_township else []
        choices += [(str(v.pk), _("村级自定：%(name)s") % {"name": v.name}) for v in villages]
        self.fields["owner"].choices = choices  # type: ignore[attr-defined]
        self.fields["owner"].required = False
        self._villages = {str(v.pk): v for v in villages}
        self._may_township = may_township
        if len(choices) == 1:
            self.fields["owner"].initial = choices[0][0]
            self.fields["owner"].widget = forms.HiddenInput()

    def clean_owner(self) -> OrgUnit | None:
        value = self.cleaned_data.get("owner") or ""
        if value == "" and self._may_township:
            return None
        if value in self._villages:
            return self._villages[value]
        raise forms.ValidationError(_("请选择适用范围。"))


class RuleItemForm(Form):
    """添加事项 / 修改事项 (a new version)."""

    name = forms.CharField(label=_("积分事项"), max_length=100, error_messages={
        "required": _("请填写积分事项。"), "max_length": _("积分事项不能超过100个字。")})
    points = _integer(_("分值"), help_text=_("加分填正数，扣分填负数（如 -5）。"))
    evidence = forms.CharField(label=_("所需佐证"), max_length=200, required=False,
                               error_messages={"max_length": _("所需佐证不能超过200个字。")})
    photo_required = forms.BooleanField(label=_("须上传照片"), required=False)
    claimable = forms.BooleanField(label=_("群众可在线申请"), required=False,
                                   help_text=_("扣分事项和自动给予的事项不能由群众申请。"))
    cap_count = _integer(_("次数上限"), required=False, help_text=_("每户在上限周期内最多给予的次数；不限次数请留空。"))
    cap_period = forms.ChoiceField(label=_("上限周期"), choices=CapPeriod.choices)
    awarder = forms.ChoiceField(label=_("审核给予"), choices=Awarder.choices)
    trigger = forms.ChoiceField(label=_("自动给予"), choices=Trigger.choices, required=False)

    def __init__(self, *args: Any, village_item: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if village_item:
            self.fields["awarder"].choices = [(Awarder.VILLAGE, Awarder.VILLAGE.label)]  # type: ignore[attr-defined]
            self.fields["awarder"].help_text = _("村级自定事项由村级管理员审核给予。")

    @staticmethod
    def initial_for(item: RuleItem) -> dict[str, Any]:
        return {"name": item.name, "points": item.points, "evidence": item.evidence,
                "photo_required": item.photo_required, "claimable": item.claimable, "cap_count": item.cap_count,
                "cap_period": item.cap_period, "awarder": item.awarder, "trigger": item.trigger}

    def to_fields(self) -> rules.ItemFields:
        data = self.cleaned_data
        return rules.ItemFields(name=data["name"], points=data["points"], evidence=data["evidence"],
                                photo_required=data["photo_required"], claimable=data["claimable"],
                                cap_count=data["cap_count"], cap_period=data["cap_period"],
                                awarder=data["awarder"], trigger=data["trigger"] or "")


class StarScaleForm(Form):
    """十星等级标准: the basis and the points of each of the ten stars."""

    basis = forms.ChoiceField(label=_("计星方式"), choices=StarScale.Basis.choices, widget=forms.RadioSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, 11):
            label = ngettext_lazy("%(n)d星", "%(n)d星", n) % {"n": n}
            self.fields[f"star{n}"] = _integer(label, min_value=1, max_value=1_000_000)

    @staticmethod
    def initial_for(basis: str, thresholds: list[int]) -> dict[str, Any]:
        return {"basis": basis, **{f"star{n}": t for n, t in enumerate(thresholds, start=1)}}

    def star_fields(self) -> list[forms.BoundField]:
        return [self[f"star{n}"] for n in range(1, 11)]

    def thresholds(self) -> list[int]:
        return [self.cleaned_data[f"star{n}"] for n in range(1, 11)]


class ShopForm(Form):
    """开设商铺 / 修改商铺."""

    unit = forms.ChoiceField(label=_("所属单位"))
    kind = forms.ChoiceField(label=_("类型"), choices=Shop.Kind.choices)
    name = forms.CharField(label=_("商铺名称"), max_length=60, error_messages={
        "required": _("请填写商铺名称。"), "max_length": _("商铺名称不能超过60个字。")})
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    hours = forms.CharField(label=_("营业时间"), max_length=60, required=False,
                            help_text=_("如：周一至周五 9:00-17:00"))
    is_active = forms.BooleanField(label=_("营业中"), required=False, initial=True)

    def __init__(self, *args: Any, units: list[OrgUnit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._units = {str(u.pk): u for u in units or []}
        if units:
            self.fields["unit"].choices = [(str(u.pk), _unit_label(u)) for u in units]  # type: ignore[attr-defined]
            if len(units) == 1:
                self.fields["unit"].initial = str(units[0].pk)
                self.fields["unit"].widget = forms.HiddenInput()
        else:
            del self.fields["unit"]

    @staticmethod
    def initial_for(shop: Shop) -> dict[str, Any]:
        return {"kind": shop.kind, "name": shop.name, "address": shop.address, "phone": shop.phone,
                "hours": shop.hours, "is_active": shop.is_active}

    def chosen_unit(self) -> OrgUnit:
        return self._units[self.cleaned_data["unit"]]

    def to_fields(self) -> shops.ShopFields:
        data = self.cleaned_data
        return shops.ShopFields(name=data["name"], kind=data["kind"], address=data["address"], phone=data["phone"],
                                hours=data["hours"], is_active=data["is_active"])


class ManagersForm(Form):
    """商铺管理员: who scans and confirms pickups at the shop."""

    managers = forms.ModelMultipleChoiceField(label=_("商铺管理员"), queryset=User.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple,
                                              help_text=_("本乡镇的商户账号，或本村的村级管理员。"))

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["managers"]
        field.queryset = choices  # type: ignore[attr-defined]
        field.label_from_instance = lambda user: user.real_name or user.username  # type: ignore[attr-defined]


class ShopItemForm(Form):
    """上架商品 / 修改商品."""

    name = forms.CharField(label=_("商品名称"), max_length=60, error_messages={
        "required": _("请填写商品名称。"), "max_length": _("商品名称不能超过60个字。")})
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    price = _integer(_("所需积分"), min_value=1, max_value=shops.MAX_PRICE)
    stock = _integer(_("库存"), min_value=0, max_value=shops.MAX_STOCK)
    is_active = forms.BooleanField(label=_("上架"), required=False, initial=True)

    @staticmethod
    def initial_for(item: ShopItem) -> dict[str, Any]:
        return {"name": item.name, "description": item.description, "price": item.price, "stock": item.stock,
                "is_active": item.is_active}

    def to_fields(self) -> shops.ItemFields:
        data = self.cleaned_data
        return shops.ItemFields(name=data["name"], price=data["price"], stock=data["stock"],
                                description=data["description"], is_active=data["is_active"])


PERIODS = [("month", _("本月")), ("year", _("本年")), ("custom", _("自定义"))]
MAX_DAYS = 3 * 366 + 1
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the value a date input understands
BAD_DATE = {"invalid": _("请输入有效的日期。")}


class PeriodForm(Form):
    """The statistics' period: this month, this year, or two dates (both included). Dates changed by hand
    count as 自定义 whatever the choice says (they show the chosen period's dates to begin with)."""

    period = forms.ChoiceField(label=_("统计期间"), choices=PERIODS, required=False)
    start = forms.DateField(label=_("开始日期"), required=False, widget=DATE, error_messages=BAD_DATE)
    end = forms.DateField(label=_("结束日期"), required=False, widget=DATE, error_messages=BAD_DATE)

    def __init__(self, *args: Any, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def _preset(self, kind: str) -> Period:
        return this_year(self.today) if kind == "year" else this_month(self.today)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("period") or "month"
        start, end = data.get("start"), data.get("end")
        if kind != "custom" and start and end:
            preset = self._preset(kind)
            if (start, end) != (preset.start, preset.end):
                kind = "custom"
        data["period"] = kind
        if kind == "custom":
            if start is None and "start" not in self.errors:
                self.add_error("start", _("请选择开始日期。"))
            if end is None and "end" not in self.errors:
                self.add_error("end", _("请选择结束日期。"))
            if start and end:
                if end < start:
                    self.add_error("end", _("结束日期不能早于开始日期。"))
                elif (end - start).days > MAX_DAYS:
                    self.add_error("end", _("统计期间不能超过3年。"))
        return data

    def chosen(self) -> Period:
        """The period asked for (this month when the form is wrong)."""
        if not self.is_valid():
            return this_month(self.today)
        kind = self.cleaned_data["period"]
        if kind == "custom":
            return Period(self.cleaned_data["start"], self.cleaned_data["end"], "custom")
        return self._preset(kind)

    @staticmethod
    def initial_for(period: Period) -> dict[str, Any]:
        return {"period": period.kind, "start": period.start, "end": period.end}

    @staticmethod
    def query_for(period: Period) -> dict[str, str]:
        """The query string naming `period` (for the export link)."""
        if period.kind == "custom":
            return {"period": "custom", "start": period.start.isoformat(), "end": period.end.isoformat()}
        return {"period": period.kind}
