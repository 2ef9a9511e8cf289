"""A PostgreSQL server for the benchmarks, set up as CI does (.ci/run): Debian's package installed if
missing, the newest cluster created and started, the `contest` role, and a fresh database."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROLE = "contest"


def _root(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    return subprocess.run([*prefix, *command], input=stdin, text=True, capture_output=True, check=True)


def _postgres(sql: str) -> str:
    return _root("su", "postgres", "-c", "psql -v ON_ERROR_STOP=1 -qtA", stdin=sql).stdout.strip()


def fresh_database(name: str) -> str:
    """The address of an empty database `name` (dropped and created again) on a running local server."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        _root("apt-get", "update", "-qq")
        _root("apt-get", "install", "-y", "-qq", "postgresql")
    version = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: float(p.name))[-1].name
    clusters = _root("pg_lsclusters", "-h").stdout.split("\n")
    if not any(line.split()[:2] == [version, "main"] for line in clusters if line.strip()):
        _root("pg_createcluster", version, "main")
    subprocess.run([*([] if os.geteuid() == 0 else ["sudo"]), "pg_ctlcluster", version, "main", "start"],
                   capture_output=True)
    for _ in range(30):
        if subprocess.run(["su", "postgres", "-c", "pg_isready -q"] if os.geteuid() == 0 else
                          ["sudo", "su", "postgres", "-c", "pg_isready -q"]).returncode == 0:
            break
        time.sleep(1)
    _postgres(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN "
              f"CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE}' CREATEDB; END IF; END $$;")
    _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')
    _postgres(f'CREATE DATABASE "{name}" OWNER {ROLE};')
    return f"postgresql+psycopg://{ROLE}:{ROLE}@127.0.0.1:5432/{name}"
