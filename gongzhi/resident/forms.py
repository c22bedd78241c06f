from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.models import Rating
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import DomainError
from gongzhi.core.validators import normalize_id_number, normalize_phone
from gongzhi.web.case_forms import ActionForm
from gongzhi.web.forms import Form


def _id_number_field():
    return forms.CharField(label=_("身份证号"), max_length=30, widget=forms.TextInput(attrs={
        "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}))


def _phone_field():
    return forms.CharField(label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={
        "type": "tel", "autocomplete": "tel", "inputmode": "tel"}))


def _code_field():
    return forms.CharField(label=_("短信验证码"), max_length=6, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "6"}))


class _CodeLoginForm(Form):
    """Shared checks: the ID and phone formats are caught here, before any service is asked."""

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
# Cases: follow-up questions and ratings (the report form is the shared one of gongzhi.web.report). Like
# the staff's action forms, each carries a fresh client key, so a question or rating sent twice counts once.


class FollowUpForm(ActionForm):
    question = forms.CharField(label=_("我要追问"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                               error_messages={"required": _("请填写您要追问的内容。")})

    def action(self, name: str = "") -> str:
        return Action.FOLLOW_UP


class RatingForm(ActionForm):
    """满意/基本满意 rate the case, 不满意 is the workflow's other action (it reopens the case)."""

    score = forms.ChoiceField(label=_("您对办理结果满意吗？"), widget=forms.RadioSelect,
                              error_messages={"required": _("请选择满意、基本满意或不满意。"),
                                              "invalid_choice": _("请选择满意、基本满意或不满意。")})
    comment = forms.CharField(label=_("意见（不满意时必填）"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, scores: list[tuple[str, Any]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["score"]).choices = scores if scores is not None else Rating.Score.choices

    def action(self, name: str = "") -> str:
        return Action.RATE_UNSATISFIED if self.cleaned_data["score"] == Rating.Score.UNSATISFIED else Action.RATE
