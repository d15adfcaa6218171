"""Monitoring screen: figures per district, drill-down, feed, trend JSON, scope."""
from __future__ import annotations

import datetime as dt

from core.api import today
from core.db import utcnow
from plugins.esupervision.screen import region_tiles


def test_figures_roll_up_and_drill_down(client, login, make_user, org, events):
    from plugins.esupervision.services import ingest
    now = utcnow()
    iso = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    a1, a2, b1 = events(region_code="510104"), events(region_code="510104"), \
        events(region_code="510105", fee_due="0.00")
    for ev in (a1, a2, b1):
        ev.case["submitted_at"] = iso
        ingest(dict(ev.make("submitted", "2026-03-02 09:00"), occurred_at=iso), "ext",
               received_at=now)
    ingest(dict(b1.make("fee_charged", "2026-03-02 09:00", fee_charged="9.00"),
                occurred_at=iso), "ext", received_at=now)
    ingest(dict(a2.make("accepted", "2026-03-02 09:00"), occurred_at=iso), "ext",
           received_at=now)
    ingest(dict(a2.make("decided", "2026-03-02 09:00", decision="approved"), occurred_at=iso),
           "ext", received_at=now)
    ingest(dict(a2.make("evaluated", "2026-03-02 09:00", rating=5), occurred_at=iso), "ext",
           received_at=now)
    total, tiles = region_tiles(org["city"], {org["city"].id, org["a"].id, org["b"].id},
                                today())
    assert (total.in_progress, total.red) == (2, 1)
    by_name = {t.label: t for t in tiles}
    assert by_name["锦江区"].in_progress == 1 and by_name["锦江区"].early_rate == 100.0
    assert by_name["锦江区"].satisfaction == 100.0
    assert by_name["青羊区"].red == 1

    login(make_user("sup", role="supervisor", region=org["city"]))
    html = client.get("/esupervision/screen").get_data(as_text=True)
    assert "锦江区" in html and "青羊区" in html and "esv-tile" in html
    assert 'hx-trigger="every 5s"' in html and "style=" not in html
    drill = client.get(f"/esupervision/screen?region={org['b'].id}").get_data(as_text=True)
    assert "esv-dept-table" in drill and "A fee charged that differs from the item" in drill
    feed = client.get(f"/esupervision/screen/feed?region={org['b'].id}").get_data(as_text=True)
    assert "A fee charged that differs from the item" in feed and "<html" not in feed
    data = client.get("/esupervision/screen/trend.json").get_json()
    assert len(data["days"]) == 30 and sum(data["red"]) == 1


def test_screen_scope(client, login, make_user, org):
    login(make_user("sup_a", role="supervisor", region=org["a"]))
    assert client.get("/esupervision/screen").status_code == 200
    assert client.get(f"/esupervision/screen?region={org['b'].id}").status_code == 404
    assert client.get(f"/esupervision/screen?region={org['city'].id}").status_code == 404
    assert client.get("/esupervision/screen/feed?region=abc").status_code == 422  # named
