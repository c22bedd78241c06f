"""What a phone on a weak signal downloads: every resident and worker page, opened cold, ≤ 35 KB in all.

The pages are served as in production: static files collected by `gongzhi serve`'s own step
(cli.staticfiles.ensure_collected: hashed names, .gz/.br copies) and answered by WhiteNoise, not by the
test server's static handler; pages gzipped by the middleware. Each page is opened in a fresh browser context
(empty cache, only the session cookie) and the bytes Chromium received for every request it made are summed:
CDP's `Network.loadingFinished` `encodedDataLength`, the bytes on the wire (headers and the body as sent).
`pytest e2e/test_page_weight.py -s` prints the table.
"""

import os
import re
import threading
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client, override_settings
from django.test.testcases import LiveServerThread
from playwright.sync_api import expect

from gongzhi import settings as production
from gongzhi.accounts.models import Role
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories, make_resident
from gongzhi.cases.workflow import Action
from gongzhi.cli.staticfiles import ensure_collected
from gongzhi.org.factories import make_tree
from gongzhi.registry.models import Household

from .conftest import PHONE_VIEWPORT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BUDGET = 35 * 1024
# What production serves static files with (gongzhi/settings.py); the test settings serve the sources.
PRODUCTION_STATIC = {"STORAGES": production.STORAGES, "WHITENOISE_USE_FINDERS": False}


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("collected") / "static"
    with override_settings(STATIC_ROOT=root, **PRODUCTION_STATIC):
        assert ensure_collected()
        assert not ensure_collected()  # a second start finds them current and collects nothing
    return root


@pytest.fixture
def production_server(transactional_db, collected_static):
    """The base URL of a server answering every request through the whole middleware stack, /static/ too
    (pytest-django's live_server serves /static/ itself, from the sources)."""
    with override_settings(STATIC_ROOT=collected_static, DEBUG=False, **PRODUCTION_STATIC):
        shared = {conn.alias: conn for conn in connections.all()
                  if conn.vendor == "sqlite" and conn.is_in_memory_db()}
        thread = LiveServerThread("localhost", static_handler=lambda application: application,
                                  connections_override=shared)
        thread.daemon = True
        for conn in shared.values():
            conn.inc_thread_sharing()
        thread.start()
        thread.is_ready.wait()
        try:
            if thread.error:
                raise thread.error
            yield f"http://localhost:{thread.port}"
        finally:
            thread.terminate()
            # Threads answering the browser's last keep-alive connections close the shared connection as they
            # end; it must stay shareable until they have.
            for request_thread in threading.enumerate():
                if "process_request_thread" in request_thread.name:
                    request_thread.join(timeout=5)
            for conn in shared.values():
                conn.dec_thread_sharing()


def session_cookie(base_url: str, user) -> list[dict]:
    client = Client()
    client.force_login(user)
    return [{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
             "value": client.cookies[settings.SESSION_COOKIE_NAME].value}]


class Transfer:
    """The requests of one cold page load: what came back for each, and the bytes received for it."""

    def __init__(self):
        self.responses: dict[str, dict] = {}
        self.received: dict[str, int] = {}
        self.failed: list[dict] = []

    def on_response(self, event) -> None:
        response = event["response"]
        headers = {k.lower(): v for k, v in response["headers"].items()}
        self.responses[event["requestId"]] = {
            "url": response["url"], "status": response["status"], "type": response["mimeType"],
            "encoding": headers.get("content-encoding", ""), "cache": headers.get("cache-control", "")}

    def on_finished(self, event) -> None:
        self.received[event["requestId"]] = int(event["encodedDataLength"])

    def items(self) -> list[dict]:
        return [{**response, "bytes": self.received[rid]} for rid, response in self.responses.items()]

    @property
    def total(self) -> int:
        return sum(self.received.values())


def load_cold(browser, url: str, cookies: list[dict], *, shot=None, name: str = "", then=None) -> Transfer:
    """Open url in a new context and count what it downloads; `then(page)` acts on the page first."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    try:
        context.add_cookies(cookies)
        page = context.new_page()
        transfer = Transfer()
        cdp = context.new_cdp_session(page)
        cdp.on("Network.responseReceived", transfer.on_response)
        cdp.on("Network.loadingFinished", transfer.on_finished)
        cdp.on("Network.loadingFailed", lambda event: transfer.failed.append(event))
        cdp.send("Network.enable")
        page.goto(url, wait_until="networkidle")
        assert page.url == url, f"{url} went to {page.url}"  # not a login redirect
        if then:
            then(page)
        assert transfer.failed == [], transfer.failed
        assert set(transfer.received) == set(transfer.responses), "a request's size is missing"
        assert [r for r in transfer.items() if r["status"] != 200] == []
        if shot:
            shot(page, f"weight-{name}-360")
            if os.environ.get("GONGZHI_E2E_SCREENSHOTS"):
                page.set_viewport_size({"width": 1920, "height": 1080})
                shot(page, f"weight-{name}-1920")
        return transfer
    finally:
        context.close()


@pytest.fixture
def town(make_staff):
    """A resident with a case that a grid worker has to visit, and messages about it for both."""
    tree = make_tree()
    cats = make_categories()
    Household.objects.create(village=tree["village"], grid=tree["grid"], number="H001", address="小山村1号")
    resident = make_resident("res", "王秀兰", tree["grid"])
    dispatcher = make_staff("李调度", tree["town"], Role.DISPATCHER)
    handler = make_staff("赵司法", tree["justice"], Role.DEPT_HANDLER)
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    case, _created = services.submit_case(actor=resident, client_id=uuid.uuid4(), category=cats["family"],
                                          description="邻里因宅基地边界发生争执，希望村里帮忙调解。",
                                          lat=35.585, lng=104.605)
    services.transition(actor=dispatcher, case=case, action=Action.ACCEPT, note="")
    services.transition(actor=dispatcher, case=case, action=Action.DISPATCH, note="请司法所调解。",
                        lead_unit=tree["justice"])
    services.transition(actor=handler, case=case, action=Action.SIGN, note="")
    services.transition(actor=handler, case=case, action=Action.COMPLETE, note="经调解双方达成协议。")
    return {"tree": tree, "resident": resident, "worker": worker, "case": case}


def pages(town) -> list[tuple[str, str, object]]:
    """(name, path, who is signed in) for every resident and worker page."""
    case, grid = town["case"], town["tree"]["grid"]
    resident, worker = town["resident"], town["worker"]
    return [
        ("resident home, signed out", "/", None),
        ("resident login", "/login/", None),
        ("resident sign-up", "/signup/", None),
        ("privacy notice", "/privacy/", None),
        ("resident home", "/", resident),
        ("report form", "/cases/new/", resident),
        ("my cases", "/cases/", resident),
        ("resident case page", f"/cases/{case.pk}/", resident),
        ("resident messages", "/messages/", resident),
        ("staff login", "/command/login/", None),
        ("worker home", "/worker/", worker),
        ("worker grid", f"/worker/grids/{grid.pk}/", worker),
        ("worker tasks", "/worker/cases/", worker),
        ("worker case page", f"/worker/cases/{case.pk}/", worker),
        ("worker field report", "/worker/cases/report/", worker),
        ("worker messages", "/worker/messages/", worker),
        ("worker posts", "/worker/me/", worker),
    ]


def test_every_resident_and_worker_page_is_at_most_35_kb_cold(browser, production_server, town, shot):
    base = production_server
    rows = []
    for name, path, user in pages(town):
        cookies = session_cookie(base, user) if user else []
        rows.append((name, path, load_cold(browser, base + path, cookies, shot=shot, name=re.sub(r"\W+", "-", name))))
    print(f"\n{'page':<26} {'path':<22} {'requests':>8} {'bytes':>6}  {'KB':>5}")
    for name, path, transfer in rows:
        print(f"{name:<26} {path:<22} {len(transfer.received):>8} {transfer.total:>6}  {transfer.total / 1024:>5.1f}")
    heavy = [(name, transfer.total) for name, _path, transfer in rows if transfer.total > BUDGET]
    assert heavy == [], f"over {BUDGET} bytes: {heavy}"


def pick_on_map(page) -> None:
    page.get_by_label("在地图上选点").check()
    own = page.locator("#map-picker path.map-grid-own")
    expect(own).to_be_visible()
    box = own.bounding_box()
    own.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.7})
    expect(page.locator("#map-picker .leaflet-marker-icon")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the marker's images


def test_the_map_is_downloaded_only_when_the_resident_asks_for_it(browser, production_server, town):
    """Leaflet (37 KB as brotli) would not fit in the report page's budget: it comes with the 在地图上选点 choice."""
    url, cookies = production_server + "/cases/new/", session_cookie(production_server, town["resident"])
    form = load_cold(browser, url, cookies)
    with_map = load_cold(browser, url, cookies, then=pick_on_map)
    assert not [r for r in form.items() if "leaflet" in r["url"] or "report-area" in r["url"]]
    assert [r for r in with_map.items() if "report-area" in r["url"]][0]["encoding"] == "gzip"
    print(f"\nreport form {form.total} bytes; after 在地图上选点 and a tap {with_map.total} bytes in all")
    assert form.total <= BUDGET < with_map.total


def test_the_measure_counts_compressed_bytes_and_static_files_are_precompressed_and_immutable(
        browser, production_server, collected_static, town):
    transfer = load_cold(browser, production_server + "/cases/new/", session_cookie(production_server,
                                                                                      town["resident"]))
    items = transfer.items()
    print(f"\n{'/cases/new/, request by request':<58} {'bytes':>6}  encoding")
    for item in items:
        print(f"{item['url'].removeprefix(production_server):<58} {item['bytes']:>6}  {item['encoding'] or '-'}")
    html = next(r for r in items if r["type"] == "text/html")
    assert html["encoding"] == "gzip"  # the page, by the middleware (never brotli: see web/compression.py)
    css = next(r for r in items if r["type"] == "text/css")
    scripts = [r for r in items if r["type"].endswith("javascript")]
    assert {Path(r["url"]).name.split(".")[0] for r in scripts} == {"report", "map-picker", "photo-upload",
                                                                         "category-picker"}
    for item in [css, *scripts]:
        # Hashed name, cached for good, sent from the copy collectstatic compressed.
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", item["url"]), item
        assert "immutable" in item["cache"] and item["encoding"] in {"br", "gzip"}, item
    # The stylesheet counts its compressed bytes (plus its headers), far fewer than the file itself.
    name = css["url"].split("/static/", 1)[1]
    raw = (collected_static / name).stat().st_size
    compressed = (collected_static / f"{name}.{'br' if css['encoding'] == 'br' else 'gz'}").stat().st_size
    assert compressed < css["bytes"] < compressed + 1024 < raw
