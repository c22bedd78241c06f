"""The site's URLs with the 三务公开 / 村民说事 pages wired in as the lead wires them (for this branch's tests
and browser journey until they are in the real URL confs): `publications_affairs.urlpatterns_for(guard)` in the
worker and command portals, `publications_affairs_views.urlpatterns` in the resident portal, and, where the
shared item pages are not there yet, a stand-in page that shows the kind's part the way the shared one does."""

from django.http import HttpResponse
from django.template import engines
from django.urls import URLPattern, URLResolver, include, path

from gongzhi import urls as root
from gongzhi.command import urls as command_urls
from gongzhi.publications import kinds
from gongzhi.publications.selectors import core
from gongzhi.resident import publications_affairs_views
from gongzhi.resident import urls as resident_urls
from gongzhi.web import publications_affairs
from gongzhi.worker import urls as worker_urls

handler400 = root.handler400
handler403 = root.handler403
handler404 = root.handler404
handler500 = root.handler500

_PAGE = """{% extends base %}{% block content %}
<h1>{{ publication.title }}</h1><p data-status="{{ publication.status }}">{{ publication.get_status_display }}</p>
{% include part %}{% endblock %}"""


def _stand_in(audience: str):
    def view(request, pk: int) -> HttpResponse:
        if audience == "staff":
            publication = core.managed_one(request.user, pk)
            part = f"web/publications/kinds/{publication.kind}.html"
        else:
            publication = core.readable_one(request.user, pk)
            part = f"resident/publications/kinds/{publication.kind}.html"
        template = engines["django"].from_string(_PAGE)
        context = {"publication": publication, "part": part,
                   "kind": kinds.context_for("staff" if audience == "staff" else "reader", request.user, publication)}
        return HttpResponse(template.render(context, request))

    return view


def _has(patterns: list, name: str) -> bool:
    return any(getattr(p, "name", None) == name for p in patterns)


def _portal(patterns: list, extra: list, audience: str, guard) -> list:
    stand_in = [] if _has(patterns, "publication") else [
        path("publications/<int:pk>/" if audience == "staff" else "public/<int:pk>/", guard(_stand_in(audience)),
             name="publication")]
    return stand_in + list(patterns) + extra  # after the portal's own, as the lead wires them


worker = _portal(worker_urls.urlpatterns, publications_affairs.urlpatterns_for(worker_urls.guard), "staff",
                 worker_urls.guard)
command = _portal(command_urls.urlpatterns, publications_affairs.urlpatterns_for(command_urls.guard), "staff",
                  command_urls.guard)
resident = _portal(resident_urls.urlpatterns, publications_affairs_views.urlpatterns, "reader",
                   lambda view: view)

_REPLACED = {"worker/": (worker, "worker"), "command/": (command, "command"), "": (resident, "resident")}
urlpatterns: list[URLPattern | URLResolver] = []
for pattern in root.urlpatterns:
    route = str(pattern.pattern)
    if isinstance(pattern, URLResolver) and route in _REPLACED and getattr(pattern, "namespace", None):
        urlpatterns.append(path(route, include(_REPLACED[route])))
    else:
        urlpatterns.append(pattern)
