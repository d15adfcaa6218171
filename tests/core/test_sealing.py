"""The sealing service: nothing opens before its time, nor with fewer than the threshold of
custodians, nor from what the database and the deployment's keys hold."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import SealError, sealing
from core.db import utcnow
from core.sealing.models import CustodianKey, Seal, SealShare

PASS = {"p": "purchaser custody phrase", "a": "agency custody phrase!",
        "s": "supervisor custody phrase"}


@pytest.fixture
def custodians(org, make_user):
    users = {k: make_user(f"cust_{k}", role="staff", region=org["a"]) for k in PASS}
    for k, user in users.items():
        sealing.enroll_custodian(user, PASS[k])
    return users


def _due(seal):
    """Let the opening time come (as if the clock had reached it)."""
    Seal.update(opens_at=utcnow() - dt.timedelta(seconds=1)).where(Seal.id == seal.id) \
        .execute()
    return Seal.get_by_id(seal.id)


def _new(custodians, **kw):
    return sealing.create_seal("test.bid", kw.pop("ref", "T-1"),
                               opens_at=utcnow() + dt.timedelta(hours=1),
                               custodians=list(custodians.values()), **kw)


def test_two_of_three_open_after_the_time(app, custodians):
    seal = _new(custodians)
    box = sealing.seal_data(seal, "报价 1234567.89".encode(), context="bid-1")
    with pytest.raises(SealError):
        sealing.release_shares([seal], custodians["p"], PASS["p"])
    with pytest.raises(SealError):
        sealing.open_seal(seal)
    seal = _due(seal)
    assert sealing.release_shares([seal], custodians["p"], PASS["p"]) == [seal]
    with pytest.raises(SealError):  # one share is not enough
        sealing.open_seal(seal)
    assert not sealing.is_ready(seal)
    sealing.release_shares([seal], custodians["s"], PASS["s"])
    assert sealing.is_ready(seal)
    opener = sealing.open_seal(seal)
    assert opener.open(box, context="bid-1").decode() == "报价 1234567.89"
    with pytest.raises(SealError):  # a box moved to another bid does not open
        opener.open(box, context="bid-2")
    assert Seal.get_by_id(seal.id).opened_at is not None


def test_wrong_passphrase_releases_nothing_and_is_audited(app, custodians):
    from core.audit.models import AuditEvent
    seal = _due(_new(custodians))
    with pytest.raises(SealError, match="passphrase"):
        sealing.release_shares([seal], custodians["p"], "not the right phrase")
    assert sealing.released(seal) == 0
    assert AuditEvent.select().where((AuditEvent.action == "seal.release_refused")
                                     & (AuditEvent.success == False)).count() == 1


def test_database_and_keys_alone_do_not_open(app, custodians):
    """Everything the server stores before the opening, read raw: the plaintext appears
    nowhere, and no share can be read without a custodian's passphrase."""
    seal = _new(custodians)
    secret = "绝密报价 987654.32"
    box = sealing.seal_data(seal, secret.encode(), context="x")
    from core.db import db
    dump = b""
    for table in db.get_tables():
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            dump += repr(row).encode() + b"\n"
    assert secret.encode() not in dump and b"987654" not in dump
    assert secret.encode("utf-8") not in bytes(box)
    shares = list(SealShare.select().where(SealShare.seal == seal.id))
    assert len(shares) == 3 and all(s.released_share is None for s in shares)


def test_refusals(app, custodians, org, make_user):
    stranger = make_user("stranger", role="staff", region=org["a"])
    with pytest.raises(SealError, match="custodian key"):
        sealing.create_seal("test.bid", "T-2", opens_at=utcnow() + dt.timedelta(hours=1),
                            custodians=[custodians["p"], stranger])
    with pytest.raises(SealError, match="threshold"):
        _new(custodians, threshold=1, ref="T-3")
    with pytest.raises(SealError, match="needed"):
        _new(custodians, threshold=4, ref="T-4")
    with pytest.raises(SealError, match="future"):
        sealing.create_seal("test.bid", "T-5", opens_at=utcnow() - dt.timedelta(seconds=1),
                            custodians=list(custodians.values()))
    with pytest.raises(SealError, match="login password"):
        from tests.conftest import STRONG
        sealing.enroll_custodian(stranger, STRONG)
    with pytest.raises(SealError):
        sealing.enroll_custodian(stranger, "short")


def test_reschedule_only_later_and_nothing_sealed_after_opening(app, custodians):
    seal = _new(custodians)
    later = seal.opens_at + dt.timedelta(days=3)
    with pytest.raises(SealError):
        sealing.reschedule(seal, seal.opens_at - dt.timedelta(minutes=5))
    seal = sealing.reschedule(seal, later)
    assert seal.opens_at == later
    seal = _due(seal)
    with pytest.raises(SealError):
        sealing.seal_data(seal, b"late", context="y")
    with pytest.raises(SealError):
        sealing.reschedule(seal, later)


def test_passphrase_change_and_reenrolment_keep_old_shares_readable(app, custodians):
    seal = _new(custodians)
    box = sealing.seal_data(seal, b"content", context="c")
    new = "a brand new custody phrase"
    assert sealing.change_passphrase(custodians["p"], PASS["p"], new) == 1
    sealing.enroll_custodian(custodians["a"], "agency phrase, second key")
    assert CustodianKey.select().where(CustodianKey.user == custodians["a"].id).count() == 2
    seal = _due(seal)
    sealing.release_shares([seal], custodians["p"], new)
    sealing.release_shares([seal], custodians["a"], PASS["a"])  # share sealed to the old key
    assert sealing.open_seal(seal).open(box, context="c") == b"content"


def test_custodians_for_covers_the_region(app, org, make_user):
    from core.auth.models import Role, RolePermission
    role = Role.create(code="keeper", label="Keeper")
    RolePermission.create(role=role, permission="test.custody")
    city_keeper = make_user("ck", role="keeper", region=org["city"])
    b_keeper = make_user("bk", role="keeper", region=org["b"])
    make_user("nk", role="keeper", region=org["a"])  # not enrolled
    for u in (city_keeper, b_keeper):
        sealing.enroll_custodian(u, "keeper custody phrase")
    assert [u.username for u in sealing.custodians_for("test.custody", org["a"].id)] == ["ck"]
    assert {u.username for u in sealing.custodians_for("test.custody", org["b"].id)} == {
        "ck", "bk"}
