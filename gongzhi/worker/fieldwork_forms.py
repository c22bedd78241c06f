"""Forms of the worker portal's field work (巡查走访): starting and ending a patrol, and a visit (走访登记). Each
carries a fresh client key, so a form sent twice records once."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit
from gongzhi.registry.models import Visit
from gongzhi.registry.services import patrols
from gongzhi.web.forms import Form
from gongzhi.web.visit_forms import VisitFormBase


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


class VisitForm(VisitFormBase):
    """走访登记: a household, or a place (a registered house or unit, or one named in `place`)."""

    field_order = ["client_key", "target", "place", "notes", "visited_at", "photos"]

    target = forms.CharField(required=False, widget=forms.HiddenInput)
    place = forms.CharField(label=_("或填写场所名称/地点"), max_length=100, required=False)


def visit_kinds() -> list[tuple[str, str]]:
    """The kinds a grid worker records from the 走访登记 page (key-person visits: the key-person pages)."""
    return [(k, str(label)) for k, label in Visit.Kind.choices if k in (Visit.Kind.HOUSEHOLD, Visit.Kind.PLACE)]
