"""What every visit form asks (走访: notes, when, photos, where the phone was) and the cadre's village visit
(干部进村走访), which both portals offer. Each carries a fresh client key, so a form sent twice records once."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit
from gongzhi.registry.services import visits
from gongzhi.web.forms import Form, MultipleFileInput, MultiplePhotoField


def _visited_at_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class VisitFormBase(Form):
    """What every visit asks: what was found (notes), when (now, or up to a week back), photos, and where the
    phone was (filled in by patrol.js when it may locate)."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)
    notes = forms.CharField(label=_("走访情况"), max_length=visits.NOTES_MAX,
                            error_messages={"required": _("请填写走访情况。"),
                                            "max_length": _("内容不能超过%(limit_value)d个字。")},
                            widget=forms.Textarea(attrs={"rows": 4}))
    visited_at = forms.DateTimeField(label=_("走访时间"), required=False, widget=_visited_at_widget(),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                     help_text=_("不填为现在；可补记7天内的走访。"),
                                     error_messages={"invalid": _("请填写有效的走访时间。")})
    photos = MultiplePhotoField(label=_("照片（最多6张）"),
                                widget=MultipleFileInput(attrs={"accept": "image/*"}))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if len(data.get("photos") or []) > visits.MAX_PHOTOS:
            self.add_error("photos", _("最多上传%(n)d张照片。") % {"n": visits.MAX_PHOTOS})
        if data.get("lat") is None or data.get("lng") is None:
            data["lat"] = data["lng"] = None
        return data


class CadreVisitForm(VisitFormBase):
    """干部进村走访: the village, whom or where the cadre visited, and what was discussed."""

    field_order = ["client_key", "village", "place", "notes", "visited_at", "photos"]

    village = forms.TypedChoiceField(label=_("走访村(社区)"), coerce=int,
                                     error_messages={"required": _("请选择走访的村(社区)。"),
                                                     "invalid_choice": _("请选择走访的村(社区)。")})
    place = forms.CharField(label=_("走访对象/地点"), max_length=100,
                            error_messages={"required": _("请填写走访对象或地点。")},
                            widget=forms.TextInput(attrs={"placeholder": _("如：村两委班子、张大爷家")}))

    def __init__(self, *args, villages: list[OrgUnit], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notes"].label = _("走访内容")
        field = cast(forms.TypedChoiceField, self.fields["village"])
        field.choices = [("", _("请选择")), *[(v.pk, f"{v.parent.name if v.parent else ''} {v.name}".strip())
                                             for v in villages]]
        if len(villages) == 1:
            field.initial = villages[0].pk
