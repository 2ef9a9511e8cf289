"""`contest backup` and `contest restore` on SQLite files of their own (on the PostgreSQL run too: the
commands are for SQLite; PostgreSQL's own tools are checked in test_backup_postgres.py)."""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from bench.server import Save, lost_saves, stored_choices
from contest import backup as backups
from contest.backup_checks import head_revision
from contest.cli import main
from contest.contests import attempts as domain
from contest.contests.draw import PoolCache
from contest.db import Database, make_engine, migrate
from contest.models import Contestant, RankingEntry, Round, Unit
from contest.results import ranking
from contest.simulate import simulate_round
from tests.conftest import NOW, SECRET
from tests.contest_helpers import make_contest

CLOSED = NOW + timedelta(days=8)  # make_contest's round closes 7 days after NOW


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated, empty SQLite file, whatever database the suite runs on."""
    path = tmp_path_factory.mktemp("backup-template") / "contest.sqlite3"
    migrate(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def live(sqlite_template, tmp_path) -> Path:
    """The live database's file, in a folder of its own (where restore leaves the previous file)."""
    path = tmp_path / "var" / "contest.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture
def sqlite_db(live):
    database = Database(f"sqlite:///{live}")
    yield database
    database.dispose()


def run(live: Path, *args: str):
    env = {"DATABASE_URL": f"sqlite:///{live}", "CONTEST_VAR_DIR": str(live.parent), "SECRET_KEY": SECRET}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def contestants(db, contest_id: int, n: int) -> list[int]:
    with db.write_session() as session:
        return [session.scalar(insert(Contestant).values(
            contest_id=contest_id, track="citizens", full_name=f"Người thi {i}", phone=f"09120{i:05d}",
            password_hash="x", consent_at=NOW, created_at=NOW).returning(Contestant.id)) for i in range(n)]


def simulated_round(db, *, people: int, seed: int = 7) -> int:
    """make_contest's round with `people` simulated contestants, closed and ranked; returns the attempts."""
    contest = make_contest(db, max_attempts=3)
    with db.write_session() as session:
        round_ = session.get(Round, contest.round_id)
        units = session.scalars(select(Unit).where(Unit.contest_id == contest.contest_id)).all()
        made = simulate_round(session, round_=round_, contestants=people, units=units, rng=random.Random(seed),
                              now=CLOSED, password_hash="x")
        ranking.rank_round(session, round_, now=CLOSED)
    return made.attempts


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [n for n, in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        counts = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    conn.close()
    return counts


def results(path: Path) -> list[tuple]:
    """Every ranking row, in rank order: what the leaderboards and prize lists are made of."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(
            RankingEntry.round_id, RankingEntry.track, RankingEntry.rank, RankingEntry.contestant_id,
            RankingEntry.attempt_id, RankingEntry.correct_count, RankingEntry.duration_ms)
            .order_by(RankingEntry.round_id, RankingEntry.track, RankingEntry.rank, RankingEntry.contestant_id))]
    engine.dispose()
    return rows


def fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of every file in the live database's folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_backup_while_a_contestant_keeps_saving_holds_every_answer_acknowledged_before_it(sqlite_db, live, tmp_path):
    """A writer thread saves answers through the contestant's own save function while the backup copies page by
    page; each step of the copy waits until another save has been acknowledged, so saves land during it."""
    fixture = make_contest(sqlite_db, max_attempts=3)
    simulated_round_padding(sqlite_db, fixture)
    pools, rng = PoolCache(), random.Random(3)
    sitting = []
    for contestant_id in contestants(sqlite_db, fixture.contest_id, 6):
        state = domain.start_in_round(sqlite_db, pools, contest_id=fixture.contest_id, number=1,
                                      contestant_id=contestant_id, now=NOW).state
        sitting += [(state.id, contestant_id, item.position, len(item.option_order)) for item in state.items]
    saves: list[Save] = []
    acknowledged = threading.Condition()
    stop = threading.Event()

    def contestant_saving() -> None:
        second = 0  # milliseconds after NOW: the 10-minute attempts stay open however long the copy takes
        while not stop.is_set():
            attempt_id, contestant_id, position, options = rng.choice(sitting)
            choice = (rng.randrange(options),)
            second += 1
            domain.save_answer(sqlite_db, attempt_id=attempt_id, contestant_id=contestant_id, position=position,
                               choice=list(choice), now=NOW + timedelta(milliseconds=second))
            with acknowledged:
                saves.append(Save(attempt_id, position, choice, True))
                acknowledged.notify_all()

    def wait_for_saves(n: int) -> None:
        with acknowledged:
            assert acknowledged.wait_for(lambda: len(saves) >= n or stop.is_set(), timeout=30)

    saver = threading.Thread(target=contestant_saving)
    saver.start()
    steps: list[int] = []  # saves acknowledged when each step of the copy had been made
    try:
        wait_for_saves(200)
        with acknowledged:
            before = list(saves)

        copied_by_step: list[int] = []

        def step(copied: int, total: int) -> None:
            # Copied step by step without a fixed snapshot, SQLite would start the copy again after each save.
            assert not copied_by_step or copied > copied_by_step[-1], "the copy started again"
            copied_by_step.append(copied)
            steps.append(len(saves))
            wait_for_saves(len(saves) + 1)

        report = backups.backup(sqlite_db.url, tmp_path / "copy.sqlite3", pages=16, progress=step)
    finally:
        stop.set()
        saver.join()
    assert report.ok, [r.line for r in report.checks]
    assert len(steps) >= 10 and all(b > a for a, b in zip(steps, steps[1:])), "saves landed between the steps"
    copy_url = f"sqlite:///{report.path}"
    with sqlite3.connect(report.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    attempt_ids = {a for a, *_ in sitting}
    copy_engine = make_engine(copy_url)
    # Saves acknowledged before the backup began are all in the copy; later ones may be (none was lost).
    assert lost_saves(before + [Save(s.attempt_id, s.position, s.choice, False) for s in saves[len(before):]],
                      stored_choices(copy_engine, attempt_ids)) == []
    copy_engine.dispose()
    assert lost_saves(saves, stored_choices(sqlite_db.engine, attempt_ids)) == []
    assert {r.name: r.outcome for r in report.checks} == {
        "sqlite": "ok", "integrity": "ok", "revision": "ok", "schema": "ok", "audit": "ok", "results": "ok"}


def simulated_round_padding(db, fixture) -> None:
    """Some finished attempts so that the database spans more pages than the copy makes in a few steps."""
    with db.write_session() as session:
        round_ = session.get(Round, fixture.round_id)
        units = session.scalars(select(Unit).where(Unit.contest_id == fixture.contest_id)).all()
        simulate_round(session, round_=round_, contestants=150, units=units, rng=random.Random(1),
                       now=NOW, password_hash="x")


def test_backup_and_restore_round_trip_thousands_of_attempts(sqlite_db, live, tmp_path):
    attempts = simulated_round(sqlite_db, people=2500)
    assert attempts >= 2500
    sqlite_db.dispose()
    counts, ranked = table_counts(live), results(live)
    assert counts["attempts"] == attempts and len(ranked) == 2500

    copy = tmp_path / "sao-luu.sqlite3"
    made = run(live, "backup", "-o", str(copy))
    assert made.exit_code == 0, made.output
    assert made.output.splitlines()[-1].startswith("Đã sao lưu ")
    # The copy re-verifies: its audit chain is whole and every result recomputes to itself.
    assert any(line.startswith("ĐẠT     Nhật ký nguyên vẹn (verify-audit): ") for line in made.output.splitlines())
    assert any(line.startswith("ĐẠT     Kết quả tính lại đúng (verify-results): ") for line in made.output.splitlines())
    for command in ("verify-audit", "verify-results"):
        checked = run(copy, command)
        assert checked.exit_code == 0, checked.output
    # Later work that the restore must undo: a round re-ranked with everyone's times changed, a contestant more.
    with sqlite3.connect(live) as conn:
        conn.execute("UPDATE ranking_entries SET duration_ms = duration_ms + 1")
        conn.execute("DELETE FROM ranking_entries WHERE rank > 100")
    conn.close()
    assert results(live) != ranked

    restored = run(live, "restore", str(copy))
    assert restored.exit_code == 0, restored.output
    assert table_counts(live) == counts
    assert results(live) == ranked
    lines = restored.output.splitlines()
    assert lines[-1] == f"Đã khôi phục {copy} vào {live}."
    previous = next(live.parent.glob("contest.sqlite3.before-restore-*"))
    assert lines[-2] == f"Cơ sở dữ liệu cũ được giữ ở {previous}."
    assert len(results(previous)) == sum(row[2] <= 100 for row in ranked)  # the replaced database, as it was
    assert sorted(p.name for p in live.parent.iterdir()) == ["contest.sqlite3", previous.name]


def _not_sqlite(copy: Path, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "ket-qua.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(5000))
    return path, "KHÔNG ĐẠT Tệp SQLite đầy đủ: ket-qua.xlsx không phải tệp cơ sở dữ liệu SQLite " \
                 "(phần đầu tệp không có chữ ký 'SQLite format 3')."


def _truncated(copy: Path, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "dang-do.sqlite3"
    data = copy.read_bytes()
    path.write_bytes(data[:40960])
    pages = len(data) // 4096
    return path, (f"KHÔNG ĐẠT Tệp SQLite đầy đủ: dang-do.sqlite3 bị cắt cụt: có 40.960 byte, phần đầu tệp ghi "
                  f"{_vi(pages)} trang × 4.096 byte = {_vi(len(data))} byte.")


def _vi(number: int) -> str:
    """A whole number as Vietnamese write it: 12.210.176."""
    return f"{number:,}".replace(",", ".")


def _foreign(copy: Path, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "khac.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contests (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO contests (name) VALUES ('Một hội thi khác')")
    conn.close()
    return path, ("KHÔNG ĐẠT Lược đồ của nền tảng, phiên bản đã biết: đây không phải cơ sở dữ liệu của nền tảng "
                  "hội thi này (thiếu bảng attempt_questions, attempts, contestants, rounds).")


def _newer(copy: Path, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "moi-hon.sqlite3"
    shutil.copyfile(copy, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_later'")
    conn.close()
    return path, (f"KHÔNG ĐẠT Lược đồ của nền tảng, phiên bản đã biết: lược đồ ở phiên bản 9999_later, mới hơn "
                  f"phiên bản này của chương trình (mới nhất: {head_revision()}): tệp do một phiên bản mới hơn tạo "
                  f"ra; cài phiên bản đó rồi khôi phục.")


@pytest.mark.parametrize("bad", [_not_sqlite, _truncated, _foreign, _newer])
def test_restore_refuses_a_bad_file_and_leaves_the_live_database_untouched(sqlite_db, live, tmp_path, bad):
    make_contest(sqlite_db)
    sqlite_db.dispose()
    good = tmp_path / "good.sqlite3"
    assert run(live, "backup", "-o", str(good)).exit_code == 0
    path, message = bad(good, tmp_path)
    before = fingerprint(live.parent)
    result = CliRunner().invoke(main, ["restore", str(path)], env={
        "DATABASE_URL": f"sqlite:///{live}", "CONTEST_VAR_DIR": str(live.parent), "SECRET_KEY": SECRET})
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == message
    assert result.stderr == "Không khôi phục: tệp không đạt kiểm tra; cơ sở dữ liệu đang dùng giữ nguyên.\n"
    assert fingerprint(live.parent) == before


def test_restore_upgrades_a_backup_of_an_older_schema(live, tmp_path):
    old = tmp_path / "cu.sqlite3"
    migrate(f"sqlite:///{old}", "0013")
    make_engine(f"sqlite:///{old}").dispose()
    result = run(live, "restore", str(old))
    assert result.exit_code == 0, result.output
    assert f"ĐẠT     Lược đồ của nền tảng, phiên bản đã biết: phiên bản 0013, đã nâng cấp lên {head_revision()}" \
        in result.output.splitlines()
    with sqlite3.connect(live) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
    conn.close()
    assert sqlite3.connect(old).execute("SELECT version_num FROM alembic_version").fetchall() == [("0013",)], \
        "the operator's own file is never changed"


def test_backup_of_an_older_schema_is_kept_and_says_the_restore_upgrades_it(live, tmp_path):
    old = tmp_path / "var-cu" / "contest.sqlite3"
    migrate(f"sqlite:///{old}", "0013")
    result = run(old, "backup", "-o", str(tmp_path / "cu.sqlite3"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:4] == [
        f"ĐẠT     Lược đồ của nền tảng, phiên bản đã biết: phiên bản 0013, cũ hơn phiên bản mới nhất "
        f"{head_revision()}; khi khôi phục, bản sao sẽ được nâng cấp",
        "BỎ QUA  Lược đồ đúng phiên bản này: cần lược đồ phiên bản mới nhất; chạy khi khôi phục (bản sao được "
        "nâng cấp)"]


def test_restore_refuses_while_another_process_has_the_database_open(sqlite_db, live, tmp_path):
    make_contest(sqlite_db)
    sqlite_db.dispose()
    copy = tmp_path / "copy.sqlite3"
    assert run(live, "backup", "-o", str(copy)).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n"
         "c.execute('SELECT count(*) FROM contests').fetchone()\nprint('open', flush=True)\nsys.stdin.read()",
         str(live)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        before = fingerprint(live.parent)
        result = CliRunner().invoke(main, ["restore", str(copy)], env={
            "DATABASE_URL": f"sqlite:///{live}", "CONTEST_VAR_DIR": str(live.parent), "SECRET_KEY": SECRET})
        assert result.exit_code == 1
        assert result.stderr == (f"Cơ sở dữ liệu {live} đang được mở (máy chủ `contest serve` hoặc một lệnh khác "
                                 f"đang dùng nó). Dừng máy chủ trước, rồi chạy lại `contest restore`.\n")
        assert fingerprint(live.parent) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert run(live, "restore", str(copy)).exit_code == 0, "once it is closed, the restore goes ahead"


def test_backup_refuses_to_overwrite_a_file(live, tmp_path):
    existing = tmp_path / "old-backup.sqlite3"
    existing.write_bytes(b"keep me")
    result = run(live, "backup", "-o", str(existing))
    assert (result.exit_code, result.output) == (
        1, f"Đã có tệp {existing}; chọn tên khác hoặc xoá tệp đó trước.\n")
    assert existing.read_bytes() == b"keep me"


@pytest.mark.parametrize("command", [["backup", "-o", "contest.dump"], ["restore", "contest.dump"]])
def test_on_postgresql_the_commands_say_what_to_run_instead(command, tmp_path):
    env = {"DATABASE_URL": "postgresql+psycopg://contest:bi-mat@db.example.org:5432/contest",
           "CONTEST_VAR_DIR": str(tmp_path), "SECRET_KEY": SECRET}
    result = CliRunner().invoke(main, command, env=env, catch_exceptions=False)
    assert result.exit_code == 1
    assert "bi-mat" not in result.stderr
    if command[0] == "backup":
        assert "  pg_dump --format=custom --no-owner --file=contest.dump " \
               "'postgresql://contest@db.example.org:5432/contest'\n" in result.stderr
    else:
        assert "  pg_restore --no-owner --exit-on-error " \
               "--dbname='postgresql://contest@db.example.org:5432/contest_restored' contest.dump\n" in result.stderr
    assert not any(tmp_path.iterdir())


def test_restore_into_a_folder_without_a_database_then_again_keeps_both_earlier_files(live, tmp_path):
    copy = tmp_path / "copy.sqlite3"
    assert run(live, "backup", "-o", str(copy)).exit_code == 0
    fresh = tmp_path / "new-server" / "contest.sqlite3"
    first = run(fresh, "restore", str(copy))
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1] == f"Đã khôi phục {copy} vào {fresh}."
    assert table_counts(fresh) == table_counts(copy)
    # Twice in the same second: the second replaced file gets a name of its own instead of overwriting the first.
    kept = [backups.restore(f"sqlite:///{fresh}", copy, now=NOW).previous for _ in range(2)]
    assert [p.name for p in kept] == ["contest.sqlite3.before-restore-20260302-030000",
                                      "contest.sqlite3.before-restore-20260302-030000-2"]
    assert all(table_counts(p) == table_counts(copy) for p in kept)
