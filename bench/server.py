"""The real server in a subprocess, for the benchmarks and the crash test: `contest serve` started,
killed and restarted on one port, and the check that every save it acknowledged is in the database.

Only the standard library, httpx and SQLAlchemy are imported here, so tests can use it too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import httpx
from sqlalchemy import Engine, bindparam, text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`contest serve` on loopback in its own process group (so a kill reaches every worker), its output in `log`."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int, port: int | None = None,
                 app: str | None = None, granian: bool = False) -> None:
        """`app`, a "module:factory" path, serves that app with uvicorn instead of `contest serve`;
        `granian` serves the platform's app with granian instead (the comparison of ASGI servers)."""
        self.env, self.log, self.workers, self.app, self.granian = env, log, workers, app, granian
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until /healthz answers (restarting reuses the port)."""
        with open(self.log, "ab") as out:
            if self.granian:
                command = [str(Path(sys.executable).with_name("granian")), "--interface", "asgi", "--factory",
                           "contest.app:create_served_app", "--log-level", "warning", "--no-access-log"]
            else:
                command = [sys.executable, "-m", *(["contest.cli", "serve"] if self.app is None else
                           ["uvicorn", self.app, "--factory", "--log-level", "warning", "--no-access-log"])]
            self.process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        limit = time.monotonic() + timeout
        while time.monotonic() < limit and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not become healthy in {timeout:g} s; its output is in {self.log}")

    def kill(self) -> None:
        """SIGKILL the server and its workers: no shutdown, no flush, as a crash or the OOM killer would."""
        self._signal(signal.SIGKILL, None)

    def stop(self) -> None:
        """Stop the server and its workers, forcibly if they linger."""
        if not self._signal(signal.SIGTERM, 30):
            self._signal(signal.SIGKILL, None)

    def _signal(self, sig: int, grace: float | None) -> bool:
        """Send `sig` to the process group; True once the server has exited."""
        if self.process is None:
            return True
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Save:
    """One save as the client sent it: the choice in display indexes, and whether the server acknowledged it."""

    attempt_id: int
    position: int
    choice: tuple[int, ...]
    acknowledged: bool


_STORED = text("SELECT attempt_id, position, option_order, chosen FROM attempt_questions WHERE attempt_id IN :ids"
               ).bindparams(bindparam("ids", expanding=True))


def stored_choices(engine: Engine, attempt_ids: Iterable[int]) -> dict[tuple[int, int], tuple[int, ...]]:
    """Each question's stored choice in the attempts, as sorted display indexes, keyed by (attempt, position)."""
    ids = sorted(set(attempt_ids))
    stored = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            rows = conn.execute(_STORED, {"ids": ids[start:start + 500]})
            for attempt_id, position, order, chosen in rows:
                shown = [int(v) for v in order.split(",") if v]  # display index i shows stored option shown[i]
                stored[attempt_id, position] = tuple(sorted(shown.index(int(v)) for v in chosen.split(",") if v))
    return stored


def lost_saves(saves: Iterable[Save], stored: dict[tuple[int, int], tuple[int, ...]]) -> list[str]:
    """The questions whose stored choice is not the last acknowledged one, nor one sent after it.

    `saves` must be in the order each question's saves were sent. A save that got no answer (the
    server died meanwhile) may or may not have landed, so it may stand in for the acknowledged one
    before it, never for one acknowledged after it.
    """
    sent: dict[tuple[int, int], list[Save]] = {}
    for save in saves:
        sent.setdefault((save.attempt_id, save.position), []).append(save)
    lost = []
    for key, history in sent.items():
        last = max((i for i, save in enumerate(history) if save.acknowledged), default=None)
        if last is None:
            continue
        allowed = {save.choice for save in history[last:]}
        if stored.get(key) not in allowed:
            lost.append(f"attempt {key[0]}, question {key[1]}: acknowledged {history[last].choice}, "
                        f"stored {stored.get(key, 'nothing')}, sent later {sorted(allowed - {history[last].choice})}")
    return lost
