"""Compressed pages and API answers for phones on a weak signal.

Static files are not compressed here: WhiteNoise (above this middleware) answers them from the .br/.gz copies
`collectstatic` made, and nginx does the same in production (docs/deploy.md). What is left are the responses
views build: HTML, JSON, and the occasional CSV or GeoJSON. Django's own GZipMiddleware does the work, gzip
at level 6 with a random-length file name in the gzip header (Django ≥ 4.2) so that a response's compressed
length leaks less about secrets in it (the BREACH attack; Django also masks its CSRF token anew each time).
Brotli would save a little more on HTML but has no such padding, so pages stay on gzip.

Only text is compressed: photos, voice notes and spreadsheets are compressed formats already, and gzipping
a file download would cost CPU and break its Content-Length and range requests for nothing.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware

COMPRESSIBLE_TYPES = frozenset({
    "application/json", "application/geo+json", "application/problem+json", "application/javascript",
    "application/xml", "application/xhtml+xml", "image/svg+xml",
})


def is_compressible(content_type: str) -> bool:
    """Whether a response of this Content-Type is worth gzipping: text of any kind and the types above."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in COMPRESSIBLE_TYPES


class GZipMiddleware(DjangoGZipMiddleware):
    """Django's GZipMiddleware, for text responses only."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not is_compressible(response.get("Content-Type", "")):
            return response
        return super().process_response(request, response)
