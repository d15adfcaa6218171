"""ID numbers and phones onto the core's personal-data service (core.pii).

Before this, the plugin sealed ID numbers itself: base64(nonce ‖ AES-GCM) under
QL_DATA_KEY with the associated data ``eservice.id``, indexed with an HMAC key derived from
that same key, and kept the applicant's phone in clear. Every ID number is opened with
that key (key "0" of the ring) and sealed again as a key-ring ciphertext, its blind index
recomputed with the core's stable index key, and every phone encrypted into the new
``phone_enc`` column; ``applicant_phone`` is dropped. A row that does not open stops the
migration (nothing is changed) naming its id.
"""
from peewee import TextField

from core.api import DecryptError, blind_index, decrypt_legacy, encrypt

ID_PURPOSE = "eservice.id_number"
PHONE_PURPOSE = "eservice.applicant_phone"
LEGACY_ASSOCIATED = b"eservice.id"
BATCH = 1000


def up(migrator, db):
    migrator.migrate(migrator.add_column("eservice_case", "phone_enc", TextField(null=True)))
    q0, q1 = db.quote
    p = db.param
    select = (f"SELECT id, id_enc, applicant_phone FROM {q0}eservice_case{q1} "
              f"WHERE id > {p} ORDER BY id LIMIT {BATCH}")
    update = (f"UPDATE {q0}eservice_case{q1} SET id_enc = {p}, id_hash = {p}, "
              f"phone_enc = {p} WHERE id = {p}")
    last = 0
    while True:
        rows = db.execute_sql(select, [last]).fetchall()
        if not rows:
            break
        changes = []
        for case_id, token, phone in rows:
            try:
                number = decrypt_legacy(token, LEGACY_ASSOCIATED)
            except DecryptError as exc:
                raise RuntimeError(f"eservice_case id {case_id}: {exc}") from None
            changes.append((encrypt(number, ID_PURPOSE), blind_index(number, ID_PURPOSE),
                            encrypt(phone, PHONE_PURPOSE) if phone else None, case_id))
        db.cursor().executemany(update, changes)
        last = rows[-1][0]
    migrator.migrate(migrator.drop_column("eservice_case", "applicant_phone"))
