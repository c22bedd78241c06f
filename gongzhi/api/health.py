"""GET /healthz for load balancers and monitoring. No personal data.

The answer is a set of named checks, each with a `status` ("ok", "degraded" or "error") and, when not ok, a
`reason`; the overall `status` is the worst of them, and HTTP 503 only for "error" (take the host out of
rotation), 200 otherwise:

    {"status": "degraded", "version": "0.1.0", "checks": {
        "database": {"status": "ok", "vendor": "sqlite"},
        "worker": {"status": "ok", "last_seen": "2026-03-02T09:29:50+08:00"},
        "writes": {"status": "degraded", "reason": "writes refused as busy 3 s ago", "last_refused": "…"}}}

A new check is a function returning such a dict, added to CHECKS. /healthz stays fast and writes nothing:
the database is asked one SELECT and, when it answers, one indexed read per check that needs it; the writes
check only stats a file (`core.writes`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gongzhi.accounts import services as account_services
from gongzhi.core import writes
from gongzhi.core.models import ServiceHeartbeat

OK, DEGRADED, ERROR = "ok", "degraded", "error"
_SEVERITY = {OK: 0, DEGRADED: 1, ERROR: 2}


def _version() -> str:
    try:
        return version("gongzhi")
    except PackageNotFoundError:  # running from a source tree that was never pip-installed
        return "unknown"


def check_database() -> dict[str, Any]:
    """Error when the database does not answer a SELECT."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            answered = cursor.fetchone() == (1,)
    except DatabaseError:
        answered = False
    if not answered:
        return {"status": ERROR, "reason": "the database does not answer", "vendor": connection.vendor}
    return {"status": OK, "vendor": connection.vendor}


def check_worker() -> dict[str, Any]:
    """Degraded when the task worker has not written its heartbeat for WORKER_STALE_SECONDS."""
    try:
        last_seen = (
            ServiceHeartbeat.objects.filter(name="worker").values_list("last_seen", flat=True).first()
        )
    except DatabaseError:  # reachable but not migrated yet
        last_seen = None
    shown = timezone.localtime(last_seen).isoformat() if last_seen else None
    if last_seen is None:
        return {"status": DEGRADED, "reason": "no task worker has been seen", "last_seen": None}
    if timezone.now() - last_seen > timedelta(seconds=settings.WORKER_STALE_SECONDS):
        return {"status": DEGRADED, "reason": f"no worker heartbeat for {settings.WORKER_STALE_SECONDS} s",
                "last_seen": shown}
    return {"status": OK, "last_seen": shown}


def check_writes() -> dict[str, Any]:
    """Degraded while a write was refused as busy (503) within the last WRITES_REFUSED_WINDOW_SECONDS."""
    ago = writes.seconds_since_write_refused()
    if ago is None or ago > settings.WRITES_REFUSED_WINDOW_SECONDS:
        return {"status": OK}
    last = timezone.localtime(datetime.now(UTC) - timedelta(seconds=ago))
    return {"status": DEGRADED, "reason": f"writes refused as busy {ago:.0f} s ago",
            "last_refused": last.isoformat(timespec="seconds")}


def check_sms() -> dict[str, Any]:
    """Degraded while a number prefix or the site's hourly SMS budget is refusing codes (someone is pumping
    SMS, or the budget is too small for the day's sign-ups)."""
    if not account_services.sms_over_limit():
        return {"status": OK}
    return {"status": DEGRADED, "reason": "SMS codes refused this hour: a number range or the hourly budget "
                                          "is spent (GONGZHI_SMS_PREFIX_LIMIT, GONGZHI_SMS_HOURLY_BUDGET)"}


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], dict[str, Any]]
    needs_database: bool = True  # not run when the database does not answer (it would fail, or hang)


# After the database check, in this order in the answer.
CHECKS: list[Check] = [
    Check("worker", check_worker),
    Check("writes", check_writes, needs_database=False),
    Check("sms", check_sms),
]


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database()}
    database_up = checks["database"]["status"] == OK
    for check in CHECKS:
        if check.needs_database and not database_up:
            checks[check.name] = {"status": ERROR, "reason": "not checked: the database does not answer"}
        else:
            checks[check.name] = check.run()
    status = max((c["status"] for c in checks.values()), key=_SEVERITY.__getitem__)
    return JsonResponse({"status": status, "checks": checks, "version": _version()},
                        status=503 if status == ERROR else 200)
