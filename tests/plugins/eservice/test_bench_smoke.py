"""bench/eservice.py still runs: a short lookup run under gunicorn and a small import.

Only that it runs and prints its figures — speed is read from the bench itself, never
asserted in tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _bench(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QL_")}
    out = subprocess.run([sys.executable, "bench/eservice.py", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_lookup_bench_runs_both_answers():
    out = _bench("--seconds", "1", "--rounds", "1", "--threads", "2", "--client", "python")
    assert out.count("ratio lookup/bare:") == 2
    assert out.count("(non-200: 0)") == 4 and "full page" in out and "htmx answer" in out


def test_import_bench_runs():
    out = _bench("--import-only", "--items", "300")
    assert "300 items: preview" in out
