"""Encryption at rest with a key ring (AES-256-GCM, SM4-GCM), blind indexes, the field."""
from __future__ import annotations

import dataclasses
import stat

import peewee as pw
import pytest

from core.pii import crypto
from core.pii.crypto import DecryptError, blind_index, decrypt, encrypt, token_key
from core.settings import Settings, SettingsError
from tests.conftest import TEST_DATA_KEY

AES_KEY = "aa" * 32
SM4_KEY = "5a" * 16


@pytest.fixture
def use(app):
    """use(**settings) swaps the app's settings for this test."""
    original = app.config["QL_SETTINGS"]

    def swap(**changes):
        app.config["QL_SETTINGS"] = dataclasses.replace(original, **changes).resolved()
        return app.config["QL_SETTINGS"]
    yield swap
    app.config["QL_SETTINGS"] = original


def test_aes_256_gcm_matches_the_gcm_specification_vector():
    """McGrew & Viega, "The Galois/Counter Mode of Operation", test case 14."""
    sealed = crypto._AesGcm(bytes(32)).seal(bytes(12), bytes(16), b"")
    assert sealed.hex() == ("cea7403d4d606b6e074ec5d3baf39d18"
                            "d0d1c8a799996bf0265b98b5d48ab919")


def test_sm4_gcm_matches_the_rfc_8998_vector():
    v = {k: bytes.fromhex(h) for k, h in crypto._SM4_VECTOR.items()}
    cipher = crypto._Sm4Gcm(v["key"])
    assert cipher.seal(v["iv"], v["plain"], v["aad"]) == v["sealed"]
    assert cipher.open(v["iv"], v["sealed"], v["aad"]) == v["plain"]
    crypto.check_sm4()


@pytest.mark.parametrize("cipher,secret", [("aes-256-gcm", AES_KEY), ("sm4-gcm", SM4_KEY)])
def test_both_ciphers_round_trip_and_name_key_and_cipher(use, cipher, secret):
    use(data_keys=f"k1:{cipher}:{secret}")
    token = encrypt("11010519491231002X", "test.id")
    assert token.startswith(f"ql1:k1:{cipher}:")
    assert "11010519491231002X" not in token
    assert decrypt(token, "test.id") == "11010519491231002X"
    assert encrypt("11010519491231002X", "test.id") != token  # a fresh nonce each time
    assert decrypt(encrypt("", "test.id"), "test.id") == ""
    assert decrypt(encrypt("张三 ☎", "test.id"), "test.id") == "张三 ☎"


def test_new_writes_use_the_newest_key_and_old_values_stay_readable(use):
    use(data_keys=f"1:aes-256-gcm:{AES_KEY}")
    old = encrypt("13800138000", "test.phone")
    use(data_keys=f"1:aes-256-gcm:{AES_KEY}, 2:sm4-gcm:{SM4_KEY}")
    new = encrypt("13800138000", "test.phone")
    assert (token_key(old), token_key(new)) == ("1", "2")
    assert new.startswith("ql1:2:sm4-gcm:")
    assert decrypt(old, "test.phone") == decrypt(new, "test.phone") == "13800138000"
    use(data_keys=f"2:sm4-gcm:{SM4_KEY}")  # key 1 retired: its values no longer open
    with pytest.raises(DecryptError, match="'1' is not in this process's key ring"):
        decrypt(old, "test.phone")


def test_legacy_data_key_is_key_zero_of_the_ring(use, settings):
    assert TEST_DATA_KEY == settings.data_key
    ring = crypto.key_ring()
    assert list(ring.keys) == ["0"] and ring.primary.cipher == "aes-256-gcm"
    use(data_keys=f"1:sm4-gcm:{SM4_KEY}")
    ring = crypto.key_ring()
    assert list(ring.keys) == ["0", "1"] and ring.primary.id == "1"


def test_a_ciphertext_opens_only_for_its_purpose_and_untouched(use):
    use(data_keys=f"1:aes-256-gcm:{AES_KEY},2:sm4-gcm:{SM4_KEY}")
    token = encrypt("secret", "cases.reporter_name")
    with pytest.raises(DecryptError, match="does not authenticate"):
        decrypt(token, "eservice.id_number")  # copied into another column
    header, body = token.rsplit(":", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(DecryptError):
        decrypt(f"{header}:{flipped}", "cases.reporter_name")
    other_key = token.replace("ql1:2:sm4-gcm:", "ql1:1:aes-256-gcm:")
    with pytest.raises(DecryptError):
        decrypt(other_key, "cases.reporter_name")
    with pytest.raises(DecryptError, match="is sm4-gcm"):
        decrypt(token.replace(":sm4-gcm:", ":aes-256-gcm:"), "cases.reporter_name")
    for junk in ("", "plain text", "ql1:2:sm4-gcm:***", "zz:1:aes-256-gcm:AAAA"):
        with pytest.raises(DecryptError):
            decrypt(junk, "cases.reporter_name")


def test_first_run_generates_a_private_ring_of_the_configured_cipher(tmp_path):
    settings = Settings(instance_path=tmp_path, data_cipher="sm4-gcm").resolved()
    entries = settings.key_ring_entries()
    assert [(e.id, e.cipher, len(e.secret)) for e in entries] == [("1", "sm4-gcm", 16)]
    path = tmp_path / "data_keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.key_ring_entries() == entries  # read back, not generated again
    algorithm, key = settings.blind_index_key()
    assert algorithm == "hmac-sm3" and len(key) == 32
    assert stat.S_IMODE((tmp_path / "index_key").stat().st_mode) == 0o600


def test_a_key_added_to_the_ring_file_reaches_a_running_process(use, tmp_path):
    settings = use(data_key="", instance_path=tmp_path)
    first = encrypt("v", "test.x")
    assert token_key(first) == "1"
    with open(settings.key_ring_file, "a") as fh:
        fh.write(f"2:sm4-gcm:{SM4_KEY}\n")
    other = crypto.KeyRing(settings.key_ring_entries())  # another process, already on key 2
    header, body = other.seal(b"w", "test.x")
    import base64
    token = f"{header}:{base64.urlsafe_b64encode(body).decode().rstrip('=')}"
    assert decrypt(token, "test.x") == "w"  # unknown key id: the ring is read again
    assert token_key(encrypt("v", "test.x")) == "2"


@pytest.mark.parametrize("changes,message", [
    ({"data_cipher": "des"}, "QL_DATA_CIPHER"),
    ({"data_keys": "1:aes-256-gcm:abcd"}, "needs 64 hex characters"),
    ({"data_keys": f"1:rot13:{AES_KEY}"}, "cipher 'rot13'"),
    ({"data_keys": f"a:b:{AES_KEY}"}, "cipher 'b'"),
    ({"data_keys": f"bad id:aes-256-gcm:{AES_KEY}"}, "is not id:cipher:hex"),
    ({"data_keys": f"x*:aes-256-gcm:{AES_KEY}"}, "key id 'x\\*'"),
    ({"data_keys": "1:sm4-gcm:" + "zz" * 16}, "hexadecimal"),
    ({"data_keys": ","}, "no key"),
    ({"data_key": "abc"}, "QL_DATA_KEY"),
    ({"index_key": "hmac-md5:" + "00" * 32}, "QL_INDEX_KEY"),
    ({"index_key": "00" * 8}, "at least 64 hex"),
])
def test_bad_key_settings_are_refused_naming_the_setting(tmp_path, changes, message):
    with pytest.raises(SettingsError, match=message):
        Settings(instance_path=tmp_path, **changes).resolved()


def test_a_key_id_twice_in_the_ring_is_refused(tmp_path):
    settings = Settings(instance_path=tmp_path, data_key=TEST_DATA_KEY,
                        data_keys=f"0:aes-256-gcm:{AES_KEY}").resolved()
    with pytest.raises(SettingsError, match="appears twice"):
        settings.key_ring_entries()


def test_blind_index_is_deterministic_per_purpose_and_survives_data_key_changes(use):
    use(index_key="hmac-sha256:" + "11" * 32)
    first = blind_index("11010519491231002X", "eservice.id_number")
    assert len(first) == 64 and int(first, 16) >= 0
    assert blind_index("11010519491231002X", "eservice.id_number") == first
    assert blind_index("11010519491231002X", "cases.reporter_id") != first
    assert blind_index("110105194912310030", "eservice.id_number") != first
    use(index_key="hmac-sha256:" + "11" * 32, data_keys=f"9:sm4-gcm:{SM4_KEY}")
    assert blind_index("11010519491231002X", "eservice.id_number") == first
    use(index_key="hmac-sm3:" + "11" * 32)
    assert blind_index("11010519491231002X", "eservice.id_number") != first
    use(index_key="hmac-sha256:" + "22" * 32)
    assert blind_index("11010519491231002X", "eservice.id_number") != first


def test_encrypted_field_stores_only_ciphertext(use):
    from core.db import BaseModel, db
    from core.pii.fields import EncryptedField

    class Note(BaseModel):
        body = EncryptedField("test.note", null=True)

        class Meta:
            table_name = "test_pii_note"

    use(data_keys=f"1:sm4-gcm:{SM4_KEY}")
    db.create_tables([Note])
    try:
        a = Note.create(body="举报人：李四")
        b = Note.create(body=None)
        (raw,) = db.execute_sql("SELECT body FROM test_pii_note WHERE id = %s"
                                .replace("%s", db.obj.param), [a.id]).fetchone()
        assert raw.startswith("ql1:1:sm4-gcm:") and "李四" not in raw
        assert Note.get_by_id(a.id).body == "举报人：李四"
        assert Note.get_by_id(b.id).body is None
        assert [n.body for n in Note.select().order_by(Note.id)] == ["举报人：李四", None]
        db.execute_sql("UPDATE test_pii_note SET body = %s WHERE id = %s"
                       .replace("%s", db.obj.param),
                       [encrypt("举报人：李四", "test.other"), a.id])
        with pytest.raises(DecryptError):
            Note.get_by_id(a.id)
    finally:
        db.drop_tables([Note])
    with pytest.raises(ValueError, match="needs a purpose"):
        EncryptedField("")
    assert isinstance(EncryptedField("x"), pw.TextField)
