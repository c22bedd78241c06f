"""Long work a person starts from a page (an import, an export), run by the task worker: `core.models.Job`.

The life of a job:
- `create_job` (in the request): the job row, queued, with its parameters and the uploaded file, stored
  privately under MEDIA "jobs/…" (served only to the owner, through `job_file`);
- `claim` (in the task): queued → running, once; a task delivered twice finds it taken and stops;
- a `Progress` reports `done` of `total` and the phase, each in its own short write, at most every
  PROGRESS_SECONDS (so a long write transaction never holds the progress back, and the page polling it sees
  it move);
- it ends `finish`ed (done, with a summary and a result or error file), `needs_choice` (a checked import with
  errors: the person fixes the file, or asks for the clean rows with `requeue`), or `fail`ed with a message
  for the person (the traceback goes to the log, never to the page).

`sweep` (a periodic task) removes the files of jobs older than KEEP_FILES (the row stays, as the record of
who exported what) and fails jobs left running without progress for STALE_AFTER (a killed worker), or still
queued after it (no worker, or a queue that lost the message).
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.files import File
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.errors import Conflict, NotFound
from gongzhi.core.files import ServedFile, served
from gongzhi.core.models import Job

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 0.5
STALE_AFTER = datetime.timedelta(minutes=30)
KEEP_FILES = datetime.timedelta(days=7)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FILE_FIELDS = ("input_file", "result_file", "error_file")


def _stored_name(extension: str) -> str:
    """A fresh, unguessable name under jobs/ (the field's upload_to adds the year and month)."""
    return f"{uuid.uuid4().hex}.{extension}"


# --------------------------------------------------------------------------------------------------- writes

@transaction.atomic
def create_job(*, owner: AbstractBaseUser, kind: str, params: Mapping[str, Any] | None = None,
               upload: IO[bytes] | None = None, input_name: str = "", extension: str = "xlsx") -> Job:
    """A queued job of `owner`, with `upload` (already checked by the caller) stored privately. The caller
    queues the task that runs it once this transaction commits."""
    job = Job(kind=kind, owner_id=owner.pk, params=dict(params or {}), input_name=input_name[:100])
    if upload is not None:
        job.input_file.save(_stored_name(extension), File(upload), save=False)
    job.save()
    return job


def claim(job_id: int) -> Job | None:
    """Mark a queued job running and return it; None when it is not queued (already taken by a task delivered
    twice, or gone), so the caller does nothing."""
    now = timezone.now()
    taken = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, progressed_at=now, done=0, total=None, phase="",
        message="")
    if taken != 1:
        return None
    return Job.objects.select_related("owner").get(pk=job_id)


class Progress:
    """`done` of `total` in `phase`, written to the job in its own short statement (outside any transaction the
    caller may be in only if the caller is not in one; import batches write progress between them) at most
    every PROGRESS_SECONDS, and at once on a new phase or `flush`."""

    def __init__(self, job: Job, *, every: float = PROGRESS_SECONDS) -> None:
        self.job_id = job.pk
        self.every = every
        self.phase = ""
        self.done = 0
        self.total: int | None = None
        self._written_at = 0.0

    def start(self, phase: str, *, total: int | None = None, done: int = 0) -> None:
        self.phase, self.total, self.done = phase, total, done
        self.flush()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if time.monotonic() - self._written_at >= self.every:
            self.flush()

    def set(self, done: int) -> None:
        self.done = done
        if time.monotonic() - self._written_at >= self.every:
            self.flush()

    def flush(self) -> None:
        total = self.total if self.total is None else max(self.total, self.done)
        Job.objects.filter(pk=self.job_id).update(done=self.done, total=total, phase=self.phase[:40],
                                                  progressed_at=timezone.now())
        self._written_at = time.monotonic()


def _save_file(job: Job, field: str, content: IO[bytes], extension: str) -> None:
    getattr(job, field).save(_stored_name(extension), File(content), save=False)


def finish(job: Job, *, summary: Mapping[str, Any], result: IO[bytes] | None = None, message: str = "",
           extension: str = "xlsx") -> None:
    """The job is done: its summary (shown on the page) and its result file, if any."""
    if result is not None:
        _save_file(job, "result_file", result, extension)
    job.status, job.summary, job.message = Job.Status.DONE, dict(summary), message[:300]
    job.finished_at = job.progressed_at = timezone.now()
    job.save(update_fields=["status", "summary", "message", "result_file", "finished_at", "progressed_at"])


def needs_choice(job: Job, *, summary: Mapping[str, Any], errors: IO[bytes], message: str = "") -> None:
    """A checked import found errors and wrote nothing: the error file, and the person's choice to come."""
    _save_file(job, "error_file", errors, "xlsx")
    job.status, job.summary, job.message = Job.Status.NEEDS_CHOICE, dict(summary), message[:300]
    job.finished_at = job.progressed_at = timezone.now()
    job.save(update_fields=["status", "summary", "message", "error_file", "finished_at", "progressed_at"])


def fail(job_id: int, message: str, *, summary: Mapping[str, Any] | None = None) -> None:
    """The job failed: `message` is for the person (what to do), never a traceback; log the cause yourself."""
    now = timezone.now()
    fields: dict[str, Any] = {"status": Job.Status.FAILED, "message": message[:300], "finished_at": now,
                              "progressed_at": now}
    if summary is not None:
        fields["summary"] = dict(summary)
    Job.objects.filter(pk=job_id).update(**fields)


def requeue(job: Job, *, params: Mapping[str, Any]) -> bool:
    """A job that `needs_choice` runs again with `params` merged in (e.g. clean rows only); False when it was
    not waiting for a choice (a repeated click), so the caller queues nothing."""
    if not job.input_file:
        raise Conflict(_("上传的文件已过期删除，请重新上传。"), code="job_files_removed")
    merged = {**job.params, **params}
    changed = Job.objects.filter(pk=job.pk, status=Job.Status.NEEDS_CHOICE).update(
        status=Job.Status.QUEUED, params=merged, done=0, total=None, phase="", finished_at=None, message="")
    if changed:
        job.refresh_from_db()
    return bool(changed)


# ---------------------------------------------------------------------------------------------------- reads

def _owner_id(user: AbstractBaseUser | AnonymousUser) -> int | None:
    return user.pk if user.is_authenticated else None


def job_for(user: AbstractBaseUser | AnonymousUser, job_id: int, *, kinds: Iterable[str] | None = None) -> Job:
    """The user's own job (of one of `kinds`, if given), else NotFound: a job is its owner's only."""
    jobs = Job.objects.filter(pk=job_id, owner_id=_owner_id(user))
    if kinds is not None:
        jobs = jobs.filter(kind__in=list(kinds))
    job = jobs.first()
    if job is None:
        raise NotFound()
    return job


def recent_jobs(user: AbstractBaseUser | AnonymousUser, *, kinds: Iterable[str], limit: int = 10) -> list[Job]:
    return list(Job.objects.filter(owner_id=_owner_id(user), kind__in=list(kinds))
                .order_by("-created_at", "-pk")[:limit])


def job_file(user: AbstractBaseUser | AnonymousUser, job_id: int, which: str, *, download_name: str) -> ServedFile:
    """The result or error file of the user's own job, as a download; NotFound otherwise (or once removed)."""
    if which not in ("result", "error"):
        raise NotFound()
    job = job_for(user, job_id)
    file: FieldFile = getattr(job, f"{which}_file")
    if not file:
        raise NotFound()
    return served(file, content_type=XLSX if (file.name or "").endswith(".xlsx") else None,
                  download_name=download_name, document=True)


# ---------------------------------------------------------------------------------------------------- sweep

@dataclass(frozen=True)
class SweepResult:
    files_removed: int
    stale_failed: int


def sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    """Remove the files of jobs created more than KEEP_FILES ago, and fail running jobs without progress for
    STALE_AFTER (their worker was killed: the person sees why and may start again). Idempotent."""
    now = now or timezone.now()
    stale = Job.objects.filter(status=Job.Status.RUNNING, progressed_at__lt=now - STALE_AFTER)
    stale_ids = list(stale.values_list("pk", flat=True))
    for job_id in stale_ids:
        logger.warning("job %s made no progress for %s; marked failed", job_id, STALE_AFTER)
    failed = Job.objects.filter(pk__in=stale_ids, status=Job.Status.RUNNING).update(
        status=Job.Status.FAILED, finished_at=now,
        message=_("任务中断（后台处理程序停止了），没有完成，请重新发起。"))
    failed += Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=now - STALE_AFTER).update(
        status=Job.Status.FAILED, finished_at=now,
        message=_("任务一直没有开始（后台处理程序没有运行），请稍后重新发起。"))
    removed = 0
    old = (Job.objects.filter(created_at__lt=now - KEEP_FILES)
           .exclude(input_file="", result_file="", error_file="")
           .exclude(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]))
    for job in old.iterator(chunk_size=200):
        for field in _FILE_FIELDS:
            file: FieldFile = getattr(job, field)
            if file:
                file.storage.delete(file.name or "")
                removed += 1
        Job.objects.filter(pk=job.pk).update(input_file="", result_file="", error_file="")
    return SweepResult(files_removed=removed, stale_failed=failed)
