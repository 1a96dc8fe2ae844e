"""The whole back office in production mode, as each role sees it.

gunicorn serves the app with DEBUG=0 and the static files `collectstatic` gathered (through
WhiteNoise, as in production) over the seeded demo data. Headless Chromium signs in as each
role and opens every page of the main navigation, every section tab those pages offer, every
exception queue in the registry and the records its rows link to. Any response of 400 or
more (page, asset or XHR), any request leaving the server, any console error or uncaught
exception, any failed HTMX request, or a page without its stylesheet fails the sweep, with
every problem listed.
"""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from collections import deque  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import pytest  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

from erp.benchmarks.support import gunicorn_server  # noqa: E402
from erp.management.commands.seed_demo import DEMO_PASSWORDS  # noqa: E402
from erp.queues import all_queues  # noqa: E402
from tests.browser import VIEWPORT, chromium  # noqa: E402
from tests.production import shared_database_url  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

ROLES = ["warehouse", "customer_service", "manager", "finance", "buyer"]
# The demo with fewer SKUs: every kind of row is there, and seeding takes seconds.
DEMO_SKUS = 100
# Lists and queues link to the records behind their rows; the first few of each are enough
# to render every kind of record page they lead to.
ROWS_PER_LIST = 2
RECORD_LINKS = ".results tbody tr a[href]"
NOT_PAGES = ("/logout/", "/admin/")
# Links to documents (labels, packing slips) open in a new tab or download.
OPENS_A_PAGE = (
    "links => links.filter(a => !a.target && !a.hasAttribute('download')).map(a => a.href)"
)
# A section's own tabs and the actions in its page head (links are GETs: they change
# nothing), two steps from the main navigation: Warehouse → Setup → each setup screen.
SECTION_LINKS = "nav.tab-bar:not([role=tablist]) a[href], .page-head a[href]"
SECTION_DEPTH = 2

REPORT_HTMX_FAILURES = """
for (const name of ["htmx:responseError", "htmx:sendError", "htmx:swapError",
                    "htmx:onLoadError", "htmx:targetError"]) {
  document.addEventListener(name, (event) => {
    const path = event.detail && event.detail.pathInfo;
    const status = event.detail && event.detail.xhr ? event.detail.xhr.status : "";
    console.error(`${name} ${status} ${path ? path.requestPath : ""}`);
  });
}
"""
# Pages load fragments over HTMX (counts, panels); htmx marks elements while a request runs.
HTMX_IDLE = "() => !document.querySelector('.htmx-request')"
# Pages that finish loading in JavaScript after the document: wait for what they render.
READY = {reverse("api-docs"): "#swagger-ui .info .title"}
# The browser's own stylesheet leaves 8px around the body; ours sets 0. Every stylesheet a
# page links must be loaded and hold rules.
STYLE_PROBLEMS = """
() => {
  const problems = [];
  const sheets = [...document.querySelectorAll('link[rel="stylesheet"]')];
  if (!sheets.length) problems.push("no stylesheet linked");
  for (const link of sheets) {
    let rules = 0;
    try { rules = link.sheet ? link.sheet.cssRules.length : 0; } catch (error) { rules = 0; }
    if (!rules) problems.push(`stylesheet not applied: ${link.href}`);
  }
  if (document.querySelector(".topbar") && getComputedStyle(document.body).marginTop !== "0px") {
    problems.push("the back-office stylesheet is not applied (body keeps its default margin)");
  }
  return problems;
}
"""


def is_htmx(response) -> bool:
    return response.request.headers.get("hx-request") == "true"


@pytest.fixture
def production_server(transactional_db, tmp_path):
    call_command("seed_demo", skus=DEMO_SKUS, verbosity=0)
    connection.close()  # the server's workers take their own connections
    env = {"DATABASE_URL": shared_database_url(), "CELERY_BROKER_URL": ""}
    with gunicorn_server(workers=2, extra_env=env, static_root=tmp_path / "static") as url:
        yield url


class Sweep:
    """One role's browser context and every problem its pages show."""

    def __init__(self, browser, base_url: str, role: str, exercised: set[str]):
        self.base_url = base_url
        self.role = role
        # Fragments answer alike for every role: each page's are tried once in the sweep.
        self.exercised = exercised
        self.problems: list[str] = []
        self.current = ""
        self.htmx_requests = 0
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.add_init_script(REPORT_HTMX_FAILURES)
        # Watched, not routed: Chromium skips its favicon request when requests are routed.
        self.page = self.context.new_page()
        self.page.on("request", self._on_request)
        self.page.set_default_timeout(15_000)
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self._problem(f"uncaught {error}"))

    def _problem(self, text: str) -> None:
        self.problems.append(f"{self.role} {self.current}: {text}")

    def _on_request(self, request):
        if request.headers.get("hx-request"):
            self.htmx_requests += 1
        if not request.url.startswith((self.base_url, "data:", "blob:")):
            self._problem(f"request leaves the server: {request.url}")

    def _on_response(self, response):
        if response.status >= 400:
            kind = response.request.resource_type
            self._problem(f"{response.status} for {kind} {response.url}")

    def _on_request_failed(self, request):
        if request.url.startswith(self.base_url):
            self._problem(f"request failed ({request.failure}): {request.url}")

    def _on_console(self, message):
        if message.type == "error":
            self._problem(f"console error: {message.text}")

    def sign_in(self) -> None:
        self.current = reverse("login")
        self.page.goto(self.base_url + self.current)
        self.page.get_by_label("Username").fill(self.role.replace("_", "-"))
        self.page.get_by_label("Password").fill(DEMO_PASSWORDS[self.role])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.base_url + reverse("dashboard"))

    def open(self, path: str) -> None:
        self.current = path
        response = self.page.goto(self.base_url + path)
        if response is None or not response.ok:
            return  # the response listener has recorded it
        self.page.wait_for_function(HTMX_IDLE)
        if path in READY:
            self.page.locator(READY[path]).first.wait_for()
        for problem in self.page.evaluate(STYLE_PROBLEMS):
            self._problem(problem)
        if path not in self.exercised:
            self.exercised.add(path)
            self.exercise_fragments()

    def exercise_fragments(self) -> None:
        """What a person does first on the page, each answered by a fragment: search for
        "a" (and leave the box: no second search), open the other tab of a record, turn to
        the next page of the list."""
        search = self.page.locator("input[type=search][hx-get]")
        if search.count():
            self._expect_fragment("search", lambda: search.first.fill("a"))
            sent = self.htmx_requests
            search.first.blur()
            self.page.wait_for_timeout(400)
            if self.htmx_requests != sent:
                self._problem("leaving the search box sends the search again")
                self.page.wait_for_function(HTMX_IDLE)
        tab = self.page.locator("[role=tab][hx-get][aria-selected=false]")
        if tab.count():
            self._expect_fragment("tab", tab.first.click)
        next_page = self.page.locator("nav.pagination a[hx-get]")
        if next_page.count():
            self._expect_fragment("next page", next_page.last.click)

    def _expect_fragment(self, what: str, action) -> None:
        try:
            with self.page.expect_response(is_htmx, timeout=10_000):
                action()
        except PlaywrightTimeoutError:
            self._problem(f"{what}: no HTMX answer")
            return
        self.page.wait_for_function(HTMX_IDLE)

    def links(self, selector: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(selector, OPENS_A_PAGE)
        paths = []
        for href in hrefs:
            parts = urlsplit(href)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if href.startswith(self.base_url) and not path.startswith(NOT_PAGES):
                paths.append(path)
        return list(dict.fromkeys(paths))

    def close(self) -> None:
        self.context.close()


def sweep_role(browser, base_url: str, role: str, exercised: set[str]):
    sweep = Sweep(browser, base_url, role, exercised)
    sweep.sign_in()
    opened: list[str] = []

    def visit(path: str) -> None:
        if path not in opened:
            opened.append(path)
            sweep.open(path)

    navigation = sweep.links("nav.mainnav a[href]")
    sections = deque((path, 0) for path in navigation)
    while sections:
        path, depth = sections.popleft()
        if path in opened:
            continue
        visit(path)
        if depth > SECTION_DEPTH:
            continue  # a record: its own links lead on without end
        records = sweep.links(RECORD_LINKS)[:ROWS_PER_LIST]
        if depth < SECTION_DEPTH:
            sections.extend((link, depth + 1) for link in sweep.links(SECTION_LINKS))
        sections.extend((record, SECTION_DEPTH + 1) for record in records)
    for queue in all_queues():
        visit(reverse("exception-queue", args=[queue.key]))
        for record in sweep.links(RECORD_LINKS)[:ROWS_PER_LIST]:
            visit(record)
    sweep.close()
    assert navigation, f"{role} sees no navigation"
    return opened, sweep.problems


def test_every_page_each_role_can_reach_loads_whole_in_production_mode(production_server):
    problems: list[str] = []
    opened: dict[str, list[str]] = {}
    exercised: set[str] = set()
    with chromium() as browser:
        for role in ROLES:
            opened[role], found = sweep_role(browser, production_server, role, exercised)
            problems += found

    assert not problems, "\n".join(problems)
    assert reverse("api-docs") in opened["manager"]
    assert reverse("exception-queue", args=["orders-on-hold"]) in opened["customer_service"]
    assert any(path.startswith("/orders/") for path in opened["customer_service"])
    assert all(len(paths) > 20 for paths in opened.values()), {
        role: len(paths) for role, paths in opened.items()
    }
