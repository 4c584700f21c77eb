"""The dashboard in a real headless Chromium: every page, a filter, a KPI against the semantic
layer, no exception. Chromium comes from Debian (`make test` installs it); a missing browser
fails the run, it is never skipped."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mci.dashboard.format import fmt
from mci.datagen import generate
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.semantic import query

CHROMIUM = os.environ.get("MCI_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = ("overview", "channels", "trends", "monthly", "quality")
SHOTS = Path(os.environ.get("MCI_SCREENSHOTS", "benchmarks/out/screenshots"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _serving(argv: list[str], port: int, start_timeout: float = 60) -> Iterator[str]:
    """Runs a command that serves the dashboard on ``port``; yields its address once healthy.

    On the way out the command is stopped and the port must close: stopping it stops the
    Streamlit server itself (no child left behind).
    """
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"the dashboard did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail(f"port {port} still answers after {argv[2:4]} was stopped")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A dashboard on a fresh warehouse, served by `mci dashboard` on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("e2e")
    export = folder / "export.csv"
    # A few faulty lines, so that the Data quality page has quarantine to show.
    generate(export, rows=20_000, seed=12, dirty=0.002)
    url = f"duckdb:///{folder / 'w.duckdb'}"
    ingest([export], url, progress=NoProgress())
    port = _free_port()
    argv = [sys.executable, "-m", "mci", "dashboard", "--db", url, "--port", str(port)]
    with _serving(argv, port) as base:
        yield base, url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make test` (it installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def _open(browser, address: str, wait_for: str):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(address, wait_until="domcontentloaded")
    page.wait_for_selector(wait_for, timeout=60_000)
    # Wait until the script run is over, so an exception raised late in the page cannot be
    # missed (Streamlit marks the app with its script state, whatever the toolbar shows).
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=90_000)
    page.wait_for_timeout(300)
    return page


def _wait_for_tables(page) -> None:
    """Tables draw on a canvas after the script run: wait until every one has drawn."""
    tables = page.locator('[data-testid="stDataFrame"]:visible')  # not in closed expanders
    for i in range(tables.count()):
        tables.nth(i).locator("canvas").first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(500)


@pytest.mark.parametrize("slug", PAGES)
def test_every_page_renders_without_an_exception(served, browser, slug):
    base, _ = served
    address = base if slug == "overview" else f"{base}/{slug}"
    page = _open(browser, address, '[data-testid="stMainBlockContainer"] h1')
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").first.inner_text().strip()
    _wait_for_tables(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{slug}.png"), full_page=True)
    page.close()


def test_a_channel_filter_in_the_link_drives_the_roi_tile(served, browser):
    base, url = served
    page = _open(browser, f"{base}/?channel=Email", '[data-testid="stMetric"]')
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="ROI").first
    shown = tile.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "channel=Email" in page.url
    expected = query(["roi"], where={"channel": ["Email"]}, db=url)["roi"].iloc[0]
    everything = query(["roi"], db=url)["roi"].iloc[0]
    assert shown == fmt("roi", expected)
    assert shown != fmt("roi", everything)
    page.close()


def _roi_tile(page):
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="ROI").first
    return tile.locator('[data-testid="stMetricValue"]')


def test_choosing_channels_in_the_sidebar_updates_the_tile_and_the_link(served, browser):
    from playwright.sync_api import expect

    base, url = served
    page = _open(browser, base, '[data-testid="stMetric"]')
    unfiltered = _roi_tile(page).inner_text().strip()
    first, last = query(["campaigns"], grain="day", db=url)["period"].agg(["min", "max"])
    chosen = ["Email", "Facebook"]
    channel = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
    channel = channel.filter(has_text="Channel").first
    for name in chosen:
        channel.locator("input").click()
        page.locator('[role="option"]').filter(has_text=name).first.click()
        page.keyboard.press("Escape")
    expected = query(
        ["roi"], where={"channel": chosen}, start=first.date(), end=last.date(), db=url
    )["roi"].iloc[0]
    assert fmt("roi", expected) != unfiltered  # else the check below would prove nothing
    expect(_roi_tile(page)).to_have_text(fmt("roi", expected), timeout=60_000)
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    assert "channel=Email" in page.url and "channel=Facebook" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "overview_filtered.png"), full_page=True)
    # The link reproduces the view in a fresh page.
    again = _open(browser, page.url, '[data-testid="stMetric"]')
    assert _roi_tile(again).inner_text().strip() == fmt("roi", expected)
    again.close()
    page.close()


def test_mci_demo_builds_the_warehouse_and_serves_the_dashboard(tmp_path, browser):
    url = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    port = _free_port()
    argv = [sys.executable, "-m", "mci", "demo", "--db", url, "--rows", "3000"]
    with _serving([*argv, "--port", str(port)], port, start_timeout=120) as base:
        page = _open(browser, base, '[data-testid="stMetric"]')
        expected = query(["roi"], db=url)["roi"].iloc[0]
        assert _roi_tile(page).inner_text().strip() == fmt("roi", expected)
        page.close()
