"""Forms of the task lists (任务清单): creating a task (command portal) and the steps on a task's page (worker and
command portals). They only parse input; `analytics.services` checks scope, posts, state and text. Every form
carries a hidden `client_key`, fresh each time it is shown, so a form sent twice answers with the first result.
"""

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import User
from gongzhi.analytics.models import Task, TaskCategory
from gongzhi.analytics.models.tasklists import CLIENT_KEY_MAX_LENGTH
from gongzhi.org.models import OrgUnit
from gongzhi.web.forms import Form, MultipleDocumentField, MultiplePhotoField


def _text(label, *, required: bool = True, message=None, rows: int = 3):
    field = forms.CharField(label=label, required=required, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": rows}))
    field.error_messages["required"] = message or _("请填写说明。")
    field.error_messages["max_length"] = _("内容不能超过%(limit_value)d个字。")
    return field


def _date(label):
    field = forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))
    field.error_messages["required"] = _("请填写完成时限。")
    field.error_messages["invalid"] = _("请填写有效的日期。")
    return field


class TaskForm(Form):
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=CLIENT_KEY_MAX_LENGTH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)


class CreateTaskForm(TaskForm):
    issuing_unit = forms.ChoiceField(label=_("下达单位"))
    owner_unit = forms.ChoiceField(label=_("责任单位"))
    title = forms.CharField(label=_("任务名称"), max_length=100)
    category = forms.ChoiceField(label=_("任务类别"), choices=TaskCategory.choices, initial=TaskCategory.KEY_WORK)
    description = _text(_("任务要求"), required=False, rows=4)
    deadline = _date(_("完成时限"))
    parent = forms.ChoiceField(label=_("分解自上级任务（可选）"), required=False)

    def _choice(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def __init__(self, *args: Any, issuing: list[OrgUnit], owners: dict[int, list[OrgUnit]],
                 parents: list[Task], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["required"] = _("请填写任务名称。")
        self._choice("issuing_unit").choices = [(str(u.pk), u.name) for u in issuing]
        self._choice("owner_unit").choices = [("", _("请选择"))] + [
            (issuer.name, [(str(u.pk), u.name) for u in owners.get(issuer.pk, [])]) for issuer in issuing]
        self.fields["owner_unit"].error_messages["required"] = _("请选择责任单位。")
        self._choice("parent").choices = [("", _("无"))] + [
            (str(t.pk), f"{t.title}（{t.deadline:%Y-%m-%d}）") for t in parents]
        if len(issuing) == 1:
            self.fields["issuing_unit"].widget = forms.HiddenInput()
            self.initial.setdefault("issuing_unit", str(issuing[0].pk))
        if not parents:
            del self.fields["parent"]


class ReportForm(TaskForm):
    note = _text(_("进展情况"), message=_("请填写进展情况。"))
    percent = forms.IntegerField(label=_("完成进度（%）"), min_value=0, max_value=100,
                                 widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    photos = MultiplePhotoField(label=_("照片（可选，最多9张）"))
    documents = MultipleDocumentField(label=_("文件（可选，PDF，最多5个）"),
                                      help_text=_("如会议记录、验收材料；Word、Excel请先另存为PDF。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["percent"].error_messages.update({
            "required": _("请填写完成进度。"), "invalid": _("完成进度须在0到100之间。"),
            "min_value": _("完成进度须在0到100之间。"), "max_value": _("完成进度须在0到100之间。")})


class SubmitForm(TaskForm):
    note = _text(_("完成情况"), message=_("请填写完成情况。"))


class ConfirmForm(TaskForm):
    note = _text(_("验收意见（可选）"), required=False)


class SendBackForm(TaskForm):
    reason = _text(_("退回理由"), message=_("请填写退回的理由。"))


class CancelForm(TaskForm):
    reason = _text(_("撤销理由"), message=_("请填写撤销的理由。"))


class ExtendForm(TaskForm):
    deadline = _date(_("新的完成时限"))
    reason = _text(_("延期理由"), message=_("请填写延期的理由。"))


class AssignForm(TaskForm):
    person = forms.ChoiceField(label=_("责任人"), required=False)

    def __init__(self, *args: Any, staff: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["person"]).choices = [("", _("本单位（不指定到人）"))] + [
            (str(u.pk), u.real_name or u.username) for u in staff]
