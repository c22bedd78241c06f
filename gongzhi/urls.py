from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from gongzhi.api.health import healthz
from gongzhi.api.main import api

handler403 = "gongzhi.web.errors.permission_denied"
handler404 = "gongzhi.web.errors.page_not_found"

# Tried in order on every request: the API (the busiest, phones syncing) first, the resident portal's
# root-level pages last.
urlpatterns = [
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("worker/", include("gongzhi.worker.urls")),
    path("command/", include("gongzhi.command.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("gongzhi.resident.urls")),
]

if settings.SERVE_MEDIA:  # the demo; production lets nginx serve MEDIA_ROOT
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
