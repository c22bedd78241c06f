"""Forms for the actions taken on a case: the staff's (the worker and command portals' case page) here, the
resident's question and rating forms build on `ActionForm` too.

Each form only parses input; `services.take_action` checks scope, capacity, state and notes. A form's
cleaned data are take_action's payload (`payload()` converts what must be looked up first), and `action()`
names the workflow action it takes. Every form carries a hidden `client_key`, fresh each time it is shown,
so a form sent twice answers with the first result. A staff action with no form of its own uses `NoteForm`.
"""

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import Membership, User
from gongzhi.cases import selectors
from gongzhi.cases.models import CLIENT_KEY_MAX_LENGTH, Attachment, Case, ReturnVisit
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import DomainError
from gongzhi.org.models import Level, OrgUnit
from gongzhi.web.forms import Form, MultipleDocumentField, MultiplePhotoField


def _note(label=None, *, required: bool = False):
    field = forms.CharField(label=label or _("说明"), required=required, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    field.error_messages["required"] = _("请填写说明。")
    field.error_messages["max_length"] = _("内容不能超过%(limit_value)d个字。")
    return field


class ActionForm(Form):
    """The base of every action form: the client key, the action it takes, and its payload."""

    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=CLIENT_KEY_MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)

    def action(self, name: str) -> str:
        """The workflow action this form takes, posted as `name` (the action's own name, mostly)."""
        return name

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        """take_action's payload from the cleaned data; a lookup that fails raises DomainError."""
        return {name: value for name, value in self.cleaned_data.items()
                if name != "client_key" and name not in _PHOTO_STAGES and name != "documents"}

    def photo_uploads(self) -> list[tuple[str, Any]]:
        """The photos sent with the step, each with what it shows (处置前/处置后, or a plain photo)."""
        return [(stage, upload) for name, stage in _PHOTO_STAGES.items()
                for upload in self.cleaned_data.get(name) or ()]

    def document_uploads(self) -> list[Any]:
        """The PDF documents sent with the step."""
        return list(self.cleaned_data.get("documents") or ())


# The photo fields of a step and the Attachment.Stage each stands for.
_PHOTO_STAGES = {"photos": Attachment.Stage.NONE, "before_photos": Attachment.Stage.BEFORE,
                 "after_photos": Attachment.Stage.AFTER}


def _documents():
    return MultipleDocumentField(label=_("文件（可选，PDF，最多5个）"),
                                 help_text=_("如整改通知书、现场检查记录、调解书；Word、Excel请先另存为PDF。"))


class NoteForm(ActionForm):
    """Any step with a note and, as proof of what was done, photos and PDF documents (every step may carry
    them)."""

    note = _note()
    photos = MultiplePhotoField(label=_("照片（可选，最多9张）"))
    documents = _documents()


class CompleteForm(ActionForm):
    """办结 (or 现场答复办结): the note and the photos before and after, the grid systems' proof of handling;
    a category may require the 处置后 ones."""

    note = _note()
    before_photos = MultiplePhotoField(label=_("处置前照片"))
    after_photos = MultiplePhotoField(label=_("处置后照片"))
    documents = _documents()


class DispatchForm(ActionForm):
    lead_unit = forms.ModelChoiceField(label=_("主办单位"), queryset=OrgUnit.objects.none(),
                                       error_messages={"required": _("请选择主办单位。"),
                                                       "invalid_choice": _("请选择主办单位。")})
    lead_person = forms.ModelChoiceField(
        label=_("主办人（可选）"), queryset=User.objects.none(), required=False,
        help_text=_("派单到人：须是主办单位的工作人员；不选则由主办单位自行安排。"),
        error_messages={"invalid_choice": _("请从列表中选择主办人。")})
    assist_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"), queryset=OrgUnit.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"invalid_choice": _("请从列表中选择协办单位。"),
                        "invalid_pk_value": _("请从列表中选择协办单位。")},
        help_text=_("可多选；按住 Ctrl 键选择多个。"))
    note = _note()

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        # The holder dispatches within its own area: its departments, villages and grids; a village station
        # may also keep the matter for its own village team (自办).
        units = OrgUnit.objects.filter(path__startswith=case.holder.path, is_active=True).order_by("kind", "path")
        if case.holder.level != Level.VILLAGE:
            units = units.exclude(pk=case.holder_id)
        self.fields["lead_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["assist_units"].queryset = units  # type: ignore[attr-defined]
        self._posts = {post.user_id: post.unit.name for post in Membership.objects.staff()
                       .filter(unit__in=units).select_related("unit").order_by("unit__path", "user_id")}
        self.fields["lead_person"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(pk__in=list(self._posts)).order_by("real_name", "pk"))
        self.fields["lead_person"].label_from_instance = (  # type: ignore[attr-defined]
            lambda user: f"{self._posts[user.pk]} · {user.real_name or user.username}")
        self.fields["lead_unit"].label_from_instance = _unit_label  # type: ignore[attr-defined]
        self.fields["assist_units"].label_from_instance = _unit_label  # type: ignore[attr-defined]
        if not self.is_bound and case.grid is not None:
            suggested = selectors.suggest_handler(category=case.category, grid=case.grid)
            if suggested is not None and units.filter(pk=suggested.pk).exists():
                self.initial["lead_unit"] = suggested.pk


def _unit_label(unit: OrgUnit) -> str:
    return f"{'—' * max(0, unit.depth - 3)} {unit.name}".strip()


class DeferForm(ActionForm):
    review_on = forms.DateField(label=_("复查日期"), widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"required": _("请填写今天以后的复查日期。"),
                                                "invalid": _("请填写今天以后的复查日期。")})
    note = _note(_("挂账原因"))


class ExtensionRequestForm(ActionForm):
    """申请延期: the date asked for, and the reason (the step's note)."""

    extend_to = forms.DateField(label=_("申请延期至"), widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("办理期限延至该工作日下班时。"),
                                error_messages={"required": _("请选择申请延期至的日期。"),
                                                "invalid": _("请选择申请延期至的日期。")})
    note = _note(_("延期理由"))


class ExtensionDecisionForm(ActionForm):
    """批准延期 / 驳回延期: the decision's note (a refusal must give one)."""

    note = _note(_("审批意见"))


class MergeForm(ActionForm):
    number = forms.CharField(label=_("并入的事件编号"), max_length=24,
                             error_messages={"required": _("请填写要并入的事件编号。")})
    note = _note()

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        into = selectors.case_by_number(user, self.cleaned_data["number"])
        if into is None:
            raise DomainError(_("未找到该编号的事件，或不在您的管辖范围内。"), field="number")
        return {"merge_into": into, "note": self.cleaned_data["note"]}


class SuperviseForm(ActionForm):
    due_at = forms.DateTimeField(label=_("督办期限"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                 error_messages={"required": _("请填写今后的督办期限。"),
                                                 "invalid": _("请填写今后的督办期限。")})
    note = _note(_("督办意见"))


class ReturnVisitForm(ActionForm):
    """回访: one form for both outcomes; "settled" picks the action (confirm, or visit_failed)."""

    method = forms.ChoiceField(label=_("回访方式"), choices=ReturnVisit.Method.choices,
                               widget=forms.RadioSelect, error_messages={
                                   "required": _("请选择回访方式。"), "invalid_choice": _("请选择回访方式。")})
    settled = forms.ChoiceField(label=_("问题是否解决"), choices=[("yes", _("已解决")), ("no", _("未解决"))],
                                widget=forms.RadioSelect, error_messages={
                                    "required": _("请选择问题是否已解决。"),
                                    "invalid_choice": _("请选择问题是否已解决。")})
    note = _note(_("回访情况"))

    def action(self, name: str) -> str:
        return Action.CONFIRM if self.cleaned_data["settled"] == "yes" else Action.VISIT_FAILED

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        return {"method": self.cleaned_data["method"], "note": self.cleaned_data["note"]}


class ReplyForm(ActionForm):
    follow_up = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.CharField(label=_("答复"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("请填写答复内容。")})

    def payload(self, *, user: User, case: Case) -> dict[str, Any]:
        return {"follow_up": selectors.follow_up_of(case, self.cleaned_data["follow_up"]),
                "answer": self.cleaned_data["answer"]}
