"""Browser tests: the real stack driven by headless Chromium, page by page, as people use it.

What runs: Django on pytest-django's ``live_server`` (a thread of this process, on the test
database, committing for real: ``transactional_db``), PostgreSQL, Redis and the SeaweedFS S3
server that ``make test`` starts (the browser uploads straight to it), and, for journeys that
need it, a real Celery worker (``celery_worker``, a thread on the same test database). The
browser is Debian's ``chromium`` (``CHROMIUM_PATH`` overrides the path); Playwright never
downloads one. When it is missing the tests fail, never skip: ``.ci/run`` installs it.

Each journey module gets a ``journey`` (one per module): ``journey.step(page, "name")`` checks the
page with axe-core (WCAG 2.1 A and AA rules; any serious or critical violation fails the test with
a readable list) and saves full-page screenshots at a desktop and a phone width to
``tests/e2e/artifacts/<journey>/<nn>-<name>-{desktop,phone}.png`` (git-ignored; CI keeps them).
A step also fails on JavaScript errors, on anything the Content-Security-Policy refused (the
browser reports it on the console), and on any request that leaves this machine (no CDN).
``journey.login(page, email)`` logs in through the real form with the demo password;
``journey.new_page()`` opens a fresh, logged-out browser context. ``E2E_AXE_COLLECT=1`` lists
every step's violations at the end of the test instead of stopping at the first (for fixing
pages). Files and whole submitted attempts for journeys come from tests/e2e/data.py.

Playwright's synchronous API keeps an asyncio loop running in this thread while it is started,
which Django's ORM takes for async code; the browser lives only as long as this package's tests,
and ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set only for that time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from pytest_django.live_server_helper import LiveServer

from programs.demo_data.people import DEMO_PASSWORD
from tests.e2e.data import record_video
from tests.sso_idp.fixtures import identity_provider  # the test OIDC/SAML provider
from tests.worker import running_worker

ARTIFACTS = Path(__file__).parent / "artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

# WCAG 2.1 level A and AA rules; serious and critical violations fail a step.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
FAILING_IMPACTS = {"serious", "critical"}

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}

# Fail fast: a journey waits for what a person would see within seconds.
TIMEOUT_MS = 15_000


__all__ = ["identity_provider"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: a browser test (headless Chromium on the live stack)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is a browser test (``-m e2e`` selects them, ``-m "not e2e"``
    leaves them out); plain ``make test`` runs them with the rest."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test, so fixtures know whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- The browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def _async_unsafe_allowed() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def playwright(_async_unsafe_allowed: None) -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for all journeys: Debian's, never a downloaded one."""
    path = os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)
    if not Path(path).is_file():
        pytest.fail(
            f"Chromium is not installed at {path}: the browser tests need it. Install it with "
            "`apt-get install chromium` (.ci/run does), or point CHROMIUM_PATH at a Chromium.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(
        executable_path=path, headless=True, args=["--disable-dev-shm-usage"]
    )
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def video(browser: Browser) -> bytes:
    """A one-second WebM that plays, recorded by Chromium once for all journeys."""
    return record_video(browser)


@pytest.fixture(scope="package")
def axe() -> Axe:
    """axe-core as bundled by axe-playwright-python: injected into the page, no network."""
    return Axe()


# --- The stack -----------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def _evidence_bucket_open_to_live_server(live_server: LiveServer) -> None:
    """Browsers send evidence straight to S3: let the live server's pages do it (CORS)."""
    from submissions import storage

    storage.ensure_bucket(cors_origins=[*settings.EVIDENCE_CORS_ORIGINS, live_server.url])


@pytest.fixture(autouse=True)
def _site_url(settings: Any, live_server: LiveServer) -> None:
    """Links the site builds itself (e-mails, badge and verification addresses) point at the
    live server."""
    settings.SITE_URL = live_server.url


@pytest.fixture
def demo(transactional_db: None, _evidence_bucket_open_to_live_server: None) -> None:
    """The demo organizations, catalogs and logins (``manage.py load_demo``), committed."""
    call_command("load_demo", verbosity=0)


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[Any]:
    """A real Celery worker on the devstack's Redis, on the test database (tests/worker.py)."""
    with running_worker() as worker:
        yield worker


# --- Journeys ------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def axe_report(violations: list[dict[str, Any]]) -> str:
    """A list a person can act on: rule, impact, what to do, and where."""
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f"  [{violation['helpUrl']}]"
        )
        for node in violation["nodes"][:8]:
            target = " ".join(str(t) for t in node["target"])
            html = re.sub(r"\s+", " ", node.get("html", ""))[:160]
            lines.append(f"    at {target}: {html}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


@dataclass
class Journey:
    """One journey's browser helpers: fresh pages, the real login, and checked, pictured steps."""

    name: str
    browser: Browser
    base_url: str
    axe: Axe
    directory: Path
    number: int = 0
    contexts: list[BrowserContext] = field(default_factory=list)
    # E2E_AXE_COLLECT=1 (for fixing pages): list every step's violations when the test ends,
    # instead of stopping at the first step that has any
    deferred: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def new_page(self, viewport: str = "desktop", locale: str = "en-US") -> Page:
        """A page in a fresh browser context (no cookies: logged out), whose browser asks for
        ``locale``'s language (Accept-Language)."""
        context = self.browser.new_context(
            viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
            base_url=self.base_url,
            locale=locale,
            timezone_id="UTC",
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: self._note_request(request.url, errors))
        page.on("console", lambda message: self._note_console(message.text, errors))
        page.js_errors = errors  # type: ignore[attr-defined]
        return page

    @staticmethod
    def _note_request(url: str, errors: list[str]) -> None:
        """Pages use only this machine: the site, and the S3 server for evidence."""
        host = urlsplit(url).hostname
        if urlsplit(url).scheme in {"http", "https"} and host not in LOCAL_HOSTS:
            errors.append(f"a request left the machine: {url}")

    @staticmethod
    def _note_console(text: str, errors: list[str]) -> None:
        """Anything the Content-Security-Policy refused (the browser says so on the console)."""
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            errors.append(f"CSP violation: {text}")

    def login(self, page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
        """Log in through the site's own login form."""
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name=re.compile(r"^(sign|log) ?in$", re.I)).click()
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"could not log in as {email}"

    def logout(self, page: Page) -> None:
        page.get_by_role("button", name="Log out").click()
        page.wait_for_load_state()

    def violations(self, page: Page) -> list[dict[str, Any]]:
        """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now
        (axe is injected once per document)."""
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.axe.axe_script)
        results = page.evaluate("options => window.axe.run(document, options)", AXE_OPTIONS)
        return [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]

    def step(self, page: Page, name: str, *, full_page: bool = True) -> None:
        """Check the page as it is now with axe-core, at both widths, and picture it.

        Fails on JavaScript errors and on serious or critical WCAG 2.1 AA violations."""
        self.number += 1
        stem = f"{self.number:02d}-{_slug(name)}"
        started = time.monotonic()
        page.wait_for_load_state()
        js_errors = list(getattr(page, "js_errors", []))
        assert not js_errors, f"step {stem}: errors on {page.url}:\n" + "\n".join(js_errors)
        original = page.viewport_size
        problems: list[str] = []
        spent = {"axe": 0.0, "pictures": 0.0}
        try:
            for label, viewport in VIEWPORTS.items():
                page.set_viewport_size(viewport)  # type: ignore[arg-type]
                mark = time.monotonic()
                failing = self.violations(page)
                if failing:
                    problems.append(f"at the {label} width:\n{axe_report(failing)}")
                spent["axe"] += time.monotonic() - mark
                mark = time.monotonic()
                page.screenshot(path=self.directory / f"{stem}-{label}.png", full_page=full_page)
                spent["pictures"] += time.monotonic() - mark
        finally:
            if original:
                page.set_viewport_size(original)
            with (self.directory / "steps.txt").open("a") as log:
                log.write(
                    f"{stem}\t{time.monotonic() - started:.2f} s (axe {spent['axe']:.2f} s, "
                    f"screenshots {spent['pictures']:.2f} s)\t{page.url}\n"
                )
        if problems:
            message = (
                f"step {stem}: accessibility violations (WCAG 2.1 AA, serious or critical) on "
                f"{page.url}\n" + "\n".join(problems)
            )
            if os.environ.get("E2E_AXE_COLLECT"):
                self.deferred.append(message)
            else:
                pytest.fail(message, pytrace=False)

    def close(self, *, failed: bool) -> None:
        """Close the test's pages; on a failure, picture each open page as it was."""
        for n, context in enumerate(self.contexts):
            if failed:
                for m, page in enumerate(context.pages):
                    if page.is_closed():
                        continue
                    with contextlib.suppress(Exception):  # a picture is a courtesy
                        page.screenshot(
                            path=self.directory / f"FAILED-{n}{m}-{self.number:02d}.png",
                            full_page=True,
                        )
            context.close()
        self.contexts.clear()


@pytest.fixture(scope="module")
def _journey_state(request: pytest.FixtureRequest, browser: Browser, axe: Axe) -> Journey:
    module = request.module.__name__.rsplit(".", 1)[-1]
    name = module.removeprefix("test_journey_").removeprefix("test_")
    directory = ARTIFACTS / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return Journey(name=name, browser=browser, base_url="", axe=axe, directory=directory)


@pytest.fixture
def journey(
    request: pytest.FixtureRequest, _journey_state: Journey, live_server: LiveServer
) -> Iterator[Journey]:
    """This module's journey, on the live server; the test's browser contexts close after it."""
    _journey_state.base_url = live_server.url
    yield _journey_state
    report = getattr(request.node, "report_call", None)
    _journey_state.close(failed=report is None or report.failed)
    deferred, _journey_state.deferred = _journey_state.deferred, []
    if deferred:
        pytest.fail("\n\n".join(deferred), pytrace=False)


@pytest.fixture
def page(journey: Journey) -> Page:
    """A logged-out page at the desktop width."""
    return journey.new_page("desktop")


@pytest.fixture
def phone_page(journey: Journey) -> Page:
    """A logged-out page at the phone width."""
    return journey.new_page("phone")
