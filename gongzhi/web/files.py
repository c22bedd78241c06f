"""Uploaded files (/media/<name>): every one through its owner's permission check, never straight off disk.

The URL is the file's stored name, exactly what `FieldFile.url` gives, so the templates and the API keep
writing `attachment.file.url`; the app that owns the name finds its record (an indexed lookup) and checks
its policy (`cases.selectors.stored_file`; under tasks/, a task report's files: `analytics.selectors
.stored_task_file`; under visits/, visit photos: `registry.selectors.fieldwork.stored_visit_file`; under
points/, claim and award photos: `points.selectors.files.stored_points_file`; under publications/, an item's
attachments: `publications.selectors.files.stored_publication_file`). Unknown, not the user's, malformed: 404
alike, never 403, so names cannot be probed. Only what some app explicitly answers for is served; the one
public kind is the attachments of a county's or city's published items.

With `MEDIA_ACCEL_REDIRECT` set (production behind nginx) the answer is empty and names the file under
that prefix in `X-Accel-Redirect`, an `internal` nginx location that sends it (docs/deploy.md); nginx keeps
this answer's Content-Type, Content-Disposition and Cache-Control. Unset (the demo, development, tests),
Django streams the file itself.
"""

import posixpath
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from gongzhi.analytics import selectors as analytics_selectors
from gongzhi.cases import selectors
from gongzhi.core.files import ServedFile
from gongzhi.points.selectors import files as points_files
from gongzhi.publications.selectors import files as publication_files
from gongzhi.registry.selectors import fieldwork as fieldwork_selectors


def _well_formed(name: str) -> bool:
    """A plain relative name: no "..", no absolute path, no backslash or NUL (none is ever stored, so these
    would find nothing anyway; refused before any lookup all the same)."""
    return (bool(name) and not name.startswith("/") and "\\" not in name and "\x00" not in name
            and posixpath.normpath(name) == name and ".." not in name.split("/"))


@require_safe
def media_file(request, name: str):
    if not _well_formed(name):
        raise Http404
    if name.startswith("tasks/"):
        found = analytics_selectors.stored_task_file(request.user, name)
    elif name.startswith("visits/"):
        found = fieldwork_selectors.stored_visit_file(request.user, name)
    elif name.startswith("points/"):
        found = points_files.stored_points_file(request.user, name)
    elif name.startswith("publications/"):
        found = publication_files.stored_publication_file(request.user, name)
    else:
        found = selectors.stored_file(request.user, name)
    if found is None:
        raise Http404
    return file_response(found)


def file_response(found: ServedFile) -> HttpResponseBase:
    prefix: str = settings.MEDIA_ACCEL_REDIRECT
    response: HttpResponseBase
    if prefix:
        response = HttpResponse(content_type=found.content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(found.file.name or "")
    else:
        try:
            handle = found.file.storage.open(found.file.name or "", "rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=found.content_type)
    response["Content-Disposition"] = content_disposition_header(found.as_attachment, found.download_name) or ""
    response["Cache-Control"] = f"private, max-age={found.max_age}" + (", immutable" if found.immutable else "")
    response["X-Content-Type-Options"] = "nosniff"
    return response
