"""The README's PostgreSQL backup, checked once: pg_dump of a database holding a ranked round, pg_restore
into a new empty database, `contest migrate`, and the same rows and results. PostgreSQL run only, and only
where pg_dump and pg_restore are installed (Debian: postgresql-client, which the server package pulls in)."""

from __future__ import annotations

import glob
import os
import random
import shutil
import subprocess
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from contest.backup import libpq_url
from contest.cli import main
from contest.db import make_engine
from contest.models import Attempt, Contestant, RankingEntry, Round, Unit
from contest.results import ranking
from contest.simulate import simulate_round
from tests.conftest import NOW, POSTGRES_URL, SECRET, scratch_database
from tests.contest_helpers import make_contest


def _tool(name: str) -> str | None:
    """The tool on PATH, else the newest in Debian's per-version folders."""
    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)


PG_DUMP, PG_RESTORE = _tool("pg_dump"), _tool("pg_restore")
pytestmark = pytest.mark.skipif(not (POSTGRES_URL and PG_DUMP and PG_RESTORE),
                                reason="PostgreSQL run with pg_dump and pg_restore installed only")


def _snapshot(url: str) -> dict:
    engine = make_engine(url)
    try:
        tables = sorted(t for t in inspect(engine).get_table_names())
        with engine.connect() as conn:
            return {
                "counts": {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables},
                "ranking": [tuple(r) for r in conn.execute(select(
                    RankingEntry.track, RankingEntry.rank, RankingEntry.contestant_id, RankingEntry.correct_count,
                    RankingEntry.duration_ms).order_by(RankingEntry.track, RankingEntry.rank, RankingEntry.contestant_id))],
                "names": conn.execute(select(Contestant.full_name).order_by(Contestant.id).limit(20)).scalars().all(),
                "correct": conn.execute(select(func.sum(Attempt.correct_count))).scalar_one(),
                "revision": conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one(),
            }
    finally:
        engine.dispose()


def test_pg_dump_and_pg_restore_into_an_empty_database_keep_rows_and_results(db, tmp_path):
    contest = make_contest(db, max_attempts=3)
    with db.write_session() as session:
        round_ = session.get(Round, contest.round_id)
        units = session.scalars(select(Unit).where(Unit.contest_id == contest.contest_id)).all()
        simulate_round(session, round_=round_, contestants=400, units=units, rng=random.Random(5),
                       now=NOW + timedelta(days=8), password_hash="x")
        ranking.rank_round(session, round_, now=NOW + timedelta(days=8))
    before = _snapshot(POSTGRES_URL)
    assert before["counts"]["attempts"] >= 400 and len(before["ranking"]) == 400

    source = make_url(POSTGRES_URL)
    env = {**os.environ, "PGPASSWORD": source.password or ""}
    dump = tmp_path / "contest.dump"
    subprocess.run([PG_DUMP, "--format=custom", "--no-owner", f"--file={dump}", libpq_url(POSTGRES_URL)],
                   env=env, check=True, capture_output=True)
    with scratch_database("restored") as fresh:
        restored = subprocess.run([PG_RESTORE, "--no-owner", "--exit-on-error", f"--dbname={libpq_url(fresh)}",
                                   str(dump)], env=env, capture_output=True, text=True)
        assert restored.returncode == 0, restored.stderr
        migrated = CliRunner().invoke(main, ["migrate"], env={"DATABASE_URL": fresh, "SECRET_KEY": SECRET,
                                                              "CONTEST_VAR_DIR": str(tmp_path)})
        assert migrated.exit_code == 0, migrated.output
        assert _snapshot(fresh) == before
