from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from gongzhi.api.health import healthz
from gongzhi.api.main import api
from gongzhi.web.files import media_file

# Each in the look of the portal the URL is in, JSON under /api/ (gongzhi.web.errors).
handler400 = "gongzhi.web.errors.bad_request"
handler403 = "gongzhi.web.errors.permission_denied"
handler404 = "gongzhi.web.errors.page_not_found"
handler500 = "gongzhi.web.errors.server_error"

# Tried in order on every request: the API (the busiest, phones syncing) first, the resident portal's
# root-level pages last.
urlpatterns = [
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("worker/", include("gongzhi.worker.urls")),
    path("command/", include("gongzhi.command.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Uploads: each through its owner's permission check (web.files); nothing under MEDIA_ROOT is public.
    path(settings.MEDIA_URL.lstrip("/") + "<path:name>", media_file, name="media"),
    path("", include("gongzhi.resident.urls")),
]
