"""Editing a question while contestants answer it: the stored answer is the option the contestant
tapped and is graded against the question as they saw it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select, update

from contest.banks import store
from contest.models import AttemptQuestion, Question, QuestionOption
from tests.conftest import NOW, csrf_token, html, login, post_form
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id

HOME = f"/c/{SLUG}"
EVERY_QUESTION = {"total": 36}  # the whole bank, so every kind of question is in the attempt
LOCKED = "Câu hỏi đã được dùng trong 1 bài thi: không thể"
ADVICE = "Hãy sửa nội dung phương án, hoặc ngừng dùng câu này và tạo câu mới."


def register_and_start(client, db) -> int:
    data = {"track": "officials", "full_name": "Nguyễn Thị Hoà", "birth_date": "15/08/1990", "gender": "nu",
            "phone": PHONE, "cccd": "001090012345", "unit_id": str(unit_id(db, "SNV")), "locality_id": "",
            "password": PASSWORD, "consent": "1"}
    assert post_form(client, f"{HOME}/dang-ky", data, follow_redirects=False).status_code == 303
    response = client.post(f"{HOME}/dot/1/bat-dau", data={"_csrf_token": csrf_token(client, HOME)})
    assert response.status_code == 200, response.text
    return int(response.headers["content-location"].rsplit("/", 1)[1])


def single_with_key(db, attempt_id: int, key: int) -> tuple[int, int]:
    """(position in the attempt, question id) of a one-answer question whose key is option `key`."""
    with db.session() as session:
        return session.execute(
            select(AttemptQuestion.position, AttemptQuestion.question_id)
            .join(Question, Question.id == AttemptQuestion.question_id)
            .join(QuestionOption, QuestionOption.question_id == Question.id)
            .where(AttemptQuestion.attempt_id == attempt_id, Question.kind == "single",
                   QuestionOption.is_correct.is_(True), QuestionOption.position == key)
            .order_by(AttemptQuestion.position)).first()


def show_first(db, attempt_id: int, position: int, order: str) -> None:
    """Fix the display order the draw chose, so that the test does not depend on the shuffle."""
    with db.write_session() as session:
        session.execute(update(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                      AttemptQuestion.position == position)
                        .values(option_order=order))


def shown(client, attempt_id: int, position: int) -> tuple[str, list[str]]:
    """The question's text and its options as the contestant's page shows them, in display order."""
    block = html(client.get(f"{HOME}/bai-thi/{attempt_id}")).find(
        "input", attrs={"name": f"q{position}"}).find_parent("fieldset")
    options = [label.span.get_text().split(". ", 1)[1] for label in block.select("label.choice")]
    return block.legend.get_text(" ", strip=True), options


def save(client, attempt_id: int, position: int, *choices):
    return client.post(f"{HOME}/bai-thi/{attempt_id}/cau/{position}", data={"choice": [str(c) for c in choices]},
                       headers={"X-CSRFToken": csrf_token(client, HOME)})


def submit(client, attempt_id: int) -> None:
    token = csrf_token(client, f"{HOME}/bai-thi/{attempt_id}")
    client.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit", "confirm": "1"})


def answer(db, attempt_id: int, position: int) -> tuple[str, bool | None]:
    with db.session() as session:
        return tuple(session.execute(select(AttemptQuestion.chosen, AttemptQuestion.is_correct).where(
            AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.position == position)).one())


def options_of(db, question_id: int) -> list[tuple[str, bool]]:
    with db.session() as session:
        return [tuple(r) for r in session.execute(
            select(QuestionOption.text, QuestionOption.is_correct)
            .where(QuestionOption.question_id == question_id).order_by(QuestionOption.position))]


def organiser_beside(player: TestClient, staff) -> TestClient:
    """An organiser's browser on the same running app as the contestant (one process, one pool cache)."""
    organiser = TestClient(player.app, raise_server_exceptions=False)
    login(organiser, staff["organiser"])
    return organiser


def edit_form(client, question_id: int) -> dict:
    """The question's edit form as the page fills it."""
    url = f"/staff/questions/{question_id}"
    form = html(client.get(url)).find("form", action=url)
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") != "checkbox"}
    fields["text"] = form.find("textarea", attrs={"name": "text"}).get_text()
    fields["explanation"] = form.find("textarea", attrs={"name": "explanation"}).get_text()
    fields["kind"] = form.find("select", attrs={"name": "kind"}).find("option", selected=True)["value"]
    fields["difficulty"] = form.find("select", attrs={"name": "difficulty"}).find("option", selected=True)["value"]
    fields["correct"] = [i["value"] for i in form.find_all("input", attrs={"name": "correct"}) if i.has_attr("checked")]
    return fields


@pytest.fixture
def player(client, db):
    make_contest(db, draw=EVERY_QUESTION)
    return client


def test_removing_an_option_of_a_question_in_an_open_attempt_is_refused_and_the_tap_is_kept(player, db, staff):
    attempt_id = register_and_start(player, db)
    position, question_id = single_with_key(db, attempt_id, key=1)
    show_first(db, attempt_id, position, "3,0,1,2")  # D first: the key B is shown third
    before = options_of(db, question_id)
    organiser = organiser_beside(player, staff)
    fields = edit_form(organiser, question_id)
    response = organiser.post(f"/staff/questions/{question_id}", data={**fields, "option_D": ""})
    assert response.status_code == 400
    assert html(response).find(attrs={"role": "alert"}).get_text() == (
        "Câu hỏi đã được dùng trong 1 bài thi: không thể thêm, xoá hay đổi thứ tự phương án "
        f"(từ 4 còn 3 phương án). {ADVICE}")
    assert options_of(db, question_id) == before
    _, options = shown(player, attempt_id, position)
    key_text = before[1][0]
    assert options.index(key_text) == 2
    assert save(player, attempt_id, position, 2).status_code == 200
    assert answer(db, attempt_id, position)[0] == "1"
    submit(player, attempt_id)
    assert answer(db, attempt_id, position) == ("1", True)


def test_typo_fixes_during_an_open_round_show_at_once_and_grade_as_before(player, db, staff):
    attempt_id = register_and_start(player, db)
    position, question_id = single_with_key(db, attempt_id, key=2)
    show_first(db, attempt_id, position, "0,1,2,3")
    assert shown(player, attempt_id, position)[1] == [text for text, _ in options_of(db, question_id)]
    organiser = organiser_beside(player, staff)
    fields = edit_form(organiser, question_id)
    fixed = {**fields, "text": fields["text"] + " (đã sửa lỗi chính tả)", "option_C": fields["option_C"] + " đã sửa"}
    response = organiser.post(f"/staff/questions/{question_id}", data=fixed)
    assert response.status_code == 200, html(response).find(attrs={"role": "alert"})
    text, options = shown(player, attempt_id, position)
    assert text.endswith("(đã sửa lỗi chính tả)")
    assert options[2] == fields["option_C"] + " đã sửa"
    save(player, attempt_id, position, 2)
    submit(player, attempt_id)
    assert answer(db, attempt_id, position) == ("2", True)


@pytest.mark.parametrize(("change", "refusal"), [
    (lambda q: replace(q, options=q.options[:3]), "thêm, xoá hay đổi thứ tự phương án (từ 4 còn 3 phương án)"),
    (lambda q: replace(q, options=[*q.options, "Phương án mới"]),
     "thêm, xoá hay đổi thứ tự phương án (từ 4 thành 5 phương án)"),
    (lambda q: replace(q, options=[q.options[1], q.options[0], *q.options[2:]], correct=[0]),
     "thêm, xoá hay đổi thứ tự phương án (phương án B chuyển sang vị trí A)"),
    (lambda q: replace(q, options=[q.options[0], q.options[2], q.options[3], "Phương án mới"], correct=[0]),
     "thêm, xoá hay đổi thứ tự phương án (phương án C chuyển sang vị trí B)"),
    (lambda q: replace(q, kind="multiple"), "đổi loại câu hỏi (Một đáp án → Nhiều đáp án)"),
])
def test_a_drawn_question_keeps_its_options_and_kind_after_the_round(player, db, change, refusal):
    attempt_id = register_and_start(player, db)
    position, question_id = single_with_key(db, attempt_id, key=1)
    before = options_of(db, question_id)
    with db.write_session() as session, pytest.raises(store.QuestionEditError) as refused:
        _, parsed = store.load_question(session, question_id)
        store.update_question(session, question_id=question_id, edited=change(parsed), user_id=None,
                              now=NOW + timedelta(days=30))
    assert str(refused.value) == f"{LOCKED} {refusal}. {ADVICE}"
    assert options_of(db, question_id) == before


def test_an_undrawn_question_of_an_open_round_keeps_its_options(db):
    contest = make_contest(db, draw={"total": 1})
    with db.write_session() as session, pytest.raises(store.QuestionEditError) as refused:
        question_id = session.scalar(select(Question.id).where(Question.bank_id == contest.bank_id,
                                                               Question.kind == "single"))
        _, parsed = store.load_question(session, question_id)
        store.update_question(session, question_id=question_id, edited=replace(parsed, options=parsed.options[:3],
                                                                                correct=[0]),
                              user_id=None, now=NOW)
    assert str(refused.value) == (
        "Câu hỏi thuộc ngân hàng của đợt thi đang mở (“Thi thử cải cách hành chính”, đợt 1): không thể thêm, "
        "xoá hay đổi thứ tự phương án (từ 4 còn 3 phương án). Hãy sửa nội dung phương án, hoặc chờ đợt thi "
        "kết thúc, hoặc ngừng dùng câu này và tạo câu mới.")


def test_a_question_no_round_has_drawn_can_still_change_its_options(db):
    contest = make_contest(db, opens=timedelta(days=1))  # a scheduled round may draw it later: not a reason
    with db.write_session() as session:
        question_id = session.scalar(select(Question.id).where(Question.bank_id == contest.bank_id,
                                                               Question.kind == "single"))
        _, parsed = store.load_question(session, question_id)
        store.update_question(session, question_id=question_id, edited=replace(
            parsed, options=[*parsed.options[:2], "Phương án mới"], correct=[2], kind="single"),
            user_id=None, now=NOW)
    assert [text for text, _ in options_of(db, question_id)] == [*parsed.options[:2], "Phương án mới"]


def test_the_question_page_says_which_edits_are_locked(player, db, staff):
    attempt_id = register_and_start(player, db)
    _, question_id = single_with_key(db, attempt_id, key=1)
    page = html(organiser_beside(player, staff).get(f"/staff/questions/{question_id}"))
    assert page.select_one(".structure-lock").get_text(" ", strip=True) == (
        "Câu hỏi đã được dùng trong 1 bài thi: chỉ sửa được nội dung chữ (giữ vị trí các phương án), "
        "đáp án, giải thích, nguồn, chủ đề, mức độ.")


def test_a_choice_beyond_the_options_shown_is_refused_not_stored_as_another(player, db):
    attempt_id = register_and_start(player, db)
    position, question_id = single_with_key(db, attempt_id, key=1)
    show_first(db, attempt_id, position, "3,0,1,2")
    with db.write_session() as session:  # option D removed by an edit made before structures were locked
        session.execute(delete(QuestionOption).where(QuestionOption.question_id == question_id,
                                                     QuestionOption.position == 3))
    player.app.state.pools.clear()  # as every worker's cache is, a few seconds after such an edit
    _, options = shown(player, attempt_id, position)
    assert len(options) == 3
    refused = save(player, attempt_id, position, 3)
    assert refused.status_code == 400
    assert answer(db, attempt_id, position)[0] == ""
    assert save(player, attempt_id, position, options.index(options_of(db, question_id)[1][0])).status_code == 200
    assert answer(db, attempt_id, position)[0] == "1"
    block = html(player.get(f"{HOME}/bai-thi/{attempt_id}")).find("input", attrs={"name": f"q{position}"})
    checked = block.find_parent("fieldset").find("input", checked=True)
    assert checked["value"] == "1"


def test_a_question_retired_during_the_round_still_shows_and_grades_in_open_attempts(player, db, staff):
    attempt_id = register_and_start(player, db)
    position, question_id = single_with_key(db, attempt_id, key=0)
    show_first(db, attempt_id, position, "0,1,2,3")
    organiser = organiser_beside(player, staff)
    url = f"/staff/questions/{question_id}"
    assert post_form(organiser, f"{url}/status", {"status": "retired"}, form_page=url,
                     follow_redirects=False).status_code == 303
    assert shown(player, attempt_id, position)[1] == [text for text, _ in options_of(db, question_id)]
    save(player, attempt_id, position, 0)
    submit(player, attempt_id)
    assert answer(db, attempt_id, position) == ("0", True)


def test_retiring_a_question_that_does_not_exist_is_not_found(client, staff):
    login(client, staff["organiser"])
    token = csrf_token(client, "/staff/banks")
    response = client.post("/staff/questions/999999/status", data={"status": "retired", "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 404
