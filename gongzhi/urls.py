from django.contrib import admin
from django.urls import include, path

from gongzhi.api.health import healthz
from gongzhi.api.main import api

urlpatterns = [
    path("", include("gongzhi.resident.urls")),
    path("worker/", include("gongzhi.worker.urls")),
    path("command/", include("gongzhi.command.urls")),
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
