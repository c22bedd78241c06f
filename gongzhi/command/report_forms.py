"""代为登记: the form a command-centre staff member fills in for a resident who came in or phoned."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import policies
from gongzhi.core.errors import DomainError
from gongzhi.core.validators import normalize_id_number, normalize_phone
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry.services import normalize_name
from gongzhi.web.forms import MultipleFileInput, MultiplePhotoField
from gongzhi.web.report import ReportFormBase


def grid_choices(user) -> list[tuple[str, list[tuple[int, str]]]]:
    """The active grids where the user may report on behalf of residents, grouped by village
    ("八里镇 · 小山村"), in tree order. Only the names are loaded, never the boundaries."""
    grids = (OrgUnit.objects.filter(policies.on_behalf_q(user), level=Level.GRID, kind=UnitKind.AREA,
                                    is_active=True)
             .select_related("parent__parent").only("id", "name", "path", "parent__name", "parent__parent__name")
             .order_by("path"))
    groups: dict[str, list[tuple[int, str]]] = {}
    for grid in grids:
        village = grid.parent
        if village is None:
            label = ""
        elif village.parent is not None:
            label = f"{village.parent.name} · {village.name}"
        else:
            label = village.name
        groups.setdefault(label, []).append((grid.pk, grid.name))
    return list(groups.items())


def _checked(normalize, value: str) -> str:
    try:
        return cast(str, normalize(value))
    except DomainError as err:
        raise forms.ValidationError(str(err.message)) from None


class OnBehalfReportForm(ReportFormBase):
    """Who (name, ID number, mobile phone), what (category, description, photos) and where: a grid of the
    user's scope (the report is placed at a point inside it) or typed coordinates, which win when given.
    Name, ID number and phone are checked here with the services' own validators, so every mistake shows
    at once; the services check them again."""

    description_label = _("内容")
    anonymous_label = _("匿名反映（经办人员看不到反映人的姓名）")

    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名。")},
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    id_number = forms.CharField(label=_("身份证号"), max_length=30,
                                error_messages={"required": _("请填写身份证号码。")},
                                widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                                              "spellcheck": "false"}))
    phone = forms.CharField(label=_("手机号"), max_length=20, error_messages={"required": _("请填写手机号码。")},
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}))
    # At the desk the photos come from files, not the camera.
    photos = MultiplePhotoField(label=_("照片（最多9张）"), widget=MultipleFileInput(attrs={"accept": "image/*"}))
    grid = forms.TypedChoiceField(label=_("事发网格"), coerce=int, required=False, choices=(),
                                  error_messages={"invalid_choice": _("请选择您管辖范围内的网格。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        cast(forms.ChoiceField, self.fields["grid"]).choices = [("", _("请选择")), *grid_choices(user)]

    def clean_name(self) -> str:
        return _checked(normalize_name, self.cleaned_data["name"])

    def clean_id_number(self) -> str:
        return _checked(normalize_id_number, self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return _checked(normalize_phone, self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        if "lat" not in data or "lng" not in data:
            return data  # a coordinate that is not a number already has its message
        typed = data["lat"] is not None or data["lng"] is not None
        if typed and (data["lat"] is None or data["lng"] is None):
            self.add_error("lat", _("请同时填写纬度和经度。"))
        elif not typed and data.get("grid") in (None, "") and "grid" not in self.errors:
            self.add_error("grid", _("请选择事发网格，或填写事发地点的纬度和经度。"))
        return data
