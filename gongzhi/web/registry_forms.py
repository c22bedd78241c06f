"""Forms of the 一标三实 pages, shared by the worker portal (phone) and the command portal (desktop). They only
parse input; `registry.services.records` checks scope, uniqueness and every rule, and its refusals come back to
the field they name (`show_error`, which also finds a tenant's block of the 登记出租房屋 form).

Personal numbers are typed, never shown: an edit form leaves the ID and phone fields empty (the masked value in
the hint), and an empty field keeps the stored number.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError
from gongzhi.org.models import Level, OrgUnit
from gongzhi.registry.models import Address, Establishment, House, ResidenceType, Resident, SpecialGroup
from gongzhi.registry.selectors.records import RecordFilter, classify
from gongzhi.registry.services.records import (
    AddressInput,
    EstablishmentInput,
    HouseInput,
    ResidentInput,
    TenantInput,
)
from gongzhi.web.forms import Form, add_domain_error

MAX_TENANTS = 20
_NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}
_ID_ATTRS = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "inputmode": "text"}
_TEL = {"type": "tel", "inputmode": "tel", "autocomplete": "off"}
_OFF = {"autocomplete": "off"}


def _text(label: Any, max_length: int, *, required: bool = False, message: Any = None,
          attrs: dict[str, str] | None = None) -> forms.CharField:
    field = forms.CharField(label=label, max_length=max_length, required=required,
                            widget=forms.TextInput(attrs=attrs))
    field.error_messages["max_length"] = _("不能超过%(limit_value)d个字。")
    if message is not None:
        field.error_messages["required"] = message
    return field


def _date(label: Any, *, required: bool = False, message: Any = None) -> forms.DateField:
    field = forms.DateField(label=label, required=required, input_formats=["%Y-%m-%d"],
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    field.error_messages["invalid"] = _("请按“年-月-日”填写日期，例如 2026-03-01。")
    if message is not None:
        field.error_messages["required"] = message
    return field


def _float(label: Any) -> forms.FloatField:
    field = forms.FloatField(label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    field.error_messages["invalid"] = _("请填写数字。")
    return field


def _choices(field: forms.Field) -> forms.ChoiceField:
    return cast(forms.ChoiceField, field)


def grid_choices(grids: list[OrgUnit]) -> list[tuple[str, str]]:
    """Grids for a form, each with its village when they span several."""
    villages = {g.parent_id for g in grids}
    return [(str(g.pk), f"{g.parent.name} · {g.name}" if len(villages) > 1 and g.parent else g.name) for g in grids]


class GridForm(Form):
    """A form whose record lies in a grid chosen from those the user may edit (hidden when there is one)."""

    grid = forms.ChoiceField(label=_("网格"))

    def __init__(self, *args: Any, grids: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grids = {str(g.pk): g for g in grids}
        field = _choices(self.fields["grid"])
        field.choices = grid_choices(grids)
        field.error_messages["required"] = _("请选择网格。")
        field.error_messages["invalid_choice"] = _("请选择您负责的网格。")
        if len(grids) == 1:
            field.widget = forms.HiddenInput()
            self.initial.setdefault("grid", str(grids[0].pk))

    def chosen_grid(self) -> OrgUnit:
        return self.grids[self.cleaned_data["grid"]]


class AddressPartsMixin(forms.Form):
    road = _text(_("街路巷/小区/自然村(社)"), 60, required=True, message=_("请填写街路巷、小区或自然村(社)名称。"))
    number = _text(_("门牌号"), 20, attrs=_NUMERIC)
    building = _text(_("楼栋"), 20, attrs=_NUMERIC)
    unit_no = _text(_("单元"), 10, attrs=_NUMERIC)
    room = _text(_("室"), 20, attrs=_NUMERIC)

    PARTS = ("road", "number", "building", "unit_no", "room")

    def address_input(self, grid: OrgUnit, **extra: Any) -> AddressInput:
        data = self.cleaned_data
        assert grid.parent is not None
        return AddressInput(village=grid.parent, grid=grid, **{name: data[name] for name in self.PARTS}, **extra)


class AddressForm(AddressPartsMixin, GridForm):
    code = _text(_("标准地址编码（可选）"), 40, attrs=_OFF)
    lat = _float(_("纬度（可选）"))
    lng = _float(_("经度（可选）"))

    field_order = ["grid", "road", "number", "building", "unit_no", "room", "code", "lat", "lng"]

    def to_input(self) -> AddressInput:
        data = self.cleaned_data
        return self.address_input(self.chosen_grid(), code=data["code"], lat=data["lat"], lng=data["lng"])

    @staticmethod
    def initial_for(address: Address) -> dict[str, Any]:
        return {"grid": str(address.grid_id), "road": address.road, "number": address.number,
                "building": address.building, "unit_no": address.unit_no, "room": address.room,
                "code": address.code, "lat": address.lat, "lng": address.lng}


class HouseholdForm(GridForm):
    number = _text(_("户号"), 30, required=True, message=_("请填写户号。"), attrs=_OFF)
    address = _text(_("住址"), 200)

    def __init__(self, *args: Any, standard_address: Address | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if standard_address is not None:
            self.fields["address"].help_text = _("不填则使用标准地址：%(label)s") % {"label": standard_address.label}
        else:
            self.fields["address"].error_messages["required"] = _("请填写住址。")

    @staticmethod
    def initial_for(household: Any) -> dict[str, Any]:
        return {"grid": str(household.grid_id), "number": household.number, "address": household.address}


class ResidentForm(Form):
    """A person: as a household member (户号) or on their own in a grid (tenants, lodgers)."""

    name = _text(_("姓名"), 50, required=True, message=_("请填写姓名。"), attrs=_OFF)
    id_number = _text(_("身份证号"), 30, attrs=_ID_ATTRS)
    phone = _text(_("手机号"), 20, attrs=_TEL)
    household_number = _text(_("户号"), 30, attrs=_OFF)
    relation = forms.ChoiceField(label=_("与户主关系"), required=False,
                                 choices=[("", _("无（不属于本地户）")), *Resident.Relation.choices])
    residence_type = forms.ChoiceField(label=_("人口类型"), choices=ResidenceType.choices,
                                       initial=ResidenceType.REGISTERED)
    gender = forms.ChoiceField(label=_("性别"), required=False,
                               choices=[("", _("按身份证号")), ("M", _("男")), ("F", _("女"))])
    birth_date = _date(_("出生日期"))
    ethnicity = _text(_("民族"), 20, attrs=_OFF)
    groups = forms.ModelMultipleChoiceField(label=_("特殊人群"), required=False, queryset=SpecialGroup.objects.none(),
                                            widget=forms.CheckboxSelectMultiple)
    note = _text(_("备注"), 200)

    def __init__(self, *args: Any, resident: Resident | None = None, grids: list[OrgUnit] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resident = resident
        kept = list(resident.groups.values_list("pk", flat=True)) if resident is not None else []
        groups = cast(forms.ModelMultipleChoiceField, self.fields["groups"])
        groups.queryset = SpecialGroup.objects.filter(is_active=True) | SpecialGroup.objects.filter(pk__in=kept)
        self.fields["birth_date"].help_text = _("不填则按身份证号。")
        self.fields["household_number"].help_text = _("户籍人口填写所在户的户号；租客、寄住人员可不填。")
        if resident is None:
            self.fields["id_number"].required = True
            self.fields["id_number"].error_messages["required"] = _("请填写身份证号码。")
        else:
            if resident.id_number:
                self.fields["id_number"].help_text = _("当前：%(masked)s。不修改请留空。") % {
                    "masked": resident.id_number.masked}
            self.fields["phone"].help_text = (_("当前：%(masked)s。不修改请留空。") % {"masked": resident.phone.masked}
                                              if resident.phone else _("未登记。"))
        self.grid_field = None
        if grids is not None:
            self.fields["grid"] = forms.ChoiceField(label=_("网格"), choices=grid_choices(grids), required=False)
            self.fields["grid"].help_text = _("不属于本地户的居民登记在哪个网格。")
            self.grids = {str(g.pk): g for g in grids}
            if len(grids) == 1:
                self.fields["grid"].widget = forms.HiddenInput()
                self.initial.setdefault("grid", str(grids[0].pk))
            self.order_fields(["name", "id_number", "phone", "household_number", "relation", "grid"])

    def chosen_grid(self) -> OrgUnit | None:
        value = self.cleaned_data.get("grid")
        return self.grids.get(value) if value and hasattr(self, "grids") else None

    def to_input(self) -> ResidentInput:
        data = self.cleaned_data
        editing = self.resident is not None
        return ResidentInput(
            name=data["name"], id_number=(data["id_number"] or None) if editing else data["id_number"],
            phone=(data["phone"] or None) if editing else data["phone"], gender=data["gender"],
            birth_date=data["birth_date"], relation=data["relation"], residence_type=data["residence_type"],
            ethnicity=data["ethnicity"], groups=list(data["groups"]), note=data["note"])

    @staticmethod
    def initial_for(resident: Resident) -> dict[str, Any]:
        return {"name": resident.name, "household_number": resident.household.number if resident.household else "",
                "relation": resident.relation, "residence_type": resident.residence_type,
                "gender": resident.gender, "birth_date": resident.birth_date, "ethnicity": resident.ethnicity,
                "groups": list(resident.groups.all()), "note": resident.note, "grid": str(resident.grid_id)}


class StatusForm(Form):
    status = forms.ChoiceField(label=_("状态"), choices=Resident.Status.choices)
    note = _text(_("说明（可选）"), 200)


class HouseFieldsMixin(forms.Form):
    area = forms.DecimalField(label=_("建筑面积(平方米)"), required=False, max_digits=8, decimal_places=1,
                              widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    owner_name = _text(_("房主姓名"), 50, attrs=_OFF)
    owner_id_number = _text(_("房主身份证号"), 30, attrs=_ID_ATTRS)
    owner_phone = _text(_("房主手机号"), 20, attrs=_TEL)
    note = _text(_("备注"), 200)

    def house_input(self, use: str, *, editing: bool) -> HouseInput:
        data = self.cleaned_data
        area: Decimal | None = data["area"]
        return HouseInput(use=use, area=area, owner_name=data["owner_name"],
                          owner_id_number=(data["owner_id_number"] or None) if editing else data["owner_id_number"],
                          owner_phone=(data["owner_phone"] or None) if editing else data["owner_phone"],
                          note=data["note"])

    def _masked_hints(self, house: House | None) -> None:
        self.fields["area"].error_messages["invalid"] = _("请填写数字，例如 56.5。")
        self.fields["area"].error_messages["max_decimal_places"] = _("面积最多保留1位小数。")
        if house is None:
            return
        for name, value in (("owner_id_number", house.owner_id_number), ("owner_phone", house.owner_phone)):
            if value:
                self.fields[name].help_text = _("当前：%(masked)s。不修改请留空。") % {"masked": value.masked}


class HouseForm(HouseFieldsMixin, Form):
    """A house at a given address (from the address page) or on the form's edit."""

    use = forms.ChoiceField(label=_("房屋用途"), choices=House.Use.choices, initial=House.Use.OWN)
    field_order = ["use", "area", "owner_name", "owner_id_number", "owner_phone", "note"]

    def __init__(self, *args: Any, house: House | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.house = house
        self._masked_hints(house)

    def to_input(self) -> HouseInput:
        return self.house_input(self.cleaned_data["use"], editing=self.house is not None)

    @staticmethod
    def initial_for(house: House) -> dict[str, Any]:
        return {"use": house.use, "area": house.area, "owner_name": house.owner_name, "note": house.note}


class NewHouseForm(AddressPartsMixin, HouseForm, GridForm):
    """A house with its address typed on the same form."""

    field_order = ["grid", "road", "number", "building", "unit_no", "room", "use", "area", "owner_name",
                   "owner_id_number", "owner_phone", "note"]


class RentedHouseForm(AddressPartsMixin, HouseFieldsMixin, GridForm):
    """登记出租房屋: the house and its owner; its tenants are `TenantForm`s prefixed t0, t1 … and `tenants` says
    how many blocks the page shows (the 再加一位租客 button adds one, with or without JavaScript)."""

    address_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    tenants = forms.IntegerField(required=False, min_value=0, max_value=MAX_TENANTS, widget=forms.HiddenInput)
    field_order = ["grid", "road", "number", "building", "unit_no", "room", "area", "owner_name",
                   "owner_id_number", "owner_phone", "note"]

    def __init__(self, *args: Any, address: Address | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address = address
        self._masked_hints(None)
        if address is not None:
            for name in (*self.PARTS, "grid"):
                del self.fields[name]

    def chosen_grid(self) -> OrgUnit:
        if self.address is not None:
            return self.address.grid
        return super().chosen_grid()

    def place(self) -> Address | AddressInput:
        return self.address if self.address is not None else self.address_input(self.chosen_grid())


class TenantForm(Form):
    name = _text(_("租客姓名"), 50, attrs=_OFF)
    id_number = _text(_("身份证号"), 30, attrs=_ID_ATTRS)
    phone = _text(_("手机号"), 20, attrs=_TEL)
    started_on = _date(_("入住日期"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("started_on", timezone.localdate())

    def is_blank(self) -> bool:
        """A block left empty is skipped (the date comes filled in)."""
        return self.is_bound and not any((self.data.get(self.add_prefix(n)) or "").strip()
                                         for n in ("name", "id_number", "phone"))

    def to_input(self) -> TenantInput:
        data = self.cleaned_data
        if not data["name"]:
            raise DomainError(_("请填写租客姓名。"), field="name")
        if not data["id_number"]:
            raise DomainError(_("请填写身份证号码。"), field="id_number")
        started: datetime.date | None = data["started_on"]
        return TenantInput(name=data["name"], id_number=data["id_number"], phone=data["phone"], started_on=started)


def tenant_forms(data: Any = None, count: int = 1, *, initial: Any = None) -> list[TenantForm]:
    """`count` tenant blocks, bound to `data`, or unbound and filled in from `initial` (a posted form shown again
    with one more block, before anything is checked)."""
    count = max(1, min(count, MAX_TENANTS))
    blocks = []
    for i in range(count):
        values = {name: initial.get(f"t{i}-{name}") for name in TenantForm.base_fields
                  if initial is not None and initial.get(f"t{i}-{name}")}
        blocks.append(TenantForm(data, prefix=f"t{i}", auto_id=f"t{i}-%s", initial=values or None))
    return blocks


class EndTenancyForm(Form):
    ended_on = _date(_("搬离日期"), required=True, message=_("请填写搬离日期。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("ended_on", timezone.localdate())


class EstablishmentForm(GridForm):
    name = _text(_("单位名称"), 100, required=True, message=_("请填写单位名称。"), attrs=_OFF)
    kind = forms.ChoiceField(label=_("单位类型"), choices=Establishment.Kind.choices, initial=Establishment.Kind.SHOP)
    licence_number = _text(_("统一社会信用代码/营业执照号"), 30,
                           attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    industry = _text(_("行业"), 30)
    address_text = _text(_("经营地址"), 200)
    legal_person = _text(_("法定代表人/负责人"), 50, attrs=_OFF)
    legal_person_phone = _text(_("负责人手机号"), 20, attrs=_TEL)
    staff_count = forms.IntegerField(label=_("从业人数"), required=False, min_value=0,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    safety_contact = _text(_("安全联系人"), 50, attrs=_OFF)
    safety_contact_phone = _text(_("安全联系人手机号"), 20, attrs=_TEL)
    status = forms.ChoiceField(label=_("经营状态"), choices=Establishment.Status.choices,
                               initial=Establishment.Status.OPEN)
    note = _text(_("备注"), 200)

    def __init__(self, *args: Any, establishment: Establishment | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.establishment = establishment
        self.fields["staff_count"].error_messages.update({"invalid": _("请填写整数。"),
                                                          "min_value": _("从业人数不能为负数。")})
        if establishment is not None:
            for name in ("legal_person_phone", "safety_contact_phone"):
                value = getattr(establishment, name)
                if value:
                    self.fields[name].help_text = _("当前：%(masked)s。不修改请留空。") % {"masked": value.masked}

    def to_input(self) -> EstablishmentInput:
        data = self.cleaned_data
        editing = self.establishment is not None
        return EstablishmentInput(
            name=data["name"], kind=data["kind"], licence_number=data["licence_number"], industry=data["industry"],
            address_text=data["address_text"], legal_person=data["legal_person"],
            legal_person_phone=(data["legal_person_phone"] or None) if editing else data["legal_person_phone"],
            staff_count=data["staff_count"], safety_contact=data["safety_contact"],
            safety_contact_phone=(data["safety_contact_phone"] or None) if editing else data["safety_contact_phone"],
            status=data["status"], note=data["note"],
            lat=self.establishment.lat if editing and self.establishment else None,
            lng=self.establishment.lng if editing and self.establishment else None)

    @staticmethod
    def initial_for(unit: Establishment) -> dict[str, Any]:
        return {"grid": str(unit.grid_id), "name": unit.name, "kind": unit.kind, "licence_number": unit.licence_number,
                "industry": unit.industry, "address_text": unit.address_text, "legal_person": unit.legal_person,
                "staff_count": unit.staff_count, "safety_contact": unit.safety_contact, "status": unit.status,
                "note": unit.note}


class SearchForm(Form):
    q = _text(_("查找"), 60, attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"})


def show_error(form: forms.Form, error: DomainError, tenants: list[TenantForm] | None = None) -> None:
    """A service's refusal next to the field it names: "tenants.<i>.<field>" on a tenant's block, the hidden
    ID's standard address on the form itself."""
    field = error.field or ""
    if field.startswith("tenants.") and tenants:
        _prefix, index, name = (field.split(".", 2) + ["", ""])[:3]
        if index.isdigit() and int(index) < len(tenants):
            block = tenants[int(index)]
            block.add_error(name if name in block.fields else None, str(error.message))
            return
    if field == "standard_address" and "address" in form.fields:
        error.field = "address"
    add_domain_error(form, error)


class RecordFilterForm(Form):
    """The filters of the command portal's lists, read from the query string. A field with bad input is shown
    with its error and left out of the filter: the list is not narrowed by it, never a 500. Personal numbers are
    not taken here (they would stand in the URL): the search box sends them by POST."""

    q = _text(_("关键词"), 50, attrs={"type": "search"})
    area = forms.TypedChoiceField(label=_("所属区域"), coerce=int, empty_value=None, required=False)
    residence_type = forms.ChoiceField(label=_("人口类型"), required=False,
                                       choices=[("", _("全部")), *ResidenceType.choices])
    group = forms.TypedChoiceField(label=_("特殊人群"), coerce=int, empty_value=None, required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    use = forms.ChoiceField(label=_("房屋用途"), required=False, choices=[("", _("全部")), *House.Use.choices])
    kind = forms.ChoiceField(label=_("单位类型"), required=False,
                             choices=[("", _("全部")), *Establishment.Kind.choices])

    LIST_FIELDS = {
        "people": ("q", "area", "residence_type", "group", "status"),
        "households": ("q", "area"),
        "houses": ("q", "area", "use"),
        "units": ("q", "area", "kind", "status"),
        "addresses": ("q", "area"),
    }

    def __init__(self, *args: Any, kind: str, areas: list[OrgUnit], groups: list[SpecialGroup],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in self.LIST_FIELDS[kind]:
                del self.fields[name]
        top = min((a.depth for a in areas), default=0)
        self.areas = {a.pk: a for a in areas}
        self.groups = {g.pk: g for g in groups}
        if "area" in self.fields:
            _choices(self.fields["area"]).choices = [("", _("全部区域")), *(
                (a.pk, "\u3000" * (a.depth - top) + a.name) for a in areas)]
            self.fields["area"].error_messages["invalid_choice"] = _("所选区域不在您的管辖范围内，已忽略该条件。")
        if "group" in self.fields:
            _choices(self.fields["group"]).choices = [("", _("全部")), *((g.pk, g.name) for g in groups)]
        if "status" in self.fields:
            statuses = Resident.Status.choices if kind == "people" else Establishment.Status.choices
            _choices(self.fields["status"]).choices = [("", _("全部")), *statuses]
        for name in ("residence_type", "group", "status", "use", "kind"):
            if name in self.fields:
                self.fields[name].error_messages["invalid_choice"] = _("未知的筛选条件，已忽略。")

    def clean_q(self) -> str:
        value: str = self.cleaned_data["q"]
        if classify(value)[0] in ("id_number", "phone"):
            raise forms.ValidationError(_("身份证号和手机号请在“查找”中查询，已忽略该条件。"))
        return value

    def record_filter(self) -> RecordFilter:
        """The filter of the fields that are valid (call after `is_valid()`)."""
        data = getattr(self, "cleaned_data", {})
        area = self.areas.get(data.get("area") or 0)
        return RecordFilter(
            area=area if area is not None and area.level != Level.GRID else None,
            grid=area if area is not None and area.level == Level.GRID else None,
            residence_type=data.get("residence_type") or "", group=self.groups.get(data.get("group") or 0),
            status=data.get("status") or "", use=data.get("use") or "", kind=data.get("kind") or "",
            q=(data.get("q") or "").strip())
