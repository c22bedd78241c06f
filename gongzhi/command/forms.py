from django import forms
from django.utils.translation import gettext_lazy as _


class StaffLoginForm(forms.Form):
    use_required_attribute = False  # our own translated messages, not the browser's

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


class TotpConfirmForm(forms.Form):
    use_required_attribute = False

    code = forms.CharField(label=_("验证器中显示的6位数字"), max_length=8, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages["required"] = _("请填写验证器中显示的6位数字。")


class PiiRevealForm(forms.Form):
    """Why someone asks to see a full ID or phone number: a common purpose, their own words, or both."""

    use_required_attribute = False

    # The values (not the labels) go into the access log, so it reads the same in every interface language.
    purpose = forms.ChoiceField(label=_("查看事由"), required=False, widget=forms.RadioSelect, choices=[
        ("联系工作", _("联系工作")), ("核实身份", _("核实身份")), ("处理事件", _("处理事件"))])
    reason = forms.CharField(label=_("其他事由或补充说明"), max_length=200, required=False,
                             error_messages={"max_length": _("查看事由不能超过200个字。")},
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def reason_text(self) -> str:
        return "：".join(part for part in (self.cleaned_data["purpose"], self.cleaned_data["reason"]) if part)
