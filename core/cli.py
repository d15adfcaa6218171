"""``flask --app wsgi …`` commands: db, plugins, users, demo, worker."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from core.plugins import host

db_cli = AppGroup("db", help="Database schema: migrations of the core and enabled plugins.")
plugins_cli = AppGroup("plugins", help="Installed plugins and where they are switched off.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="Demo data.")
jobs_cli = AppGroup("jobs", help="Periodic jobs: are they running on schedule?")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations; build the calendar; sync built-in roles."""
    from core import calendar, migrate
    from core.auth.roles import sync_builtin_roles
    from core.db import db
    with db.connection_context():
        try:
            done = migrate.upgrade(host())
        except Exception as exc:
            raise click.ClickException(f"migration failed: {exc}") from exc
        calendar.ensure()
        sync_builtin_roles(host())
    total = sum(len(v) for v in done.values())
    for component, names in done.items():
        for name in names:
            click.echo(f"applied {component}:{name}")
    click.echo(f"{total} migration(s) applied; schema is up to date.")


@db_cli.command("status")
def db_status():
    """Show applied and pending migrations per component; exit 1 if any are pending."""
    from core import migrate
    from core.db import db
    pending = 0
    with db.connection_context():
        for st in migrate.status(host()):
            click.echo(f"{st.component}: {len(st.applied)} applied, {len(st.pending)} pending")
            for name in st.applied:
                click.echo(f"  [x] {name}")
            for name in st.pending:
                click.echo(f"  [ ] {name}")
            pending += len(st.pending)
    if pending:
        click.echo(f"{pending} pending: run `flask --app wsgi db upgrade`.", err=True)
        sys.exit(1)


@plugins_cli.command("list")
def plugins_list():
    """Name, version, enabled, and the regions where each plugin is switched off."""
    from core.db import db
    from core.models import PluginSwitch
    from core.org.models import Region
    h = host()
    with db.connection_context():
        off: dict[str, list[str]] = {}
        try:
            rows = (PluginSwitch.select(PluginSwitch.plugin, Region.code).join(Region).tuples()
                    if PluginSwitch.table_exists() else [])
            for plugin, code in rows:
                off.setdefault(plugin, []).append(code)
        except Exception:  # noqa: BLE001 - list plugins even without a schema
            off = {}
    if not h.records:
        click.echo("no plugins installed")
        return
    click.echo(f"{'name':<16}{'version':<10}{'enabled':<9}switched off in")
    for rec in sorted(h.records.values(), key=lambda r: r.name):
        where = ", ".join(sorted(off.get(rec.name, []))) or "-"
        click.echo(f"{rec.name:<16}{rec.version or '-':<10}{'yes' if rec.enabled else 'no':<9}{where}")


@plugins_cli.command("switch")
@click.argument("name")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.option("--region", "region_code", required=True, help="Region code, e.g. 510104.")
def plugins_switch(name, state, region_code):
    """Switch plugin NAME on or off for one region (and the regions below it)."""
    from core.audit.service import record
    from core.db import db
    from core.models import PluginSwitch
    from core.org.models import Region
    h = host()
    if name not in h.records:
        raise click.ClickException(f"unknown plugin {name!r}; installed: "
                                   + (", ".join(sorted(h.records)) or "none"))
    with db.connection_context():
        region = Region.get_or_none(Region.code == region_code)
        if region is None:
            raise click.ClickException(f"unknown region code {region_code!r}")
        with db.atomic():
            if state == "off":
                PluginSwitch.insert(plugin=name, region=region, switched_by="cli") \
                    .on_conflict_ignore().execute()
            else:
                PluginSwitch.delete().where((PluginSwitch.plugin == name)
                                            & (PluginSwitch.region == region)).execute()
            record("plugin.switch", object_type="plugin", object_id=name, region_id=region.id,
                   summary=f"{name} switched {state} for {region.code} (cli)")
    click.echo(f"{name} switched {state} for {region.name} ({region.code})")


@users_cli.command("create")
@click.argument("name")
@click.option("--password", required=True, help="At least 10 characters, three classes.")
@click.option("--role", required=True, help="Role code, e.g. sys_admin.")
@click.option("--region", "region_code", required=True, help="Region code the grant covers.")
@click.option("--email", default="")
@click.option("--phone", default="")
def users_create(name, password, role, region_code, email, phone):
    """Create account NAME with ROLE in REGION (the first administrator, say)."""
    from core.auth.passwords import PasswordPolicyError
    from core.auth.roles import sync_builtin_roles
    from core.auth.service import AuthError, create_user
    from core.db import db
    with db.connection_context():
        sync_builtin_roles(host())
        try:
            user = create_user(name, password, role=role, region_code=region_code,
                               email=email, phone=phone, must_change=False)
        except (AuthError, PasswordPolicyError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.username} ({role} in {region_code})")


def _cli_user(name: str):
    from core.auth.models import User
    user = User.get_or_none(User.username == name)
    if user is None:
        raise click.ClickException(f"unknown user {name!r}")
    return user


@users_cli.command("disable")
@click.argument("name")
def users_disable(name):
    """Disable account NAME at once: its live sessions end (audited)."""
    from core.auth.accounts import set_active
    from core.db import db
    with db.connection_context():
        user = _cli_user(name)
        set_active(None, user, False)
    click.echo(f"disabled {name}; its sessions have ended")


@users_cli.command("enable")
@click.argument("name")
def users_enable(name):
    """Enable account NAME again (audited)."""
    from core.auth.accounts import set_active
    from core.db import db
    with db.connection_context():
        set_active(None, _cli_user(name), True)
    click.echo(f"enabled {name}")


@users_cli.command("unlock")
@click.argument("name")
def users_unlock(name):
    """Release account NAME locked after failed logins (audited)."""
    from core.auth.accounts import unlock
    from core.db import db
    with db.connection_context():
        unlock(None, _cli_user(name))
    click.echo(f"unlocked {name}")


@demo_cli.command("seed")
@click.option("--size", type=click.Choice(["small", "large"]), default="small")
def demo_seed(size):
    """Build a believable demo deployment (idempotent)."""
    from core.db import db
    from core.demo import seed
    with db.connection_context():
        summary = seed(host(), size)
    for line in summary:
        click.echo(line)


@demo_cli.command("totp")
@click.argument("name")
def demo_totp(name):
    """Print the current second-factor code of demo account NAME."""
    import pyotp

    from core.auth.models import User
    from core.db import db
    with db.connection_context():
        user = User.get_or_none(User.username == name)
    if user is None or not user.is_demo:
        raise click.ClickException(f"{name!r} is not a demo account")
    if not user.totp_secret:
        raise click.ClickException(f"{name!r} has no second factor")
    click.echo(pyotp.TOTP(user.totp_secret).now())


@click.command("worker")
@click.option("--workers", "-w", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker threads.")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Run periodic jobs in this worker.")
def worker(workers, periodic):
    """Run the background job consumer (Huey) with the app context."""
    import logging

    from core.queue import huey
    app = current_app._get_current_object()
    url = app.config["QL_SETTINGS"].queue_url
    if url.startswith("memory://"):
        raise click.ClickException("QL_QUEUE_URL is memory://: a worker needs a shared queue")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host().pm.hook.ql_periodic_tasks(huey=huey)
    if periodic:
        _register_beside(app)
    consumer = huey.create_consumer(workers=workers, worker_type="thread",
                                    periodic=periodic, check_worker_health=True)
    click.echo(f"worker: {workers} thread(s) on {url.split('://')[0]}://…", err=True)
    consumer.run()


@jobs_cli.command("status")
def jobs_status():
    """List the periodic jobs; exit 1 when one is late or none is registered (monitoring)."""
    from core import jobs
    from core.clock import local_time
    from core.db import db

    def local(value):
        return local_time(value).strftime("%Y-%m-%d %H:%M") if value else "-"
    with db.connection_context():
        states = jobs.states()
    if not states:
        click.echo("no periodic job is registered: is a worker with periodic jobs running?",
                   err=True)
        sys.exit(1)
    for s in states:
        job = s.job
        flag = "LATE" if s.late else "ok"
        click.echo(f"{flag:4}  {job.name:40}  completed {local(job.last_completed_at)}  "
                   f"due by {local(job.due_by)}  runs {job.runs}"
                   + (f"  last error: {job.last_error}" if job.last_failed_at else ""))
    if jobs.late_names(states):
        sys.exit(1)


def _register_beside(app) -> None:
    """Record this worker's periodic jobs (``core.jobs``) in a thread of its own: the
    consumer never waits for this bookkeeping, and a database that is busy or down at
    start only delays it (each job also records itself when it completes)."""
    import logging
    import threading

    from core.db import db
    from core.queue import register_schedules

    def run():
        try:
            with app.app_context(), db.connection_context():
                register_schedules()
        except Exception as exc:  # noqa: BLE001 - bookkeeping: the jobs run regardless
            logging.getLogger("qinglian.queue").warning(
                "periodic jobs not registered (%s); they record themselves when they run", exc)
    threading.Thread(target=run, name="register-periodic", daemon=True).start()


def init_app(app) -> None:
    for cmd in (db_cli, plugins_cli, users_cli, demo_cli, jobs_cli, worker, serve):
        app.cli.add_command(cmd)
    host_ = app.extensions["qinglian.plugins"]
    host_.pm.hook.ql_cli(group=app.cli)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", "-w", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker threads of the background job consumer.")
def serve(host, port, workers):
    """Run the web app and a background worker beside it (for one machine / the demo)."""
    import atexit
    import os
    import signal
    import subprocess

    from werkzeug.serving import run_simple
    app = current_app._get_current_object()
    worker_proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                                    "-w", str(workers)], env=dict(os.environ))

    def stop_worker(*_args):
        if worker_proc.poll() is None:
            worker_proc.send_signal(signal.SIGINT)
            try:
                worker_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker_proc.kill()

    atexit.register(stop_worker)
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(0))  # so atexit stops the worker too
    click.echo(f"Qinglian on http://{host}:{port}  (worker pid {worker_proc.pid}; Ctrl-C stops both)",
               err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
