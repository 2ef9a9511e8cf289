"""Export jobs claimed from the database by any process: two processes claiming at once, a job taken back from a
process that fell silent, tries counted and exhausted, a process that runs no jobs, and the web page of a job
run by the worker. Each "process" is a Database of its own on the same database (SQLite or PostgreSQL)."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from contest.db import Database
from contest.exports import claims, jobs
from contest.exports.worker import POLL_SECONDS
from contest.models import ExportJob
from contest.settings import PROJECT_ROOT, Settings, SettingsError
from tests.conftest import html, login, post_form
from tests.test_exports import CLOSED, TZ, leaderboard
from tests.test_exports import contest  # noqa: F401 - the fixture: a closed, ranked round

STALE = claims.STALE_AFTER + timedelta(seconds=1)


@pytest.fixture
def directory(tmp_path):
    """The exports folder the tests' runs write into."""
    return tmp_path / "exports"


@pytest.fixture
def other_db(settings):
    """A second process on the same database."""
    database = Database(settings.database_url)
    yield database
    database.dispose()


def queue_jobs(db, contest, count: int, *, now=CLOSED) -> list[int]:
    with db.write_session() as session:
        return [jobs.create_job(session, leaderboard(contest, track="officials"), user_id=None, now=now).id
                for _ in range(count)]


def job_row(db, job_id: int) -> ExportJob:
    with db.session() as session:
        return session.get(ExportJob, job_id)


def wait_for(predicate, *, seconds: float = 15.0):
    """Poll `predicate` until it returns something true (a background thread is at work); fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("gave up waiting")


def test_two_processes_claiming_at_once_run_each_job_exactly_once(db, other_db, contest, directory):
    job_ids = queue_jobs(db, contest, 8)
    processes = [(db, claims.claimer_name()), (other_db, claims.claimer_name())]
    start = threading.Barrier(4)
    taken: list[claims.Claim] = []
    errors: list[BaseException] = []

    def worker(database, claimer) -> None:
        try:
            start.wait()
            while (claim := claims.claim_next(database, claimer=claimer, now=CLOSED)) is not None:
                taken.append(claim)
                jobs.run_claimed(database, claim, directory=directory, tz=TZ, clock=lambda: CLOSED)
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=process) for process in processes * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(claim.job_id for claim in taken) == job_ids  # each job claimed once, none missed
    rows = [job_row(db, job_id) for job_id in job_ids]
    assert [(row.status, row.tries, row.progress) for row in rows] == [("done", 1, 100)] * 8
    owners = {claim.job_id: claim.claimer for claim in taken}
    assert [row.claimed_by for row in rows] == [owners[job_id] for job_id in job_ids]
    assert sorted(p.name for p in directory.iterdir()) == sorted(row.filename for row in rows)


def test_a_job_whose_process_fell_silent_is_taken_back_and_finished(db, other_db, contest, directory):
    [job_id] = queue_jobs(db, contest, 1)
    first = claims.claim_next(db, claimer="host-a:101:aaaa", now=CLOSED)  # then its process dies
    assert first == claims.Claim(job_id, "host-a:101:aaaa", 1)

    assert claims.claim_next(other_db, claimer="host-b:202:bbbb", now=CLOSED + timedelta(minutes=1)) is None
    later = CLOSED + STALE
    second = claims.claim_next(other_db, claimer="host-b:202:bbbb", now=later)
    assert second == claims.Claim(job_id, "host-b:202:bbbb", 2)
    row = job_row(db, job_id)
    assert (row.status, row.claimed_by, row.tries, row.heartbeat_at) == ("running", "host-b:202:bbbb", 2, later)

    jobs.run_claimed(other_db, second, directory=directory, tz=TZ, clock=lambda: later)
    row = job_row(db, job_id)
    assert (row.status, row.tries, row.finished_at) == ("done", 2, later)
    assert jobs.job_file(directory, row) is not None


def test_a_process_that_comes_back_after_its_job_was_taken_changes_nothing(db, other_db, contest, directory):
    [job_id] = queue_jobs(db, contest, 1)
    first = claims.claim_next(db, claimer="host-a:101:aaaa", now=CLOSED)
    second = claims.claim_next(other_db, claimer="host-b:202:bbbb", now=CLOSED + STALE)
    assert claims.record(db, first, now=CLOSED + STALE, progress=60) is False

    jobs.run_claimed(db, first, directory=directory, tz=TZ, clock=lambda: CLOSED + STALE)

    row = job_row(db, job_id)
    assert (row.status, row.claimed_by, row.tries, row.progress, row.filename) == (
        "running", second.claimer, 2, 1, "")
    assert list(directory.iterdir()) == []  # its file was not put in place, its partial file removed


def test_a_job_interrupted_on_every_try_is_failed_with_a_message(db, other_db, contest, viewer, clock):
    [job_id] = queue_jobs(db, contest, 1)
    for n, (database, claimer) in enumerate([(db, "a:1:x"), (other_db, "b:2:y"), (db, "a:3:z")]):
        claim = claims.claim_next(database, claimer=claimer, now=CLOSED + STALE * n)
        assert claim == claims.Claim(job_id, claimer, n + 1)
    clock.now = CLOSED + STALE * 2 + timedelta(minutes=1)
    assert claims.abandoned(job_row(db, job_id), clock.now) is False
    block = html(viewer.get(f"/staff/exports/{job_id}", headers={"HX-Request": "true"})).find(id="job")
    assert block["data-status"] == "running" and "(lần thử thứ 3; lần trước bị gián đoạn)" in block.text
    third_silent = CLOSED + STALE * 3

    assert claims.claim_next(other_db, claimer="b:2:y", now=third_silent) is None  # no fourth try
    assert claims.abandoned(job_row(db, job_id), third_silent) is True
    assert claims.give_up(db, now=third_silent) == 1
    row = job_row(db, job_id)
    assert (row.status, row.tries, row.error, row.finished_at) == (
        "failed", 3, "Tệp xuất bị gián đoạn nhiều lần; hãy xuất lại.", third_silent)
    assert claims.give_up(db, now=third_silent) == 0

    block = html(viewer.get(f"/staff/exports/{job_id}", headers={"HX-Request": "true"})).find(id="job")
    assert (block["data-status"], block.text.strip()) == ("failed", "Tệp xuất bị gián đoạn nhiều lần; hãy xuất lại.")


def test_a_job_no_process_took_for_hours_is_not_claimed_but_failed(db, contest):
    [old, fresh] = [queue_jobs(db, contest, 1, now=now)[0] for now in (CLOSED, CLOSED + timedelta(hours=2))]
    now = CLOSED + claims.ABANDONED_AFTER + timedelta(minutes=1)
    assert [claims.abandoned(job_row(db, job_id), now) for job_id in (old, fresh)] == [True, False]

    assert claims.claim_next(db, claimer="a:1:x", now=now).job_id == fresh
    assert claims.claim_next(db, claimer="a:1:x", now=now) is None
    assert claims.give_up(db, now=now) == 1
    assert (job_row(db, old).status, job_row(db, old).error) == ("failed", claims.NOT_RUN)


def test_the_heartbeat_is_written_while_progress_does_not_move(db, other_db, contest):
    [job_id] = queue_jobs(db, contest, 1)
    claim = claims.claim_next(db, claimer="a:1:x", now=CLOSED)
    now = [CLOSED]
    with claims.Heartbeat(db, claim, lambda: now[0], every=0.01) as heartbeat:
        now[0] = CLOSED + timedelta(minutes=1)
        wait_for(lambda: job_row(db, job_id).heartbeat_at == CLOSED + timedelta(minutes=1))
        assert claims.claim_next(other_db, claimer="b:2:y", now=CLOSED + STALE) is None  # alive: not taken back
    assert not heartbeat.lost.is_set()


def test_a_heartbeat_that_resumes_after_its_job_was_taken_back_notices(db, other_db, contest):
    [job_id] = queue_jobs(db, contest, 1)
    stalled = claims.claim_next(db, claimer="a:1:x", now=CLOSED)  # its process hangs: no beats for a while
    assert claims.claim_next(other_db, claimer="b:2:y", now=CLOSED + STALE).tries == 2
    with claims.Heartbeat(db, stalled, lambda: CLOSED + STALE, every=0.01) as heartbeat:
        wait_for(heartbeat.lost.is_set)
    row = job_row(db, job_id)
    assert (row.claimed_by, row.tries, row.heartbeat_at) == ("b:2:y", 2, CLOSED + STALE)


def test_a_job_stopped_with_its_process_goes_back_to_the_queue_untried(db, contest, directory):
    with db.write_session() as session:  # the report tells its progress once its figures are read: a stop is seen there
        job_id = jobs.create_job(session, jobs.ExportSpec(kind="report", contest_id=contest.contest_id, fmt="docx"),
                                 user_id=None, now=CLOSED).id
    claim = claims.claim_next(db, claimer="a:1:x", now=CLOSED)
    stopping = threading.Event()
    stopping.set()

    jobs.run_claimed(db, claim, directory=directory, tz=TZ, clock=lambda: CLOSED, stopping=stopping)

    row = job_row(db, job_id)
    assert (row.status, row.claimed_by, row.tries, row.progress) == ("queued", "", 0, 0)
    assert list(directory.iterdir()) == []  # the partial file is gone
    assert claims.claim_next(db, claimer="b:2:y", now=CLOSED).tries == 1


@pytest.fixture
def viewer(client, staff, clock):
    clock.now = CLOSED
    assert login(client, staff["viewer"]).status_code in (302, 303)
    return client


def start_large_export(client, contest) -> str:
    """Ask for an export big enough for a background job (every export is, below); the job page's address."""
    page = f"/staff/contests/{contest.contest_id}/exports"
    response = post_form(client, page, {"kind": "leaderboard", "round_id": str(contest.round_id), "fmt": "xlsx"},
                         follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


def job_block(client, job_url: str):
    return html(client.get(job_url, headers={"HX-Request": "true"})).find(id="job")


def test_a_job_queued_through_the_web_is_run_by_the_worker_and_offers_the_download(
        make_client, staff, clock, db, contest, monkeypatch):
    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", 0)
    clock.now = CLOSED
    client = make_client(export_workers=1)
    login(client, staff["viewer"])
    job_url = start_large_export(client, contest)

    block = wait_for(lambda: (b := job_block(client, job_url))["data-status"] == "done" and b)
    link = block.find("a")["href"]
    download = client.get(link)
    assert download.status_code == 200
    assert load_workbook(io.BytesIO(download.content)).sheetnames == ["Xếp hạng CBCCVC", "Xếp hạng Người dân"]
    row = job_row(db, int(job_url.rsplit("/", 1)[1]))
    assert (row.tries, row.heartbeat_at, row.claimed_by) == (1, CLOSED, client.app.state.export_worker.claimer)


def test_a_process_with_no_export_workers_never_claims_and_another_polls_for_the_job(
        make_client, staff, clock, db, contest, monkeypatch):
    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", 0)
    clock.now = CLOSED
    web_only = make_client()  # export_workers=0
    login(web_only, staff["viewer"])
    assert web_only.app.state.export_worker is None
    job_url = start_large_export(web_only, contest)
    job_id = int(job_url.rsplit("/", 1)[1])
    assert (job_row(db, job_id).status, job_block(web_only, job_url)["data-status"]) == ("queued", "queued")

    worker_host = make_client(export_workers=1)  # its worker looks at once when it starts, then every poll
    wait_for(lambda: job_row(db, job_id).status == "done")
    assert job_row(db, job_id).claimed_by == worker_host.app.state.export_worker.claimer
    second_url = start_large_export(web_only, contest)  # queued while that worker is idle: found by its poll
    wait_for(lambda: job_block(web_only, second_url)["data-status"] == "done", seconds=POLL_SECONDS + 10)


def test_a_finished_job_whose_file_is_on_another_host_says_so(viewer, db, contest, tmp_path):
    with db.write_session() as session:
        job_id = jobs.create_job(session, leaderboard(contest, public=True), user_id=None, now=CLOSED).id
    jobs.run_job(db, job_id, directory=tmp_path / "other-host-exports", tz=TZ, clock=lambda: CLOSED)

    block = job_block(viewer, f"/staff/exports/{job_id}")
    assert block["data-status"] == "done" and block.find("a") is None
    assert "thư mục tệp xuất phải dùng chung" in block.find(class_="error").text
    download = viewer.get(f"/staff/exports/{job_id}/download")
    assert download.status_code == 404
    assert "Không tìm thấy tệp đã xuất trên máy chủ này." in html(download).find(id="job").text


def test_export_settings_come_from_the_environment(tmp_path):
    base = {"CONTEST_VAR_DIR": str(tmp_path), "SECRET_KEY": "k" * 40}
    defaults = Settings.from_env(environ=base)
    assert (defaults.export_workers, defaults.exports_dir) == (1, tmp_path / "exports")
    chosen = Settings.from_env(environ={**base, "CONTEST_EXPORT_WORKERS": "0",
                                        "CONTEST_EXPORTS_DIR": str(tmp_path / "shared")})
    assert (chosen.export_workers, chosen.exports_dir) == (0, tmp_path / "shared")
    with pytest.raises(SettingsError, match="CONTEST_EXPORT_WORKERS"):
        Settings.from_env(environ={**base, "CONTEST_EXPORT_WORKERS": "-1"})


def test_the_export_worker_command_runs_queued_jobs_until_stopped(db, contest, settings):
    [job_id] = queue_jobs(db, contest, 1, now=datetime.now(timezone.utc))  # the command reads the real clock
    env = {**os.environ, "DATABASE_URL": settings.database_url, "CONTEST_VAR_DIR": str(settings.var_dir),
           "SECRET_KEY": settings.secret_key, "CONTEST_EXPORT_WORKERS": "0"}  # it runs one job at a time all the same
    command = subprocess.Popen([sys.executable, "-m", "contest.cli", "export-worker"], env=env, cwd=PROJECT_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: job_row(db, job_id).status == "done", seconds=60)
    finally:
        command.send_signal(signal.SIGTERM)
        out, err = command.communicate(timeout=30)
    assert (command.returncode, err) == (0, "")
    assert out.startswith(f"Export worker {socket.gethostname()}:{command.pid}:")
    row = job_row(db, job_id)
    assert row.claimed_by.startswith(f"{socket.gethostname()}:{command.pid}:")
    assert jobs.job_file(settings.exports_dir, row) is not None
