"""Benchmark: the public progress lookup (办件查询) under gunicorn, against a bare Flask
route rendering a template of the same size on the same server in the same run.

Builds a SQLite deployment in a temporary folder (the core schema, the eservice plugin,
one department, one item and 200 cases), starts gunicorn on it (sync workers), and drives
both URLs with wrk (Debian's ``wrk``; a threaded keep-alive http.client loop when wrk is
missing or with ``--client python``) for the same time each, interleaved in rounds so both
see the same machine. Both are POSTs with the same form, session cookie and CSRF token; the
lookup does everything it does in production (rate-limit counters in the database, the
audit event, the keyed-hash query, the timeline) — only the limit is raised so the load
generator is not refused.

Two answers are measured, each against a bare template of its own size: the full page
(the form posted without JavaScript) and the htmx answer (the form posted by htmx gets
only the result, swapped in above the form). Prints requests/second and the ratios
(target ≥ 0.5).

    python bench/eservice.py                   # both answers, wrk when installed
    python bench/eservice.py --only htmx       # … only one of them
    python bench/eservice.py --client python   # the http.client load generator
    python bench/eservice.py --no-holder       # … with no other process holding the file
    python bench/eservice.py --import-only     # time importing 7,500 catalogue items
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLUGINS = {"eservice": "plugins.eservice"}
ID_NUMBER = "11010519491231002X"
PAD_NAME = "bench_bare.html"
PAD_HTMX = "bench_bare_htmx.html"
HTMX = {"HX-Request": "true", "HX-Target": "lookup-result"}


def _settings(instance: Path):
    from core.settings import Settings
    return Settings(instance_path=instance, database_url=f"sqlite:///{instance / 'ql.db'}",
                    queue_url=f"sqlite:///{instance / 'queue.db'}", secret_key="b" * 32,
                    data_key="11" * 32, locale="zh_CN", plugins=("eservice",),
                    public_lookup_per_minute=10 ** 9).resolved()


def make_app():
    """gunicorn entry point: the real app plus one bare route (the baseline)."""
    from flask import render_template, request

    from core.app import create_app
    instance = Path(os.environ["BENCH_INSTANCE"])
    app = create_app(_settings(instance), available_plugins=PLUGINS)
    from jinja2 import ChoiceLoader, FileSystemLoader
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(str(instance))])

    @app.route("/bench/bare", methods=["GET", "POST"])
    def bare():
        pad = PAD_HTMX if request.headers.get("HX-Request") else PAD_NAME
        return render_template(pad, serial=request.form.get("serial", ""))
    return app


def build(instance: Path, cases: int = 200) -> str:
    """Migrate, seed one item and ``cases`` cases; return a serial to look up."""
    import datetime as dt

    from core import calendar, migrate
    from core.app import create_app
    from core.auth.roles import sync_builtin_roles
    from core.db import db
    from core.org.models import Department, Region
    from core.plugins import host
    app = create_app(_settings(instance), available_plugins=PLUGINS)
    with app.test_request_context(), db.connection_context():
        migrate.upgrade(host())
        calendar.ensure()
        sync_builtin_roles(host())
        from plugins.eservice import catalogue
        from plugins.eservice.cases import file_case, transition
        city = Region.create(code="510100", name="成都市", level="city")
        region = Region.create(code="510104", name="锦江区", level="district", parent=city)
        dept = Department.create(region=region, code="SC", name="锦江区市场监督管理局")
        item = catalogue.create_item({
            "name": "食品经营许可", "type": "XK", "department": dept, "statutory_days": 20,
            "committed_days": 5, "effective_from": dt.date(2026, 1, 1),
            "materials": [{"name": "申请书"}, {"name": "营业执照复印件"}],
            "steps": [{"code": "review", "name": "审查", "limit_days": 3},
                      {"code": "decide", "name": "决定", "limit_days": 2}]})
        serial = ""
        for n in range(cases):
            case = file_case(item, applicant_name="张三", id_number=ID_NUMBER,
                             received=[m.id for m in item.materials])
            for action in ("accept", "start_review", "advance"):
                case = transition(case, action)
            if n == cases // 2:
                serial = case.serial
    return serial


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session(port: int) -> tuple[http.client.HTTPConnection, dict]:
    """A keep-alive connection with the session cookie and CSRF token of the track page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/public/services/track")
    resp = conn.getresponse()
    html = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)
    return conn, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                  "_token": token}


def load(port: int, path: str, serial: str, seconds: float, threads: int,
         extra: dict) -> tuple[int, int]:
    """(requests done, non-200 answers) by ``threads`` clients for ``seconds``."""
    done = [0] * threads
    bad = [0] * threads
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn, headers = session(port)
        token = headers.pop("_token")
        headers.update(extra)
        body = urlencode({"serial": serial, "id_number": ID_NUMBER, "csrf_token": token})
        while time.monotonic() < stop:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            done[i] += 1
            if resp.status != 200:
                bad[i] += 1
        conn.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done), sum(bad)


def load_wrk(port: int, path: str, serial: str, seconds: float, threads: int,
             extra: dict) -> tuple[int, int]:
    """(requests done, non-2xx answers) by wrk with ``threads`` connections for ``seconds``:
    the same keep-alive POST with the session cookie and CSRF token."""
    conn, headers = session(port)
    conn.close()
    token = headers.pop("_token")
    body = urlencode({"serial": serial, "id_number": ID_NUMBER, "csrf_token": token})
    lua = ("wrk.method = 'POST'\n"
           f"wrk.body = '{body}'\n"
           f"wrk.headers['Content-Type'] = '{headers['Content-Type']}'\n"
           f"wrk.headers['Cookie'] = '{headers['Cookie']}'\n"
           + "".join(f"wrk.headers['{k}'] = '{v}'\n" for k, v in extra.items()))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    try:
        out = subprocess.run(
            ["wrk", "-t", "1", "-c", str(threads), "-d", f"{seconds:.0f}s", "-s", fh.name,
             f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(fh.name)
    done = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return done, int(bad.group(1)) if bad else 0


def _write_pad(port: int, serial: str, extra: dict, pad: Path) -> int:
    """Look the case up once; write the baseline template: the same size as the answer,
    rendered by Jinja with one variable. Returns the answer's size in bytes."""
    conn, headers = session(port)
    token = headers.pop("_token")
    conn.request("POST", "/public/services/track", headers={**headers, **extra},
                 body=urlencode({"serial": serial, "id_number": ID_NUMBER,
                                 "csrf_token": token}))
    resp = conn.getresponse()
    answer = resp.read().decode()
    conn.close()
    assert resp.status == 200 and "es-progress" in answer, (resp.status, answer[:300])
    size = len(answer.encode())
    pad.write_text("<!doctype html><p>{{ serial }}</p>" + "x" * max(0, size - 40))
    return size


def bench_lookup(args) -> None:
    instance = Path(tempfile.mkdtemp(prefix="ql-bench-es-"))
    try:
        print(f"building the deployment in {instance} …", flush=True)
        serial = build(instance)
        holder = None
        if not args.no_holder:
            # A deployment's worker keeps the SQLite file open; without any open
            # connection SQLite checkpoints and deletes the WAL each time a request's
            # connection closes, which costs ~15 ms per writing request here.
            import sqlite3
            holder = sqlite3.connect(instance / "ql.db")
            holder.execute("SELECT 1").fetchall()
        port = free_port()
        env = {**os.environ, "BENCH_INSTANCE": str(instance), "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b",
             f"127.0.0.1:{port}", "--log-level", "warning", "bench.eservice:make_app()"],
            cwd=ROOT, env=env, start_new_session=True)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            print(f"gunicorn {args.workers} workers, {args.client} client, "
                  f"{args.threads} connections, {args.rounds} rounds of {args.seconds:.0f} s "
                  f"per route, database held open by another process: {holder is not None}")
            for label, extra, pad in (("full page (no JavaScript)", {}, PAD_NAME),
                                      ("htmx answer (the form with JavaScript)", HTMX,
                                       PAD_HTMX)):
                if args.only and args.only not in label:
                    continue
                size = _write_pad(port, serial, extra, instance / pad)
                rounds = {"/public/services/track": [0, 0], "/bench/bare": [0, 0]}
                for _round in range(args.rounds):
                    for path, counts in rounds.items():
                        n, bad = (load_wrk if args.client == "wrk" else load)(
                            port, path, serial, args.seconds, args.threads, extra)
                        counts[0] += n
                        counts[1] += bad
                total = args.rounds * args.seconds
                lookup = rounds["/public/services/track"][0] / total
                bare = rounds["/bench/bare"][0] / total
                print(f"{label}, answer {size} bytes")
                print(f"  public lookup : {lookup:8.1f} req/s  "
                      f"(non-200: {rounds['/public/services/track'][1]})")
                print(f"  bare route    : {bare:8.1f} req/s  "
                      f"(non-200: {rounds['/bench/bare'][1]})")
                print(f"  ratio lookup/bare: {lookup / bare:.2f}  (target ≥ 0.5)", flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
            if holder is not None:
                holder.close()
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def bench_import(args) -> None:
    """Time importing 7,500 new items through the importer's validate + bulk path."""
    import datetime as dt

    from core import migrate
    from core.app import create_app
    from core.db import db
    from core.org.models import Department, Region
    from core.plugins import host
    instance = Path(tempfile.mkdtemp(prefix="ql-bench-es-imp-"))
    try:
        app = create_app(_settings(instance), available_plugins=PLUGINS)
        with app.test_request_context(), db.connection_context():
            migrate.upgrade(host())
            from plugins.eservice import importer
            from plugins.eservice.models import Item
            city = Region.create(code="510100", name="成都市", level="city")
            depts = [Department.create(region=city, code=f"D{i:02d}", name=f"部门{i}")
                     for i in range(49)]
            rows = [{"name": f"事项{n}", "type": "XK", "region_code": "510100",
                     "department_code": depts[n % 49].code, "statutory_days": "20",
                     "committed_days": "10", "effective_from": dt.date(2026, 1, 1).isoformat(),
                     "legal_bases": "《行政许可法》第十二条|可以设定行政许可的事项",
                     "materials": "申请书|original|1|required; 身份证明|copy|1|required; "
                                  "营业执照|copy|1|required; 委托书|original|1|optional",
                     "steps": "review|审查|5|审查员; decide|决定|5|局长",
                     "specials": "publicity|公示|5"} for n in range(args.items)]
            import csv
            import io
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=importer.COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            data = buf.getvalue().encode()
            allowed = Department.select()
            t0 = time.perf_counter()
            preview = importer.preview("items.csv", data, allowed)
            t1 = time.perf_counter()
            importer.apply(preview["token"], allowed, None)
            t2 = time.perf_counter()
            assert Item.select().count() == args.items
            print(f"{args.items} items: preview {t1 - t0:.2f} s, apply (re-check + insert) "
                  f"{t2 - t1:.2f} s, total {t2 - t0:.2f} s")
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="load generator: wrk (default when installed) or threaded "
                             "http.client")
    parser.add_argument("--only", choices=("page", "htmx"),
                        help="measure only the full page or only the htmx answer")
    parser.add_argument("--import-only", action="store_true")
    parser.add_argument("--no-holder", action="store_true",
                        help="do not keep the SQLite file open from another process")
    parser.add_argument("--items", type=int, default=7500)
    args = parser.parse_args()
    if args.import_only:
        bench_import(args)
    else:
        bench_lookup(args)


if __name__ == "__main__":
    main()
