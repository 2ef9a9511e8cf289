"""How `contest serve` runs the app in each worker process."""

from __future__ import annotations

import os
import subprocess
import sys

from contest.db import migrate

FREEZE_COUNT = """
import gc
from litestar.testing import TestClient
from contest.app import create_served_app
before = gc.get_freeze_count()
with TestClient(create_served_app()) as client:
    assert client.get("/healthz").status_code == 200
    print(before, gc.get_freeze_count())
"""


def test_a_served_worker_freezes_what_it_holds_for_its_life_out_of_the_collectors_reach(tmp_path):
    """A full garbage collection over everything a started app holds paused a worker for about 0.2 s; the
    served app freezes those objects once started (tests' own apps do not: they would keep their garbage)."""
    url = f"sqlite:///{tmp_path / 'contest.sqlite3'}"
    migrate(url)
    env = {**os.environ, "CONTEST_VAR_DIR": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "s" * 48}
    done = subprocess.run([sys.executable, "-c", FREEZE_COUNT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split()[-2:])
    assert before == 0 and after > 50_000
