"""The site's URL conf and error handlers, plus views that fail on purpose in each portal and in the API
(test_errors.py): an unhandled exception, a suspicious request, a refusal."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from gongzhi.urls import handler400, handler403, handler404, handler500
from gongzhi.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def boom(request):
    raise RuntimeError("a bug")


def suspicious(request):
    raise SuspiciousOperation("a forged header")


def refused(request):
    raise PermissionDenied


urlpatterns = [
    *[path(f"{prefix}boom/{name}/", view) for prefix in ("", "worker/", "command/", "api/")
      for name, view in (("error", boom), ("suspicious", suspicious), ("refused", refused))],
    *site_urlpatterns,
]
