"""Acknowledged = stored: the real server is killed with SIGKILL while contestants save answers,
restarted, killed again, and every answer it acknowledged must be in the database, read straight
after the last crash.

This is a real-process test: `contest serve` runs in a subprocess on a loopback port (one worker)
with the wall clock, so the round is created around the real current time.
"""

from __future__ import annotations

import os
import random
import threading
from datetime import datetime, timezone

import httpx
from sqlalchemy import create_engine, text

from bench.server import Save, Server, lost_saves, stored_choices
from contest.accounts import CONTESTANT_HASHER, hash_password
from contest.db import is_sqlite
from contest.models import Contestant
from contest.web.api import issue_token
from tests.conftest import SECRET
from tests.contest_helpers import SLUG, make_contest

CONTESTANTS, SAVES = 20, 20  # saves per contestant, on random questions of its attempt (so some repeat)
KILLS = 2
WAIT_SECONDS = 30  # the longest anyone waits for the server: a bound against hanging, not a pause


class Stream:
    """What the contestants' threads share: the saves sent, and whether the server is up."""

    def __init__(self) -> None:
        self.saves: list[Save] = []
        self.acknowledged = 0
        self.up = threading.Event()
        self.changed = threading.Condition()
        self.finished = 0
        self.over = False  # set after the last kill: the contestants stop
        self.failures: list[str] = []

    def record(self, save: Save) -> None:
        with self.changed:
            self.saves.append(save)
            self.acknowledged += save.acknowledged
            self.changed.notify_all()

    def wait_for(self, acknowledged: int) -> bool:
        """Block until `acknowledged` saves have been acknowledged; False if the contestants finished first."""
        with self.changed:
            self.changed.wait_for(lambda: self.acknowledged >= acknowledged or self.finished == CONTESTANTS,
                                  timeout=WAIT_SECONDS)
            return self.acknowledged >= acknowledged


def sit(stream: Stream, url: str, token: str, rng: random.Random) -> None:
    """One contestant: start (or resume) the attempt, then save answers. After a request that got no
    answer, wait until the server is back and go on with the next answer (the unanswered save may
    or may not have landed)."""
    try:
        with httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"},
                          timeout=WAIT_SECONDS) as http:
            attempt = None
            while attempt is None:
                try:
                    response = http.post(f"/contests/{SLUG}/rounds/1/attempts")
                    assert response.status_code in (200, 201), response.text
                    attempt = response.json()
                except httpx.TransportError:
                    assert stream.up.wait(WAIT_SECONDS), "the server did not come back"
                    if stream.over:
                        return
            for _ in range(SAVES):
                if stream.over:
                    return
                question = rng.choice(attempt["questions"])
                indexes = range(len(question["options"]))
                if rng.random() < 0.1:
                    choice = ()  # clears the answer
                elif question["kind"] == "multiple":
                    choice = tuple(sorted(rng.sample(indexes, rng.randint(1, len(indexes)))))
                else:
                    choice = (rng.choice(indexes),)
                try:
                    response = http.put(f"/attempts/{attempt['id']}/answers/{question['position']}",
                                        json={"choice": list(choice)})
                    assert response.status_code == 200, response.text
                    acknowledged = response.json()["saved"] is True
                except httpx.TransportError:
                    acknowledged = False
                stream.record(Save(attempt["id"], question["position"], choice, acknowledged))
                if not acknowledged:
                    assert stream.up.wait(WAIT_SECONDS), "the server did not come back"
    except BaseException as exc:  # reported by the test, not lost in the thread
        stream.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        with stream.changed:
            stream.finished += 1
            stream.changed.notify_all()


def test_acknowledged_saves_survive_sigkill(db, database_url, tmp_path):
    now = datetime.now(timezone.utc)
    contest = make_contest(db, now=now, tracks=("citizens",), time_limit=3600)
    password_hash = hash_password("matkhau-123", CONTESTANT_HASHER)
    with db.write_session() as session:
        people = [Contestant(contest_id=contest.contest_id, track="citizens", full_name=f"Thí sinh {i}",
                             phone=f"09{i:08d}", password_hash=password_hash, consent_at=now, created_at=now)
                  for i in range(CONTESTANTS)]
        session.add_all(people)
        session.flush()
        # Tokens signed with the server's secret stand in for logging in: the saves are what is tested.
        tokens = [issue_token(SECRET, contestant_id=p.id, contest_id=contest.contest_id, now=now) for p in people]
    db.dispose()

    env = {**os.environ, "CONTEST_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": database_url,
           "SECRET_KEY": SECRET, "CONTEST_ENV": "development"}
    server = Server(env, tmp_path / "server.log", workers=1)
    server.start()
    stream, rng = Stream(), random.Random(12)
    stream.up.set()
    threads = [threading.Thread(target=sit, args=(stream, server.url, token, random.Random(rng.random())))
               for token in tokens]
    for thread in threads:
        thread.start()
    kills, threshold = 0, 0
    try:
        while kills < KILLS:
            threshold += rng.randint(60, 110)  # acknowledged saves before the next kill, of CONTESTANTS * SAVES
            if not stream.wait_for(threshold):
                break
            stream.up.clear()
            server.kill()
            kills += 1
            if kills < KILLS:
                server.start()
                stream.up.set()
    finally:
        stream.over = True
        stream.up.set()
        server.stop()
        for thread in threads:
            thread.join(timeout=WAIT_SECONDS)

    assert not stream.failures, stream.failures
    assert kills == KILLS, f"only {kills} kill(s): the contestants finished first"
    unacknowledged = sum(not save.acknowledged for save in stream.saves)
    assert unacknowledged, "no save was interrupted: the kills missed the stream"
    engine = create_engine(database_url)
    try:
        stored = stored_choices(engine, {save.attempt_id for save in stream.saves})
        lost = lost_saves(stream.saves, stored)
        assert not lost, (f"{len(lost)} question(s) do not hold their last acknowledged save "
                          f"({stream.acknowledged} acknowledged in all): " + "; ".join(lost[:5]))
        assert stream.acknowledged >= threshold
        if is_sqlite(database_url):
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
    finally:
        engine.dispose()
