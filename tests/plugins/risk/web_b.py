"""A logged-in test client per user whose posts carry the CSRF token (for the tests of
the warning, reminder, talk and evaluation pages)."""
from __future__ import annotations

import re

import pytest

from tests.conftest import STRONG


class Client:
    def __init__(self, app, user, lang: str = "zh"):
        self.c = app.test_client()
        token = self._token("/login")
        resp = self.c.post("/login", data={"username": user.username, "password": STRONG,
                                           "csrf_token": token})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
        with self.c.session_transaction() as s:
            s["locale"] = lang

    def _token(self, path: str) -> str:
        html = self.c.get(path).get_data(as_text=True)
        m = re.search(r'name="csrf_token" value="([^"]+)"', html) or \
            re.search(r'"X-CSRFToken": "([^"]+)"', html)
        return m.group(1) if m else ""

    def get(self, path: str, **kw):
        resp = self.c.get(path, **kw)
        resp.text = resp.get_data(as_text=True)
        return resp

    def post(self, path: str, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self._token("/alerts/"))
        resp = self.c.post(path, data=data, **kw)
        resp.text = resp.get_data(as_text=True)
        return resp


@pytest.fixture
def client_for(app):
    return lambda user, lang="zh": Client(app, user, lang)
