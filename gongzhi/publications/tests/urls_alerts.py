"""The project's URLs with this kind's own page added the way the lead wires it (tests only): the staff portals'
alert status fragment."""

from django.urls import URLResolver, include, path

from gongzhi import urls as project
from gongzhi.command import urls as command_urls
from gongzhi.web import publications_alerts
from gongzhi.worker import urls as worker_urls

_REPLACED = {"worker", "command"}

urlpatterns = [
    *[p for p in project.urlpatterns if not (isinstance(p, URLResolver) and p.app_name in _REPLACED)],
    path("worker/", include((worker_urls.urlpatterns + publications_alerts.urlpatterns_for(worker_urls.guard),
                             "worker"))),
    path("command/", include((command_urls.urlpatterns + publications_alerts.urlpatterns_for(command_urls.guard),
                              "command"))),
]
