"""Recording a full ledger check (the command, the nightly task, a press of 立即核验) and raising the alarm
when it fails.

A check started from the page runs in the request while the ledger is short (`SYNC_ENTRIES`: about 1.5 s at
the ~5 µs per entry measured on SQLite), else as a background `core.Job` run by the task worker; one that is
already queued or running is answered instead of starting another.
"""

from __future__ import annotations

import functools
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core import jobs
from gongzhi.core.errors import NotFound
from gongzhi.core.models import Job
from gongzhi.points import notices, policies
from gongzhi.points.models import LedgerCheck, LedgerHead
from gongzhi.points.selectors.integrity import LedgerReport, verify_ledger

logger = logging.getLogger(__name__)

LEDGER_CHECK_JOB = "points.ledger_check"
# Up to this many entries a check started from the page runs in the request.
SYNC_ENTRIES = 300_000


def run_check() -> tuple[LedgerReport, LedgerCheck]:
    started = timezone.now()
    report = verify_ledger()
    with transaction.atomic():
        check = LedgerCheck.objects.create(started_at=started, seconds=round(report.seconds, 3),
                                           entries=report.entries, ok=report.ok, problems=report.problems)
        if not report.ok:
            problems = report.problems
            transaction.on_commit(lambda: notices.ledger_broken(problems))
    return report, check


def start_check(*, actor: User) -> LedgerCheck | Job:
    """立即核验: the check's record when it ran at once, else the background job running it (a new one, or the
    one already queued or running: pressing twice starts one check)."""
    if not policies.may_check_ledger(actor):
        raise NotFound()
    running = Job.objects.filter(kind=LEDGER_CHECK_JOB, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).first()
    if running is not None:
        return running
    head = LedgerHead.objects.filter(pk=1).first()
    if (head.last_seq if head else 0) <= SYNC_ENTRIES:
        return run_check()[1]
    return _queue(actor)


@transaction.atomic
def _queue(actor: User) -> Job:
    job = jobs.create_job(owner=actor, kind=LEDGER_CHECK_JOB)
    from gongzhi.points import tasks  # tasks.py imports this module

    transaction.on_commit(functools.partial(tasks.run_ledger_check, job.pk), robust=True)
    return job


def run_check_job(job_id: int) -> None:
    """The task body of a check started from the page."""
    job = jobs.claim(job_id)
    if job is None:
        return
    try:
        report, check = run_check()
    except Exception:
        logger.exception("ledger check job %s failed", job_id)
        jobs.fail(job_id, _("账本核验未能完成，请稍后重试或联系系统管理员。"))
        return
    jobs.finish(job, summary={"check": check.pk, "ok": report.ok, "entries": report.entries})
