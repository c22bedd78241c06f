"""/api/docs serves Swagger UI from the vendored static files: nothing from another origin, no inline script, so
the site's Content-Security-Policy lets it run."""

import json
import re

from django.conf import settings
from django.contrib.staticfiles import finders

VENDORED = ["vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css",
            "vendor/swagger-ui/LICENSE", "vendor/swagger-ui/NOTICE", "vendor/swagger-ui/VERSION",
            "js/api-docs.js"]


def test_the_docs_page_loads_only_our_own_static_files(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(?:https?:)?//[\w.-]+\.[a-z]", html), "no URL of another origin"
    for asset in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css", "js/api-docs.js"):
        assert f"{settings.STATIC_URL}{asset}" in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert [attrs for attrs, body in scripts if body.strip()] == [' id="swagger-settings" type="application/json"']
    assert all("src=" in attrs for attrs, body in scripts if not body.strip())
    config = json.loads(re.search(r'id="swagger-settings"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["url"] == "/api/openapi.json" and config["validatorUrl"] is None
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_the_vendored_files_exist_and_are_served(client):
    for asset in VENDORED:
        assert finders.find(asset), asset
    bundle = client.get(settings.STATIC_URL + "vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert b"SwaggerUIBundle" in b"".join(bundle.streaming_content if bundle.streaming else [bundle.content])
