"""Forms of the publishing pages: an item's fields (staff), the review and withdrawal reasons, comments and their
answers (staff and residents). Each carries a hidden `client_key` where a second send must not make a second
row; the services do the checking, a refusal comes back at its field (`add_domain_error`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit
from gongzhi.publications.models import CommentMode, Publication
from gongzhi.publications.services import core
from gongzhi.web.forms import Form, MultipleFileInput

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class AttachmentField(forms.FileField):
    """Up to ATTACHMENTS_MAX photos and PDF documents from one <input type=file multiple>; may be empty (each is
    checked by `publications.services.core.add_attachments`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf,.pdf"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > core.ATTACHMENTS_MAX:
            raise forms.ValidationError(_("每条最多%(n)d个附件。") % {"n": core.ATTACHMENTS_MAX})
        return [super(AttachmentField, self).clean(f, initial) for f in files]


class KeyedForm(Form):
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=core.CLIENT_KEY_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)


class PublicationForm(KeyedForm):
    """标题, 正文, 发布单位 (when the user may write for several), 公开范围, 标签, 置顶, 评论, 公开期, 附件."""

    author_unit = forms.TypedChoiceField(label=_("发布单位"), coerce=int)
    audience_unit = forms.TypedChoiceField(label=_("公开范围"), coerce=int,
                                           help_text=_("该单位及所辖范围内的群众可以看到。"))
    title = forms.CharField(label=_("标题"), max_length=core.TITLE_MAX, error_messages={"required": _("请填写标题。")})
    body = forms.CharField(label=_("正文"), required=False, max_length=core.BODY_MAX,
                           widget=forms.Textarea(attrs={"rows": 8}))
    tags = forms.CharField(label=_("标签"), required=False, max_length=200,
                           help_text=_("用逗号或空格分隔，如：低保 医保"))
    comments = forms.ChoiceField(label=_("群众评论"), choices=CommentMode.choices)
    pinned = forms.BooleanField(label=_("置顶"), required=False)
    publish_from = forms.DateTimeField(label=_("公开开始"), required=False, widget=_datetime_input(),
                                       input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
                                       help_text=_("不填则发布后立即公开。"))
    publish_until = forms.DateTimeField(label=_("公开截止"), required=False, widget=_datetime_input(),
                                        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
                                        help_text=_("到期后群众不再看到；不填则一直公开，直到撤回。"))
    attachments = AttachmentField(label=_("附件"), help_text=_("照片或PDF文件，每条最多10个。"))

    def __init__(self, *args: Any, author_units: Sequence[OrgUnit], audience_units: Sequence[OrgUnit],
                 editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = {u.pk: u for u in [*author_units, *audience_units]}
        cast(forms.ChoiceField, self.fields["author_unit"]).choices = [(u.pk, u.name) for u in author_units]
        cast(forms.ChoiceField, self.fields["audience_unit"]).choices = [
            (u.pk, _indented(u, audience_units)) for u in audience_units]
        if editing or len(author_units) == 1:
            self.fields["author_unit"].widget = forms.HiddenInput()
        if editing:
            del self.fields["attachments"]  # added one by one on the item's page

    def unit(self, name: str) -> OrgUnit:
        return self.units[self.cleaned_data[name]]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"title": data["title"], "body": data["body"], "tags": data["tags"], "pinned": data["pinned"],
                "comments": data["comments"], "publish_from": data["publish_from"],
                "publish_until": data["publish_until"], "audience_unit": self.unit("audience_unit")}

    @staticmethod
    def initial_for(publication: Publication) -> dict[str, Any]:
        return {"author_unit": publication.author_unit_id, "audience_unit": publication.audience_unit_id,
                "title": publication.title, "body": publication.body, "tags": " ".join(publication.tag_list),
                "comments": publication.comments, "pinned": publication.pinned,
                "publish_from": publication.publish_from, "publish_until": publication.publish_until}


def _indented(unit: OrgUnit, units: Sequence[OrgUnit]) -> str:
    top = min(u.path.count("/") for u in units)
    return "\u3000" * (unit.path.count("/") - top) + unit.name


class AttachmentsForm(Form):
    attachments = AttachmentField(label=_("添加附件"), required=True, error_messages={"required": _("请选择文件。")})


class ReasonForm(Form):
    reason = forms.CharField(label=_("原因"), max_length=core.NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写原因。")})


class NoteForm(Form):
    note = forms.CharField(label=_("审核意见"), required=False, max_length=core.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(KeyedForm):
    body = forms.CharField(label=_("我要留言"), max_length=core.COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": _("请填写留言内容。")})


class AnswerForm(Form):
    answer = forms.CharField(label=_("答复"), max_length=core.ANSWER_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写答复内容。")})


class HideForm(Form):
    reason = forms.CharField(label=_("隐藏原因"), max_length=200, error_messages={"required": _("请填写隐藏原因。")})
