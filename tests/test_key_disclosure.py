"""No response lets anyone learn the key of a question an unfinished round (of any contest) can still
draw: the contest's choice of when answers are published, the hold on drawable questions, the
organiser's warning when a round reuses a bank whose keys are out, and a scan of every response of
full attempts through the pages and the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, update

from contest.banks import store
from contest.banks.importer import check_and_import
from contest.contests import attempts as attempt_domain
from contest.contests import setup
from contest.contests.draw import PoolCache
from contest.models import AttemptQuestion, Contest, Contestant, Question, QuestionOption, Round
from tests.banks_helpers import row, xlsx_bytes
from tests.conftest import NOW, csrf_token, html, login, post_form

API = "/api/v1"
FIELDS = {"full_name": "required", "phone": "required"}
PASSWORD = "matkhau-123"
HELD_BACK = "Đáp án của câu này chưa được công bố vì câu hỏi còn được dùng trong đợt thi chưa kết thúc."
HELD_ATTEMPT = "Đáp án của bài thi này chưa được công bố vì có câu hỏi còn được dùng trong đợt thi chưa kết thúc."
KEY_FIELDS = ("key", "is_correct", "explanation", "source", "correct")


# --- building contests on banks whose every key and explanation is a unique marker -------------

def marker_bank(db, tag: str, count: int = 12) -> int:
    """A bank of single-answer questions: text CAUHOI-<tag>NN, options PA-<tag>NN-<letter>,
    explanation GIAITHICH-<tag>NN, source NGUON-<tag>NN."""
    rows = [row(n, f"CAUHOI-{tag}{n:02d}: cơ quan nào tiếp nhận hồ sơ?",
                [f"PA-{tag}{n:02d}-{letter}" for letter in "ABCD"], "ABCD"[n % 4],
                explanation=f"GIAITHICH-{tag}{n:02d}", source=f"NGUON-{tag}{n:02d}") for n in range(1, count + 1)]
    with db.write_session() as session:
        report = check_and_import(session, data=xlsx_bytes(rows), filename=f"{tag}.xlsx",
                                  bank_name=f"Ngân hàng {tag}", now=NOW)
        assert report.saved, report.lines()
        return store.find_bank(session, f"Ngân hàng {tag}").id


def make_marked_contest(db, slug: str, *, policy: str, rounds: list[tuple[timedelta, timedelta, list[int], int]],
                        public_results: bool = False) -> int:
    """A contest for officials asking only name and phone; rounds numbered from 1, each
    (opens, closes relative to NOW, bank ids, questions drawn)."""
    with db.write_session() as session:
        contest = setup.create_contest(session, title=f"Hội thi {slug}", slug=slug, now=NOW, tracks=["officials"],
                                       fields=FIELDS, rules="Thể lệ.")
        contest.answers_published, contest.public_results = policy, public_results
        for number, (opens, closes, banks, total) in enumerate(rounds, start=1):
            setup.save_round(session, contest=contest, now=NOW - timedelta(days=30), round_=None, number=number,
                             title=f"Đợt {number}", opens_at=NOW + opens, closes_at=NOW + closes, grace_seconds=30,
                             prediction_kind="perfect_scores",
                             tracks=[setup.TrackConfig(track="officials", bank_ids=banks, draw={"total": total})])
        return contest.id


def set_policy(db, contest_id: int, policy: str) -> None:
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == contest_id).values(answers_published=policy))


@dataclass
class Marked:
    text: str
    right: list[str]
    wrong: list[str]
    secrets: list[str]  # explanation and source


def markers(db, bank_ids) -> dict[int, Marked]:
    with db.session() as session:
        questions = session.execute(select(Question.id, Question.text, Question.explanation, Question.source)
                                    .where(Question.bank_id.in_(bank_ids))).all()
        options = session.execute(select(QuestionOption.question_id, QuestionOption.text, QuestionOption.is_correct)
                                  .join(Question, Question.id == QuestionOption.question_id)
                                  .where(Question.bank_id.in_(bank_ids))).all()
    found = {q.id: Marked(q.text.split(":")[0], [], [], [q.explanation, q.source]) for q in questions}
    for option in options:
        (found[option.question_id].right if option.is_correct else found[option.question_id].wrong).append(option.text)
    return found


# --- the contestant through the API and through the pages -----------------------------------------

def api_contestant(client, slug: str, phone: str) -> dict:
    response = client.post(f"{API}/contests/{slug}/registrations", json={
        "track": "officials", "full_name": "Trần Văn Bình", "phone": phone, "password": PASSWORD, "consent": True})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def display_key(db, attempt_id: int, position: int) -> list[int]:
    with db.session() as session:
        item = session.execute(select(AttemptQuestion.question_id, AttemptQuestion.option_order).where(
            AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.position == position)).one()
        key = session.scalars(select(QuestionOption.position).where(
            QuestionOption.question_id == item.question_id, QuestionOption.is_correct.is_(True))).all()
    order = [int(p) for p in item.option_order.split(",")]
    return sorted(order.index(p) for p in key)


def api_attempt(client, db, headers, slug: str, number: int, seen: list) -> int:
    """Start, answer every question right, submit, read the result; every response into `seen`."""
    started = client.post(f"{API}/contests/{slug}/rounds/{number}/attempts", headers=headers)
    assert started.status_code == 201, started.text
    seen.append(started)
    attempt = started.json()
    for question in attempt["questions"]:
        seen.append(client.put(f"{API}/attempts/{attempt['id']}/answers/{question['position']}",
                               json={"choice": display_key(db, attempt["id"], question["position"])}, headers=headers))
        assert seen[-1].status_code == 200, seen[-1].text
    seen.append(client.get(f"{API}/attempts/{attempt['id']}", headers=headers))
    seen.append(client.post(f"{API}/attempts/{attempt['id']}/submit", json={"prediction": 3}, headers=headers))
    seen.append(client.get(f"{API}/attempts/{attempt['id']}/result", headers=headers))
    return attempt["id"]


def page_attempt(client, db, slug: str, number: int, seen: list) -> int:
    """The same through the pages: start, save each click as the script does, submit with confirmation."""
    home = f"/c/{slug}"
    started = client.post(f"{home}/dot/{number}/bat-dau", data={"_csrf_token": csrf_token(client, home)})
    assert started.status_code == 200, started.text
    seen.append(started)
    attempt_id = int(started.headers["content-location"].rsplit("/", 1)[1])
    token = csrf_token(client, f"{home}/bai-thi/{attempt_id}")
    for item in html(started).select("li[data-pos]"):
        position = int(item["data-pos"])
        seen.append(client.post(f"{home}/bai-thi/{attempt_id}/cau/{position}",
                                data={"choice": [str(c) for c in display_key(db, attempt_id, position)]},
                                headers={"X-CSRFToken": token}))
        assert seen[-1].status_code == 200, seen[-1].text
    seen.append(client.post(f"{home}/bai-thi/{attempt_id}/du-doan", data={"prediction": "3"},
                            headers={"X-CSRFToken": token}))
    seen.append(client.get(f"{home}/bai-thi/{attempt_id}"))
    seen.append(client.post(f"{home}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit"}))
    seen.append(client.post(f"{home}/bai-thi/{attempt_id}/nop",
                            data={"_csrf_token": token, "action": "submit", "confirm": "1"}))
    seen.append(client.get(f"{home}/bai-thi/{attempt_id}/ket-qua"))
    return attempt_id


# --- the scan ---------------------------------------------------------------------------------

def _json_leaks(value, texts: list[str]) -> list[str]:
    """A key, verdict or explanation next to the text of a drawable question."""
    if isinstance(value, list):
        return [leak for v in value for leak in _json_leaks(v, texts)]
    if not isinstance(value, dict):
        return []
    found = [leak for v in value.values() for leak in _json_leaks(v, texts)]
    strings = " ".join(v for v in value.values() if isinstance(v, str))
    if any(text in strings for text in texts):
        found += [f"{field}={value[field]!r} beside {strings[:40]!r}" for field in KEY_FIELDS
                  if value.get(field) not in (None, "", [])]
    return found


def leaks(response, marked: dict[int, Marked], drawable: set[int]) -> list[str]:
    """Every way `response` (body and headers) gives away the key of a drawable question."""
    text = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    found = []
    for qid in drawable:
        m = marked[qid]
        found += [secret for secret in m.secrets if secret in text]
        # A correct option may appear only among all the question's options, never singled out.
        if any(r in text for r in m.right) and not all(w in text for w in m.wrong):
            found.append(f"{m.right} singled out")
    texts = [marked[qid].text for qid in drawable]
    rights = [r for qid in drawable for r in marked[qid].right]
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/json") and response.text:
        found += _json_leaks(response.json(), texts)
    elif kind.startswith("text/html"):
        page = BeautifulSoup(response.text, "html.parser")
        found += [f"marked key {el.get_text()!r}" for el in page.select(".key")
                  if any(r in el.get_text() for r in rights)]
        for item in page.select(".review > li"):
            if any(t in item.get_text() for t in texts) and item.select(".key, .tag"):
                found.append(f"verdict or key on {item.get_text()[:40]!r}")
    return found


def test_key_leak_scan_of_full_attempts_through_pages_and_api(make_client, db, clock):
    x, y, z = marker_bank(db, "X"), marker_bank(db, "Y"), marker_bank(db, "Z")
    hour, day = timedelta(hours=1), timedelta(days=1)
    # Contest A publishes after each round: round 1 (Z) closed long ago, round 2 (X and Z) closes in an
    # hour, round 3 (Y) is open for a week. Contest B: round 1 (X) open for a week, round 2 (Z) closed.
    # So X and Y stay drawable to the end of the scan; Z only by closed rounds.
    a = make_marked_contest(db, "thi-a", policy="after_round", public_results=True,
                            rounds=[(-3 * day, -2 * day, [z], 5), (-hour, hour, [x, z], 10), (-hour, 7 * day, [y], 10)])
    make_marked_contest(db, "thi-b", policy="after_round", public_results=True,
                        rounds=[(-hour, 7 * day, [x], 5), (-2 * day, -day, [z], 5)])
    marked = markers(db, [x, y, z])
    with db.session() as session:
        drawable = set(session.scalars(select(Question.id).where(Question.bank_id.in_([x, y]))))
    seen: list = []
    page, api = make_client(), make_client()

    # Pages: public pages, register, log out and in, an attempt in round 2 while it is open.
    for path in ("/", "/c/thi-a", "/c/thi-a/the-le", "/c/thi-a/dang-ky", "/c/thi-a/dang-nhap", "/c/thi-b"):
        seen.append(page.get(path))
    seen.append(post_form(page, "/c/thi-a/dang-ky", {"track": "officials", "full_name": "Lê Thị Hồng",
                                                     "phone": "0912000111", "password": PASSWORD, "consent": "1"}))
    seen.append(post_form(page, "/c/thi-a/dang-xuat", {}, form_page="/c/thi-a"))
    seen.append(post_form(page, "/c/thi-a/dang-nhap", {"phone": "0912000111", "password": PASSWORD}))
    assert "Lê Thị Hồng" in seen[-1].text
    with db.session() as session:
        page_person = session.scalar(select(Contestant.id).where(Contestant.phone == "0912000111"))
    # Round 1 was sat while it was open (three days ago), through the domain with that day's clock.
    pools, then = PoolCache(), NOW - timedelta(days=2, hours=12)
    early = attempt_domain.start_in_round(db, pools, contest_id=a, number=1, contestant_id=page_person, now=then).state
    attempt_domain.submit_attempt(db, attempt_id=early.id, contestant_id=page_person, now=then + timedelta(minutes=5))
    page_round_2 = page_attempt(page, db, "thi-a", 2, seen)

    # API: the contest, register, log in, the rounds, an attempt in round 2.
    seen.append(api.get(f"{API}/contests/thi-a"))
    headers = api_contestant(api, "thi-a", "0912000222")
    seen.append(api.post(f"{API}/contests/thi-a/sessions", json={"phone": "0912000222", "password": PASSWORD}))
    seen.append(api.get(f"{API}/contests/thi-a/me", headers=headers))
    seen.append(api.get(f"{API}/contests/thi-a/rounds", headers=headers))
    api_round_2 = api_attempt(api, db, headers, "thi-a", 2, seen)

    # Two hours on: round 2 has closed, rounds 3 of A and 1 of B are open.
    clock.advance(hours=2)
    page_attempt(page, db, "thi-a", 3, seen)
    api_attempt(api, db, headers, "thi-a", 3, seen)
    seen += [page.get(f"/c/thi-a/bai-thi/{attempt_id}/ket-qua") for attempt_id in (early.id, page_round_2)]
    seen.append(api.get(f"{API}/attempts/{api_round_2}/result", headers=headers))
    for number in (1, 2, 3):
        seen += [page.get(f"/c/thi-a/ket-qua/dot/{number}/can-bo"), page.get(f"/c/thi-a/thong-ke/cau-hoi?dot={number}"),
                 page.get(f"/c/thi-a/thong-ke?dot={number}"), page.get(f"/c/thi-a/dot/{number}/ket-qua")]
    # An appeal about round 2 (closed, its questions still drawable by round 3): the page and its answer.
    seen.append(post_form(page, "/c/thi-a/dot/2/khieu-nai", {"text": "CAUHOI-X01 có hai phương án đúng?"},
                          form_page="/c/thi-a/dot/2/ket-qua"))
    assert seen[-1].status_code == 200 and "Đã gửi khiếu nại." in seen[-1].text
    for path in ("/c/thi-a", "/c/thi-a/ket-qua", "/c/thi-a/ket-qua/don-vi", "/c/thi-a/thong-ke",
                 "/c/thi-a/thong-ke/cau-hoi", "/c/thi-a/the-le", "/c/thi-b/ket-qua", "/c/thi-b/ket-qua/dot/2/can-bo",
                 "/c/thi-b/thong-ke/cau-hoi?dot=2", f"{API}/schema/openapi.json"):
        seen.append(page.get(path))
    seen.append(api.get(f"{API}/contests/thi-a/rounds", headers=headers))

    assert all(r.status_code < 500 for r in seen), [(r.url, r.status_code) for r in seen if r.status_code >= 500]
    assert {str(r.url): leaks(r, marked, drawable) for r in seen if leaks(r, marked, drawable)} == {}
    # The scan sees keys where they may be shown: round 1's review, all on bank Z, drawn by closed rounds only.
    early_review = page.get(f"/c/thi-a/bai-thi/{early.id}/ket-qua")
    assert len(html(early_review).select(".review > li .key")) == 5
    assert leaks(early_review, marked, set(marked) - drawable) != []


# --- the scenario: a closed round's review and the open round on the same bank ------------

@pytest.fixture
def two_rounds(db):
    """Round 1 open for a week and round 2 closing in an hour, both on bank X; answers after each round."""
    x = marker_bank(db, "X")
    contest_id = make_marked_contest(db, "thi-a", policy="after_round", rounds=[
        (timedelta(hours=-1), timedelta(days=7), [x], 5), (timedelta(hours=-1), timedelta(hours=1), [x], 10)])
    return contest_id, x


def test_closed_round_review_holds_back_every_key_an_open_round_can_draw(client, db, clock, two_rounds):
    headers = api_contestant(client, "thi-a", "0912000333")
    attempt_id = api_attempt(client, db, headers, "thi-a", 2, [])
    clock.advance(hours=2)

    result = client.get(f"{API}/attempts/{attempt_id}/result", headers=headers).json()

    assert (result["round_closed"], result["correct_count"]) == (True, 10)
    assert result["answers_published"] == "after_round"
    assert (result["key_withheld"], result["key_withheld_message"]) == ("still_drawable", HELD_ATTEMPT)
    assert len(result["review"]) == 10
    assert [(q["key"], q["is_correct"], q["explanation"], q["source"], q["still_drawable"])
            for q in result["review"]] == [(None, None, None, None, True)] * 10
    assert [q["chosen"] for q in result["review"]] == [display_key(db, attempt_id, p) for p in range(10)]


def test_closed_round_review_page_says_why_the_key_is_held_back(client, db, clock, two_rounds):
    assert post_form(client, "/c/thi-a/dang-ky", {"track": "officials", "full_name": "Lê Thị Hồng",
                                                  "phone": "0912000111", "password": PASSWORD, "consent": "1"},
                     follow_redirects=False).status_code == 303
    attempt_id = page_attempt(client, db, "thi-a", 2, [])
    clock.advance(hours=2)

    page = html(client.get(f"/c/thi-a/bai-thi/{attempt_id}/ket-qua"))

    items = page.select(".review > li")
    assert len(items) == 10
    assert [item.select(".key, .tag") for item in items] == [[]] * 10
    assert [item.select_one(".held-back").get_text(strip=True) for item in items] == [HELD_BACK] * 10
    assert "GIAITHICH-" not in page.get_text() and "NGUON-" not in page.get_text()
    assert page.select_one("#correct").get_text() == "10/10"


def test_round_one_still_open_cannot_be_answered_from_round_two_review(client, db, clock, two_rounds):
    """The issue's attack: read round 2's review, then look up round 1's questions in it."""
    headers = api_contestant(client, "thi-a", "0912000333")
    api_attempt(client, db, headers, "thi-a", 2, [])
    clock.advance(hours=2)
    reviews = [client.get(f"{API}/attempts/{a['id']}/result", headers=headers).json()["review"]
               for a in client.get(f"{API}/contests/thi-a/rounds", headers=headers).json()[1]["attempts"]]
    round_1 = client.post(f"{API}/contests/thi-a/rounds/1/attempts", headers=headers).json()

    known = {q["text"]: q["key"] for review in reviews for q in review if q["key"] is not None}

    assert [known.get(q["text"]) for q in round_1["questions"]] == [None] * 5


# --- the contest's choice, once every round has closed -------------------------------------------

@pytest.mark.parametrize("policy, withheld_after_round_1, withheld_at_the_end", [
    ("after_round", None, None), ("after_contest", "contest_open", None), ("never", "never", "never")])
def test_each_publication_choice(client, db, clock, policy, withheld_after_round_1, withheld_at_the_end):
    x, y = marker_bank(db, "X"), marker_bank(db, "Y")
    make_marked_contest(db, "thi-a", policy=policy, rounds=[
        (timedelta(hours=-1), timedelta(hours=1), [x], 5), (timedelta(hours=-1), timedelta(hours=3), [y], 5)])
    headers = api_contestant(client, "thi-a", "0912000333")
    attempt_id = api_attempt(client, db, headers, "thi-a", 1, [])

    def result():
        response = client.get(f"{API}/attempts/{attempt_id}/result", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    clock.advance(hours=2)  # round 1 closed, round 2 (another bank) open
    after_round_1 = result()
    clock.advance(hours=2)  # every round closed
    at_the_end = result()

    for got, withheld in ((after_round_1, withheld_after_round_1), (at_the_end, withheld_at_the_end)):
        assert (got["answers_published"], got["correct_count"], got["key_withheld"]) == (policy, 5, withheld)
        if withheld is None:
            assert got["key_withheld_message"] is None
            assert [q["key"] for q in got["review"]] == [display_key(db, attempt_id, p) for p in range(5)]
            assert all(q["explanation"].startswith("GIAITHICH-X") and q["is_correct"] for q in got["review"])
        else:
            assert got["review"] is None
            assert got["key_withheld_message"]


def test_never_published_review_page_says_so(client, db, clock):
    x = marker_bank(db, "X")
    make_marked_contest(db, "thi-a", policy="never", rounds=[(timedelta(hours=-1), timedelta(hours=1), [x], 5)])
    post_form(client, "/c/thi-a/dang-ky", {"track": "officials", "full_name": "Lê Thị Hồng", "phone": "0912000111",
                                           "password": PASSWORD, "consent": "1"})
    attempt_id = page_attempt(client, db, "thi-a", 1, [])
    clock.advance(days=1)

    page = html(client.get(f"/c/thi-a/bai-thi/{attempt_id}/ket-qua"))

    assert page.select(".review") == []
    assert "Hội thi này không công bố đáp án." in page.get_text()
    assert page.select_one("#correct").get_text() == "5/5"


def test_after_contest_review_page_names_the_last_closing(client, db, clock):
    x, y = marker_bank(db, "X"), marker_bank(db, "Y")
    make_marked_contest(db, "thi-a", policy="after_contest", rounds=[
        (timedelta(hours=-1), timedelta(hours=1), [x], 5), (timedelta(hours=-1), timedelta(days=7), [y], 5)])
    post_form(client, "/c/thi-a/dang-ky", {"track": "officials", "full_name": "Lê Thị Hồng", "phone": "0912000111",
                                           "password": PASSWORD, "consent": "1"})
    attempt_id = page_attempt(client, db, "thi-a", 1, [])
    clock.advance(hours=2)

    page = html(client.get(f"/c/thi-a/bai-thi/{attempt_id}/ket-qua"))

    assert page.select(".review") == []
    assert ("Đáp án và giải thích được công bố khi tất cả các đợt thi của hội thi kết thúc (09/03/2026 10:00)."
            in page.get_text())


# --- another contest's open round ------------------------------------------------------------------

def test_question_drawable_by_another_contests_open_round_is_held_back(client, db, clock):
    x = marker_bank(db, "X")
    make_marked_contest(db, "thi-a", policy="after_contest", rounds=[(timedelta(hours=-1), timedelta(hours=1), [x], 5)])
    make_marked_contest(db, "thi-b", policy="after_contest", rounds=[(timedelta(hours=-1), timedelta(hours=3), [x], 5)])
    headers = api_contestant(client, "thi-a", "0912000333")
    attempt_id = api_attempt(client, db, headers, "thi-a", 1, [])
    clock.advance(hours=2)  # contest A has ended; contest B still draws from bank X

    held = client.get(f"{API}/attempts/{attempt_id}/result", headers=headers).json()
    clock.advance(hours=2)
    shown = client.get(f"{API}/attempts/{attempt_id}/result", headers=headers).json()

    assert held["key_withheld"] == "still_drawable"
    assert [q["key"] for q in held["review"]] == [None] * 5
    assert shown["key_withheld"] is None
    assert [q["key"] for q in shown["review"]] == [display_key(db, attempt_id, p) for p in range(5)]


def test_one_drawable_question_holds_back_the_whole_review(client, db, clock):
    """With the score shown, the verdicts of the other questions would give away the held one's."""
    x, z = marker_bank(db, "X"), marker_bank(db, "Z")
    make_marked_contest(db, "thi-a", policy="after_round", rounds=[
        (timedelta(hours=-1), timedelta(hours=1), [x, z], 13)])
    with db.session() as session:
        one = session.scalar(select(Question.id).where(Question.bank_id == x).order_by(Question.id))
    with db.write_session() as session:  # every question of X but one retired, then X drawn by an open round
        session.execute(update(Question).where(Question.bank_id == x, Question.id != one).values(status="retired"))
    headers = api_contestant(client, "thi-a", "0912000333")
    attempt_id = api_attempt(client, db, headers, "thi-a", 1, [])
    make_marked_contest(db, "thi-b", policy="after_round", rounds=[(timedelta(hours=-1), timedelta(days=7), [x], 1)])
    clock.advance(hours=2)

    review = client.get(f"{API}/attempts/{attempt_id}/result", headers=headers).json()["review"]

    assert sum(q["still_drawable"] for q in review) == 1
    assert [(q["key"], q["is_correct"], q["explanation"]) for q in review] == [(None, None, None)] * len(review)


# --- the organiser: the choice on the contest form, the warning on reused banks ----------------------

def test_organiser_chooses_when_answers_are_published(client, db, staff):
    x = marker_bank(db, "X")
    contest_id = make_marked_contest(db, "thi-a", policy="after_contest",
                                     rounds=[(timedelta(hours=-1), timedelta(hours=1), [x], 5)])
    login(client, staff["organiser"])
    edit = f"/staff/contests/{contest_id}/edit"
    form = html(client.get(edit))
    select_ = form.find("select", attrs={"name": "answers_published"})
    assert [(o["value"], o.has_attr("selected")) for o in select_.find_all("option")] == [
        ("after_round", False), ("after_contest", True), ("never", False)]
    assert "Công bố đáp án" in select_.find_parent("label").get_text()
    data = {"title": "Hội thi thi-a", "slug": "thi-a", "tracks": "officials", "rules": "Thể lệ.",
            "is_published": "1", "answers_published": "never", "field-full_name": "required"}

    saved = post_form(client, edit, data, follow_redirects=False)
    refused = post_form(client, edit, data | {"answers_published": "sometimes"})

    assert saved.status_code == 303
    assert refused.status_code == 400
    assert html(refused).select_one(".error").get_text() == "Thời điểm công bố đáp án không hợp lệ."
    with db.session() as session:
        assert session.get(Contest, contest_id).answers_published == "never"


def test_new_contest_publishes_answers_after_the_whole_contest(db):
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Hội thi mới", now=NOW)
        assert contest.answers_published == "after_contest"


REUSE_WARNING = "Ngân hàng X: đợt 1 của “Hội thi thi-a” đã kết thúc và hội thi này cho công bố đáp án."


def test_round_reusing_a_bank_whose_keys_were_published_is_warned_not_refused(client, db, staff):
    x = marker_bank(db, "X")
    contest_id = make_marked_contest(db, "thi-a", policy="after_round",
                                     rounds=[(timedelta(days=-8), timedelta(days=-1), [x], 5)])
    login(client, staff["organiser"])

    form = client.get(f"/staff/contests/{contest_id}/rounds/new")
    data = {"number": "2", "title": "Tuần 2", "opens_at": "2026-03-03T10:00", "closes_at": "2026-03-10T09:30",
            "grace_seconds": "30", "prediction_kind": "perfect_scores", "officials-banks": str(x),
            "officials-mode": "total", "officials-total": "5", "officials-minutes": "15", "officials-attempts": "1"}
    saved = post_form(client, f"/staff/contests/{contest_id}/rounds/new", data, follow_redirects=False)
    contest_page = client.get(f"/staff/contests/{contest_id}")
    with db.session() as session:
        round_2 = session.scalar(select(Round.id).where(Round.contest_id == contest_id, Round.number == 2))
    round_page = client.get(f"/staff/contests/{contest_id}/rounds/{round_2}")

    assert saved.status_code == 303
    for page in (form, contest_page, round_page):
        warning = html(page).select_one(".published-keys")
        assert warning is not None and REUSE_WARNING in warning.get_text(" ", strip=True), page.url


@pytest.mark.parametrize("policy, closes", [("never", timedelta(days=-1)), ("after_round", timedelta(days=1)),
                                            ("after_contest", timedelta(days=-1))])
def test_no_warning_while_no_key_of_the_bank_was_published(client, db, staff, policy, closes):
    x = marker_bank(db, "X")
    contest_id = make_marked_contest(db, "thi-a", policy=policy, rounds=[(timedelta(days=-8), closes, [x], 5)])
    if policy == "after_contest":  # a later round of the same contest, on the same bank, is still to come
        with db.write_session() as session:
            setup.save_round(session, contest=session.get(Contest, contest_id), now=NOW, round_=None, number=2,
                             title="Đợt 2", opens_at=NOW + timedelta(days=1), closes_at=NOW + timedelta(days=2),
                             grace_seconds=30, prediction_kind="perfect_scores",
                             tracks=[setup.TrackConfig(track="officials", bank_ids=[x], draw={"total": 5})])
    login(client, staff["organiser"])

    form = client.get(f"/staff/contests/{contest_id}/rounds/new")

    assert form.status_code == 200
    assert html(form).select(".published-keys") == []


@pytest.mark.parametrize(("policy", "says"), [
    ("after_round", "Sau khi từng đợt thi kết thúc."),
    ("after_contest", "Sau khi tất cả các đợt thi của hội thi kết thúc."),
    ("never", "Không công bố đáp án."),
])
def test_rules_page_tells_contestants_when_answers_are_published(client, db, policy, says):
    x = marker_bank(db, "X")
    make_marked_contest(db, "thi-a", policy=policy, rounds=[(timedelta(hours=-1), timedelta(hours=1), [x], 5)])

    text = html(client.get("/c/thi-a/the-le")).select_one(".answer-policy").get_text(" ", strip=True)

    assert text.startswith(says)
    assert ("chỉ được công bố đáp án khi không còn đợt thi nào dùng câu hỏi đó" in text) == (policy != "never")
