"""The authorisation matrix: every route of the application (from its route table) x seven actors, against an
expectation written once per route in EXPECTED. A route without an entry, or an entry without a route, fails.

Who may call a route:
  public      anyone, signed in or not
  contestant  the contestant who owns the attempt or entry (web session or API token of that contest) and nobody else
  viewer      staff with the viewer role or above; organiser and admin: that role or above
  judge       a judge, on the entries given to them (and no other staff page: a judge is below every other role)
  operator    none of the six: only the holder of METRICS_TOKEN (set in this world; tests/test_metrics.py sends it)

An allowed actor must reach the handler: any status below 500 except 401/403, no redirect to a login page and
no 404 (a 404 would hide a missing check), unless the entry says `missing_ok` with its reason. A refused actor
gets 401/403, a redirect to a login page, or 404 (a contestant touching someone else's attempt). Requests to
contest routes fill the path from a world of two contests; POSTs from browsers carry a valid CSRF token, so a
403 comes from the role check (checked: no 403 says the form token was wrong).

Adding a route: one line in EXPECTED, e.g. `("GET", "/staff/new/{contest_id:int}"): Rule("organiser"),`
(path exactly as Litestar lists it, with parameter types), plus `form=`/`json=`/`params=` when the handler needs
a body or other values than the world's to do real work.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from litestar import post
from sqlalchemy import insert, select

from contest import accounts
from contest.contests import announcements, setup
from contest.entries import judging, submissions
from contest.entries import rounds as entry_rounds
from contest.entries.files import store_upload
from contest.exports import jobs
from contest.models import (Attempt, Contest, Contestant, ExportJob, JudgeAssignment, PrizeList, Question, Round, Unit,
                            User)
from contest.results import appeals, prizes, ranking
from tests.conftest import NOW, PASSWORD, csrf_token, login, post_form
from tests.contest_helpers import make_contest

ACTORS = ("anonymous", "contestant_other", "contestant_own", "viewer", "organiser", "admin", "judge")
STAFF_RANK = {"viewer": 1, "organiser": 2, "admin": 3}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
SKIPPED_PREFIXES = ("/static/",)
CSRF_REFUSAL = "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ"
MATRIX_SECONDS = 120  # a ceiling against a matrix grown slow: 23-40 s on two cores shared with other test runs
LATE, LAST = 1, 2  # routes run after the others: they end the attempt, or the actor's session
# A contestant of the other contest tries this contest's attempt through their own contest's pages too.
ACTOR_VALUES = {"contestant_other": {"slug": "hoi-thi-khac"}}
METRICS_TOKEN = "matrix-metrics-token-" + "t" * 20  # configured, so that /metrics refuses rather than hides


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


PNG = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
       + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + _png_chunk(b"IEND", b""))


@dataclass(frozen=True)
class Rule:
    who: str                                        # public | contestant | viewer | organiser | admin | operator
    form: dict | None = None                        # a form body (browser POST)
    json: dict | list | None = None                 # a JSON body (API)
    params: dict = field(default_factory=dict)      # path values other than the world's
    query: str = ""
    missing_ok: str = ""                            # why a 404 is a right answer for an allowed actor
    order: int = 0                                  # LATE: closes the attempt; LAST: signs the actor out
    multipart: bool = False                         # the form is sent as multipart/form-data (a form with files)

    def allows(self, actor: str) -> bool:
        if self.who == "public":
            return True
        if self.who == "contestant":
            return actor == "contestant_own"
        if self.who == "operator":
            return False
        if self.who == "judge":
            return actor == "judge"
        return STAFF_RANK.get(actor, 0) >= STAFF_RANK[self.who]


C = "/c/{slug:str}"
A = "/api/v1/attempts/{attempt_id:int}"
API = "/api/v1/contests/{slug:str}"
S = "/staff/contests/{contest_id:int}"
E = S + "/entry-rounds/{round_id:int}"
ENTRY_ROUND = {"round_id": "{entry_round}"}
R = S + "/results"
EXPORT_FORM = {"kind": "leaderboard", "round_id": "{closed_round}", "track": "officials", "fmt": "csv"}

EXPECTED: dict[tuple[str, str], Rule] = {
    # --- public pages, staff login ---
    ("GET", "/"): Rule("public"),
    ("GET", "/lang/{code:str}"): Rule("public", params={"code": "vi"}),
    ("GET", "/healthz"): Rule("public"),
    ("GET", "/favicon.ico"): Rule("public"),
    ("GET", "/metrics"): Rule("operator"),  # neither a staff login nor a contestant's API token opens it
    ("GET", "/login"): Rule("public"),
    ("POST", "/login"): Rule("public", form={"email": "nobody@example.org", "password": "x"}),
    ("POST", "/logout"): Rule("public", order=LAST),
    # --- staff: everyone with a role, admins for accounts ---
    ("GET", "/staff"): Rule("viewer"),
    ("GET", "/staff/users"): Rule("admin"),
    ("POST", "/staff/users"): Rule("admin", form={"email": ""}),
    # re-activating an active account: the admin's answer changes nothing
    ("POST", "/staff/users/{user_id:int}/active"): Rule("admin", form={"active": "1"}),
    ("GET", "/staff/password"): Rule("viewer"),
    ("POST", "/staff/password"): Rule("viewer", form={"current_password": "", "new_password": ""}),
    ("GET", "/staff/results"): Rule("viewer"),
    # --- question banks (organisers) ---
    ("GET", "/staff/banks"): Rule("organiser"),
    ("GET", "/staff/banks/template.xlsx"): Rule("organiser"),
    ("POST", "/staff/banks/import"): Rule("organiser", form={"bank_name": "x"}),
    ("POST", "/staff/banks/import/{token:str}"): Rule("organiser", params={"token": "no-such-upload"}),
    ("GET", "/staff/banks/{bank_id:int}"): Rule("organiser"),
    ("GET", "/staff/banks/{bank_id:int}/check"): Rule("organiser", query="older_than=01/07/2025"),
    ("GET", "/staff/banks/{bank_id:int}/export.xlsx"): Rule("organiser"),
    ("GET", "/staff/questions/{question_id:int}"): Rule("organiser"),
    ("POST", "/staff/questions/{question_id:int}"): Rule("organiser", form={"text": ""}),
    ("POST", "/staff/questions/{question_id:int}/status"): Rule("organiser", form={"status": "active"}),
    # --- contests, units, rounds (organisers) ---
    ("GET", "/staff/contests"): Rule("organiser"),
    ("GET", "/staff/contests/new"): Rule("organiser"),
    ("POST", "/staff/contests/new"): Rule("organiser", form={"title": ""}),
    ("GET", S): Rule("organiser"),
    ("GET", S + "/edit"): Rule("organiser"),
    ("POST", S + "/edit"): Rule("organiser", form={"title": ""}),
    ("GET", S + "/poster"): Rule("organiser"),
    ("GET", S + "/tai-lieu"): Rule("organiser"),
    ("POST", S + "/tai-lieu"): Rule("organiser", form={"title": "Luật Tiếp công dân", "url": "https://example.org/"}),
    ("POST", S + "/tai-lieu/{link_id:int}/xoa"): Rule("organiser", params={"link_id": "999999"},
                                                     missing_ok="no such link: removing it answers 404"),
    ("GET", S + "/qr.svg"): Rule("organiser"),
    ("GET", S + "/units"): Rule("organiser"),
    ("GET", S + "/units/template.xlsx"): Rule("organiser"),
    ("GET", S + "/units/export.xlsx"): Rule("organiser"),
    ("POST", S + "/units/import"): Rule("organiser", form={"kind": "unit"}),
    ("POST", S + "/units/import/confirm"): Rule("organiser", form={"kind": "unit"}),
    ("POST", S + "/units/new"): Rule("organiser", form={"name": ""}),
    ("GET", S + "/units/{unit_id:int}"): Rule("organiser"),
    ("POST", S + "/units/{unit_id:int}"): Rule("organiser", form={"name": ""}),
    ("GET", S + "/rounds/new"): Rule("organiser"),
    ("POST", S + "/rounds/new"): Rule("organiser", form={"title": ""}),
    ("GET", S + "/rounds/{round_id:int}"): Rule("organiser"),
    ("POST", S + "/rounds/{round_id:int}"): Rule("organiser", form={"title": ""}),
    ("GET", S + "/rounds/draw/{track:str}"): Rule("organiser"),
    # --- entry rounds and their jury (organisers), judges' own pages ---
    ("GET", S + "/entry-rounds/new"): Rule("organiser"),
    ("POST", S + "/entry-rounds/new"): Rule("organiser", form={"title": ""}),
    ("GET", E): Rule("organiser", params=ENTRY_ROUND),
    ("POST", E): Rule("organiser", params=ENTRY_ROUND, form={"title": ""}),
    ("GET", E + "/jury"): Rule("organiser", params=ENTRY_ROUND),
    ("POST", E + "/panel"): Rule("organiser", params=ENTRY_ROUND, form={"judge": "{judge_id}"}),
    ("POST", E + "/assign"): Rule("organiser", params=ENTRY_ROUND),
    ("POST", E + "/entries/{entry_id:int}/another"): Rule("organiser", params=ENTRY_ROUND),
    ("POST", E + "/finalise"): Rule("organiser", params=ENTRY_ROUND, form={}),
    ("GET", E + "/entries/{entry_id:int}"): Rule("organiser", params=ENTRY_ROUND),
    ("GET", E + "/judges/{judge_id:int}/sheet.xlsx"): Rule("organiser", params=ENTRY_ROUND),
    ("GET", E + "/files/{file_id:int}"): Rule("organiser", params=ENTRY_ROUND),
    ("GET", "/staff/judging"): Rule("judge"),
    ("GET", "/staff/judging/{assignment_id:int}"): Rule("judge"),
    ("POST", "/staff/judging/{assignment_id:int}"): Rule("judge", form={}),
    ("GET", "/staff/judging/{assignment_id:int}/files/{position:int}"): Rule("judge", params={"position": "1"}),
    # --- contestants: search, reset codes, accommodation (organisers; viewers have no need of phones or reasons) ---
    ("GET", S + "/contestants"): Rule("organiser", query="q=nguoi thi"),
    ("GET", S + "/contestants/{contestant_id:int}"): Rule("organiser"),
    ("POST", S + "/contestants/{contestant_id:int}/reset-code"): Rule("organiser"),
    ("POST", S + "/contestants/{contestant_id:int}/accommodation"): Rule(
        "organiser", form={"round_id": "{closed_round}", "extra_minutes": "5", "reason": "Mất điện"}),
    # One person's data: the export, and an erasure left unconfirmed (the world's contestant stays for the others).
    ("POST", S + "/contestants/{contestant_id:int}/personal-data"): Rule("organiser"),
    ("POST", S + "/contestants/{contestant_id:int}/erase"): Rule("organiser", form={"confirm": "không"}),
    # --- announcements (organisers write; the contest page shows them) and the live round (viewers) ---
    ("GET", S + "/announcements"): Rule("organiser"),
    ("POST", S + "/announcements"): Rule("organiser", form={"title": ""}),
    ("GET", S + "/announcements/{announcement_id:int}"): Rule("organiser"),
    ("POST", S + "/announcements/{announcement_id:int}"): Rule("organiser", form={"title": ""}),
    ("POST", S + "/announcements/{announcement_id:int}/delete"): Rule(
        "organiser", order=LATE, missing_ok="the organiser's request deletes it, so the admin's finds it gone"),
    ("GET", S + "/live"): Rule("viewer"),
    # --- results (viewers read; organisers act; admins unlock) ---
    ("GET", R): Rule("viewer"),
    ("POST", R + "/settings"): Rule("organiser", form={"first": "x"}),
    ("GET", R + "/rounds/{round_id:int}/{track:str}"): Rule("viewer"),
    ("GET", R + "/rounds/{round_id:int}/{track:str}/find"): Rule("viewer", query="q=An"),
    ("POST", R + "/rounds/{round_id:int}/rank"): Rule("organiser", form={"track": "officials"}),
    ("POST", R + "/rounds/{round_id:int}/{track:str}/prizes"): Rule("organiser"),
    ("POST", R + "/prizes/{list_id:int}/lock"): Rule("organiser"),
    ("POST", R + "/prizes/{list_id:int}/unlock"): Rule("admin", form={"reason": ""}),
    ("GET", R + "/prizes/{list_id:int}/certificates"): Rule("viewer"),
    ("GET", R + "/prizes/{list_id:int}/certificates/{contestant_id:int}"): Rule("viewer"),
    ("GET", R + "/overall/{track:str}"): Rule("viewer"),
    ("GET", R + "/teams"): Rule("viewer"),
    ("GET", R + "/audit"): Rule("viewer"),
    ("POST", R + "/verify"): Rule("viewer", form={}),
    ("GET", S + "/thong-ke"): Rule("viewer"),
    ("GET", S + "/thong-ke/cau-hoi"): Rule("viewer"),
    # --- exports (viewers get masked files; the personal-data record is for organisers) ---
    ("GET", S + "/exports"): Rule("viewer"),
    ("POST", S + "/exports"): Rule("viewer", form=EXPORT_FORM),
    ("POST", S + "/exports/report"): Rule("viewer", form={}),
    ("GET", S + "/exports/personal-data"): Rule("organiser"),
    ("GET", S + "/exports/personal-data.xlsx"): Rule("organiser"),
    ("GET", "/staff/exports/{job_id:int}"): Rule("viewer"),
    ("GET", "/staff/exports/{job_id:int}/download"): Rule("viewer"),
    # --- the contest's public pages ---
    ("GET", C): Rule("public"),
    ("GET", C + "/the-le"): Rule("public"),
    ("GET", C + "/tai-lieu"): Rule("public"),
    ("GET", C + "/dang-ky"): Rule("public"),
    ("POST", C + "/dang-ky"): Rule("public", form={"full_name": ""}),
    ("GET", C + "/dang-nhap"): Rule("public"),
    ("POST", C + "/dang-nhap"): Rule("public", form={"phone": "0900000000", "password": "x"}),
    ("POST", C + "/dang-xuat"): Rule("public", order=LAST),
    ("GET", C + "/don-vi"): Rule("public", query="q=S"),
    ("GET", C + "/quen-mat-khau"): Rule("public"),
    ("POST", C + "/quen-mat-khau"): Rule("public", form={"phone": "0900000000", "code": "ABCD-EFGH",
                                                         "password": "mat-khau-moi"}),
    ("POST", C + "/quen-mat-khau/email"): Rule("public", form={"email": "ai@example.org"},
                                               missing_ok="no mail server in the matrix's settings: not offered"),
    ("GET", C + "/dat-lai-mat-khau"): Rule("public", query="t=no-such-token"),
    ("POST", C + "/dat-lai-mat-khau"): Rule("public", form={"t": "no-such-token", "password": "mat-khau-moi"}),
    ("GET", C + "/thong-tin"): Rule("contestant"),
    ("POST", C + "/thong-tin"): Rule("contestant", form={"full_name": "Người thi 111", "phone": "0912000111"}),
    ("GET", C + "/ket-qua"): Rule("public"),
    ("GET", C + "/ket-qua/dot/{number:int}/{track_slug:str}"): Rule("public"),
    ("GET", C + "/ket-qua/dot/{number:int}/{track_slug:str}/tim"): Rule("public", query="q=An"),
    ("GET", C + "/ket-qua/don-vi"): Rule("public"),
    ("GET", C + "/thong-ke"): Rule("public"),
    ("GET", C + "/thong-ke/cau-hoi"): Rule("public", query="dot={number}"),
    # --- the contestant's own attempt (pages) ---
    ("GET", C + "/dot/{number:int}"): Rule("contestant", params={"number": "{open_number}"}),
    ("POST", C + "/dot/{number:int}/bat-dau"): Rule("contestant", params={"number": "{open_number}"}),
    ("GET", C + "/bai-thi/{attempt_id:int}"): Rule("contestant"),
    ("POST", C + "/bai-thi/{attempt_id:int}/cau/{position:int}"): Rule("contestant", form={"choice": "0"}),
    ("POST", C + "/bai-thi/{attempt_id:int}/du-doan"): Rule("contestant", form={"prediction": "3"}),
    ("POST", C + "/bai-thi/{attempt_id:int}/nop"): Rule("contestant", form={"action": "save"}),
    ("GET", C + "/bai-thi/{attempt_id:int}/ket-qua"): Rule("contestant"),
    # --- the contestant's own entry in the entry round ---
    ("GET", C + "/bai-du-thi/{number:int}"): Rule("contestant", params={"number": "{entry_number}"}),
    ("POST", C + "/bai-du-thi/{number:int}/nhap"): Rule("contestant", params={"number": "{entry_number}"},
                                                         form={"text": "Bản nháp"}),
    ("POST", C + "/bai-du-thi/{number:int}"): Rule("contestant", params={"number": "{entry_number}"},
                                                   form={"text": "Bài viết nộp lại"}, multipart=True),
    ("GET", C + "/bai-du-thi/{number:int}/tep/{file_id:int}"): Rule("contestant", params={"number": "{entry_number}"}),
    # --- the contestant's own result in a round and their appeal about it; the organiser's answer ---
    ("GET", C + "/dot/{number:int}/ket-qua"): Rule("contestant"),
    ("POST", C + "/dot/{number:int}/khieu-nai"): Rule("contestant", form={"text": "Tôi đề nghị kiểm tra lại câu 3."}),
    ("POST", R + "/appeals/{appeal_id:int}/answer"): Rule("organiser", form={"answer": "", "decision": "rejected"}),
    # --- the JSON API ---
    ("GET", API): Rule("public"),
    ("GET", API + "/units"): Rule("public"),
    ("POST", API + "/registrations"): Rule("public", json={}),
    ("POST", API + "/sessions"): Rule("public", json={"phone": "{own_phone}", "password": PASSWORD}),
    ("GET", API + "/me"): Rule("contestant"),
    ("GET", API + "/rounds"): Rule("contestant"),
    ("POST", API + "/rounds/{number:int}/attempts"): Rule("contestant", params={"number": "{open_number}"}),
    ("GET", A): Rule("contestant"),
    ("PUT", A + "/answers/{position:int}"): Rule("contestant", json={"choice": [0]}),
    ("PUT", A + "/prediction"): Rule("contestant", json={"value": 3}),
    ("POST", A + "/submit"): Rule("contestant", order=LATE),
    ("GET", A + "/result"): Rule("contestant"),
    ("GET", "/api/v1/schema"): Rule("public"),
    ("GET", "/api/v1/schema/openapi.json"): Rule("public"),
    ("GET", "/api/v1/schema/{path:str}"): Rule("public", params={"path": "swagger"},
                                              missing_ok="Litestar's catch-all for schema pages not served"),
}


def route_table(app) -> set[tuple[str, str]]:
    """(method, path template) of every route the application serves, static files and HEAD/OPTIONS aside."""
    return {(method, route.path) for route in app.routes for method in getattr(route, "methods", ())
            if method not in SKIPPED_METHODS and not route.path.startswith(SKIPPED_PREFIXES)}


def coverage_problems(app) -> list[str]:
    served = route_table(app)
    problems = [f"new route without an expectation: {m} {p}" for m, p in sorted(served - EXPECTED.keys())]
    problems += [f"expectation for a route that no longer exists: {m} {p}" for m, p in sorted(EXPECTED.keys() - served)]
    return problems


def test_every_route_has_exactly_one_expectation(client):
    problems = coverage_problems(client.app)
    assert not problems, "\n".join(problems)


def test_a_route_added_without_an_expectation_is_named(client):
    @post("/staff/something-new", sync_to_thread=False)
    def something_new() -> None:
        return None

    client.app.register(something_new)
    assert coverage_problems(client.app) == ["new route without an expectation: POST /staff/something-new"]


# --- the world ------------------------------------------------------------------------------------------------

@dataclass
class World:
    values: dict[str, str]            # path parameter -> value (and {placeholders} used in rules)
    clients: dict[str, object]        # actor -> TestClient
    csrf: dict[str, str]              # actor -> form token of its browser session


def _contestant(db, contest_id: int, phone: str, password_hash: str, *, unit: int | None) -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=contest_id, track="officials", full_name=f"Người thi {phone[-3:]}",
                         search_name=f"nguoi thi {phone[-3:]}", phone=phone, password_hash=password_hash,
                         unit_id=unit, consent_at=NOW, created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def _sign_in_contestant(client, slug: str, phone: str) -> str:
    """Sign the browser in to the contest and return an API token for the same contestant."""
    response = post_form(client, f"/c/{slug}/dang-nhap", {"phone": phone, "password": PASSWORD},
                         follow_redirects=False)
    assert response.status_code == 303, response.text
    api = client.post(f"/api/v1/contests/{slug}/sessions", json={"phone": phone, "password": PASSWORD})
    assert api.status_code == 201, api.text
    return api.json()["token"]


@pytest.fixture
def world(db, make_client, staff, settings) -> World:
    """Contest A: round 1 closed, ranked, prize list locked (the own contestant won it), round 2 open with the
    own contestant's attempt in progress; a finished masked export job. Contest B, sharing the bank: one open
    round and the other contestant. Three staff accounts."""
    a = make_contest(db, opens=timedelta(days=-8), closes=timedelta(days=-1))
    with db.write_session() as session:
        contest_a = session.get(Contest, a.contest_id)
        contest_a.public_results = True
        setup.save_round(
            session, contest=contest_a, now=NOW - timedelta(days=30), round_=None, number=2, title="Tuần 2",
            opens_at=NOW - timedelta(hours=1), closes_at=NOW + timedelta(days=7), grace_seconds=30,
            prediction_kind="perfect_scores",
            tracks=[setup.TrackConfig(track="officials", bank_ids=[a.bank_id], draw={"total": 10})])
        contest_b = setup.create_contest(session, title="Hội thi khác", slug="hoi-thi-khac", now=NOW,
                                         tracks=["officials"], rules="Thể lệ.")
        setup.save_round(
            session, contest=contest_b, now=NOW - timedelta(days=30), round_=None, number=1, title="Tuần 1",
            opens_at=NOW - timedelta(hours=1), closes_at=NOW + timedelta(days=7), grace_seconds=30,
            prediction_kind="perfect_scores",
            tracks=[setup.TrackConfig(track="officials", bank_ids=[a.bank_id], draw={"total": 10})])
        unit = session.scalar(select(Unit.id).where(Unit.contest_id == a.contest_id, Unit.code == "CCHC"))
        question_id = session.scalar(select(Question.id).where(Question.bank_id == a.bank_id).limit(1))
        viewer_id = session.scalar(select(User.id).where(User.email == staff["viewer"]))
        contest_b_id = contest_b.id
        announcement_id = announcements.create(
            session, contest_id=a.contest_id, user_id=None, now=NOW, form=announcements.AnnouncementForm(
                title="Kết quả tuần 1", body="", pinned=False, published_at=NOW)).id
    password_hash = accounts.hash_password(PASSWORD, accounts.CONTESTANT_HASHER)
    own = _contestant(db, a.contest_id, "0912000111", password_hash, unit=unit)
    _contestant(db, contest_b_id, "0912000222", password_hash, unit=None)

    with db.write_session() as session:  # a finished attempt in the closed round, ranked and awarded
        session.execute(insert(Attempt), {
            "contestant_id": own, "round_id": a.round_id, "track": "officials", "seq": 1,
            "started_at": NOW - timedelta(days=5), "deadline": NOW - timedelta(days=5) + timedelta(minutes=10),
            "status": "submitted", "finished_at": NOW - timedelta(days=5) + timedelta(minutes=5),
            "question_count": 10, "correct_count": 9, "duration_ms": 300_000, "prediction": 1})
        ranking.rank_round(session, session.get(Round, a.round_id), now=NOW)
        list_id = prizes.propose(session, a.round_id, "officials", NOW).id
    with db.write_session() as session:
        prizes.lock(session, list_id, None, NOW)
        assert session.get(PrizeList, list_id).status == prizes.PrizeListStatus.LOCKED
    with db.write_session() as session:  # the round takes appeals for two days after it closed; one is filed
        session.get(Contest, a.contest_id).appeal_hours = 48
        appeal_id = appeals.file_appeal(session, contest=session.get(Contest, a.contest_id),
                                        round_=session.get(Round, a.round_id), contestant_id=own,
                                        text="Xin kiểm tra lại câu 2.", now=NOW).id
    with db.write_session() as session:
        job_id = jobs.create_job(session, jobs.ExportSpec(kind="leaderboard", contest_id=a.contest_id,
                                                          round_id=a.round_id, public=True), user_id=None, now=NOW).id
    jobs.run_job(db, job_id, directory=settings.exports_dir, tz=settings.timezone, clock=lambda: NOW)
    with db.session() as session:
        assert session.get(ExportJob, job_id).status == jobs.DONE

    entry = _entry_world(db, a.contest_id, own, staff["judge"], settings)

    clients = {actor: make_client(metrics_token=METRICS_TOKEN) for actor in ACTORS}
    for role in (*STAFF_RANK, "judge"):
        assert login(clients[role], staff[role]).status_code == 303
    own_token = _sign_in_contestant(clients["contestant_own"], a.slug, "0912000111")
    other_token = _sign_in_contestant(clients["contestant_other"], "hoi-thi-khac", "0912000222")
    clients["contestant_own"].headers["Authorization"] = f"Bearer {own_token}"
    clients["contestant_other"].headers["Authorization"] = f"Bearer {other_token}"
    started = post_form(clients["contestant_own"], f"/c/{a.slug}/dot/2/bat-dau", {}, form_page=f"/c/{a.slug}",
                        follow_redirects=False)
    assert started.status_code == 200, started.text
    attempt_id = started.headers["content-location"].rsplit("/", 1)[1]

    values = {"slug": a.slug, "contest_id": str(a.contest_id), "round_id": str(a.round_id),
              "closed_round": str(a.round_id), "number": "1", "open_number": "2", "track": "officials",
              "track_slug": "can-bo", "bank_id": str(a.bank_id), "question_id": str(question_id), "unit_id": str(unit),
              "list_id": str(list_id), "contestant_id": str(own), "job_id": str(job_id), "attempt_id": attempt_id,
              "position": "0", "own_phone": "0912000111",
              "user_id": str(viewer_id), "announcement_id": str(announcement_id), "appeal_id": str(appeal_id),
              **entry}
    # Each browser's own form token, read from a page the way a browser gets it.
    csrf = {actor: csrf_token(client, "/login") for actor, client in clients.items()}
    return World(values=values, clients=clients, csrf=csrf)


def _entry_world(db, contest_id: int, own: int, judge_email: str, settings) -> dict[str, str]:
    """Contest A's round 3 takes entries: the own contestant has submitted one with a poster, given to the judge."""
    with db.write_session() as session:
        round_ = entry_rounds.save_entry_round(
            session, contest=session.get(Contest, contest_id), now=NOW - timedelta(days=30), round_=None, number=3,
            title="Bài viết", opens_at=NOW - timedelta(hours=1), closes_at=NOW + timedelta(days=7),
            rules=entry_rounds.EntryRules(tracks=("officials",), file_kinds=("png",), max_files=1,
                                          judges_per_entry=1))
        _, rules = entry_rounds.entry_round(session, round_.id)
        poster = store_upload(io.BytesIO(PNG), "tranh.png", allowed=("png",), max_bytes=1024 * 1024,
                              storage_dir=settings.entries_dir)
        done = submissions.submit(session, round_=round_, rules=rules, contestant=session.get(Contestant, own),
                                  text="Bài viết về cải cách hành chính.", video_url="", files=[poster], now=NOW)
        judge_id = session.scalar(select(User.id).where(User.email == judge_email))
        judging.set_panel(session, round_.id, {judge_id: None})
        judging.assign(session, round_, rules, now=NOW, user_id=None)
        assignment_id = session.scalar(select(JudgeAssignment.id).where(JudgeAssignment.judge_id == judge_id))
        return {"entry_round": str(round_.id), "entry_number": "3", "entry_id": str(done.entry.id),
                "file_id": str(done.files[0].id), "judge_id": str(judge_id), "assignment_id": str(assignment_id)}


# --- the matrix -----------------------------------------------------------------------------------------------

def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _path(path: str, rule: Rule, values: dict[str, str]) -> str:
    parts = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1].split(":")[0]
            part = _fill(str(rule.params.get(name, "{" + name + "}")), values)
            assert "{" not in part, f"no value for {name} in {path}"
        parts.append(part)
    return "/".join(parts) + (f"?{_fill(rule.query, values)}" if rule.query else "")


def _body(value, values: dict[str, str]):
    if isinstance(value, dict):
        return {k: _body(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_body(v, values) for v in value]
    return _fill(value, values) if isinstance(value, str) else value


def _send(world: World, actor: str, method: str, path: str, rule: Rule):
    client = world.clients[actor]
    values = {**world.values, **ACTOR_VALUES.get(actor, {})} if "{attempt_id" in path else world.values
    url = _path(path, rule, values)
    kwargs: dict = {"follow_redirects": False}
    if method != "GET" and not url.startswith("/api/"):
        kwargs["headers"] = {"X-CSRFToken": world.csrf[actor]}
    if rule.json is not None:
        kwargs["json"] = _body(rule.json, values)
    elif rule.form is not None:
        kwargs["data"] = _body(rule.form, values)
        if rule.multipart:  # an empty file field, as a browser sends when no file was chosen
            kwargs["files"] = {"files": ("", b"", "application/octet-stream")}
    return url, client.request(method, url, **kwargs)


def _to_login(response) -> bool:
    location = response.headers.get("location", "")
    return response.status_code in (302, 303) and (location.startswith("/login") or "/dang-nhap" in location)


def _verdict(rule: Rule, actor: str, response) -> str | None:
    """None when the response is what the rule expects for this actor, else what went wrong."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status == 403 and CSRF_REFUSAL in response.text:
        return "refused for its CSRF token, not its role (the matrix would prove nothing)"
    if rule.allows(actor):
        if status in (401, 403) or _to_login(response):
            return f"refused ({status} {response.headers.get('location', '')}) but should be allowed"
        if status == 404 and not rule.missing_ok:
            return "404 for an allowed actor (a missing world value, or a check hidden behind not-found)"
        return None
    if status in (401, 403, 404) or _to_login(response):
        return None
    return f"UNEXPECTED SUCCESS {status} {response.headers.get('location', '')}".strip()


def test_authorisation_matrix(world):
    app = world.clients["anonymous"].app
    problems = coverage_problems(app)
    assert not problems, "\n".join(problems)
    routes = sorted(route_table(app), key=lambda r: (EXPECTED[r].order, r[0] != "GET", r[1], r[0]))
    failures, requests = [], 0
    started = time.perf_counter()
    for method, path in routes:
        rule = EXPECTED[(method, path)]
        for actor in ACTORS:
            url, response = _send(world, actor, method, path, rule)
            requests += 1
            problem = _verdict(rule, actor, response)
            if problem:
                failures.append(f"{method} {url} as {actor} (expected {rule.who}): {problem}")
    seconds = time.perf_counter() - started
    print(f"authorisation matrix: {len(routes)} routes x {len(ACTORS)} actors = {requests} requests "
          f"in {seconds:.1f} s")
    assert not failures, "\n".join(failures)
    assert seconds < MATRIX_SECONDS
