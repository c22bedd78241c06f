"""Pages and API answers leave gzipped; photos, voice notes and other downloads leave as they are."""

import gzip

import pytest
from django.http import FileResponse, HttpResponse, JsonResponse
from django.test import RequestFactory

from gongzhi.web.compression import GZipMiddleware, is_compressible

PHONE_ASKS = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.mark.django_db
def test_a_page_is_gzipped_when_the_browser_accepts_it(client):
    response = client.get("/signup/", **PHONE_ASKS)
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    page = gzip.decompress(response.content).decode()
    assert "<form" in page and int(response["Content-Length"]) == len(response.content)
    assert len(response.content) < len(page.encode()) / 2


@pytest.mark.django_db
def test_json_is_gzipped_and_nothing_is_without_accept_encoding(client):
    api = client.get("/api/openapi.json", **PHONE_ASKS)
    assert api["Content-Encoding"] == "gzip" and b'"openapi"' in gzip.decompress(api.content)
    plain = client.get("/signup/")
    assert not plain.has_header("Content-Encoding") and b"<form" in plain.content


def test_the_random_padding_makes_the_same_page_differ_in_length():
    """Django's BREACH mitigation (a random file name in the gzip header) is kept."""
    page = ("<p>" + "共治 " * 500 + "</p>").encode()
    middleware = GZipMiddleware(lambda request: HttpResponse(page))
    lengths = {len(middleware(RequestFactory().get("/", **PHONE_ASKS)).content) for _ in range(20)}
    assert len(lengths) > 1


@pytest.mark.parametrize("content_type", ["image/jpeg", "audio/webm", "application/octet-stream",
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"])
def test_downloads_that_are_compressed_already_are_left_alone(tmp_path, content_type):
    path = tmp_path / "file"
    path.write_bytes(b"\0" * 10_000)  # would compress well: the type alone decides

    def download(request):
        return FileResponse(path.open("rb"), content_type=content_type)

    response = GZipMiddleware(download)(RequestFactory().get("/", **PHONE_ASKS))
    assert not response.has_header("Content-Encoding")
    assert response["Content-Length"] == "10000"
    assert b"".join(response.streaming_content) == b"\0" * 10_000


def test_what_counts_as_text():
    for text in ["text/html; charset=utf-8", "text/csv", "application/json", "application/geo+json",
                 "image/svg+xml", "TEXT/PLAIN"]:
        assert is_compressible(text), text
    for binary in ["image/jpeg", "image/png", "audio/mp4", "application/zip", "application/pdf", ""]:
        assert not is_compressible(binary), binary
    assert GZipMiddleware(lambda request: JsonResponse({"a": "b" * 500}))(
        RequestFactory().get("/", **PHONE_ASKS))["Content-Encoding"] == "gzip"
