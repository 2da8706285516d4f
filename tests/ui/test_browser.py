"""The UI in a real browser: Debian's Chromium, driven by Playwright, against a real uvicorn
server on 127.0.0.1. Each test saves screenshots to test-artifacts/screenshots/.

Without /usr/bin/chromium the tests skip, unless MLINEAGE_REQUIRE_BROWSER=1 (CI) fails them.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import expect

from mlineage.server.app import ServerSettings, create_app
from mlineage.store.sql import SqlStore
from mlineage.store.tokens import TokenStore
from mlineage.types import Execution, ResourceName
from tests.ui.sample import INJECTION, PARENT, Sample, record_sample

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("MLINEAGE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and MLINEAGE_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@dataclass
class Site:
    url: str
    sample: Sample
    store: SqlStore
    store_url: str
    page: Any
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.url + "/" + path.lstrip("/"))

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def site(browser: Any, store_path: Path, tmp_path: Path) -> Iterator[Site]:
    sample = record_sample(tmp_path / "data")
    store = SqlStore(str(store_path))
    server, thread, url = _serve(create_app(store, ServerSettings(store_url=str(store_path))))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    site = Site(url, sample, store, str(store_path), page)
    page.on("console", lambda m: m.type == "error" and site.console_errors.append(m.text))
    page.on("pageerror", lambda error: site.console_errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        site.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield site
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def _run_names(page: Any) -> list[str]:
    return [
        t.strip() for t in page.locator("#runs-table tbody tr td:nth-child(2)").all_inner_texts()
    ]


def _column(page: Any, label: str) -> list[str]:
    """The cells of the runs table's column headed `label`, top to bottom."""
    row = page.locator("#runs-table thead tr:nth-child(2) th")
    headers = [h.strip().rstrip(" ▲▼") for h in row.all_inner_texts()]
    index = headers.index(label) + 1
    cells = page.locator(f"#runs-table tbody tr td:nth-child({index})").all_inner_texts()
    return [c.strip() for c in cells]


def test_experiment_sort_filter_and_a_run_chart(site: Site) -> None:
    page = site.page
    site.open(str(PARENT))
    site.shot("experiments")
    page.get_by_role("link", name="sweep", exact=True).click()
    page.wait_for_selector("#runs-table")
    assert len(_run_names(page)) == 5

    page.locator('#runs-table th[data-key="metric.accuracy"] a').click()
    page.wait_for_url("**sort=metric.accuracy**")
    assert _run_names(page)[:4] == ["lr-0-1", "lr-0-01", "lr-0-001", "lr-0-3"]
    page.locator('#runs-table th[data-key="metric.accuracy"] a').click()  # again: descending
    page.wait_for_url("**desc=1**")
    assert _run_names(page)[0] == "lr-0-3"

    page.get_by_label("run filter").fill("metric.accuracy > 0.72")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**filter=**")
    assert _run_names(page) == ["lr-0-3", "lr-0-001", "lr-0-01"]  # still sorted
    page.get_by_label("only columns that differ").check()
    page.wait_for_url("**differ=true**")
    headers = page.locator("#runs-table thead tr:nth-child(2) th").all_inner_texts()
    assert "optimizer" not in [h.strip() for h in headers]
    site.shot("runs-table")

    page.get_by_label("run filter").fill("metric.accuracy >> 1")
    page.get_by_role("button", name="Apply").click()
    assert "position" in page.locator("#filter-error").inner_text()

    page.get_by_role("link", name="lr-0-3", exact=True).click()
    page.wait_for_selector("#charts[data-drawn=true] .chart svg.main-svg")
    assert page.locator('#charts .chart[data-key="loss"] .scatterlayer .trace').count() == 1
    page.select_option("select.x-axis", "wall_time")
    page.wait_for_selector("#charts[data-drawn=true] .chart .xtick")
    site.shot("run")
    assert not site.console_errors


def _node(page: Any, label: str) -> Any:
    exact = re.compile(f"^{re.escape(label)}$")
    return page.locator("g.node", has=page.locator("text.label", has_text=exact)).first


def test_lineage_fan_out_expand_and_the_path_between_two_nodes(site: Site) -> None:
    for i in range(30):  # a large fan-out from the clean data
        site.store.record_execution(
            PARENT, Execution(display_name=f"reader-{i:02d}"), inputs=[site.sample.dataset]
        )
    page = site.page
    site.open(site.sample.dataset)
    page.wait_for_selector("#lineage g.node.root")
    assert _node(page, "raw-data").count() == 1  # upstream
    assert _node(page, "model-lr-0-1").count() + _node(page, "reader-00").count() >= 1
    more = page.locator("g.node.more")
    assert more.count() == 1  # 34 steps read the data: most are folded
    site.shot("lineage-fan-out")
    more.click()
    page.locator("#expand-node").click()
    page.wait_for_selector("g.node.more", state="detached")
    assert _node(page, "reader-29").count() == 1

    site.open(site.sample.models["lr-0-1"])
    page.wait_for_selector("#lineage g.node.root")
    assert _node(page, "raw-data").count() == 1  # the model back to the raw data
    site.shot("lineage")
    page.locator('#lineage-controls input[name="depth"]').fill("1")
    page.get_by_role("button", name="Redraw").click()
    page.wait_for_selector('#lineage[data-nodes="2"]')
    _node(page, "lr-0-1").click()
    page.locator("#expand-node").click()
    page.wait_for_selector('#lineage[data-nodes="3"]')
    assert _node(page, "clean-data").count() == 1

    _node(page, "model-lr-0-1").click()
    page.locator("#path-from").click()
    _node(page, "clean-data").click()
    page.locator("#path-to").click()
    assert page.locator("g.node.on-path").count() == 3  # data -> run step -> model
    assert page.locator("path.edge.on-path").count() == 2
    assert "Path: 2 edges" in page.locator("#lineage-status").inner_text()
    site.shot("lineage-path")

    _node(page, "clean-data").dblclick()  # opens the node's page
    page.wait_for_url(f"**/{site.sample.dataset}")
    assert not site.console_errors


def test_select_two_runs_and_open_their_diff(site: Site) -> None:
    page = site.page
    site.open(site.sample.experiment)
    page.get_by_label("select lr-0-1").check()
    page.get_by_label("select lr-0-001").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_selector("#diff")
    diff = page.locator("#diff").inner_text()
    assert "learning_rate" in diff
    assert "batch_size" in diff
    page.wait_for_selector("#charts[data-drawn=true] svg.main-svg")
    assert page.locator('#charts .chart[data-key="loss"] .scatterlayer .trace').count() == 2
    site.shot("compare-runs")

    site.open(
        f"{PARENT}/compare?item={site.sample.models['lr-0-1']}&item={site.sample.models['lr-0-3']}"
    )
    assert "learning_rate" in page.locator("#diff").inner_text()
    site.shot("compare-models")
    assert not site.console_errors


def test_a_script_in_a_display_name_renders_as_text(site: Site) -> None:
    page = site.page
    site.open(site.sample.experiment)
    assert INJECTION in _run_names(page)
    site.open(site.sample.injected_run)
    assert page.locator("h1").inner_text().startswith(INJECTION)
    page.wait_for_selector("#charts[data-drawn=true] svg.main-svg")
    site.open(f"{PARENT}/compare?item={site.sample.injected_run}&item={site.sample.runs['lr-0-1']}")
    assert INJECTION in page.locator("#diff").inner_text()
    page.wait_for_selector("#charts[data-drawn=true] svg.main-svg")
    site.shot("injection")
    assert site.dialogs == []
    assert page.evaluate("document.querySelectorAll('main script').length") == 0


def test_a_server_that_requires_tokens_sends_the_browser_to_log_in(site: Site) -> None:
    _, secret = TokenStore(site.store.db).create(PARENT.project, "reader")
    settings = ServerSettings(store_url=site.store_url)
    server, thread, url = _serve(create_app(site.store, settings))  # it sees the token
    page = site.page
    try:
        page.goto(f"{url}/{site.sample.experiment}")
        page.wait_for_url("**/login?next=**")
        site.shot("login")
        page.get_by_label("API token").fill(secret)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("#runs-table")
        assert len(_run_names(page)) == 5
        page.get_by_role("link", name="lr-0-1", exact=True).click()
        page.wait_for_selector("#charts[data-drawn=true] svg.main-svg")  # data requests too
        assert not site.console_errors
        other = f"{url}/projects/elsewhere/locations/us-central1/metadataStores/default"
        assert page.goto(other).status == 404  # a token of one project sees no other
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def demo_site(browser: Any, store_path: Path, tmp_path: Path) -> Iterator[tuple[Site, Any]]:
    """The demo (`mlineage demo`'s data) served like `mlineage ui` serves it."""
    from mlineage.demo import record_demo

    summary = record_demo(data_dir=tmp_path / "demo")
    store = SqlStore(str(store_path))
    server, thread, url = _serve(create_app(store, ServerSettings(store_url=str(store_path))))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    site = Site(url, Sample(PARENT, ""), store, str(store_path), page)
    page.on("console", lambda m: m.type == "error" and site.console_errors.append(m.text))
    page.on("pageerror", lambda error: site.console_errors.append(str(error)))
    try:
        yield site, summary
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def test_the_demo_from_the_first_page_to_the_diff(demo_site: tuple[Site, Any]) -> None:
    site, summary = demo_site
    page = site.page
    site.open("/")  # the default project, where the demo records
    page.get_by_role("link", name=summary.experiment, exact=True).click()
    page.wait_for_selector("#runs-table")
    site.shot("demo-experiment")
    page.locator('#runs-table th[data-key="metric.accuracy"] a').click()
    page.wait_for_url("**sort=metric.accuracy**")
    page.locator('#runs-table th[data-key="metric.accuracy"] a').click()
    page.wait_for_url("**desc=1**")
    accuracy = [float(v) for v in _column(page, "accuracy") if v]
    assert accuracy == sorted(accuracy, reverse=True)
    assert len(accuracy) >= 5  # the sweep, production, evaluate...
    page.get_by_label("run filter").fill("metric.accuracy > 0.85")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**filter=**")
    assert summary.champion in _run_names(page)
    assert "production" not in _run_names(page)
    site.shot("demo-runs-sorted-filtered")

    page.get_by_role("link", name=summary.champion, exact=True).click()
    page.wait_for_selector("#charts[data-drawn=true] .chart svg.main-svg")
    site.shot("demo-run")

    site.open(summary.production_model)
    page.wait_for_selector("#lineage g.node.root")
    before = int(page.locator("#lineage").get_attribute("data-nodes"))
    page.locator('#lineage-controls input[name="depth"]').fill("2")
    page.get_by_role("button", name="Redraw").click()
    expect(page.locator("#lineage")).not_to_have_attribute("data-nodes", str(before))
    near = page.locator("#lineage g.node.execution").first
    near.click()
    page.locator("#expand-node").click()
    page.wait_for_selector("#lineage g.node.execution.expanded")
    site.shot("demo-lineage")
    assert before > 3

    parent = ResourceName.parse(summary.production_model).parent
    site.open(f"{parent}/compare?item={summary.last_good_model}&item={summary.production_model}")
    diff = page.locator("#diff").inner_text()
    assert "learning_rate" in diff
    assert "Input data" in diff
    site.shot("demo-diff")
    assert not site.console_errors
