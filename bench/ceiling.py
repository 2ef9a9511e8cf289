"""The ceiling: a bare Litestar app doing the database work of the phone's two hottest requests,
to measure the platform against in the same run (`python -m bench throughput`).

- POST /save/{attempt_id}/{position}, form `choice`: what saving a click does in the database, with
  the driver directly (sqlite3, or psycopg when BENCH_CEILING_DATABASE is a PostgreSQL address):
  one write transaction that reads the attempt's question (owner, status, deadline, option order,
  kind, option count) and stores the choice; answers the same JSON.
- GET /page/{attempt_id}: the attempt's 20 questions read in one query and rendered by a bare Jinja
  template with the same markup for each question as the platform's page; gzip as the platform.

No session, no CSRF, no checks beyond the statement's own: what is left of the platform's time
when this is subtracted is what the framework, the session, the form token and our own code cost.
Served by uvicorn with the same worker count as the platform (`contest serve`).
"""

from __future__ import annotations

import os
import sqlite3

import jinja2
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.config.compression import CompressionConfig

DATABASE = os.environ.get("BENCH_CEILING_DATABASE", "")
POSTGRES = DATABASE.startswith("postgresql")

TARGET = """
SELECT a.contestant_id, a.status, a.deadline, r.grace_seconds, aq.option_order, q.kind,
       (SELECT count(*) FROM question_options o WHERE o.question_id = aq.question_id) AS option_count
FROM attempts a JOIN rounds r ON r.id = a.round_id
JOIN attempt_questions aq ON aq.attempt_id = a.id AND aq.position = {p}
JOIN questions q ON q.id = aq.question_id
WHERE a.id = {p}"""
STORE = "UPDATE attempt_questions SET chosen = {p}, answered_at = {p} WHERE attempt_id = {p} AND position = {p}"
PAGE = """
SELECT aq.position, q.text, q.kind, o.text
FROM attempt_questions aq JOIN questions q ON q.id = aq.question_id
JOIN question_options o ON o.question_id = q.id
WHERE aq.attempt_id = {p} ORDER BY aq.position, o.position"""

TEMPLATE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Bài thi</title></head><body>
<form method="post" action="/nop/{{ attempt_id }}"><ol>
{% autoescape false %}{% for q in questions %}{% set input_type = "checkbox" if q.kind == "multiple" else "radio" %}
<li id="q{{ q.position }}" data-pos="{{ q.position }}"><fieldset>
<legend>Câu {{ q.position + 1 }}. {{ q.text|e }}</legend>
<input type="hidden" name="q{{ q.position }}" value="">
{% for option in q.options %}<label class="choice"><input type="{{ input_type }}" name="q{{ q.position }}" value="{{ loop.index0 }}"><span>{{ "ABCDEF"[loop.index0] }}. {{ option|e }}</span></label>
{% endfor %}<span class="status" aria-live="polite"></span></fieldset></li>
{% endfor %}{% endautoescape %}</ol><button type="submit">Nộp bài</button></form></body></html>""")


class _SQLite:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")

    def save(self, attempt_id: int, position: int, chosen: str, at: str) -> bool:
        con = self.connection
        con.execute("BEGIN IMMEDIATE")
        try:
            row = con.execute(TARGET.format(p="?"), (position, attempt_id)).fetchone()
            if row is not None:
                con.execute(STORE.format(p="?"), (chosen, at, attempt_id, position))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return row is not None

    def page(self, attempt_id: int) -> list:
        return self.connection.execute(PAGE.format(p="?"), (attempt_id,)).fetchall()


class _Postgres:
    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))

    def save(self, attempt_id: int, position: int, chosen: str, at: str) -> bool:
        with self.connection.transaction():
            row = self.connection.execute(TARGET.format(p="%s"), (position, attempt_id)).fetchone()
            if row is not None:
                self.connection.execute(STORE.format(p="%s"), (chosen, at, attempt_id, position))
        return row is not None

    def page(self, attempt_id: int) -> list:
        with self.connection.transaction():
            return self.connection.execute(PAGE.format(p="%s"), (attempt_id,)).fetchall()


_database: _SQLite | _Postgres | None = None


def database() -> _SQLite | _Postgres:
    global _database
    if _database is None:  # one connection per worker process, opened after uvicorn forks it
        _database = _Postgres(DATABASE) if POSTGRES else _SQLite(DATABASE)
    return _database


@post("/save/{attempt_id:int}/{position:int}", status_code=200, sync_to_thread=False)
async def save(request: Request, attempt_id: int, position: int) -> Response:
    form = await request.form()
    chosen = ",".join(sorted(form.getall("choice", [])))
    found = database().save(attempt_id, position, chosen, "2026-12-07 00:00:00.000000")
    return Response({"saved": found, "position": position})


@get("/page/{attempt_id:int}", media_type=MediaType.HTML, sync_to_thread=False)
def page(attempt_id: int) -> str:
    questions: list[dict] = []
    for position, text, kind, option in database().page(attempt_id):
        if not questions or questions[-1]["position"] != position:
            questions.append({"position": position, "text": text, "kind": kind, "options": []})
        questions[-1]["options"].append(option)
    return TEMPLATE.render(attempt_id=attempt_id, questions=questions)


@get("/healthz", sync_to_thread=False)
def healthz() -> str:
    return "ok"


def create_app() -> Litestar:
    return Litestar([save, page, healthz],
                    compression_config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6))
