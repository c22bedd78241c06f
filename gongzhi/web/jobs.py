"""A long job's page (`core.models.Job`: an import, an export), shared by the worker and command portals: the
progress bar while it runs (js/status-poll.js asks for the status fragment every second and stops once the job is
over; without JavaScript the page has a link to look again), then the outcome: the summary, the result and the
error workbook to download, and for an import with errors the choice to import the clean rows.

Only the job's owner sees it (`core.jobs.job_for`; anyone else gets 404). `urlpatterns_for(guard)` gives a
portal these URLs behind its own guard.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core import jobs
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.models import Job
from gongzhi.registry.excel import services as registry_io
from gongzhi.registry.excel.columns import RECORD_TYPES
from gongzhi.web.files import file_response
from gongzhi.web.portals import portal_of


@dataclass(frozen=True)
class JobView:
    job: Job
    title: str
    is_import: bool
    back_url_name: str  # the page the job was started from, in the portal's namespace

    @property
    def summary(self) -> dict[str, Any]:
        return self.job.summary

    @property
    def offers_clean_rows(self) -> bool:
        return (self.is_import and self.job.status == Job.Status.NEEDS_CHOICE and bool(self.job.input_file)
                and self.job.summary.get("clean_rows", 0) > 0)


def describe(job: Job) -> JobView:
    """What a job is, in words, for its page and for lists of jobs."""
    record_type = RECORD_TYPES.get(job.params.get("record_type", ""))
    label = str(record_type.label) if record_type else ""
    if job.kind == registry_io.IMPORT:
        return JobView(job, _("导入%(type)s") % {"type": label}, True, "registry_io")
    if job.kind == registry_io.EXPORT:
        return JobView(job, _("导出%(type)s") % {"type": label}, False, "registry_io")
    return JobView(job, job.kind, False, "home")


def _context(request, job: Job) -> dict[str, Any]:
    return {"view": describe(job), "job": job}


@never_cache
def job_page(request, job_id: int):
    job = jobs.job_for(request.user, job_id)
    return render(request, portal_of(request).templates("job.html"), _context(request, job))


@never_cache
def job_status(request, job_id: int):
    """The status fragment the page polls."""
    job = jobs.job_for(request.user, job_id)
    return render(request, "web/_job_status.html", _context(request, job))


def job_file(request, job_id: int, which: str):
    """The result (结果) or error (错误清单) workbook of the user's own job."""
    if which not in ("result", "error"):
        raise Http404
    job = jobs.job_for(request.user, job_id)
    return file_response(jobs.job_file(request.user, job.pk, which,
                                       download_name=registry_io.download_name(job, which)))


def job_clean_rows(request, job_id: int):
    """只导入无误的行: the checked import runs again and writes its clean rows."""
    try:
        registry_io.import_clean_rows(actor=request.user, job_id=job_id)
    except NotFound:
        raise
    except DomainError as err:
        messages.error(request, str(err.message))
    return redirect(f"{portal_of(request).name}:job", job_id=job_id)


def urlpatterns_for(guard: Callable) -> list[URLPattern]:
    return [
        path("jobs/<int:job_id>/", guard(job_page), name="job"),
        path("jobs/<int:job_id>/status/", guard(job_status), name="job_status"),
        path("jobs/<int:job_id>/clean-rows/", require_POST(guard(job_clean_rows)), name="job_clean_rows"),
        path("jobs/<int:job_id>/files/<str:which>/", guard(job_file), name="job_file"),
    ]
