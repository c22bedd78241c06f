"""Recording a full ledger check (the command and the nightly task) and raising the alarm when it fails."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from gongzhi.points import notices
from gongzhi.points.models import LedgerCheck
from gongzhi.points.selectors.integrity import LedgerReport, verify_ledger


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
