"""``flask --app wsgi keys status|add|rotate|retire``: the data key ring (数据密钥).

Adding a key makes it the one new values are sealed with; ``rotate`` re-seals every
existing value under it; ``retire`` removes a key nothing uses any more."""
from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from core.i18n import _
from core.private_files import write_private
from core.settings import DATA_CIPHERS, KEY_ID, parse_key_ring

keys_cli = AppGroup("keys", help="The data key ring: status, add a key, rotate, retire.")


def _settings():
    return current_app.config["QL_SETTINGS"]


def _models():
    from core.plugins import host
    return host().collect("ql_models")


@keys_cli.command("status")
def status_cmd():
    """The keys of the ring, how many values each one sealed, the last rotation."""
    from core.db import db
    from core.pii.crypto import fingerprint, key_ring
    from core.pii.models import KeyRotation
    from core.pii.rotation import rotation_targets
    settings = _settings()
    ring = key_ring(reload=True)
    click.echo(_("Data keys (oldest first; the last one seals new values):"))
    for key in ring.keys.values():
        mark = "  <- " + _("new values") if key is ring.primary else ""
        click.echo(f"  {key.id:<16} {key.cipher:<12} {key.fingerprint}  {key.source}{mark}")
    algorithm, index_key = settings.blind_index_key()
    click.echo(_("Blind index key: %(a)s, fingerprint %(f)s (never rotated with the data "
                 "keys)", a=algorithm, f=fingerprint(index_key)))
    if ring.primary.cipher != settings.data_cipher:
        click.echo(_("Warning: QL_DATA_CIPHER is %(want)s but the newest key is %(have)s: "
                     "run `keys add`, then `keys rotate`.", want=settings.data_cipher,
                     have=ring.primary.cipher), err=True)
    with db.connection_context():
        click.echo(_("Encrypted values by key:"))
        for column in rotation_targets(_models()):
            counts = column.count_by_key(ring)
            shown = ", ".join(f"{k}: {n}" for k, n in counts.items()) or "-"
            click.echo(f"  {column.name:<40} {shown}")
        last = KeyRotation.select().order_by(KeyRotation.id.desc()).first()
    if last is None:
        click.echo(_("No rotation has run."))
    else:
        click.echo(_("Last rotation: #%(id)d to key %(key)s, %(state)s, %(n)d re-sealed, "
                     "started %(when)s UTC", id=last.id, key=last.target_key,
                     state=last.state, n=last.rows_done,
                     when=last.started_at.strftime("%Y-%m-%d %H:%M:%S")))


@keys_cli.command("add")
@click.option("--cipher", type=click.Choice(sorted(DATA_CIPHERS)), default=None,
              help="Cipher of the new key (default: QL_DATA_CIPHER).")
@click.option("--id", "key_id", default=None, help="Id of the new key (default: the next "
              "number).")
def add_cmd(cipher, key_id):
    """Generate a key and make it the one new values are sealed with."""
    from core.audit.service import record
    from core.db import db
    from core.pii.crypto import fingerprint, key_ring
    settings = _settings()
    cipher = cipher or settings.data_cipher
    ring = key_ring(reload=True)
    if key_id is None:
        numbers = [int(k) for k in ring.keys if k.isdigit()]
        key_id = str(max(numbers, default=0) + 1)
    if not KEY_ID.fullmatch(key_id):
        raise click.ClickException(_("A key id is 1-16 letters, digits, - or _."))
    if key_id in ring.keys:
        raise click.ClickException(_("The ring already has a key %(id)s.", id=key_id))
    secret = secrets.token_bytes(DATA_CIPHERS[cipher])
    entry = f"{key_id}:{cipher}:{secret.hex()}"
    if settings.data_keys:
        click.echo(_("The ring is set by QL_DATA_KEYS: append this entry to it on every web "
                     "and worker process, restart them, then run `keys rotate`:"))
        click.echo(entry)
        return
    path = settings.key_ring_file
    before = path.read_text() if path.exists() else ""
    if before and not before.endswith("\n"):
        before += "\n"
    write_private(path, (before + entry + "\n").encode())
    with db.connection_context(), db.atomic():
        record("keys.add", object_type="data_key", object_id=key_id,
               summary=f"{cipher}, fingerprint {fingerprint(secret)}, in {path}")
    key_ring(reload=True)
    click.echo(_("Added key %(id)s (%(cipher)s) to %(path)s; new values are sealed with it. "
                 "Run `keys rotate` to re-seal the existing ones.", id=key_id, cipher=cipher,
                 path=path))


@keys_cli.command("rotate")
@click.option("--batch", "batch_size", type=click.IntRange(1, 10_000), default=500,
              show_default=True, help="Values re-sealed per transaction.")
def rotate_cmd(batch_size):
    """Re-seal every encrypted value under the newest key: in batches, resumable after an
    interruption (run it again), audited."""
    from core.db import db
    from core.pii.rotation import RotationError, rotate
    last_shown = [0.0]

    def progress(column: str, done: int, last_id: int) -> None:
        now = time.monotonic()
        if now - last_shown[0] >= 2:
            last_shown[0] = now
            click.echo(_("%(column)s: %(n)d re-sealed (up to id %(id)d)", column=column,
                         n=done, id=last_id))

    with db.connection_context():
        try:
            outcome = rotate(_models(), batch_size=batch_size, progress=progress)
        except RotationError as exc:
            raise click.ClickException(str(exc)) from None
    rotation = outcome.rotation
    if outcome.resumed:
        click.echo(_("Resumed rotation #%(id)d.", id=rotation.id))
    if outcome.remaining:
        click.echo(_("Still not under key %(key)s after %(n)d passes: %(left)s. A process "
                     "that has not read the new key keeps writing with an older one: "
                     "restart it, then run `keys rotate` again.", key=rotation.target_key,
                     n=rotation.passes, left=", ".join(
                         f"{k} ({n})" for k, n in outcome.remaining.items())), err=True)
        sys.exit(1)
    click.echo(_("Rotation #%(id)d done: every value is under key %(key)s (%(n)d re-sealed "
                 "by this run, %(total)d in all).", id=rotation.id, key=rotation.target_key,
                 n=outcome.rewritten, total=rotation.rows_done))


@keys_cli.command("retire")
@click.argument("key_id")
def retire_cmd(key_id):
    """Remove key KEY_ID from the ring once no value uses it (keep a copy offline if old
    backups must stay readable)."""
    from core.audit.service import record
    from core.db import db
    from core.pii.crypto import key_ring
    from core.pii.rotation import rotation_targets
    settings = _settings()
    ring = key_ring(reload=True)
    key = ring.keys.get(key_id)
    if key is None:
        raise click.ClickException(_("The ring has no key %(id)s.", id=key_id))
    if key is ring.primary:
        raise click.ClickException(_("Key %(id)s seals new values: add a key and rotate "
                                     "before retiring it.", id=key_id))
    with db.connection_context():
        used = {c.name: n for c in rotation_targets(_models())
                if (n := c.count_by_key(ring).get(key_id))}
    if used:
        raise click.ClickException(_("Key %(id)s still seals %(left)s: run `keys rotate` "
                                     "first.", id=key_id,
                                     left=", ".join(f"{k} ({n})" for k, n in used.items())))
    if key.source in ("QL_DATA_KEY", "QL_DATA_KEYS"):
        click.echo(_("No value uses key %(id)s: remove it from %(var)s on every process and "
                     "restart them.", id=key_id, var=key.source))
        return
    path = Path(key.source)
    if path == settings.legacy_key_file:
        path.unlink()
    else:
        kept = [e for e in parse_key_ring(path.read_text(), str(path)) if e.id != key_id]
        write_private(path, "".join(f"{e.id}:{e.cipher}:{e.secret.hex()}\n"
                                     for e in kept).encode())
    with db.connection_context(), db.atomic():
        record("keys.retire", object_type="data_key", object_id=key_id,
               summary=f"{key.cipher}, fingerprint {key.fingerprint}, from {path}")
    key_ring(reload=True)
    click.echo(_("Retired key %(id)s.", id=key_id))
