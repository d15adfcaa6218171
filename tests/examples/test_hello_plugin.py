"""The third-party plugin examples/qinglian-hello, built and installed with pip into a
throw-away virtual environment beside the project's, as a deployment would install it:
`plugins list` shows it, `db upgrade` applies its own migration chain, its page, menu
entry, form, event subscriber and catalogues work; uninstalled, it is gone from the app and
its data stays. On SQLite, and on PostgreSQL when QL_DATABASE_URL points there.

No network: the environment sees the project's installed packages (a .pth file adding the
running interpreter's site-packages), and pip builds the wheel with them
(``--no-index --no-build-isolation``; the dev extra brings ``wheel``)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from core.db import make_database
from core.settings import ROOT
from tests.migrations import database

EXAMPLE = ROOT / "examples" / "qinglian-hello"
DRIVER = Path(__file__).with_name("hello_driver.py")


@pytest.fixture
def sandbox(tmp_path):
    """(python of a fresh venv that sees the project's packages, environment for it)."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    probe = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    own = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    dirs = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(own.stdout.strip(), "qinglian-project.pth").write_text(
        "".join(f"import site; site.addsitedir({d!r})\n" for d in dirs), encoding="utf-8")
    url, drop = database(tmp_path, "hello")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QL_", "PYTHON", "VIRTUAL_ENV", "PIP_"))}
    env.update(QL_DATABASE_URL=url, QL_INSTANCE_PATH=str(tmp_path / "instance"),
               QL_SECRET_KEY="hello-plugin-test-" + "x" * 32, PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    yield python, env, url
    drop()


def run(sandbox, *args, **extra_env) -> subprocess.CompletedProcess:
    python, env, _url = sandbox
    done = subprocess.run([str(python), *args], cwd=ROOT, env=dict(env, **extra_env),
                          capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


def flask(sandbox, *args) -> str:
    return run(sandbox, "-m", "flask", "--app", "wsgi", *args).stdout


def drive(sandbox, what: str, **extra_env) -> dict:
    return json.loads(run(sandbox, str(DRIVER), what, **extra_env)
                      .stdout.strip().splitlines()[-1])


def _hello_row(listing: str) -> list[str]:
    return next((line.split() for line in listing.splitlines()
                 if line.split()[:1] == ["hello"]), [])


def test_the_example_plugin_installs_runs_and_leaves_its_data_when_removed(sandbox, tmp_path):
    source = shutil.copytree(EXAMPLE, tmp_path / "src", ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    run(sandbox, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--quiet",
        str(source))
    assert _hello_row(flask(sandbox, "plugins", "list"))[:3] == ["hello", "1.0.0", "yes"]

    upgraded = flask(sandbox, "db", "upgrade")
    assert "hello" in upgraded and "0001_hello" in upgraded
    assert "hello: 1 applied, 0 pending" in flask(sandbox, "db", "status")

    # the third-party plugin alone on the core: the driver publishes the service hall's
    # event itself (with e-supervision on, a hand-made event without the contract's
    # event_id is refused, as it should be)
    seen = drive(sandbox, "installed", QL_PLUGINS="hello")
    assert seen["page_status"] == 200 and "问候板" in seen["page"]  # Chinese by default
    assert 'href="/hello/"' in seen["dashboard"] and "问候" in seen["dashboard"]
    assert seen["post_status"] == 303 and "各位辛苦了" in seen["after"]
    assert seen["refused_status"] == 422 and "各位辛苦了" in seen["after"]
    assert "办件 510104-20260302-0001-K（食品经营许可）已办结" in seen["after"]  # subscriber
    assert "Greetings board" in seen["english"] and "Post" in seen["english"]

    run(sandbox, "-m", "pip", "uninstall", "--yes", "--quiet", "qinglian-hello")
    assert _hello_row(flask(sandbox, "plugins", "list")) == []
    flask(sandbox, "db", "upgrade")  # a deployment without it still upgrades
    gone = drive(sandbox, "removed")
    assert gone["dashboard_status"] == 200 and gone["page_status"] == 404
    assert 'href="/hello/"' not in gone["dashboard"]
    kept = make_database(sandbox[2], pooled=False)
    try:
        texts = [t for (t,) in kept.execute_sql(
            "SELECT text FROM hello_greeting ORDER BY id").fetchall()]
        applied = [n for (n,) in kept.execute_sql(
            "SELECT name FROM migrations_hello").fetchall()]
    finally:
        kept.close()
    assert texts[0] == "各位辛苦了" and len(texts) == 2 and applied == ["0001_hello"]


def test_the_sandbox_sees_the_project_but_not_the_example_until_installed(sandbox):
    """The check above means something only if the plugin is not already importable."""
    probe = ("import importlib.util, core; "
             "print(importlib.util.find_spec('qinglian_hello') is None)")
    assert run(sandbox, "-c", probe).stdout.strip() == "True"
    assert sys.prefix not in run(sandbox, "-c", "import sys; print(sys.prefix)").stdout
