"""Proof under chaos, as a test: the chaos bench (bench/chaos.py) with a small burst. Every part
is a real process; the worker is killed with SIGKILL, Redis restarted empty and a PostgreSQL
cluster of the bench's own crashed and restarted during the burst; afterwards every mention
is one ticket and every reply one post on the sandbox."""

from __future__ import annotations

import subprocess
import sys
from glob import glob
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_nothing_is_lost_or_doubled_when_worker_broker_and_database_fail_during_a_burst():
    # Without PostgreSQL's server binaries there is no throwaway cluster to crash: the rest runs.
    own_postgres = bool(glob("/usr/lib/postgresql/*/bin/initdb"))
    run = subprocess.run([sys.executable, "-m", "bench", "chaos", "--mentions", "40", "--replies", "8",
                          "--seconds", "10", *([] if own_postgres else ["--no-postgres"])],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)

    print(run.stdout)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    assert "none doubled" in run.stdout and "8 replies -> 8 posts on X" in run.stdout
    assert ("PostgreSQL crashed and restarted" in run.stdout) == own_postgres
