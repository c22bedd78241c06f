"""Forms of the points office (积分审核, 村积分台账): the queue's filters, the three review decisions, 给予积分/扣分
and 更正. They only parse input: `points.services.awards` checks scope, policy, state, caps and text (its
messages, such as 请填写驳回原因, arrive at the field through `add_domain_error`)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit
from gongzhi.points.models import Claim, RuleItem
from gongzhi.points.services.awards import MAX_PHOTOS, REASON_MAX
from gongzhi.web.forms import Form, MultiplePhotoField

STATUS_CHOICES = [
    (Claim.Status.SUBMITTED.value, _("待审核")),
    (Claim.Status.MORE_NEEDED.value, _("待补充")),
    (Claim.Status.APPROVED.value, _("已通过")),
    (Claim.Status.REJECTED.value, _("未通过")),
]


def _reason(label: Any, *, rows: int = 3, hint: Any = "") -> forms.CharField:
    field = forms.CharField(label=label, required=False, max_length=REASON_MAX, help_text=hint,
                            widget=forms.Textarea(attrs={"rows": rows}))
    field.error_messages["max_length"] = _("内容不能超过%(limit_value)d个字。")
    return field


class QueueFilterForm(Form):
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_CHOICES, required=False)
    village = forms.ChoiceField(label=_("村(社区)"), required=False)
    scope = forms.ChoiceField(label=_("范围"), required=False,
                              choices=[("mine", _("由我审核的")), ("all", _("可查看的全部"))])

    def __init__(self, *args: Any, villages: list[OrgUnit], may_review: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: Any = [("", _("全部"))] + [(str(v.pk), v.name) for v in villages]
        self.fields["village"].choices = choices  # type: ignore[attr-defined]
        if len(villages) <= 1:
            del self.fields["village"]
        if not may_review:
            del self.fields["scope"]

    def value(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "") if self.is_valid() else ""


class DecisionForm(Form):
    """One of 通过 / 驳回 / 需补充材料: the decision is the URL's, the note the form's (required for the last two,
    by the service)."""

    note = _reason(_("审核意见（可选）"))

    LABELS = {
        "approve": (_("审核意见（可选）"), _("通过后积分即记入该户账户。")),
        "reject": (_("驳回原因"), _("群众会在消息中看到驳回原因。")),
        "more": (_("需要补充的材料"), _("写明还缺什么，群众补充后会重新提交审核。")),
    }

    def __init__(self, *args: Any, decision: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", decision)
        super().__init__(*args, **kwargs)
        label, hint = self.LABELS[decision]
        self.fields["note"].label = label
        self.fields["note"].help_text = hint
        if decision == "approve":
            self.fields["note"].widget.attrs["rows"] = 2


class AwardForm(Form):
    """给予积分 or 扣分 (one form per kind on the household page, each with its items)."""

    rule_item = forms.ChoiceField(label=_("积分事项"))
    reason = _reason(_("事由"), hint=_("写明时间、事情经过，群众会在消息中看到。"))
    photos = MultiplePhotoField(label=_("佐证照片（可选，最多%(n)d张）") % {"n": MAX_PHOTOS})
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, items: list[RuleItem], deduction: bool, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "deduct" if deduction else "give")
        super().__init__(*args, **kwargs)
        self.items = {str(i.pk): i for i in items}
        self.deduction = deduction
        groups: dict[str, list[tuple[str, str]]] = {}
        for item in items:
            groups.setdefault(item.category.name, []).append((str(item.pk), _item_label(item)))
        choices: Any = [("", _("请选择"))] + list(groups.items())
        field = self.fields["rule_item"]
        field.choices = choices  # type: ignore[attr-defined]
        field.label = _("扣分事项") if deduction else _("积分事项")
        field.error_messages["required"] = _("请选择扣分事项。") if deduction else _("请选择积分事项。")
        field.error_messages["invalid_choice"] = _("该积分事项已停用或已修改，请重新选择。")
        if deduction:
            self.fields["reason"].label = _("扣分事由")
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)

    def chosen_item(self) -> RuleItem:
        return self.items[self.cleaned_data["rule_item"]]


def _item_label(item: RuleItem) -> str:
    cap = ""
    if item.cap_count:
        cap = str(_("，%(period)s限%(n)d次")) % {"period": item.get_cap_period_display(), "n": item.cap_count}
    return f"{item.points:+d}{_('分')} · {item.name}{cap}"


class ReverseForm(Form):
    reason = _reason(_("更正原因"), hint=_("如：误操作、重复给予、事实有误。"))
