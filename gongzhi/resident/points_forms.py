"""The forms of the resident's points pages: 申请积分, 补充材料, 兑换. Each carries a one-time client key, so a
form sent twice (a double tap, a retry on a weak signal) makes one claim or one redemption."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.points.services.awards import MAX_PHOTOS, NOTE_MAX
from gongzhi.points.services.redemptions import MAX_QUANTITY
from gongzhi.web.forms import Form, MultipleFileInput, MultiplePhotoField

CLIENT_KEY_MAX = 64


def _photos_field() -> MultiplePhotoField:
    # No `capture`: the evidence is often a photo taken before (a certificate, an activity), from the album.
    return MultiplePhotoField(label=_("照片（最多6张）"), widget=MultipleFileInput(attrs={"accept": "image/*"}))


class _KeyedForm(Form):
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=CLIENT_KEY_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)


class _PhotosForm(_KeyedForm):
    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS})
        return photos


class ClaimForm(_PhotosForm):
    note = forms.CharField(label=_("事迹说明"), max_length=NOTE_MAX,
                           error_messages={"required": _("请简要说明事迹。"),
                                           "max_length": _("内容不能超过%(limit_value)d个字。")},
                           widget=forms.Textarea(attrs={"rows": 4}))
    photos = _photos_field()


class SupplementForm(_PhotosForm):
    note = forms.CharField(label=_("补充说明"), max_length=NOTE_MAX,
                           error_messages={"required": _("请填写补充说明。"),
                                           "max_length": _("内容不能超过%(limit_value)d个字。")},
                           widget=forms.Textarea(attrs={"rows": 3}))
    photos = _photos_field()


class HoldForm(_KeyedForm):
    quantity = forms.TypedChoiceField(label=_("兑换数量"), coerce=int,
                                      error_messages={"required": _("请选择兑换数量。"),
                                                      "invalid_choice": _("请选择兑换数量。")})

    def __init__(self, *args, most: int = MAX_QUANTITY, **kwargs):
        super().__init__(*args, **kwargs)
        # What the shelf holds (never fewer choices than one, so the form still shows when it is empty).
        field = self.fields["quantity"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(n, str(n)) for n in range(1, max(1, min(most, MAX_QUANTITY)) + 1)]
