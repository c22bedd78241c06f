"""Forms of the worker portal's field work (巡查走访): starting and ending a patrol, a visit (走访登记) and a cadre's
village visit (干部进村走访). Each carries a fresh client key, so a form sent twice records once."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit
from gongzhi.registry.models import Visit
from gongzhi.registry.services import patrols, visits
from gongzhi.web.forms import Form, MultipleFileInput, MultiplePhotoField


class StartPatrolForm(Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput)
    grid = forms.TypedChoiceField(label=_("巡查网格"), coerce=int, widget=forms.RadioSelect,
                                  error_messages={"required": _("请选择巡查的网格。"),
                                                  "invalid_choice": _("请选择巡查的网格。")})

    def __init__(self, *args, grids: list[OrgUnit], **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["grid"])
        field.choices = [(g.pk, f"{g.parent.name if g.parent else ''} {g.name}".strip()) for g in grids]
        if len(grids) == 1:
            field.initial = grids[0].pk
            field.widget = forms.HiddenInput()


class EndPatrolForm(Form):
    note = forms.CharField(label=_("巡查情况（可选）"), required=False, max_length=patrols.NOTE_MAX,
                           error_messages={"max_length": _("巡查情况不能超过%(limit_value)d个字。")},
                           widget=forms.Textarea(attrs={"rows": 3,
                                                        "placeholder": _("如：巡查3个组，发现并上报1件问题")}))


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


class VisitForm(VisitFormBase):
    """走访登记: a household, or a place (a registered house or unit, or one named in `place`)."""

    field_order = ["client_key", "target", "place", "notes", "visited_at", "photos"]

    target = forms.CharField(required=False, widget=forms.HiddenInput)
    place = forms.CharField(label=_("或填写场所名称/地点"), max_length=100, required=False)


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


def visit_kinds() -> list[tuple[str, str]]:
    """The kinds a grid worker records from the 走访登记 page (key-person visits: the key-person pages)."""
    return [(k, str(label)) for k, label in Visit.Kind.choices if k in (Visit.Kind.HOUSEHOLD, Visit.Kind.PLACE)]
