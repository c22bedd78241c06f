from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.cases import categories
from gongzhi.cases.models import CategoryKind, Rating
from gongzhi.core.errors import DomainError
from gongzhi.core.validators import normalize_id_number, normalize_phone


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's error next to the field it names, or at the top of the form."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def _id_number_field():
    return forms.CharField(label=_("身份证号"), max_length=30, widget=forms.TextInput(attrs={
        "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}))


def _phone_field():
    return forms.CharField(label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={
        "type": "tel", "autocomplete": "tel", "inputmode": "tel"}))


def _code_field():
    return forms.CharField(label=_("短信验证码"), max_length=6, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "6"}))


class _CodeLoginForm(forms.Form):
    """Shared checks: the ID and phone formats are caught here, before any service is asked."""

    use_required_attribute = False  # our own translated messages, not the browser's

    required_messages = {
        "name": _("请填写姓名。"),
        "id_number": _("请填写身份证号码。"),
        "phone": _("请填写手机号码。"),
        "code": _("请填写短信验证码。"),
        "consent": _("请阅读并同意个人信息保护说明。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name in self.required_messages:
                field.error_messages["required"] = self.required_messages[name]

    def clean_id_number(self):
        try:
            return normalize_id_number(self.cleaned_data["id_number"])
        except DomainError as err:
            raise forms.ValidationError(str(err.message)) from None

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except DomainError as err:
            raise forms.ValidationError(str(err.message)) from None


class SignupForm(_CodeLoginForm):
    name = forms.CharField(label=_("姓名"), max_length=50,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = _id_number_field()
    phone = _phone_field()
    code = _code_field()
    consent = forms.BooleanField(label=_("我已阅读并同意《个人信息保护说明》"))


class LoginForm(_CodeLoginForm):
    id_number = _id_number_field()
    phone = _phone_field()
    code = _code_field()


# ---------------------------------------------------------------------------------------------------------
# Cases: 我要说事, follow-up questions and ratings

MAX_PHOTOS = 9


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Up to MAX_PHOTOS photos from one <input type=file multiple>; the list may be empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS})
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


def category_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The resident's categories grouped by 说事类型: each type itself (when unsure) and its leaves."""
    active = categories.active()
    roots = {c.pk for c in active if c.parent_id is None and c.kind != CategoryKind.GRID_AFFAIR}
    groups = []
    for kind_node in (c for c in active if c.parent_id in roots):
        options = [(str(kind_node.pk), str(_("%(name)s（其他）") % {"name": kind_node.name}))]
        options += [(str(c.pk), c.name) for c in active if c.parent_id == kind_node.pk]
        groups.append((kind_node.name, options))
    return groups


class ReportForm(forms.Form):
    """我要说事 / 随手拍. The location is the phone's (filled in by report.js), two typed coordinates, or the
    centre of the resident's own grid — so the report works without JavaScript."""

    use_required_attribute = False

    WHERE_GRID = "grid"
    WHERE_POINT = "point"

    client_id = forms.UUIDField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    category = forms.TypedChoiceField(label=_("事件分类"), coerce=int, choices=(),
                                      error_messages={"required": _("请选择事件分类。"),
                                                      "invalid_choice": _("请选择事件分类。")})
    description = forms.CharField(label=_("要说的事"), max_length=2000,
                                  error_messages={"required": _("请填写反映的内容。"),
                                                  "max_length": _("内容不能超过%(limit_value)d个字。")},
                                  widget=forms.Textarea(attrs={"rows": 5}))
    photos = MultiplePhotoField(label=_("照片（最多9张）"))
    voice = forms.FileField(label=_("语音（可选）"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}))
    where = forms.ChoiceField(label=_("事发位置"), widget=forms.RadioSelect,
                              error_messages={"required": _("请选择事发位置。")})
    lat = forms.FloatField(label=_("纬度"), required=False, widget=forms.NumberInput(attrs={"step": "any"}),
                           error_messages={"invalid": _("请填写有效的纬度。")})
    lng = forms.FloatField(label=_("经度"), required=False, widget=forms.NumberInput(attrs={"step": "any"}),
                           error_messages={"invalid": _("请填写有效的经度。")})
    address = forms.CharField(label=_("地点说明（可选）"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"placeholder": _("如：村口老槐树旁")}))
    is_anonymous = forms.BooleanField(label=_("匿名反映（工作人员看不到您的姓名）"), required=False)

    def __init__(self, *args, grid_point: tuple[float, float] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid_point = grid_point
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("请选择")), *category_choices()]
        where = [(self.WHERE_POINT, _("我的位置（手机定位或填写坐标）"))]
        if grid_point is not None:
            where.insert(0, (self.WHERE_GRID, _("我所在的网格")))
        cast(forms.ChoiceField, self.fields["where"]).choices = where
        self.fields["where"].initial = where[0][0]

    def clean(self):
        data = super().clean()
        if data.get("where") == self.WHERE_GRID and self.grid_point is not None:
            data["lat"], data["lng"] = self.grid_point
        elif data.get("where") == self.WHERE_POINT and "lat" in data and "lng" in data:
            if data.get("lat") is None or data.get("lng") is None:
                self.add_error("lat", _("请使用手机定位，或填写事发地点的纬度和经度。"))
        return data


class FollowUpForm(forms.Form):
    use_required_attribute = False
    question = forms.CharField(label=_("我要追问"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                               error_messages={"required": _("请填写您要追问的内容。")})


class RatingForm(forms.Form):
    use_required_attribute = False
    score = forms.ChoiceField(label=_("您对办理结果满意吗？"), widget=forms.RadioSelect,
                              error_messages={"required": _("请选择满意、基本满意或不满意。"),
                                              "invalid_choice": _("请选择满意、基本满意或不满意。")})
    comment = forms.CharField(label=_("意见（不满意时必填）"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, scores: list[tuple[str, Any]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["score"]).choices = scores if scores is not None else Rating.Score.choices
