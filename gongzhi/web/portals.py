"""The three portals as data: their URL namespace, their chrome (base template) and where they start.

Shared pages (inbox, case page, report page, error pages) find the portal they are shown in from the
request (`portal_of`), so no view passes a base template or a namespace by hand. A portal overrides a
shared page by placing a template of the same name under its own folder (`worker/case_detail.html`
before `web/case_detail.html`).
"""

from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Portal:
    name: str    # URL namespace and template folder: "resident", "worker", "command"
    prefix: str  # URL prefix under the site root
    base: str    # the chrome every page of the portal extends

    def templates(self, name: str) -> list[str]:
        """The portal's own template of this name first, then the shared one."""
        return [f"{self.name}/{name}", f"web/{name}"]


RESIDENT = Portal("resident", "/", "resident/base.html")
WORKER = Portal("worker", "/worker/", "worker/base.html")
COMMAND = Portal("command", "/command/", "command/base.html")
PORTALS = {p.name: p for p in (RESIDENT, WORKER, COMMAND)}
# The JSON API's URLs (gongzhi/urls.py): no portal's, and its errors are JSON, never a page (web.errors).
API_PREFIX = "/api/"


def portal_of(request: HttpRequest) -> Portal:
    """The portal whose URLs the request is under: by the resolved namespace, else (a 404 before any view
    ran) by the path, the resident portal for anything else."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace in PORTALS:
        return PORTALS[match.namespace]
    for portal in (WORKER, COMMAND):
        if request.path_info.startswith(portal.prefix):
            return portal
    return RESIDENT


def section_of(request: HttpRequest) -> str:
    """The first path segment inside the portal ("cases", "messages", "" on its home): which tab is current."""
    portal = portal_of(request)
    rest = request.path_info[len(portal.prefix):] if request.path_info.startswith(portal.prefix) else ""
    return rest.split("/", 1)[0]
