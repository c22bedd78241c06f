"""/api/docs: Swagger UI from our own static files.

Ninja's default page loads Swagger UI from a CDN, which the site's Content-Security-Policy (script-src 'self')
blocks, so the page stayed blank. This one loads the copy vendored from npm under static/vendor/swagger-ui/ and
starts it from static/js/api-docs.js: no inline script, nothing from another origin.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger


class StaticSwagger(Swagger):
    template = "api/swagger.html"
    default_settings = {
        **Swagger.default_settings,
        # Swagger UI would otherwise show a badge fetched from validator.swagger.io: a request to a third party
        # from every visit.
        "validatorUrl": None,
    }

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        # json_script in the template escapes it for an HTML data block, which CSP does not treat as a script.
        return render(request, self.template, {"api": api, "swagger_settings": settings})
