"""Browser test fixtures: a live server on a free port and Debian's Chromium driven by Playwright.

Screenshots go to ``test-artifacts/screenshots/`` (kept out of git) to be looked at.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from core.settings import ROOT

CHROMIUM = os.environ.get("QL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]
SHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture
def live_server(app):
    """Serve ``app`` on 127.0.0.1:<free port> in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def browser_login(page, base, username, password, totp_secret=None):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click(".login-card button[type=submit]")
    if totp_secret:
        import pyotp
        page.wait_for_url("**/login/totp")
        page.fill("input[name=code]", pyotp.TOTP(totp_secret).now())
        page.click(".login-card button[type=submit]")
    page.wait_for_url("**/dashboard")
