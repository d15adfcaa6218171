"""`keys rotate` killed with SIGKILL half-way through the service hall's ID numbers and
phones resumes where it stopped, and every value is readable afterwards."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

from core.db import db
from core.pii import crypto
from core.settings import ROOT
from tests.conftest import TEST_DATA_KEY, TEST_SECRET

ROWS = 5000
SM4_KEY = "5a" * 16


def rotate_process(settings, batch: int) -> subprocess.Popen:
    env = dict(os.environ, QL_DATABASE_URL=settings.database_url,
               QL_INSTANCE_PATH=str(settings.instance_path), QL_SECRET_KEY=TEST_SECRET,
               QL_DATA_KEY=TEST_DATA_KEY, QL_LOCALE="en",
               QL_QUEUE_URL=f"sqlite:///{settings.instance_path / 'q.db'}")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "keys", "rotate",
                             "--batch", str(batch)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_rotation_survives_kill_9_and_resumes(app, settings, org, item):
    from core.audit.models import AuditEvent
    from core.pii.models import KeyRotation, KeyRotationStep
    from core.pii.validate import id_check_char, mask_resident_id
    from plugins.eservice.models import ID_PURPOSE, Case
    numbers = []
    for i in range(ROWS):
        body = f"510104{dt.date(1960, 1, 1) + dt.timedelta(days=i * 3):%Y%m%d}{i % 1000:03d}"
        numbers.append(body + id_check_char(body))
    phones = [f"139{i:08d}" if i % 2 else None for i in range(ROWS)]
    rows = [{"serial": f"T-{i}", "item": item.id, "region": org["a"].id,
             "department": org["dept_a"].id, "applicant_name": "张三",
             "applicant_phone": phones[i], "id_number": numbers[i],
             "id_hash": crypto.blind_index(numbers[i], ID_PURPOSE),
             "id_mask": mask_resident_id(numbers[i])} for i in range(ROWS)]
    with db.atomic():
        for start in range(0, ROWS, 500):
            Case.insert_many(rows[start:start + 500]).execute()
    with open(settings.key_ring_file, "a") as fh:
        fh.write(f"1:sm4-gcm:{SM4_KEY}\n")
    total = ROWS + ROWS // 2

    proc = rotate_process(settings, batch=10)
    done = 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        step = (KeyRotationStep.select().where(KeyRotationStep.target == "eservice_case.id_enc")
                .first())
        done = step.rows_done if step else 0
        db.close()  # read fresh each time (and never hold a snapshot the writer waits on)
        if done >= 1000:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, out
    rotation = KeyRotation.get()
    assert rotation.state == "running" and 1000 <= rotation.rows_done < total
    keys = [crypto.token_key(t) for (t,) in db.execute_sql("SELECT id_enc FROM eservice_case")]
    assert {"0", "1"} <= set(keys)  # half-way: some under each key
    committed = rotation.rows_done

    proc = rotate_process(settings, batch=200)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert f"Resumed rotation #{rotation.id}" in out
    assert f"({total - committed} re-sealed by this run, {total} in all)" in out

    tokens = db.execute_sql("SELECT id_enc, phone_enc FROM eservice_case ORDER BY id").fetchall()
    assert all(crypto.token_key(t) == "1" for row in tokens for t in row if t is not None)
    cases = list(Case.select().order_by(Case.id))
    assert [c.id_number for c in cases] == numbers
    assert [c.applicant_phone for c in cases] == phones
    assert KeyRotation.get().state == "done" and KeyRotation.get().rows_done == total
    actions = [e.action for e in AuditEvent.select().where(
        AuditEvent.object_type == "key_rotation").order_by(AuditEvent.id)]
    assert actions == ["keys.rotate.start", "keys.rotate.resume", "keys.rotate.done"]
