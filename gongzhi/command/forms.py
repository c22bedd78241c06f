from collections import defaultdict
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.cases import categories, selectors
from gongzhi.cases.models import Category
from gongzhi.cases.selectors import Archived
from gongzhi.cases.workflow import Flag, Status
from gongzhi.core.errors import DomainError
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import normalize_phone
from gongzhi.org.models import OrgUnit
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


# The 归档 filter of 全部事件: the work list (not archived) by default.
ARCHIVE_CHOICES = ((Archived.EXCLUDE, _("未归档")), (Archived.ONLY, _("已归档")),
                   (Archived.INCLUDE, _("全部（含已归档）")))
MAX_KEYWORD_LENGTH = 50


class CaseFilterForm(Form):
    """The filters of 全部事件 and 超期事件, read from the query string. A field with bad input is shown with
    its error and left out of the filter (`case_filter`): the list is not narrowed by it, never a 500."""

    q = forms.CharField(label=_("关键词"), max_length=MAX_KEYWORD_LENGTH, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("内容或地点")}))
    status = forms.ChoiceField(label=_("状态"), required=False)
    flag = forms.ChoiceField(label=_("时限"), required=False)
    category = forms.TypedChoiceField(label=_("分类"), coerce=int, empty_value=None, required=False)
    unit = forms.TypedChoiceField(label=_("所属区域"), coerce=int, empty_value=None, required=False)
    reported_from = forms.DateField(label=_("上报日期自"), required=False, input_formats=["%Y-%m-%d"],
                                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reported_to = forms.DateField(label=_("至"), required=False, input_formats=["%Y-%m-%d"],
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    archived = forms.ChoiceField(label=_("归档"), required=False, choices=ARCHIVE_CHOICES)
    reporter = forms.RegexField(regex=r"^[0-9a-f]{64}$", required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, areas: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["status"].choices = [("", _("全部状态")), *Status.choices]  # type: ignore[attr-defined]
        fields["flag"].choices = [("", _("全部")), *Flag.choices]  # type: ignore[attr-defined]
        fields["category"].choices = [("", _("全部分类")), *category_filter_choices()]  # type: ignore[attr-defined]
        fields["unit"].choices = [("", _("全部区域")), *area_choices(areas)]  # type: ignore[attr-defined]
        self.areas = {area.pk: area for area in areas}
        messages = {
            "status": _("未知的事件状态，已忽略该条件。"), "flag": _("未知的时限标记，已忽略该条件。"),
            "category": _("未知的事件分类，已忽略该条件。"), "unit": _("所选区域不在您的管辖范围内，已忽略该条件。"),
            "archived": _("未知的归档筛选，已忽略该条件。"),
        }
        for name, message in messages.items():
            fields[name].error_messages["invalid_choice"] = message
        for name in ("reported_from", "reported_to"):
            fields[name].error_messages["invalid"] = _("请按“年-月-日”填写日期，例如 2026-03-01；已忽略该条件。")
        fields["q"].error_messages["max_length"] = _("关键词最多%(n)d个字，已忽略该条件。") % {"n": MAX_KEYWORD_LENGTH}
        fields["reporter"].error_messages["invalid"] = _("手机号查询已失效，请重新输入手机号。")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("reported_from"), data.get("reported_to")
        if start is not None and end is not None and end < start:
            self.add_error("reported_to", _("结束日期不能早于开始日期，已忽略该条件。"))
        return data

    def case_filter(self) -> selectors.CaseFilter:
        """The filter of the fields that are valid (call after `is_valid()`)."""
        data = self.cleaned_data
        return selectors.CaseFilter(
            status=data.get("status") or None, flag=data.get("flag") or None,
            archived=data.get("archived") or Archived.EXCLUDE, keyword=(data.get("q") or "").strip(),
            reporter_phone_hash=data.get("reporter") or "", category_id=data.get("category"),
            area=self.areas.get(data.get("unit") or 0), reported_from=data.get("reported_from"),
            reported_to=data.get("reported_to"))


def category_filter_choices() -> list[tuple[int, str]]:
    """Every active category, indented under its parent (a parent selects its children's cases too)."""
    active = categories.active()
    children: dict[int | None, list[Category]] = defaultdict(list)
    for category in active:
        children[category.parent_id].append(category)
    found: list[tuple[int, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for node in children[parent]:
            found.append((node.pk, "\u3000" * depth + node.name))
            walk(node.pk, depth + 1)

    walk(None, 0)
    return found


def area_choices(areas: list[OrgUnit]) -> list[tuple[int, str]]:
    """The areas of `selectors.filter_areas`, each under the one above it (indented)."""
    top = min((area.depth for area in areas), default=0)
    return [(area.pk, "\u3000" * (area.depth - top) + area.name) for area in areas]


class ReporterPhoneForm(Form):
    """找反映人: a phone number, sent by POST so that it never stands in a URL or an access log; the list is
    then shown for its keyed hash."""

    phone = forms.CharField(label=_("反映人手机号"), max_length=20, widget=forms.TextInput(
        attrs={"inputmode": "tel", "autocomplete": "off"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].error_messages["required"] = _("请填写手机号码。")

    def clean_phone(self) -> str:
        try:
            return keyed_hash(normalize_phone(self.cleaned_data["phone"]))
        except DomainError as err:
            raise forms.ValidationError(str(err.message)) from None
