from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.web.forms import Form


class StaffLoginForm(Form):
    username = forms.CharField(label=_("用户名"), max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}))
    password = forms.CharField(label=_("密码"), max_length=128, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    totp_code = forms.CharField(label=_("动态口令"), max_length=8, required=False,
                                help_text=_("打开身份验证器应用，输入其中显示的6位数字。"),
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                              "inputmode": "numeric"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = _("请填写用户名。")
        self.fields["password"].error_messages["required"] = _("请填写密码。")


class TotpConfirmForm(Form):
    code = forms.CharField(label=_("验证器中显示的6位数字"), max_length=8, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages["required"] = _("请填写验证器中显示的6位数字。")
