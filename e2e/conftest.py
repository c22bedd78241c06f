"""Browser tests: Debian's Chromium driven by Playwright's sync API against pytest-django's live server.

Set GONGZHI_E2E_SCREENSHOTS=/some/dir to keep screenshots of the pages the tests visit.

Every page a test loads (through `new_page`/`page` or a context of its own from `browser.new_context`) is checked
with axe-core (e2e/vendor/axe-core/) once it has loaded, and the test fails at teardown on any serious or critical
violation (how and when: e2e/axe_check.js). A test may turn a rule off only with a written reason:
`@pytest.mark.axe_exempt("rule-id", reason="…")`. Pages in a context with JavaScript turned off are not checked
(axe is a script). GONGZHI_E2E_AXE_LOG=/some/file lists every page checked or skipped, with the time it took.
"""

import json
import os
import re
from pathlib import Path

import pytest
from django.test import testcases
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

# The live server would send /media/ straight off disk (Django's _MediaFilesHandler), past the permission check
# and the headers every upload gets in production (web.files): let the application answer instead.
testcases._MediaFilesHandler._should_handle = lambda self, path: False

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
    yield CheckedBrowser(browser)
    browser.close()
    playwright.stop()


# axe-core inside a function that e2e/axe_check.js calls only for a page it checks: uncalled, V8 merely scans it,
# where compiling it cost every new page about a quarter of a second, even the pages skipped as seen.
AXE_SOURCE = ("window.__gongzhiLoadAxe = function () {\n"
              + (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
              + "\n};")
AXE_IMPACTS = ("serious", "critical")
AXE_LOG = os.environ.get("GONGZHI_E2E_AXE_LOG")  # a file: one line per document, checked (ms) or skipped

AXE_RUNNER = (Path(__file__).parent / "axe_check.js").read_text(encoding="utf-8")  # how and when, see there
_axe_checked: set[str] = set()  # shapes of documents checked in this session (see AXE_RUNNER)


def _axe_exemptions(node) -> list[str]:
    rules = []
    for marker in node.iter_markers("axe_exempt"):
        reason = str(marker.kwargs.get("reason", "")).strip()
        if not marker.args or not reason:
            raise pytest.UsageError(f"{node.nodeid}: axe_exempt needs the rule ids and a written reason=")
        rules.extend(marker.args)
    return sorted(rules)


class AccessibilityWatch:
    """The axe-core checks of one test: every browser context opened during it reports here."""

    def __init__(self, disabled: list[str]) -> None:
        self.disabled = disabled
        self.violations: list[dict] = []
        self.checked: list[str] = []  # the URLs of the documents checked (not skipped as already seen)
        self.open_contexts: list = []

    def watch(self, context, options: dict) -> None:
        if options.get("java_script_enabled") is False:
            return  # no script runs in its pages, axe's neither
        context.expose_binding("__gongzhiAxeReport", self._report)
        context.add_init_script(AXE_SOURCE)
        config = {"seen": sorted(_axe_checked), "disabled": self.disabled, "impacts": list(AXE_IMPACTS)}
        context.add_init_script(f"({AXE_RUNNER})({json.dumps(config)})")
        close = context.close
        self.open_contexts.append(context)

        def finish_then_close(*args, **kwargs):
            if context in self.open_contexts:
                self.finish(context)
                self.open_contexts.remove(context)
            close(*args, **kwargs)

        context.close = finish_then_close  # a test closing its own context still has its last page checked

    def _report(self, source, payload: dict) -> None:
        if payload["key"]:
            _axe_checked.add(payload["key"])
        if not payload.get("skipped"):
            self.checked.append(payload["url"])
        for violation in payload.get("violations", []):
            self.violations.append({**violation, "url": payload["url"]})
        if AXE_LOG:
            with open(AXE_LOG, "a", encoding="utf-8") as log:
                done = "skipped" if payload.get("skipped") else f"{payload.get('ms', 0):.0f} ms"
                log.write(f"{done}\t{payload['url']}\t{payload['key']}\n")

    @staticmethod
    def finish(context) -> None:
        """Let the check of each page's current document end (a test may stop right after a navigation)."""
        for page in context.pages:
            for _ in range(2):
                try:
                    page.wait_for_load_state("load", timeout=10_000)
                    page.evaluate("() => Promise.race([window.__gongzhiAxeDone,"
                                  " new Promise(resolve => setTimeout(resolve, 10000))])")
                    break
                except PlaywrightError:  # navigated meanwhile (or closed): once more for the new document
                    continue

    def describe(self) -> str:
        lines: list[str] = []
        for v in self.violations:
            line = f"{v['impact']} {v['id']} ({v['help']}) at {v['url']}: " + "; ".join(v["targets"])
            if line not in lines:
                lines.append(line)
        return "\n  ".join(lines)


_watch: AccessibilityWatch | None = None  # the running test's


class CheckedBrowser:
    """The session's browser; every context it opens is checked with axe-core for the test that opened it."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        if _watch is not None:
            _watch.watch(context, options)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(autouse=True)
def accessibility(request):
    """Fails the test (at teardown) on serious or critical axe-core violations in any page it loaded."""
    global _watch
    _watch = watch = AccessibilityWatch(_axe_exemptions(request.node))
    yield watch
    _watch = None
    for context in watch.open_contexts:  # a test's own context it left open
        watch.finish(context)
    if watch.violations:
        pytest.fail("axe-core found serious or critical accessibility problems:\n  " + watch.describe(),
                    pytrace=False)


@pytest.fixture
def new_page(browser, accessibility):
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
