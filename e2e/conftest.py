"""Browser tests: Debian's Chromium driven by Playwright's sync API against pytest-django's live server.

Set GONGZHI_E2E_SCREENSHOTS=/some/dir to keep screenshots of the pages the tests visit.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE_VIEWPORT = {"width": 360, "height": 740}

# The tests assert with expect(), which retries until the page gets there; on a busy 2-core machine give it as
# long as the actions get (context.set_default_timeout below) instead of its own default of 5 s.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def new_page(browser):
    """new_page(width=…, height=…, **context_options) → a page in a fresh context (own cookies)."""
    contexts = []

    def make(width: int = PHONE_VIEWPORT["width"], height: int = PHONE_VIEWPORT["height"], **options):
        # A Chinese browser: the Accept-Language header picks the interface language.
        options.setdefault("locale", "zh-CN")
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def shot():
    """shot(page, "name") saves a full-page screenshot when GONGZHI_E2E_SCREENSHOTS names a folder."""
    folder = os.environ.get("GONGZHI_E2E_SCREENSHOTS")

    def take(page, name: str) -> None:
        if folder:
            safe = re.sub(r"[^\w.-]", "_", name)
            page.screenshot(path=str(Path(folder) / f"{safe}.png"), full_page=True)

    return take


@pytest.fixture(autouse=True)
def preset_categories(transactional_db):
    """Each browser test flushes the database afterwards, emptying the tables a data migration filled
    (the preset case categories); put them back for the next test."""
    from gongzhi.cases.factories import make_categories

    make_categories()
