"""Import and export of the registry (一标三实) as Excel workbooks, run as background jobs (`core.jobs`).

Import = check, then write. Every row is checked first (the cells, the file-wide rules: duplicates, one head and
one grid per household; then the database's say a chunk at a time: people, households, addresses registered
where the importer may not write). With errors nothing is written: the job ends `needs_choice` with the list of
errors as a workbook, and the person fixes the file or asks for the clean rows (`import_clean_rows`: the rows of
a household with any bad row stay out as a whole). Without errors, or on that choice, the staged rows are
written a chunk at a time, each chunk its own short transaction (on SQLite a minute-long write would hold up
every other writer), as upserts by natural key: a run that stopped half way is completed by importing the same
file again, and a file imported twice changes nothing the second time (no history rows either).

Export: the template's columns for an area of the person's bulk scope. Full ID and phone numbers only with the
`accounts.unmask_pii` permission and a reason (one `PiiAccessLog` row, subject "export", the job's id);
otherwise masked, with a line on top saying the file cannot be imported again.

Who: `registry.policies.can_import_or_export` (the village administrator, dispatchers, the system
administrator); rows for grids outside `can_bulk_write` are row errors, the same as unknown grids.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import tempfile
import time
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.core import jobs
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.models import Job, PiiAccessLog
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry import policies
from gongzhi.registry.excel import places, population, workbooks
from gongzhi.registry.excel.base import Importer
from gongzhi.registry.excel.columns import RECORD_TYPES, RecordType
from gongzhi.registry.excel.context import Grids
from gongzhi.registry.excel.reading import FileProblem, open_sheet

logger = logging.getLogger(__name__)

IMPORT = "registry.import"
EXPORT = "registry.export"
KINDS = (IMPORT, EXPORT)
IMPORTERS: dict[str, type[Importer]] = {
    "population": population.PopulationImport, "addresses": places.AddressesImport,
    "houses": places.HousesImport, "establishments": places.EstablishmentsImport,
}
# Shown on the page next to the error list; the file holds them all.
FIRST_ERRORS = 20
# Offered as export areas without listing every grid of a county (a village's page lists its grids).
MAX_GRID_CHOICES = 300
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # .xls and old WPS files


def record_type_of(key: str) -> RecordType:
    found = RECORD_TYPES.get(key)
    if found is None:
        raise DomainError(_("请选择记录类型。"), field="record_type")
    return found


def _allowed(user: User) -> None:
    if not policies.can_import_or_export(user):
        raise NotFound()


# ------------------------------------------------------------------------------------------------ reads

def template_file(*, user: User, record_type: str) -> IO[bytes]:
    """The empty template of a record type (for anyone who may import)."""
    _allowed(user)
    return workbooks.template(record_type_of(record_type))


def max_upload_mb() -> int:
    limit: int = settings.REGISTRY_IMPORT_MAX_BYTES
    return limit // (1024 * 1024)


def export_areas(user: User) -> list[OrgUnit]:
    """The areas `user` may export: their bulk scope's units down to villages, and grids too when there are few."""
    _allowed(user)
    units = OrgUnit.objects.filter(policies.bulk_q(user, "path"), kind=UnitKind.AREA, is_active=True)
    if units.filter(level=Level.GRID).count() > MAX_GRID_CHOICES:
        units = units.exclude(level=Level.GRID)
    return list(units.order_by("path"))


def download_name(job: Job, which: str) -> str:
    """The file name a job's result or error file is offered under."""
    record_type = RECORD_TYPES.get(job.params.get("record_type", ""))
    label = record_type.sheet if record_type else ""
    day = timezone.localtime(job.created_at).strftime("%Y%m%d")
    if which == "error":
        stem = (job.input_name or label).rsplit(".", 1)[0]
        return f"{stem}_错误清单.xlsx"
    area = job.summary.get("area", "")
    return f"{label}_{area}_{day}.xlsx" if area else f"{label}_{day}.xlsx"


# ------------------------------------------------------------------------------------------------ writes

def _enqueue(task_name: str, job_id: int) -> None:
    from gongzhi.registry import tasks  # tasks.py imports this module

    transaction.on_commit(functools.partial(getattr(tasks, task_name), job_id), robust=True)


def _check_upload(upload: IO[bytes]) -> None:
    limit: int = settings.REGISTRY_IMPORT_MAX_BYTES
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > limit:
        raise DomainError(_("文件太大，不能超过%(n)dMB；请分成几个文件导入。") % {"n": max_upload_mb()}, field="file")
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    if not head:
        raise DomainError(_("文件是空的，请重新选择。"), field="file")
    if head == _OLE:
        raise DomainError(_("这是旧版Excel（.xls）文件，请在Excel或WPS中“另存为”.xlsx格式后再上传。"), field="file")
    if head != _ZIP:
        raise DomainError(_("请上传Excel工作簿（.xlsx）。"), field="file")


@transaction.atomic
def start_import(*, actor: User, record_type: str, upload: IO[bytes], file_name: str) -> Job:
    """Queue the import of `upload` (an .xlsx file) as `record_type`; the job's page follows it."""
    _allowed(actor)
    kind = record_type_of(record_type)
    _check_upload(upload)
    job = jobs.create_job(owner=actor, kind=IMPORT, params={"record_type": kind.key}, upload=upload,
                          input_name=file_name.replace("/", "_").replace("\\", "_")[-100:])
    _enqueue("run_import", job.pk)
    return job


@transaction.atomic
def import_clean_rows(*, actor: User, job_id: int) -> Job:
    """只导入无误的行: the checked import `job_id` runs again, writing the rows without errors (and no row of a
    household with a bad row). A repeated click queues nothing more."""
    _allowed(actor)
    job = jobs.job_for(actor, job_id, kinds=[IMPORT])
    if job.status != Job.Status.NEEDS_CHOICE:
        raise Conflict(_("该导入任务不在待选择状态。"), code="job_not_waiting")
    if not job.summary.get("clean_rows"):
        raise DomainError(_("文件中没有无误的行可以导入。"), code="nothing_clean")
    if jobs.requeue(job, params={"clean_rows_only": True}):
        _enqueue("run_import", job.pk)
    return job


@transaction.atomic
def start_export(*, actor: User, record_type: str, area_id: int | None, full_numbers: bool = False,
                 reason: str = "") -> Job:
    """Queue the export of `record_type` for `area_id` (a unit of the actor's bulk scope). With `full_numbers`,
    the permission to see full numbers and a reason are needed, and the export is logged."""
    _allowed(actor)
    kind = record_type_of(record_type)
    area = (OrgUnit.objects.filter(policies.bulk_q(actor, "path"), pk=area_id or 0, kind=UnitKind.AREA).first())
    if area is None:
        raise NotFound(_("请选择您管辖范围内的区域。"), field="area")
    full = bool(full_numbers) and kind.key != "addresses"
    if full:
        if not account_policies.can_unmask_pii(actor, area.path):
            raise Forbidden(_("您没有导出完整身份证号和手机号的权限。"), field="full_numbers")
        reason = clean_text(reason, field="reason", max_length=200,
                            required_message=_("导出完整号码须填写事由。"), too_long_message=_("事由不能超过200个字。"))
    job = jobs.create_job(owner=actor, kind=EXPORT,
                          params={"record_type": kind.key, "area_id": area.pk, "full": full})
    if full:
        PiiAccessLog.objects.create(actor=actor, subject_type="export", subject_id=job.pk, field="id_number,phone",
                                    reason=reason)
    _enqueue("run_export", job.pk)
    return job


# ------------------------------------------------------------------------------------------ the task bodies

@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Bulk work allocates millions of objects that live until it ends (a county's ID numbers, its households):
    the cyclic garbage collector would walk them again and again, a fifth of an import's time, and find nothing.
    It runs again when the work is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_import(job_id: int) -> None:
    """The import task: check every row, then write (or stop with the error list). Idempotent per queueing."""
    job = jobs.claim(job_id)
    if job is None:
        return
    started = time.perf_counter()
    try:
        with _no_cycle_collection():
            _import(job, started)
    except FileProblem as problem:
        jobs.fail(job.pk, str(problem.message))
    except Exception:
        logger.exception("registry import job %s failed", job.pk)
        jobs.fail(job.pk, _("导入中断，出现了意外错误，没有完成。已写入的部分可再次导入同一文件补全；"
                            "如仍失败请联系管理员。"))


def _import(job: Job, started: float) -> None:
    user: User = job.owner
    if not policies.can_import_or_export(user):
        jobs.fail(job.pk, _("您已没有导入权限。"))
        return
    kind = RECORD_TYPES[job.params["record_type"]]
    clean_only = bool(job.params.get("clean_rows_only"))
    progress = jobs.Progress(job)
    progress.start(_("读取文件"))
    read = 0
    with job.input_file.open("rb") as stored:
        sheet = open_sheet(stored.file, kind)
        importer = IMPORTERS[kind.key](user=user, job=job, grids=Grids(user), headers=sheet.headers)
        try:
            progress.start(_("检查"), total=sheet.total)
            positions = sheet.positions
            for number, raw in sheet.rows:
                width = len(raw)
                importer.check_row(number, {key: raw[i] for i, key in positions if i < width})
                read += 1
                progress.advance()
            importer.end_check()
        finally:
            sheet.close()
    try:
        errors = importer.errors
        summary: dict[str, Any] = {
            "record_type": kind.key, "rows": read, "error_rows": len(errors.rows), "errors": errors.count,
            "clean_rows": importer.clean_rows, "unknown_columns": sheet.unknown[:20],
            "first_errors": [[row, header, why] for row, header, _value, why in errors.sorted()[:FIRST_ERRORS]],
            "check_seconds": round(time.perf_counter() - started, 1)}
        if errors.count and not clean_only:
            message = _("发现%(n)d处错误（涉及%(rows)d行），没有导入任何数据。") % {
                "n": errors.count, "rows": len(errors.rows)}
            jobs.needs_choice(job, summary=summary, message=message,
                              errors=workbooks.error_list(errors.sorted(), truncated=errors.truncated,
                                                          total=errors.count))
            return
        progress.start(_("写入"), total=importer.clean_rows)
        result = importer.write(progress)
        summary.update(created=result.created, updated=result.updated, unchanged=result.unchanged,
                       skipped=read - importer.clean_rows if clean_only else 0,
                       history=importer.history.created + importer.history.updated,
                       seconds=round(time.perf_counter() - started, 1))
        message = (_("已导入无误的%(n)d行。") % {"n": importer.clean_rows} if clean_only
                   else _("导入完成。") if read else _("文件中没有数据行。"))
        jobs.finish(job, summary=summary, message=message)
    finally:
        importer.close()


def run_export(job_id: int) -> None:
    job = jobs.claim(job_id)
    if job is None:
        return
    try:
        with _no_cycle_collection():
            _export(job)
    except Exception:
        logger.exception("registry export job %s failed", job.pk)
        jobs.fail(job.pk, _("导出中断，出现了意外错误，没有完成。请重新导出；如仍失败请联系管理员。"))


def _export(job: Job) -> None:
    user: User = job.owner
    kind = RECORD_TYPES[job.params["record_type"]]
    full = bool(job.params.get("full"))
    area = OrgUnit.objects.filter(policies.bulk_q(user, "path"), pk=job.params.get("area_id")).first()
    if area is None or (full and not account_policies.can_unmask_pii(user, area.path)):
        jobs.fail(job.pk, _("您已没有导出该区域的权限。"))
        return
    started = time.perf_counter()
    progress = jobs.Progress(job)
    with tempfile.TemporaryFile() as file:
        if kind.key == "population":
            count = population.write_export(file, area, full=full, progress=progress)
        else:
            count = places.write_export(kind, file, area, full=full, progress=progress)
        progress.flush()
        jobs.finish(job, result=file, summary={
            "record_type": kind.key, "rows": count, "area": area.name, "full": full,
            "seconds": round(time.perf_counter() - started, 1)},
            message=_("已导出%(n)d条记录。") % {"n": count})
