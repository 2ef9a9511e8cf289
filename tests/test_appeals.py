"""Appeals (khiếu nại): a contestant appeals their own result during the contest's appeal period, the organiser
answers on the results page, both are in the audit log by digest only, and a prize list waits for them."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from contest.contests import setup
from contest.models import Appeal, Attempt, AuditEvent, Contest, Contestant, PrizeList, Round
from contest.results import appeals, prizes
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import PASSWORD, SLUG, make_contest
from tests.test_contestant_accounts import add_contestant

CLOSES = NOW + timedelta(days=7)           # make_contest's round closes a week after NOW
AFTER_CLOSE = CLOSES + timedelta(hours=5)  # 15:00 on 09/03/2026 in Asia/Ho_Chi_Minh: inside a 48-hour period
PERIOD_END = CLOSES + timedelta(hours=48)  # 10:00 on 11/03/2026
HOA, BINH = "0912345678", "0987000111"
MINE = f"/c/{SLUG}/dot/1/ket-qua"
FILE = f"/c/{SLUG}/dot/1/khieu-nai"
TEXT = "Câu 7 có hai phương án đúng theo Nghị định 118/2025/NĐ-CP; đề nghị chấm lại."


def finished(db, contestant_id: int, *, correct: int, prediction: int | None, seconds: int, at: timedelta) -> None:
    """A submitted attempt of 10 questions in round 1, submitted `at` after NOW."""
    with db.write_session() as session:
        session.execute(insert(Attempt), {
            "contestant_id": contestant_id, "round_id": 1, "track": "officials", "seq": 1, "started_at": NOW,
            "deadline": NOW + timedelta(days=1), "status": "submitted", "finished_at": NOW + at,
            "question_count": 10, "correct_count": correct, "duration_ms": seconds * 1000, "prediction": prediction})


@pytest.fixture
def contest(db):
    """Round 1 (officials, citizens) closing at CLOSES, 48 hours to appeal; Hoà and Bình both perfect (the true
    value is 2), Hoà predicting 3, Bình 5; Lê 8/10 without a prediction."""
    fixture = make_contest(db, appeal_hours=48)
    hoa = add_contestant(db, name="Nguyễn Thị Hoà", phone=HOA, unit="SNV")
    binh = add_contestant(db, name="Trần Văn Bình", phone=BINH, unit="CCHC")
    le = add_contestant(db, name="Lê Văn Lâm", phone="0977000333", unit="SNV")
    finished(db, hoa, correct=10, prediction=3, seconds=312, at=timedelta(hours=2, minutes=5, seconds=7))
    finished(db, binh, correct=10, prediction=5, seconds=250, at=timedelta(hours=3))
    finished(db, le, correct=8, prediction=None, seconds=200, at=timedelta(hours=4))
    return fixture


def sign_in(client, phone: str = HOA):
    response = post_form(client, f"/c/{SLUG}/dang-nhap", {"phone": phone, "password": PASSWORD},
                         follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def file(client, text: str = TEXT):
    return post_form(client, FILE, {"text": text}, form_page=f"/c/{SLUG}", follow_redirects=False)


def events(db, action: str) -> list[dict]:
    with db.session() as session:
        return [json.loads(e.detail) for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                                              .order_by(AuditEvent.id))]


def all_appeals(db) -> list[Appeal]:
    with db.session() as session:
        return list(session.scalars(select(Appeal).order_by(Appeal.id)))


def staff_round(contest) -> str:
    return f"/staff/contests/{contest.contest_id}/results/rounds/{contest.round_id}/officials"


# --- the contestant's result page ------------------------------------------------------------------------------

def test_own_result_page_shows_every_figure_the_ranking_compares(client, db, contest, clock):
    clock.now = AFTER_CLOSE
    page = html(sign_in(client).get(MINE))
    figures = dict(zip([dt.get_text() for dt in page.select("#my-result dt")],
                       [dd.get_text() for dd in page.select("#my-result dd")]))
    assert figures == {"Đối tượng dự thi": "Cán bộ, công chức, viên chức", "Thứ hạng": "1 / 3",
                       "Số câu đúng": "10/10", "Dự đoán": "3", "Chênh lệch dự đoán": "1",
                       "Thời gian làm bài": "5 phút 12,0 giây", "Nộp bài lúc": "02/03/2026 12:05:07"}
    assert page.select_one("p.true-value").get_text() == (
        "Giá trị thực tế của câu hỏi dự đoán đợt 1 là 2: số người dự thi có ít nhất một lượt thi trả lời đúng tất cả "
        "các câu hỏi của đợt, đếm chung mọi đối tượng khi đợt thi kết thúc và được xếp hạng.")
    assert "Thời hạn khiếu nại: đến 11/03/2026 10:00." in page.get_text()
    assert page.select_one("textarea#appeal-text")["maxlength"] == "1000"


def test_appeal_filed_answered_and_read_back_with_digests_in_the_log(make_client, db, contest, clock, staff):
    clock.now = AFTER_CLOSE
    phone = sign_in(make_client())
    response = file(phone)
    assert (response.status_code, response.headers["location"]) == (303, f"{MINE}?da-gui=1#khieu-nai")
    page = html(phone.get(response.headers["location"]))
    assert page.select_one("p[role=status]").get_text() == "Đã gửi khiếu nại. Ban tổ chức sẽ trả lời tại trang này."
    assert page.select_one(".appeal-status").get_text() == "Đang chờ trả lời"
    assert page.select_one(".appeal-text").get_text() == TEXT
    assert page.select_one("textarea#appeal-text") is None  # one open appeal at a time
    [appeal] = all_appeals(db)
    assert (appeal.contestant_id, appeal.round_id, appeal.track, appeal.status) == (1, 1, "officials", "open")
    assert events(db, "appeal_filed") == [{"appeal": appeal.id, "round": 1, "track": "officials", "contestant_id": 1,
                                           "text_sha256": hashlib.sha256(TEXT.encode()).hexdigest()}]

    desk = make_client()
    assert login(desk, staff["organiser"]).status_code == 303
    contest_page = html(desk.get(f"/staff/contests/{contest.contest_id}"))
    assert contest_page.select_one("#open-appeals").get_text() == "1 · thời hạn khiếu nại 48 giờ sau mỗi đợt"
    index = html(desk.get(f"/staff/contests/{contest.contest_id}/results"))
    assert [a.get_text() for a in index.select(f"a[href='{staff_round(contest)}#appeals']")] == ["1"]
    board = html(desk.get(staff_round(contest)))
    item = board.select_one(f"#appeal-{appeal.id}")
    assert "Nguyễn Thị Hoà · 0912345678" in item.get_text() and item.select_one(".appeal-text").get_text() == TEXT
    assert board.select_one("#appeals-waiting").get_text() == "1 khiếu nại chờ trả lời."

    answer = "Câu 7 chỉ có một phương án đúng (Điều 5 Nghị định 118/2025/NĐ-CP); giữ nguyên kết quả."
    clock.advance(hours=2)
    done = post_form(desk, f"/staff/contests/{contest.contest_id}/results/appeals/{appeal.id}/answer",
                     {"answer": answer, "decision": "rejected"}, form_page=staff_round(contest),
                     follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"{staff_round(contest)}#appeal-{appeal.id}")
    assert events(db, "appeal_answered") == [{"appeal": appeal.id, "round": 1, "track": "officials",
                                              "decision": "rejected",
                                              "answer_sha256": hashlib.sha256(answer.encode()).hexdigest()}]
    with db.session() as session:
        logged = " ".join(e.detail for e in session.scalars(select(AuditEvent)))
    assert TEXT not in logged and answer not in logged and "Hoà" not in logged and HOA not in logged
    assert html(desk.get(f"/staff/contests/{contest.contest_id}")).select_one("#open-appeals").get_text().startswith("0")

    page = html(phone.get(MINE))
    assert page.select_one(".appeal-status").get_text() == "Không được chấp nhận"
    assert page.select_one(".appeal-answer").get_text() == answer
    assert "Trả lời của Ban tổ chức (09/03/2026 17:00)" in page.get_text()
    again = post_form(desk, f"/staff/contests/{contest.contest_id}/results/appeals/{appeal.id}/answer",
                      {"answer": "Khác", "decision": "accepted"}, form_page=staff_round(contest))
    assert again.status_code == 400 and "Khiếu nại này đã được trả lời." in again.text


@pytest.mark.parametrize("moment, hours, message", [
    (CLOSES - timedelta(minutes=1), 48, "Đợt thi chưa kết thúc; chỉ khiếu nại sau khi có kết quả tạm thời."),
    (PERIOD_END, 48, "Đã hết thời hạn khiếu nại của đợt 1."),
    (AFTER_CLOSE, 0, "Hội thi này không nhận khiếu nại trực tuyến."),
])
def test_appeal_refused_outside_the_period(client, db, contest, clock, moment, hours, message):
    with db.write_session() as session:
        session.execute(update(Contest).values(appeal_hours=hours))
    clock.now = AFTER_CLOSE
    sign_in(client)
    clock.now = moment
    response = post_form(client, FILE, {"text": TEXT}, form_page=f"/c/{SLUG}", follow_redirects=False)
    assert response.status_code == 400
    assert html(response).select_one("#appeal-error").get_text() == message
    assert html(response).select_one("textarea#appeal-text") is None
    assert all_appeals(db) == [] and events(db, "appeal_filed") == []


@pytest.mark.parametrize("text, message", [
    ("   ", "Nội dung khiếu nại: cần ghi rõ điều bạn thấy chưa đúng."),
    ("x" * 1001, "Nội dung khiếu nại dài 1001 ký tự; tối đa 1000 ký tự."),
])
def test_appeal_text_is_checked_and_kept_for_correction(client, db, contest, clock, text, message):
    clock.now = AFTER_CLOSE
    response = file(sign_in(client), text)
    assert response.status_code == 400
    page = html(response)
    assert page.select_one("#appeal-error").get_text() == message
    assert page.select_one("textarea#appeal-text")["aria-invalid"] == "true"
    assert all_appeals(db) == []


def test_second_open_appeal_is_refused(client, db, contest, clock):
    clock.now = AFTER_CLOSE
    sign_in(client)
    assert file(client).status_code == 303
    with db.write_session() as session:
        with pytest.raises(appeals.AppealError, match="đã có một khiếu nại đang chờ trả lời"):
            appeals.file_appeal(session, contest=session.get(Contest, 1), round_=session.get(Round, 1),
                                contestant_id=1, text="Lần hai", now=AFTER_CLOSE)
    assert len(all_appeals(db)) == 1


def test_appeal_about_someone_elses_result_is_refused(make_client, db, contest, clock, staff):
    clock.now = AFTER_CLOSE
    with db.write_session() as session:  # a contestant of another contest, signed in there
        other = setup.create_contest(session, title="Hội thi khác", slug="hoi-thi-khac", now=NOW,
                                     tracks=["officials"], rules="Thể lệ.")
        other_id = other.id
    outsider = add_contestant(db, name="Phạm Thu", phone="0966000444")
    with db.write_session() as session:
        session.execute(update(Contestant).where(Contestant.id == outsider).values(contest_id=other_id))
    stranger = make_client()
    assert post_form(stranger, "/c/hoi-thi-khac/dang-nhap", {"phone": "0966000444", "password": PASSWORD},
                     follow_redirects=False).status_code == 303
    token = html(stranger.get("/c/hoi-thi-khac")).find("input", attrs={"name": "_csrf_token"})["value"]
    # Their sign-in is for the other contest: this contest's result page and appeal form send them to log in.
    for response in (stranger.get(MINE, follow_redirects=False),
                     stranger.post(FILE, data={"text": TEXT, "_csrf_token": token}, follow_redirects=False)):
        assert (response.status_code, response.headers["location"]) == (303, f"/c/{SLUG}/dang-nhap")
    with db.write_session() as session:  # nor can the domain be asked to file for a person of another contest
        with pytest.raises(appeals.AppealError, match="Chỉ được khiếu nại về kết quả của chính mình."):
            appeals.file_appeal(session, contest=session.get(Contest, 1), round_=session.get(Round, 1),
                                contestant_id=outsider, text=TEXT, now=AFTER_CLOSE)
    assert all_appeals(db) == []

    # Someone without a ranked result in the round has nothing to appeal.
    add_contestant(db, name="Đỗ An", phone="0955000555")
    unranked = sign_in(make_client(), "0955000555")
    response = file(unranked)
    assert response.status_code == 400
    assert html(response).select_one("#appeal-error").get_text() == (
        "Bạn chưa có kết quả được xếp hạng trong đợt 1 nên chưa thể khiếu nại.")

    # An organiser answers an appeal only through its own contest's address.
    sign_in_hoa = sign_in(make_client())
    assert file(sign_in_hoa).status_code == 303
    [appeal] = all_appeals(db)
    desk = make_client()
    assert login(desk, staff["organiser"]).status_code == 303
    wrong = post_form(desk, f"/staff/contests/{other_id}/results/appeals/{appeal.id}/answer",
                      {"answer": "Đã xem.", "decision": "accepted"}, form_page=staff_round(contest))
    assert wrong.status_code == 404 and all_appeals(db)[0].status == "open"


def test_answer_needs_a_text_and_a_decision(client, db, contest, clock, staff):
    clock.now = AFTER_CLOSE
    with db.write_session() as session:
        appeal_id = appeals.file_appeal(session, contest=session.get(Contest, 1), round_=session.get(Round, 1),
                                        contestant_id=1, text=TEXT, now=AFTER_CLOSE).id
    assert login(client, staff["organiser"]).status_code == 303
    url = f"/staff/contests/{contest.contest_id}/results/appeals/{appeal_id}/answer"
    for data, message in (({"answer": "Giữ nguyên."}, "Cần chọn chấp nhận hoặc không chấp nhận khiếu nại."),
                          ({"answer": " ", "decision": "accepted"}, "Cần ghi nội dung trả lời khiếu nại.")):
        response = post_form(client, url, data, form_page=staff_round(contest))
        assert response.status_code == 400
        page = html(response)
        assert page.select_one(f"#appeal-{appeal_id}-error").get_text() == message
        assert page.select_one(f"#answer-{appeal_id}").get_text() == data["answer"].strip()
    assert all_appeals(db)[0].status == "open" and events(db, "appeal_answered") == []


def test_viewer_reads_appeals_with_masked_phones_and_cannot_answer(client, db, contest, clock, staff):
    clock.now = AFTER_CLOSE
    with db.write_session() as session:
        appeal_id = appeals.file_appeal(session, contest=session.get(Contest, 1), round_=session.get(Round, 1),
                                        contestant_id=1, text=TEXT, now=AFTER_CLOSE).id
    assert login(client, staff["viewer"]).status_code == 303
    item = html(client.get(staff_round(contest))).select_one(f"#appeal-{appeal_id}")
    assert "Nguyễn Thị Hoà · 09xx xxx 678" in item.get_text() and item.select_one("form") is None
    response = post_form(client, f"/staff/contests/{contest.contest_id}/results/appeals/{appeal_id}/answer",
                         {"answer": "Đồng ý.", "decision": "accepted"}, form_page=staff_round(contest))
    assert response.status_code == 403 and all_appeals(db)[0].status == "open"


# --- the prize list waits for the appeals ------------------------------------------------------------------------

def test_lock_refused_during_the_period_and_while_an_appeal_is_unanswered(client, db, contest, clock, staff):
    clock.now = AFTER_CLOSE
    with db.write_session() as session:
        appeals.file_appeal(session, contest=session.get(Contest, 1), round_=session.get(Round, 1), contestant_id=2,
                            text="Tôi nộp bài trước.", now=AFTER_CLOSE)
    assert login(client, staff["organiser"]).status_code == 303
    assert post_form(client, f"{staff_round(contest)}/prizes", {}, form_page=staff_round(contest),
                     follow_redirects=False).status_code == 303
    with db.session() as session:
        list_id = session.scalar(select(PrizeList.id))
    lock = f"/staff/contests/{contest.contest_id}/results/prizes/{list_id}/lock"

    refused = post_form(client, lock, {}, form_page=staff_round(contest))
    assert refused.status_code == 409
    assert html(refused).select_one("#prizes p.error").get_text() == (
        "Chưa thể khóa danh sách giải: thời hạn khiếu nại của đợt 1 kéo dài đến 11/03/2026 10:00 và còn 1 khiếu "
        "nại chưa được trả lời.")

    clock.now = PERIOD_END
    refused = post_form(client, lock, {}, form_page=staff_round(contest))
    assert refused.status_code == 409
    assert html(refused).select_one("#prizes p.error").get_text() == (
        "Chưa thể khóa danh sách giải: còn 1 khiếu nại chưa được trả lời; hãy trả lời hết rồi khóa.")
    with db.session() as session:
        assert session.get(PrizeList, list_id).status == "draft"
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "prizes_locked")) is None

    appeal_id = all_appeals(db)[0].id
    assert post_form(client, f"/staff/contests/{contest.contest_id}/results/appeals/{appeal_id}/answer",
                     {"answer": "Thứ hạng theo số dự đoán, rồi thời gian làm bài.", "decision": "rejected"},
                     form_page=staff_round(contest), follow_redirects=False).status_code == 303
    assert post_form(client, lock, {}, form_page=staff_round(contest), follow_redirects=False).status_code == 303
    with db.session() as session:
        assert session.get(PrizeList, list_id).status == "locked"


def test_lock_refused_while_the_period_runs_without_appeals(db, contest):
    with db.write_session() as session:
        list_id = prizes.propose(session, 1, "officials", AFTER_CLOSE).id
    with db.write_session() as session:
        with pytest.raises(prizes.PrizeError) as refused:
            prizes.lock(session, list_id, None, AFTER_CLOSE)
    assert refused.value.message == (
        "Chưa thể khóa danh sách giải: thời hạn khiếu nại của đợt 1 kéo dài đến 11/03/2026 10:00.")
    with db.write_session() as session:
        assert prizes.lock(session, list_id, None, PERIOD_END).status == "locked"


def test_the_other_tracks_appeals_do_not_hold_a_list(db, contest):
    with db.write_session() as session:
        appeals.file_appeal(session, contest=session.get(Contest, 1), round_=session.get(Round, 1), contestant_id=1,
                            text=TEXT, now=AFTER_CLOSE)
        assert appeals.lock_refusal(session, session.get(Round, 1), "citizens", PERIOD_END) is None
        assert appeals.lock_refusal(session, session.get(Round, 1), "officials", PERIOD_END) is not None


# --- settings, rules page, defaults, migration ---------------------------------------------------------------

def test_results_settings_set_the_period_and_refuse_a_bad_one(client, db, contest, staff):
    assert login(client, staff["organiser"]).status_code == 303
    url = f"/staff/contests/{contest.contest_id}/results"
    form = {"first": "1", "second": "2", "third": "3", "consolation": "4", "team_min_rate": "50"}
    bad = post_form(client, f"{url}/settings", {**form, "appeal_hours": "2 ngày"}, form_page=url)
    assert bad.status_code == 400
    assert html(bad).select_one("p.error").get_text() == (
        "Thời hạn khiếu nại phải là số giờ nguyên từ 0 đến 720 (0: không nhận khiếu nại).")
    assert html(bad).select_one("#appeal_hours")["value"] == "2 ngày"
    ok = post_form(client, f"{url}/settings", {**form, "appeal_hours": "72", "public_tie_details": "1"},
                   form_page=url, follow_redirects=False)
    assert ok.status_code == 303
    with db.session() as session:
        saved = session.get(Contest, contest.contest_id)
        assert (saved.appeal_hours, saved.public_tie_details) == (72, True)
    assert events(db, "results_settings")[-1]["appeal_hours"] == 72


def test_rules_page_states_the_appeal_period(client, db, contest):
    page = html(client.get(f"/c/{SLUG}/the-le"))
    assert page.select_one("#appeals").get_text() == "Khiếu nại"
    assert "Trong 48 giờ sau đó, người dự thi có thể gửi khiếu nại về kết quả của chính mình" in page.select_one(
        "p.appeal-policy").get_text()
    assert [li.get_text() for li in page.select(".appeal-deadlines li")] == ["Đợt 1: nhận khiếu nại đến 11/03/2026 10:00."]
    with db.write_session() as session:
        session.execute(update(Contest).values(appeal_hours=0))
    page = html(client.get(f"/c/{SLUG}/the-le"))
    assert page.select_one("#appeals") is None and page.select_one("p.appeal-policy") is None


def test_new_contests_take_appeals_for_48_hours(db):
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Hội thi mới", now=NOW, tracks=["officials"])
        assert (contest.appeal_hours, contest.public_tie_details) == (48, False)


def test_migration_gives_existing_contests_no_appeal_period(tmp_path):
    from sqlalchemy import text

    from contest.db import Database, migrate

    url = f"sqlite:///{tmp_path / 'before-0016.sqlite3'}"
    migrate(url, "0014")
    old = Database(url)
    with old.write_session() as session:
        session.execute(text("INSERT INTO contests (slug, title, organiser_body, plan_reference, rules, tracks, "
                             "fields, access_code, excluded, is_published, prize_counts, one_prize_per_person, "
                             "team_min_rate, public_results, answers_published, prize_notes, hotline_phone, "
                             "contact_email, contact_hours, created_at) VALUES ('thi-cu', 'Thi cũ', '', '', '', "
                             "'officials', '{}', '', '', true, '{}', false, 50, true, 'after_contest', '', '', '', "
                             "'', :at)"), {"at": NOW.isoformat()})
    old.dispose()
    migrate(url)
    db = Database(url)
    with db.session() as session:
        contest = session.scalar(select(Contest))
        assert (contest.slug, contest.appeal_hours, contest.public_tie_details) == ("thi-cu", 0, False)
        assert session.scalars(select(Appeal)).all() == []
    db.dispose()
