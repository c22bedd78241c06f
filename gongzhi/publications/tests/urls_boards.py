"""The project's URLs with the 红黑榜 and 建言献策 pages added to the worker, command and resident portals, as
the lead wires them (`publications_boards.urlpatterns_for(guard)`, `boards_views.urlpatterns`): for the tests of
this branch, before the wiring is merged. Once merged, the duplicates are harmless (the first match wins)."""

from django.urls import URLResolver, include, path

from gongzhi import urls as project
from gongzhi.command import urls as command_urls
from gongzhi.resident import boards_views
from gongzhi.resident import urls as resident_urls
from gongzhi.web import publications_boards
from gongzhi.worker import urls as worker_urls

handler400 = project.handler400
handler403 = project.handler403
handler404 = project.handler404
handler500 = project.handler500


def _with(module, extra):  # type: ignore[no-untyped-def]
    return (list(module.urlpatterns) + list(extra), module.app_name)


_PORTALS = ("worker", "command", "resident")
urlpatterns = [
    path("worker/", include(_with(worker_urls, publications_boards.urlpatterns_for(worker_urls.guard)))),
    path("command/", include(_with(command_urls, publications_boards.urlpatterns_for(command_urls.guard)))),
    *[p for p in project.urlpatterns if not (isinstance(p, URLResolver) and p.namespace in _PORTALS)],
    path("", include(_with(resident_urls, boards_views.urlpatterns))),
]
