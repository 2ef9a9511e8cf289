"""Re-verification: a contest whose attempts, keys and locked prize list are in the audit log as its contract
says passes; each thing changed directly in the database is named (function, command and staff page); a key
corrected through the question page passes; results older than the log are counted, not passed silently."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contest import audit
from contest.banks import store
from contest.contests import attempts as attempt_domain
from contest.contests.draw import PoolCache
from contest.contests.grading import grade_attempt, stored_positions
from contest.models import (Attempt, AttemptQuestion, Contestant, PrizeAward, Question, QuestionOption, RankingEntry,
                            Round)
from contest.results import prizes, ranking, verify
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import make_contest

CLOSED = NOW + timedelta(days=8)
PEOPLE = (("Nguyễn Văn An", 10), ("Trần Thị Bình", 6), ("Lê Văn Chi", 3))  # name, right answers


@dataclass
class Logged:
    contest_id: int
    round_id: int
    bank_id: int
    people: dict[str, int]    # name: contestant id
    attempts: dict[str, int]  # name: attempt id
    list_id: int


def _key(session, question_id: int) -> list[int]:
    return sorted(session.scalars(select(QuestionOption.position).where(
        QuestionOption.question_id == question_id, QuestionOption.is_correct.is_(True))))


def sit(db, contest, contestant_id: int, right: int, *, now, prediction: int = 1) -> int:
    """Start an attempt, answer the first `right` questions right and the rest wrong, submit (the platform
    writes the log's entries for each step)."""
    page = attempt_domain.start_in_round(db, PoolCache(), contest_id=contest.contest_id, number=1,
                                         contestant_id=contestant_id, now=now, rng=random.Random(contestant_id))
    state = page.state
    with db.session() as session:
        keys = {item.question_id: _key(session, item.question_id) for item in state.items}
    choices = {}
    for item in state.items:
        key = keys[item.question_id]
        wanted = key if item.position < right else [next(p for p in item.option_order if p not in key)]
        choices[item.position] = [item.option_order.index(p) for p in wanted]
    attempt_domain.save_answers(db, attempt_id=state.id, contestant_id=contestant_id, choices=choices,
                                prediction=None, now=now + timedelta(minutes=2))
    attempt_domain.submit_attempt(db, attempt_id=state.id, contestant_id=contestant_id,
                                  now=now + timedelta(minutes=5), prediction=prediction)
    return state.id


def register(db, contest_id: int, name: str, number: int) -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=contest_id, track="officials", full_name=name, search_name=name.lower(),
                         phone=f"09{number:08d}", password_hash="x", consent_at=NOW, created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def lock_prizes(db, contest) -> int:
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
        prize_list = prizes.propose(session, contest.round_id, "officials", CLOSED)
        prizes.lock(session, prize_list.id, None, CLOSED)
        return prize_list.id


@pytest.fixture
def logged(db) -> Logged:
    contest = make_contest(db, tracks=("officials",), max_attempts=1)
    people, attempts = {}, {}
    for number, (name, right) in enumerate(PEOPLE, start=1):
        people[name] = register(db, contest.contest_id, name, number)
        attempts[name] = sit(db, contest, people[name], right, now=NOW + timedelta(minutes=number))
    list_id = lock_prizes(db, contest)
    ranking.ensure_overall(db, contest.contest_id)
    return Logged(contest.contest_id, contest.round_id, contest.bank_id, people, attempts, list_id)


def questions_drawn(db) -> int:
    with db.session() as session:
        return len(set(session.scalars(select(AttemptQuestion.question_id))))


def check(db, slug: str = "thi-thu", round_number: int | None = None) -> verify.Report:
    with db.session() as session:
        return verify.verify(session, slug=slug, round_number=round_number)


def drawn(db, attempt_id: int, position: int = 0) -> AttemptQuestion:
    with db.session() as session:
        return session.get(AttemptQuestion, (attempt_id, position))


def only(report: verify.Report, check: verify.Check) -> list[verify.Difference]:
    return [d for d in report.differences if d.check == check]


# --- the function ----------------------------------------------------------------------------------------------

def test_untouched_contest_passes_with_everything_counted(db, logged):
    report = check(db)
    assert report.differences == []
    assert (report.attempts, report.questions, report.rankings, report.prize_lists) == (3, questions_drawn(db), 2, 1)
    assert (report.unlogged_attempts, report.unlogged_keys, report.unlogged_lists) == (0, 0, 0)


def test_a_changed_score_is_named_with_what_it_should_be(db, logged):
    attempt_id = logged.attempts["Lê Văn Chi"]
    with db.write_session() as session:
        session.execute(update(Attempt).where(Attempt.id == attempt_id).values(correct_count=10))
    [score] = only(check(db), verify.Check.SCORE)
    assert (score.contestant_id, score.full_name, score.attempt_id) == (
        logged.people["Lê Văn Chi"], "Lê Văn Chi", attempt_id)
    assert (score.stored, score.expected) == ("10", "3")


def test_a_score_changed_and_re_ranked_names_the_score(db, logged):
    """The incident the issue starts from: a score raised, then an ordinary re-rank moves the person up."""
    attempt_id = logged.attempts["Lê Văn Chi"]
    with db.write_session() as session:
        session.execute(update(Attempt).where(Attempt.id == attempt_id).values(correct_count=10))
        ranking.rank_round(session, session.get(Round, logged.round_id), now=CLOSED + timedelta(hours=1),
                           reason="reranked")
    report = check(db)
    assert [(d.contestant_id, d.stored, d.expected) for d in only(report, verify.Check.SCORE)] == [
        (logged.people["Lê Văn Chi"], "10", "3")]
    # The ranking made from it is named with what it should be; the locked list, made before, still holds.
    chi = [d for d in only(report, verify.Check.RANKING) if d.contestant_id == logged.people["Lê Văn Chi"]]
    assert [d.expected for d in chi] == ["hạng 3; số câu đúng 3; chênh lệch dự đoán 0"]
    assert only(report, verify.Check.PRIZE) == []


def test_a_changed_answer_is_named(db, logged):
    _set_answer(db, logged)
    attempt_id = logged.attempts["Trần Thị Bình"]
    report = check(db)
    [answers] = only(report, verify.Check.ANSWERS)
    assert (answers.contestant_id, answers.full_name, answers.attempt_id) == (
        logged.people["Trần Thị Bình"], "Trần Thị Bình", attempt_id)
    assert answers.stored != answers.expected and len(answers.expected) == 12


def test_a_changed_key_is_named_once_as_the_key(db, logged):
    item = drawn(db, logged.attempts["Nguyễn Văn An"], 0)
    with db.session() as session:
        key = _key(session, item.question_id)
    wrong = next(p for p in stored_positions(item.option_order) if p not in key)
    with db.write_session() as session:
        session.execute(update(QuestionOption).where(QuestionOption.question_id == item.question_id)
                        .values(is_correct=False))
        session.execute(update(QuestionOption).where(QuestionOption.question_id == item.question_id,
                                                     QuestionOption.position == wrong).values(is_correct=True))
    report = check(db)
    [difference] = report.differences
    assert (difference.check, difference.question_id) == (verify.Check.KEY, item.question_id)
    assert (difference.stored, difference.expected) == (verify.letters([wrong]), verify.letters(key))


def test_a_changed_ranking_row_is_named(db, logged):
    an = logged.people["Nguyễn Văn An"]
    with db.write_session() as session:
        session.execute(update(RankingEntry).where(RankingEntry.contestant_id == an).values(rank=3))
    [row] = only(check(db), verify.Check.RANKING)
    assert (row.contestant_id, row.full_name, row.round_number, row.track) == (an, "Nguyễn Văn An", 1, "officials")
    assert (row.stored, row.expected) == ("hạng 3", "hạng 1")


def test_a_changed_locked_award_is_named_against_the_ranking_and_the_log(db, logged):
    chi = logged.people["Lê Văn Chi"]
    with db.write_session() as session:
        session.execute(update(PrizeAward).where(PrizeAward.list_id == logged.list_id, PrizeAward.contestant_id == chi)
                        .values(prize="first"))
    found = only(check(db), verify.Check.PRIZE)
    assert [(d.contestant_id, d.stored, d.expected) for d in found] == [
        (chi, "Giải Nhất, hạng 3", "Giải Nhì, hạng 3"), (chi, "Giải Nhất", "Giải Nhì")]


def test_a_changed_drawn_question_is_named_once_as_the_draw(db, logged):
    attempt_id = logged.attempts["Nguyễn Văn An"]
    item = drawn(db, attempt_id, 4)
    with db.session() as session:
        used = set(session.scalars(select(AttemptQuestion.question_id).where(AttemptQuestion.attempt_id == attempt_id)))
        # Another question of the same kind and number of options, so the stored choice still fits it.
        kind = session.get(Question, item.question_id).kind
        other = next(q.id for q in session.scalars(select(Question).where(Question.bank_id == logged.bank_id,
                                                                         Question.kind == kind).order_by(Question.id))
                     if q.id not in used)
    with db.write_session() as session:
        session.execute(update(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                      AttemptQuestion.position == 4).values(question_id=other))
    report = check(db)
    [draw] = only(report, verify.Check.DRAW)
    assert (draw.contestant_id, draw.attempt_id) == (logged.people["Nguyễn Văn An"], attempt_id)
    assert (draw.stored, draw.expected) == (f"5: #{other}", f"5: #{item.question_id}")
    assert only(report, verify.Check.ANSWERS) == []


def test_a_key_corrected_through_the_question_page_passes(client, clock, db, staff, logged):
    item = drawn(db, logged.attempts["Nguyễn Văn An"], 0)
    with db.session() as session:
        question, parsed = store.load_question(session, item.question_id)
        key = _key(session, item.question_id)
    new = next(p for p in range(len(parsed.options)) if p not in key)
    clock.advance(days=8, hours=2)  # after the round closed: the correction re-grades and re-ranks at once
    login(client, staff["organiser"])
    page = f"/staff/questions/{item.question_id}"
    form = {"text": parsed.text, "kind": {"single": "single", "multiple": "multiple"}.get(parsed.kind, parsed.kind),
            "topic": parsed.topic, "difficulty": str(parsed.difficulty), "explanation": parsed.explanation,
            "source": parsed.source, "number": parsed.number, "reason": "Sửa đáp án theo văn bản mới",
            "correct": "ABCDEF"[new]}
    form.update({f"option_{'ABCDEF'[i]}": text for i, text in enumerate(parsed.options)})
    if parsed.valid_as_of:
        form["valid_as_of"] = parsed.valid_as_of.strftime("%d/%m/%Y")
    response = post_form(client, page, form, follow_redirects=False)
    assert response.status_code == 200
    assert "Đổi đáp án" in html(response).find(class_="ok").get_text()
    with db.write_session() as session:
        assert _key(session, item.question_id) == [new]
        version = session.get(Question, item.question_id).version
        audit.record(session, now=CLOSED + timedelta(hours=2), user_id=None, contest_id=None,
                     action=audit.ATTEMPTS_REGRADED, question=item.question_id, version=version,
                     key=audit.key_text([new]), attempts=3)
    with db.write_session() as session:  # the list follows the new ranking again: a new proposal, locked
        prize_list = session.get(prizes.PrizeList, logged.list_id)
        prizes.unlock(session, prize_list.id, None, CLOSED + timedelta(hours=3), reason="Sửa đáp án")
    with db.write_session() as session:
        prizes.propose(session, logged.round_id, "officials", CLOSED + timedelta(hours=3))
        prizes.lock(session, logged.list_id, None, CLOSED + timedelta(hours=3))
        awards = [[a.contestant_id, a.prize] for a in session.scalars(
            select(PrizeAward).where(PrizeAward.list_id == logged.list_id).order_by(PrizeAward.position))]
        audit.record(session, now=CLOSED + timedelta(hours=3), user_id=None, contest_id=logged.contest_id,
                     action=audit.PRIZES_LOCKED, round=1, track="officials", list=logged.list_id, awards=awards)
    report = check(db)
    assert report.differences == []
    with db.session() as session:  # the correction did change the stored score it concerns
        assert session.get(Attempt, logged.attempts["Nguyễn Văn An"]).correct_count == 9


def insert_attempt(db, contest, contestant_id: int, right: int, *, started_at) -> int:
    """A submitted attempt written straight into the tables, as attempts made before the log began are: no entry
    whatever the platform logs today. The first ten questions of the bank, the first `right` answered right."""
    with db.write_session() as session:
        questions = session.scalars(select(Question.id).where(Question.bank_id == contest.bank_id)
                                    .order_by(Question.id).limit(10)).all()
        attempt = Attempt(contestant_id=contestant_id, round_id=contest.round_id, track="officials", seq=1,
                          started_at=started_at, deadline=started_at + timedelta(minutes=10),
                          finished_at=started_at + timedelta(minutes=5), status="submitted",
                          question_count=len(questions), duration_ms=300_000, prediction=1)
        session.add(attempt)
        session.flush()
        for position, question_id in enumerate(questions):
            options = sorted(session.scalars(select(QuestionOption.position)
                                             .where(QuestionOption.question_id == question_id)))
            key = _key(session, question_id)
            chosen = key if position < right else [next(p for p in options if p not in key)]
            session.add(AttemptQuestion(attempt_id=attempt.id, position=position, question_id=question_id,
                                        option_order=",".join(map(str, options)), chosen=",".join(map(str, chosen))))
        session.flush()
        attempt.correct_count = grade_attempt(session, attempt.id)
        return attempt.id


def test_attempts_older_than_the_log_are_counted_not_passed_and_newer_ones_without_entries_are_named(db, logged):
    contest = type("C", (), {"round_id": logged.round_id, "bank_id": logged.bank_id})
    old_person = register(db, logged.contest_id, "Phạm Cũ", 7)
    old = insert_attempt(db, contest, old_person, 5, started_at=NOW - timedelta(days=30))
    new_person = register(db, logged.contest_id, "Vũ Mới", 8)
    new = insert_attempt(db, contest, new_person, 5, started_at=NOW + timedelta(hours=1))
    report = check(db)
    assert (report.attempts, report.unlogged_attempts) == (5, 1)
    unlogged = [(d.attempt_id, d.contestant_id, d.full_name) for d in only(report, verify.Check.UNLOGGED)]
    assert unlogged == [(new, new_person, "Vũ Mới")] * 2  # neither its start nor its submission
    assert old not in {d.attempt_id for d in report.differences}


def test_a_contest_from_before_the_log_is_recomputed_and_reported_as_unverifiable(db):
    contest = make_contest(db, tracks=("officials",), max_attempts=1)
    person = register(db, contest.contest_id, "Phạm Cũ", 1)
    insert_attempt(db, contest, person, 5, started_at=NOW - timedelta(days=30))
    report = check(db)
    assert report.ok and (report.attempts, report.unlogged_attempts) == (1, 1)
    with db.write_session() as session:  # recomputed all the same: a wrong score is named
        session.execute(update(Attempt).where(Attempt.contestant_id == person).values(correct_count=9))
    assert [(d.check, d.stored, d.expected) for d in check(db).differences] == [(verify.Check.SCORE, "9", "5")]


def test_a_locked_list_entry_without_its_awards_does_not_start_the_log(db):
    contest = make_contest(db, tracks=("officials",), max_attempts=1)
    insert_attempt(db, contest, register(db, contest.contest_id, "Phạm Cũ", 1), 5, started_at=NOW - timedelta(days=30))
    with db.write_session() as session:
        audit.record(session, now=NOW - timedelta(days=40), user_id=None, contest_id=contest.contest_id,
                     action=audit.PRIZES_LOCKED, round=1, track="officials", list=1)
        start = verify.log_start(session)
    assert start is None or start > NOW - timedelta(days=30)
    assert check(db).unlogged_attempts == 1


def test_one_round_and_an_unknown_contest(db, logged):
    assert check(db, round_number=2).attempts == 0
    assert check(db, round_number=1).attempts == 3
    assert check(db, slug="khong-co") is None


# --- the command line ------------------------------------------------------------------------------------------

@pytest.fixture
def run(run_cli):
    return lambda *args: run_cli("verify-results", *args)


def test_command_passes_an_untouched_contest_with_status_0(db, run, logged):
    result = run("--contest", "thi-thu")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Kiểm tra lại kết quả (1 hội thi).",
        f"Đã kiểm tra 3 lượt thi, {questions_drawn(db)} đáp án câu hỏi, 2 bảng xếp hạng, 1 danh sách giải đã khóa.",
        "Không có sai khác."]


def test_command_names_a_changed_score_with_status_1(db, run, logged):
    attempt_id = logged.attempts["Lê Văn Chi"]
    with db.write_session() as session:
        session.execute(update(Attempt).where(Attempt.id == attempt_id).values(correct_count=10))
    result = run("--contest", "thi-thu", "--round", "1")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[2] == "Có 1 sai khác:"
    assert lines[3] == (f"- [Số câu đúng] Đợt 1, Cán bộ, công chức, viên chức, người dự thi "
                        f"#{logged.people['Lê Văn Chi']} Lê Văn Chi: Lượt thi #{attempt_id}: đang lưu 10; đúng ra 3")


def test_command_refuses_an_unknown_contest_and_a_round_without_contest(run, logged):
    assert run("--contest", "khong-co").exit_code == 1
    assert run("--round", "1").exit_code != 0


# --- the staff results page --------------------------------------------------------------------------------------

def verify_page(client, contest_id: int):
    return post_form(client, f"/staff/contests/{contest_id}/results/verify", {},
                     form_page=f"/staff/contests/{contest_id}/results")


def test_page_check_for_a_viewer_says_no_difference_with_the_counts(client, db, staff, logged):
    login(client, staff["viewer"])
    page = html(verify_page(client, logged.contest_id))
    verdict = page.find(id="verify")
    assert verdict.find("p", class_="ok").get_text(strip=True) == "Không có sai khác."
    assert verdict.find(class_="counts").get_text(" ", strip=True) == (
        f"Đã kiểm tra 3 lượt thi, {questions_drawn(db)} đáp án câu hỏi, 2 bảng xếp hạng, 1 danh sách giải đã khóa.")


def test_page_check_names_each_difference(client, db, staff, logged):
    bình, an = logged.people["Trần Thị Bình"], logged.people["Nguyễn Văn An"]
    attempt_id = logged.attempts["Trần Thị Bình"]
    item = drawn(db, attempt_id, 9)  # answered wrong: another wrong option keeps the score
    with db.session() as session:
        key = _key(session, item.question_id)
    other = next(p for p in stored_positions(item.option_order) if str(p) != item.chosen and p not in key)
    with db.write_session() as session:
        session.execute(update(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                      AttemptQuestion.position == 9).values(chosen=str(other)))
        session.execute(update(RankingEntry).where(RankingEntry.contestant_id == an).values(rank=2))
    login(client, staff["organiser"])
    response = verify_page(client, logged.contest_id)
    assert response.status_code == 200
    section = html(response).find(id="verify")
    assert section.find(class_="error").get_text(strip=True) == "Có 2 sai khác."
    rows = [[cell.get_text(" ", strip=True) for cell in tr.find_all("td")]
            for tr in section.find("tbody").find_all("tr")]
    assert [row[:3] for row in rows] == [
        ["Câu trả lời", f"Đợt 1, Cán bộ, công chức, viên chức, người dự thi #{bình} Trần Thị Bình",
         f"Lượt thi #{attempt_id}: câu trả lời khác với lúc nộp bài"],
        ["Xếp hạng đợt", f"Đợt 1, Cán bộ, công chức, viên chức, người dự thi #{an} Nguyễn Văn An", "Xếp hạng đợt"]]
    assert rows[1][3:] == ["hạng 2", "hạng 1"]


def test_page_check_needs_the_csrf_token(client, staff, logged):
    login(client, staff["viewer"])
    response = client.post(f"/staff/contests/{logged.contest_id}/results/verify", data={})
    assert response.status_code == 403


# --- every tampering, through the command and the page ----------------------------------------------------------

def _set_score(db, logged):
    with db.write_session() as session:
        session.execute(update(Attempt).where(Attempt.id == logged.attempts["Lê Văn Chi"]).values(correct_count=10))
    return "Số câu đúng", "Lê Văn Chi"


def _set_answer(db, logged):
    attempt_id = logged.attempts["Trần Thị Bình"]
    item = drawn(db, attempt_id, 9)
    other = next(p for p in stored_positions(item.option_order) if str(p) != item.chosen)
    with db.write_session() as session:
        session.execute(update(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                      AttemptQuestion.position == 9).values(chosen=str(other)))
    return "Câu trả lời", "Trần Thị Bình"


def _set_key(db, logged):
    item = drawn(db, logged.attempts["Nguyễn Văn An"], 0)
    with db.write_session() as session:
        session.execute(update(QuestionOption).where(QuestionOption.question_id == item.question_id)
                        .values(is_correct=True))
    return "Đáp án", f"Đáp án câu hỏi #{item.question_id}"


def _set_rank(db, logged):
    with db.write_session() as session:
        session.execute(update(RankingEntry).where(RankingEntry.contestant_id == logged.people["Nguyễn Văn An"])
                        .values(rank=3))
    return "Xếp hạng đợt", "Nguyễn Văn An"


def _set_award(db, logged):
    with db.write_session() as session:
        session.execute(update(PrizeAward).where(PrizeAward.list_id == logged.list_id,
                                                 PrizeAward.contestant_id == logged.people["Lê Văn Chi"])
                        .values(prize="first"))
    return "Danh sách giải", "Lê Văn Chi"


def _set_drawn_question(db, logged):
    attempt_id = logged.attempts["Nguyễn Văn An"]
    with db.session() as session:
        used = set(session.scalars(select(AttemptQuestion.question_id).where(AttemptQuestion.attempt_id == attempt_id)))
        other = next(q for q in session.scalars(select(Question.id).order_by(Question.id)) if q not in used)
    with db.write_session() as session:
        session.execute(update(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                      AttemptQuestion.position == 4).values(question_id=other))
    return "Câu hỏi được rút", "Nguyễn Văn An"


TAMPERS = [_set_score, _set_answer, _set_key, _set_rank, _set_award, _set_drawn_question]


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda f: f.__name__.strip("_"))
def test_command_and_page_name_each_tampering(client, db, staff, run, logged, tamper):
    label, who = tamper(db, logged)
    result = run("--contest", "thi-thu")
    assert result.exit_code == 1
    assert any(line.startswith(f"- [{label}] ") and who in line for line in result.output.splitlines()), result.output
    login(client, staff["viewer"])
    rows = [[cell.get_text(" ", strip=True) for cell in tr.find_all("td")]
            for tr in html(verify_page(client, logged.contest_id)).find(id="verify").find("tbody").find_all("tr")]
    assert any(row[0] == label and (who in row[1] or who in row[2]) for row in rows), rows
    if label == "Đáp án":  # the page's clock is inside the round: the bank's keys are still held back
        assert [row[3:] for row in rows if row[0] == label] == [["(ẩn: câu hỏi còn dùng trong đợt thi chưa kết thúc)"] * 2]
