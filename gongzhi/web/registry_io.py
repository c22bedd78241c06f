"""导入导出 (一标三实): the page where the village administrator (worker portal) and the command centre's
dispatchers (command portal) download a template per record type, upload a workbook to import, start an export
of an area, and find their recent jobs. Both portals mount `urlpatterns_for(guard)`; the page is the portal's
own `registry_io.html` (a phone layout in the worker portal).

Everyone else gets 404 (`registry.policies.can_import_or_export`). An upload or an export starts a job and
goes to its page (web.jobs); bad input shows the page again with the message at the field.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from gongzhi.core import jobs
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.excel import CONTENT_TYPE
from gongzhi.org.models import Level
from gongzhi.registry import policies
from gongzhi.registry.excel import services
from gongzhi.registry.excel.columns import RECORD_TYPES
from gongzhi.web.forms import Form, add_domain_error
from gongzhi.web.jobs import describe
from gongzhi.web.portals import portal_of

RECENT_JOBS = 10
_TYPES = [(key, t.label) for key, t in RECORD_TYPES.items()]
_INDENT = {Level.CITY: 0, Level.COUNTY: 1, Level.TOWNSHIP: 2, Level.VILLAGE: 3, Level.GRID: 4}


class ImportForm(Form):
    record_type = forms.ChoiceField(label=_("记录类型"), choices=_TYPES)
    file = forms.FileField(label=_("Excel文件（.xlsx）"), error_messages={"required": _("请选择要导入的文件。")},
                           widget=forms.ClearableFileInput(attrs={
                               "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}))


class ExportForm(Form):
    record_type = forms.ChoiceField(label=_("记录类型"), choices=_TYPES)
    area = forms.TypedChoiceField(label=_("区域"), coerce=int)
    full_numbers = forms.BooleanField(label=_("导出完整身份证号和手机号"), required=False,
                                      help_text=_("不勾选时号码隐藏部分数字，文件只能查看，不能再导入。"))
    reason = forms.CharField(label=_("导出事由（导出完整号码时必填）"), max_length=200, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args: Any, areas: list, may_unmask: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        assert isinstance(area, forms.ChoiceField)
        area.choices = [(a.pk, "\u3000" * max(0, _INDENT.get(a.level, 0) - 1) + a.name)
                                       for a in areas]
        if not may_unmask:
            del self.fields["full_numbers"], self.fields["reason"]


def _allowed(request) -> None:
    if not policies.can_import_or_export(request.user):
        raise NotFound()


def _page(request, *, import_form: ImportForm | None = None, export_form: ExportForm | None = None,
          status: int = 200):
    user = request.user
    areas = services.export_areas(user)
    may_unmask = user.has_perm("accounts.unmask_pii")
    recent = [describe(job) for job in jobs.recent_jobs(user, kinds=services.KINDS, limit=RECENT_JOBS)]
    return render(request, portal_of(request).templates("registry_io.html"), {
        "record_types": RECORD_TYPES.values(),
        "import_form": import_form or ImportForm(prefix="import"),
        "export_form": export_form or ExportForm(prefix="export", areas=areas, may_unmask=may_unmask),
        "recent": recent, "max_mb": services.max_upload_mb()}, status=status)


def registry_io(request):
    _allowed(request)
    return _page(request)


def start_import(request):
    _allowed(request)
    form = ImportForm(request.POST, request.FILES, prefix="import")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.start_import(actor=request.user, record_type=form.cleaned_data["record_type"],
                                        upload=upload, file_name=upload.name or "")
        except NotFound:
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            return redirect(f"{portal_of(request).name}:job", job_id=job.pk)
    return _page(request, import_form=form, status=422)


def start_export(request):
    _allowed(request)
    user = request.user
    form = ExportForm(request.POST, prefix="export", areas=services.export_areas(user),
                      may_unmask=user.has_perm("accounts.unmask_pii"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            job = services.start_export(actor=user, record_type=data["record_type"], area_id=data["area"],
                                        full_numbers=data.get("full_numbers", False), reason=data.get("reason", ""))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            return redirect(f"{portal_of(request).name}:job", job_id=job.pk)
    return _page(request, export_form=form, status=422)


def template_download(request, record_type: str):
    if record_type not in RECORD_TYPES:
        raise NotFound()
    file = services.template_file(user=request.user, record_type=record_type)
    return FileResponse(file, as_attachment=True, content_type=CONTENT_TYPE,
                        filename=f"{RECORD_TYPES[record_type].sheet}导入模板.xlsx")


def urlpatterns_for(guard: Callable) -> list[URLPattern]:
    return [
        path("registry/io/", guard(registry_io), name="registry_io"),
        path("registry/io/import/", require_POST(guard(start_import)), name="registry_import"),
        path("registry/io/export/", require_POST(guard(start_export)), name="registry_export"),
        path("registry/io/templates/<str:record_type>/", guard(template_download), name="registry_template"),
    ]
