"""Forms of the grid-worker portal's own pages: the village's identity desk (身份核验)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.web.forms import Form

_REASON_ATTRS = {"autocomplete": "off"}


class VerifyForm(Form):
    """当面核验: how the administrator made sure of the person (the reason goes into the log)."""

    reason = forms.CharField(label=_("核验方式"), max_length=200, initial=_("查验身份证原件，本人到场"),
                             error_messages={"required": _("请填写核验方式，如：查验身份证原件。")},
                             widget=forms.TextInput(attrs=_REASON_ATTRS))


class RebindForm(Form):
    """换绑手机号 for a verified resident standing at the desk with their ID card."""

    id_number = forms.CharField(label=_("身份证号"), max_length=30,
                                error_messages={"required": _("请填写身份证号码。")},
                                widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                                              "spellcheck": "false"}))
    phone = forms.CharField(label=_("新手机号"), max_length=20, error_messages={"required": _("请填写手机号码。")},
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}))
    reason = forms.CharField(label=_("换绑事由"), max_length=200, error_messages={"required": _("请填写换绑事由。")},
                             help_text=_("如：原手机丢失，本人持身份证办理。原手机号会收到短信通知。"),
                             widget=forms.TextInput(attrs=_REASON_ATTRS))
    code = forms.CharField(label=_("新手机收到的验证码"), max_length=6, required=False,
                           help_text=_("请居民读出新手机收到的6位数字。"),
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
