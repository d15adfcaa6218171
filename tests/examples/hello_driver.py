"""Run by the interpreter of a throw-away virtual environment that has qinglian-hello
installed (tests/examples/test_hello_plugin.py): builds the app as a deployment would,
from the QL_* environment, uses it through its test client and prints what it saw as
JSON. ``installed`` checks the plugin's page, menu, form, event subscriber and both
catalogues; ``removed`` checks that a deployment without the plugin runs."""
from __future__ import annotations

import json
import re
import sys

from core.app import create_app

STRONG = "Strong#Pass2026"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def _login(client) -> None:
    token = _csrf(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "hello_staff", "password": STRONG,
                                       "csrf_token": token})
    assert resp.status_code == 303, resp.status_code


def installed(app) -> dict:
    from core.api import Region, db, publish
    from core.auth.service import create_user
    with app.app_context(), db.connection_context():
        city = Region.create(code="510100", name="成都市", level="city")
        county = Region.create(code="510104", name="锦江区", parent=city)
        create_user("hello_staff", STRONG, role="staff", region_code=county.code,
                    must_change=False)
        county_id = county.id
    client = app.test_client()
    _login(client)
    out = {"dashboard": client.get("/dashboard").get_data(as_text=True)}
    page = client.get("/hello/")
    out["page_status"], out["page"] = page.status_code, page.get_data(as_text=True)
    token = _csrf(out["page"])
    posted = client.post("/hello/", data={"csrf_token": token, "region": county_id,
                                          "text": "各位辛苦了"})
    out["post_status"] = posted.status_code
    refused = client.post("/hello/", data={"csrf_token": token, "region": county_id,
                                           "text": "  "})
    out["refused_status"] = refused.status_code
    out["refused"] = refused.get_data(as_text=True)
    with app.app_context(), db.connection_context(), db.atomic():
        publish("eservice.case.closed", {"case": {"serial": "510104-20260302-0001-K",
                                                  "region_code": "510104",
                                                  "item_name": "食品经营许可"}})
    out["after"] = client.get("/hello/").get_data(as_text=True)
    client.post("/locale", data={"csrf_token": token, "locale": "en", "next": "/hello/"})
    out["english"] = client.get("/hello/").get_data(as_text=True)
    return out


def removed(app) -> dict:
    client = app.test_client()
    _login(client)
    return {"dashboard_status": client.get("/dashboard").status_code,
            "dashboard": client.get("/dashboard").get_data(as_text=True),
            "page_status": client.get("/hello/").status_code}


if __name__ == "__main__":
    application = create_app()
    print(json.dumps({"installed": installed, "removed": removed}[sys.argv[1]](application),
                     ensure_ascii=False))
