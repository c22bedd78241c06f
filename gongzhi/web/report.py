"""The report page (我要说事 / 上报事件) of the resident and worker portals."""

import uuid
from typing import cast

from django import forms
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from gongzhi.cases import categories, selectors, services
from gongzhi.cases.models import CategoryKind
from gongzhi.core.errors import DomainError
from gongzhi.org import selectors as org_selectors
from gongzhi.org.models import OrgUnit
from gongzhi.registry.models import Patrol
from gongzhi.web.forms import (
    MAX_PHOTOS,
    Form,
    MultiplePhotoField,
    add_domain_error,
    category_choices,
    complaint_category_ids,
)
from gongzhi.web.portals import portal_of


class PhotoTokensField(forms.Field):
    """The tokens of the photos uploaded one by one before the form is sent (photo-upload.js); the page
    renders them back, with their thumbnails, when the form is refused. Whose they are is the service's
    to check."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return [v.strip() for v in (value or []) if isinstance(v, str) and v.strip()][:MAX_PHOTOS + 1]


class ReportFormBase(Form):
    """What every report form asks: what (category, text, photos), where (a point, a place description) and
    whether the reporter's name is hidden, with a fresh `client_id` so a retry makes no second case. The
    resident/worker form and the command centre's 代为登记 form add their own parts."""

    description_label = _("要说的事")
    anonymous_label = _("匿名反映（工作人员看不到您的姓名）")

    client_id = forms.UUIDField(widget=forms.HiddenInput)
    category = forms.TypedChoiceField(label=_("事件分类"), coerce=int, choices=(),
                                      error_messages={"required": _("请选择事件分类。"),
                                                      "invalid_choice": _("请选择事件分类。")},
                                      widget=forms.Select(attrs={"data-two-step": "",
                                                                 "data-type-label": _("事件类型"),
                                                                 "data-matter-label": _("具体事项")}))
    description = forms.CharField(max_length=2000,
                                  error_messages={"required": _("请填写反映的内容。"),
                                                  "max_length": _("内容不能超过%(limit_value)d个字。")},
                                  widget=forms.Textarea(attrs={"rows": 5}))
    photos = MultiplePhotoField(label=_("照片（最多9张）"))
    lat = forms.FloatField(label=_("纬度"), required=False, widget=forms.NumberInput(attrs={"step": "any"}),
                           error_messages={"invalid": _("请填写有效的纬度。")})
    lng = forms.FloatField(label=_("经度"), required=False, widget=forms.NumberInput(attrs={"step": "any"}),
                           error_messages={"invalid": _("请填写有效的经度。")})
    address = forms.CharField(label=_("地点说明（可选）"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"placeholder": _("如：村口老槐树旁")}))
    is_anonymous = forms.BooleanField(required=False)
    subject_unit = forms.IntegerField(label=_("被投诉单位（投诉举报时选择）"), required=False,
                                      widget=forms.Select(attrs={"data-complaint-only": ""}),
                                      error_messages={"invalid": _("请选择被投诉的单位。")})

    def __init__(self, *args, complaint_grid: OrgUnit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].label = self.description_label
        self.fields["is_anonymous"].label = self.anonymous_label
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("请选择")), *category_choices()]
        # A complaint names a unit responsible for the place; the list follows the place known so far.
        targets = selectors.complaint_targets(complaint_grid) if complaint_grid is not None else []
        widget = cast(forms.Select, self.fields["subject_unit"].widget)
        widget.choices = [("", _("请选择") if targets else _("请先确定事发位置，提交后再选择"))] + [
            (unit.pk, unit.name) for unit in targets]
        widget.attrs["data-complaint-categories"] = " ".join(str(pk) for pk in complaint_category_ids())


class ReportForm(ReportFormBase):
    """我要说事 / 随手拍. The location is the phone's (filled in by report.js), two typed coordinates, or the
    centre of the reporter's own grid — so the report works without JavaScript."""

    WHERE_GRID = "grid"
    WHERE_POINT = "point"

    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    photo_tokens = PhotoTokensField()
    voice = forms.FileField(label=_("语音（可选）"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}))
    where = forms.ChoiceField(label=_("事发位置"), widget=forms.RadioSelect,
                              error_messages={"required": _("请选择事发位置。")})

    def __init__(self, *args, grid_point: tuple[float, float] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid_point = grid_point
        where = [(self.WHERE_POINT, _("我的位置（手机定位或填写坐标）"))]
        if grid_point is not None:
            where.insert(0, (self.WHERE_GRID, _("我所在的网格")))
        cast(forms.ChoiceField, self.fields["where"]).choices = where
        self.fields["where"].initial = where[0][0]

    def clean(self):
        data = super().clean()
        if len(data.get("photo_tokens") or []) + len(data.get("photos") or []) > MAX_PHOTOS:
            self.add_error("photos", _("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS})
        if data.get("where") == self.WHERE_GRID and self.grid_point is not None:
            data["lat"], data["lng"] = self.grid_point
        elif data.get("where") == self.WHERE_POINT and "lat" in data and "lng" in data:
            if data.get("lat") is None or data.get("lng") is None:
                self.add_error("lat", _("请使用手机定位，或填写事发地点的纬度和经度。"))
        return data


def report_page(request, *, grid_point: tuple[float, float] | None,
                show_anonymous: bool, patrol: Patrol | None = None):
    """The form, then, unless confirmed, the open cases that may be the same matter — by place and by what
    they say, most alike first (`selectors.suggest_duplicates`); the reporter may follow one instead — then
    the case. A retry with the same client_id lands on the first case. A grid worker's report from the patrol
    page names the patrol (a hidden field); the case is linked to it."""
    portal = portal_of(request)
    template = portal.templates("case_report.html")
    context = {"show_anonymous": show_anonymous, "patrol": patrol}
    duplicates: list = []
    if request.method != "POST":
        form = ReportForm(initial={"client_id": uuid.uuid4()}, grid_point=grid_point,
                          complaint_grid=grid_at(grid_point))
        return render(request, template, {"form": form, **context})
    form = ReportForm(request.POST, request.FILES, grid_point=grid_point,
                      complaint_grid=grid_at(posted_point(request.POST) or grid_point))
    if form.is_valid():
        data = form.cleaned_data
        category = categories.by_id(data["category"])
        if category is None:
            form.add_error("category", _("请选择事件分类。"))
        elif not data["confirmed"]:
            duplicates = [d for d in selectors.suggest_duplicates(category=category, lat=data["lat"], lng=data["lng"],
                                                                  text=data["description"], user=request.user)
                          if d.case.client_id != data["client_id"]]
        if category is not None and not duplicates:
            try:
                case, created = services.submit_case(
                    actor=request.user, client_id=data["client_id"], category=category,
                    description=data["description"], lat=data["lat"], lng=data["lng"], address=data["address"],
                    is_anonymous=show_anonymous and data["is_anonymous"], photos=data["photos"],
                    photo_tokens=data["photo_tokens"], voice=data["voice"],
                    subject_unit=complaint_subject(category, data["subject_unit"]), patrol=patrol)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                if created:
                    messages.success(request, _("已提交，事件编号%(number)s。我们会尽快处理，进度可在这里查看。")
                                     % {"number": case.number})
                return redirect(f"{portal.name}:case", case_id=case.pk)
    if duplicates:  # shown again with "submit anyway"
        confirmed = request.POST.copy()
        confirmed["confirmed"] = "on"
        form.data = confirmed
    # Photos uploaded before stay with the form: their tokens and thumbnails are rendered back.
    tokens = request.POST.getlist("photo_tokens")[:MAX_PHOTOS]
    return render(request, template, {"form": form, "duplicates": duplicates, "files_dropped": bool(request.FILES),
                                      "pending_photos": selectors.pending_uploads(request.user, tokens),
                                      **context}, status=200 if duplicates else 422)


def posted_point(data) -> tuple[float, float] | None:
    try:
        return float(data.get("lat", "")), float(data.get("lng", ""))
    except ValueError:
        return None


def grid_at(point: tuple[float, float] | None) -> OrgUnit | None:
    """The grid at a point, for the complaint targets offered; None where there is none (or no point)."""
    if point is None:
        return None
    try:
        place = org_selectors.locate_place(*point)
    except DomainError:
        return None
    return OrgUnit.objects.filter(pk=place.grid_id).first()


def complaint_subject(category, unit_id: int | None) -> OrgUnit | None:
    """The unit a complaint names (the form always sends the field; it counts for complaints only)."""
    if category.kind != CategoryKind.COMPLAINT or unit_id is None:
        return None
    unit = OrgUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise services.unit_refused("subject_unit")
    return unit


@require_POST
def photo_upload(request):
    """One photo (multipart field `photo`) for a report being written: JSON with its token and thumbnail
    URL (201; 200 when the same photo was sent before), or the refusal (422, `detail` to show)."""
    upload = request.FILES.get("photo")
    try:
        if upload is None:
            raise DomainError(_("请选择照片。"), code="photo_missing", field="photos")
        pending, created = services.upload_photo(actor=request.user, upload=upload)
    except DomainError as err:
        return JsonResponse({"detail": str(err.message), "code": err.code, "field": err.field}, status=err.status)
    return JsonResponse({"token": pending.token, "thumbnail_url": pending.thumbnail.url},
                        status=201 if created else 200)
