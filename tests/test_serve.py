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


def test_served_commits_leave_the_log_to_the_checkpointer_thread(tmp_path):
    """With background checkpoints no commit copies the write-ahead log into the file (a click's commit on the
    event loop used to do that, fsyncs included, every 1,000 pages); the checkpointer's PASSIVE checkpoint copies
    all of it once no reader needs it, and every row is then read back from the file."""
    import sqlite3

    from sqlalchemy import text

    from contest.db import Checkpointer, Database

    path = tmp_path / "contest.sqlite3"
    db = Database(f"sqlite:///{path}", background_checkpoints=True)
    db._checkpointer.stop()  # its turn is taken by hand below: the test does not wait for its interval
    try:
        with db.engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        for batch in range(100):  # about 4,000 pages through the log: SQLite's own threshold is 1,000
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO t (body) VALUES (:body)"), [{"body": "x" * 3000}] * 40)
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 3000 * 4096  # no commit copied it back and started it again
        reader = sqlite3.connect(path)
        busy, logged, copied = Checkpointer.checkpoint(reader)
        assert busy == 0 and logged == copied > 3000
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (4000,)
        reader.close()
    finally:
        db.dispose()
