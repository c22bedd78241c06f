"""The site's URLs with the library and volunteer pages added to each portal, as the lead wires them
(`*publications_library.urlpatterns_for(guard)` in the worker and command portals,
`*library_views.urlpatterns` in the resident portal). Used by this helper's web tests and browser journey
until the wiring is merged; harmless afterwards (the names are then simply defined twice, the first wins)."""

from django.urls import include, path

from gongzhi import urls as root
from gongzhi.command import urls as command
from gongzhi.resident import library_views
from gongzhi.resident import urls as resident
from gongzhi.web import publications_library
from gongzhi.worker import urls as worker

handler400 = root.handler400
handler403 = root.handler403
handler404 = root.handler404
handler500 = root.handler500

_PORTALS = {"worker/": (worker, publications_library.urlpatterns_for(worker.guard)),
            "command/": (command, publications_library.urlpatterns_for(command.guard)),
            "": (resident, library_views.urlpatterns)}


def _with_ours(pattern):
    route = str(pattern.pattern)
    if route in _PORTALS and hasattr(pattern, "url_patterns"):
        module, ours = _PORTALS[route]
        return path(route, include((list(ours) + list(module.urlpatterns), module.app_name)))
    return pattern


urlpatterns = [_with_ours(p) for p in root.urlpatterns]
