"""Forms for the actions staff take on a case (the worker and command portals).

Each form only parses input; the case services check scope, capacity, state and notes.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.models import Case, ReturnVisit
from gongzhi.org.models import OrgUnit, UnitKind
from gongzhi.web.forms import Form


def _note(label=None, *, required: bool = False):
    field = forms.CharField(label=label or _("说明"), required=required, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    field.error_messages["required"] = _("请填写说明。")
    field.error_messages["max_length"] = _("内容不能超过%(limit_value)d个字。")
    return field


class NoteForm(Form):
    note = _note()


class DispatchForm(Form):
    lead_unit = forms.ModelChoiceField(label=_("主办单位"), queryset=OrgUnit.objects.none(),
                                       error_messages={"required": _("请选择主办单位。"),
                                                       "invalid_choice": _("请选择主办单位。")})
    assist_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"), queryset=OrgUnit.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"invalid_choice": _("请从列表中选择协办单位。"),
                        "invalid_pk_value": _("请从列表中选择协办单位。")},
        help_text=_("可多选；按住 Ctrl 键选择多个。"))
    note = _note()

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        # The holder dispatches within its own area: its departments, villages and grids.
        units = (OrgUnit.objects.filter(path__startswith=case.holder.path, is_active=True)
                 .exclude(pk=case.holder_id).order_by("kind", "path"))
        self.fields["lead_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["assist_units"].queryset = units  # type: ignore[attr-defined]
        self.fields["lead_unit"].label_from_instance = _unit_label  # type: ignore[attr-defined]
        self.fields["assist_units"].label_from_instance = _unit_label  # type: ignore[attr-defined]
        if not self.is_bound and case.category.handler_type:
            suggested = units.filter(kind=UnitKind.DEPARTMENT, department_type=case.category.handler_type).first()
            if suggested is not None:
                self.initial["lead_unit"] = suggested.pk


def _unit_label(unit: OrgUnit) -> str:
    return f"{'—' * max(0, unit.depth - 3)} {unit.name}".strip()


class DeferForm(Form):
    review_on = forms.DateField(label=_("复查日期"), widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"required": _("请填写今天以后的复查日期。"),
                                                "invalid": _("请填写今天以后的复查日期。")})
    note = _note(_("挂账原因"))


class MergeForm(Form):
    number = forms.CharField(label=_("并入的事件编号"), max_length=24,
                             error_messages={"required": _("请填写要并入的事件编号。")})
    note = _note()


class SuperviseForm(Form):
    due_at = forms.DateTimeField(label=_("督办期限"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                 error_messages={"required": _("请填写今后的督办期限。"),
                                                 "invalid": _("请填写今后的督办期限。")})
    note = _note(_("督办意见"))


class ReturnVisitForm(Form):
    method = forms.ChoiceField(label=_("回访方式"), choices=ReturnVisit.Method.choices,
                               widget=forms.RadioSelect, error_messages={
                                   "required": _("请选择回访方式。"), "invalid_choice": _("请选择回访方式。")})
    settled = forms.ChoiceField(label=_("问题是否解决"), choices=[("yes", _("已解决")), ("no", _("未解决"))],
                                widget=forms.RadioSelect, error_messages={
                                    "required": _("请选择问题是否已解决。"),
                                    "invalid_choice": _("请选择问题是否已解决。")})
    note = _note(_("回访情况"))


class ReplyForm(Form):
    follow_up = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.CharField(label=_("答复"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("请填写答复内容。")})
