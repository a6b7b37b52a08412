"""Browser tests: Debian's Chromium driven by Playwright against a real `callscope serve`.

``page`` is a fresh browser page; ``signed_in(page, token)`` logs in through the login form.
Screenshots go to ``out/screenshots/`` (kept by CI runs for a person to look at).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.service.conftest import ADMIN, Server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed: apt-get install chromium (installed by .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    """One server per module for page tests."""
    s = Server(tmp_path_factory.mktemp("web") / "data")
    s.start()
    yield s
    s.stop()


def signed_in(page, server, token: str = ADMIN):
    """Log in through the login form and land on the home page."""
    page.goto(f"{server.url}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as out/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
