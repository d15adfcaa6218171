"""Browser tests: the fixtures (live_server, browser, page) live in tests/browser.py and are
registered once for the whole suite, so one Playwright instance serves every test file."""
from tests.browser import CHROMIUM, SHOTS, browser_login, shot  # noqa: F401
