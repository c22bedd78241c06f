"""Forms of the key-person pages (重点人员) of the worker and command portals: the plan (listing a resident and
changing it), a visit (登记走访) and ending the listing (解除列管). They only parse input; the registry services
check scope, posts and text. The visit form carries a hidden `client_key`, fresh each time it is shown, so a
form sent twice records one visit."""

import uuid
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import User
from gongzhi.registry.models import KeyPersonCategory, RiskLevel, VisitFrequency
from gongzhi.registry.services import key_persons, visits
from gongzhi.web.forms import Form, MultiplePhotoField


def _text(label: Any, *, max_length: int, message: Any, rows: int = 3, required: bool = True) -> forms.CharField:
    field = forms.CharField(label=label, max_length=max_length, required=required,
                            widget=forms.Textarea(attrs={"rows": rows}))
    field.error_messages["required"] = message
    field.error_messages["max_length"] = _("内容不能超过%(limit_value)d个字。")
    return field


def frequencies_hint() -> str:
    """高风险每7天、中风险每15天、低风险每30天: the visit frequencies of the risk levels, as configured."""
    days = dict(VisitFrequency.objects.values_list("risk_level", "interval_days"))
    return "、".join(str(_("%(level)s每%(n)d天") % {"level": label, "n": days[value]})
                    for value, label in RiskLevel.choices if value in days)


class PlanForm(Form):
    categories = forms.ModelMultipleChoiceField(
        label=_("重点人员类别"), queryset=KeyPersonCategory.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个重点人员类别。"),
                        "invalid_choice": _("所选类别已停用，请重新选择。"),
                        "invalid_pk_value": _("所选类别已停用，请重新选择。")})
    risk_level = forms.ChoiceField(label=_("风险等级"), choices=RiskLevel.choices, widget=forms.RadioSelect,
                                   error_messages={"required": _("请选择风险等级。"),
                                                   "invalid_choice": _("请选择风险等级。")})
    interval_days = forms.IntegerField(
        label=_("走访间隔（天，可选）"), required=False, min_value=1, max_value=key_persons.MAX_INTERVAL_DAYS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": _("走访间隔应为1到365天。"), "min_value": _("走访间隔应为1到365天。"),
                        "max_value": _("走访间隔应为1到365天。")})
    responsible = forms.ChoiceField(label=_("责任人"), required=False)
    care_plan = _text(_("帮扶管控措施"), max_length=key_persons.CARE_PLAN_MAX, rows=4,
                      message=_("请填写帮扶管控措施。"))

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(u.pk): u for u in people}
        cast(forms.ChoiceField, self.fields["responsible"]).choices = [("", _("不指定（由本网格的网格员负责）"))] + [
            (pk, u.real_name or u.username) for pk, u in self.people.items()]
        self.fields["responsible"].error_messages["invalid_choice"] = _(
            "责任人须是该网格的网格员、网格长或村(社区)管理员。")
        hint = frequencies_hint()
        if hint:
            self.fields["interval_days"].help_text = _("不填则按风险等级：%(levels)s。") % {"levels": hint}

    def clean_responsible(self) -> User | None:
        return self.people.get(self.cleaned_data.get("responsible") or "")


class ListForm(PlanForm):
    started_on = forms.DateField(label=_("列管日期"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                 help_text=_("首次走访应在列管日期加走访间隔之前完成。"),
                                 error_messages={"invalid": _("请填写有效的日期。")})
    field_order = ["categories", "risk_level", "interval_days", "responsible", "started_on", "care_plan"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["started_on"].initial = timezone.localdate()


class VisitForm(Form):
    notes = _text(_("走访情况"), max_length=visits.NOTES_MAX, rows=4, message=_("请填写走访情况。"))
    photos = MultiplePhotoField(label=_("照片（可选，最多6张）"))
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["notes"].help_text = _("如：见到本人，近况稳定，家属配合；发现的问题及处理。")
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)


class EndForm(Form):
    reason = _text(_("解除原因"), max_length=key_persons.END_REASON_MAX, rows=2,
                   message=_("请填写解除列管的原因。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("如：社区矫正期满、经评估风险消除、已迁出本辖区。")


class SearchForm(Form):
    q = forms.CharField(label=_("姓名或身份证号"), max_length=30, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))
