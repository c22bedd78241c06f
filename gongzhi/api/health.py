"""GET /healthz for load balancers and monitoring: database reachable? task worker alive? No personal data."""

from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gongzhi.core.models import ServiceHeartbeat


def _version() -> str:
    try:
        return version("gongzhi")
    except PackageNotFoundError:  # running from a source tree that was never pip-installed
        return "unknown"


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def check_worker() -> dict:
    try:
        last_seen = (
            ServiceHeartbeat.objects.filter(name="worker").values_list("last_seen", flat=True).first()
        )
    except DatabaseError:  # reachable but not migrated yet
        return {"ok": False, "last_seen": None}
    fresh = last_seen is not None and timezone.now() - last_seen <= timedelta(
        seconds=settings.WORKER_STALE_SECONDS
    )
    return {"ok": fresh, "last_seen": timezone.localtime(last_seen).isoformat() if last_seen else None}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = {"ok": check_database(), "vendor": connection.vendor}
    if not database["ok"]:
        worker = {"ok": False, "last_seen": None}
        status, http_status = "error", 503
    else:
        worker = check_worker()
        status, http_status = ("ok" if worker["ok"] else "degraded"), 200
    return JsonResponse(
        {"status": status, "database": database, "worker": worker, "version": _version()},
        status=http_status,
    )
