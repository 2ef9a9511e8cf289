"""Issue 15: registration asks only for what the contest has, the organiser's readiness check, and the
confirm page before an attempt starts the clock."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update

from contest.contests import setup
from contest.contests.readiness import contest_readiness
from contest.contests.registration import registration_rules
from contest.models import Attempt, Contest, Contestant, Question, Unit
from tests.conftest import NOW, csrf_token, html, login, post_form
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest

HOME = f"/c/{SLUG}"


def _contest(db) -> Contest:
    with db.session() as session:
        return session.scalar(select(Contest).where(Contest.slug == SLUG))


def _register(client, **changes):
    data = {"track": "officials", "full_name": "Trần Văn Bình", "birth_date": "02/09/1985", "phone": PHONE,
            "password": PASSWORD, "consent": "1", **changes}
    return post_form(client, f"{HOME}/dang-ky", data, form_page=f"{HOME}/dang-ky", follow_redirects=False)


def _field_errors(response) -> dict[str, str]:
    return {e["id"].removesuffix("-error"): e.get_text() for e in html(response).select(".field-error")}


# --- registration follows what exists -------------------------------------------------------------------

def test_registration_rules_turn_unit_and_locality_off_without_a_list(db):
    make_contest(db, units=False)  # both required by default
    with db.session() as session:
        rules = registration_rules(session, _contest(db))
    assert (rules["unit"], rules["locality"], rules["birth_date"]) == ("off", "off", "required")


def test_registration_rules_keep_unit_and_locality_when_listed(db):
    make_contest(db)
    with db.session() as session:
        rules = registration_rules(session, _contest(db))
    assert (rules["unit"], rules["locality"]) == ("required", "required")


@pytest.mark.parametrize("track", ["officials", "citizens"])
def test_register_without_units_succeeds_and_the_page_shows_no_unit_field(client, db, track):
    make_contest(db, units=False)
    page = html(client.get(f"{HOME}/dang-ky"))
    assert (page.find(attrs={"name": "unit_id"}), page.find(attrs={"name": "locality_id"})) == (None, None)
    response = _register(client, track=track)
    assert response.status_code == 303, _field_errors(response)
    with db.session() as session:
        contestant = session.scalar(select(Contestant))
    assert (contestant.track, contestant.unit_id, contestant.locality_id) == (track, None, None)


def test_register_with_units_still_requires_the_unit_next_to_its_field(client, db):
    make_contest(db)
    response = _register(client)
    assert response.status_code == 400
    assert _field_errors(response) == {"unit": "Vui lòng chọn đơn vị công tác."}
    alert = html(response).find(role="alert")
    assert alert.get_text(" ", strip=True) == "Vui lòng kiểm tra lại các mục được đánh dấu."


def test_register_with_units_but_no_localities_asks_citizens_for_nothing_more(client, db):
    make_contest(db)
    with db.write_session() as session:
        session.execute(delete(Unit).where(Unit.kind == "locality"))
    page = html(client.get(f"{HOME}/dang-ky"))
    assert page.find(attrs={"name": "locality_id"}) is None
    assert page.find("select", attrs={"name": "unit_id"}) is not None
    assert _register(client, track="citizens").status_code == 303


def test_error_summary_never_appears_with_nothing_marked(client, db):
    make_contest(db, units=False)
    response = _register(client, phone="12")
    assert response.status_code == 400
    marked = _field_errors(response)
    assert marked == {"phone": "Số điện thoại phải có 10 chữ số, bắt đầu bằng 0."}
    page = html(client.get(f"{HOME}/dang-ky"))
    assert page.find(role="alert") is None


def test_api_lists_no_unit_field_without_units(client, db):
    make_contest(db, units=False)
    names = [f["name"] for f in client.get(f"/api/v1/contests/{SLUG}").json()["registration_fields"]]
    assert "unit_id" not in names and "locality_id" not in names
    assert "full_name" in names


# --- the readiness check ---------------------------------------------------------------------------------

def _readiness(db, url="http://x/c/thi-thu"):
    with db.session() as session:
        return contest_readiness(session, _contest(db), public_url=url)


def test_readiness_of_a_complete_contest_is_all_ok(db):
    make_contest(db)
    with db.write_session() as session:
        session.execute(update(Contest).values(hotline_phone="0276 3822 123"))
    readiness = _readiness(db)
    assert readiness.ready, readiness.missing
    labels = [c.label for c in readiness.checks]
    assert labels == ["Đợt thi", "Ngân hàng câu hỏi – Cán bộ, công chức, viên chức",
                      "Ngân hàng câu hỏi – Người dân", "Danh sách đơn vị công tác",
                      "Danh sách địa bàn (xã, phường)", "Thể lệ", "Cơ cấu giải", "Đường dây hỗ trợ",
                      "Địa chỉ dự thi"]
    assert readiness.checks[-2].notes == ("0276 3822 123",)
    assert readiness.checks[1].notes == ("Đợt 1: rút 10 câu từ 36 câu đang dùng.",)


def test_readiness_of_a_new_contest_names_each_missing_piece(db):
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Hội thi mới", slug=SLUG, now=NOW, tracks=["officials"])
        contest.is_published = False
        contest.prize_counts = '{"first": 0}'
    readiness = _readiness(db)
    missing = {c.label: c.notes for c in readiness.missing}
    assert missing == {
        "Đợt thi": ("Chưa có đợt thi nào.",),
        "Ngân hàng câu hỏi – Cán bộ, công chức, viên chức": ("Chưa có đợt thi nào để gắn ngân hàng câu hỏi.",),
        "Danh sách đơn vị công tác": ("Chưa nhập danh sách đơn vị công tác: ô này sẽ không hiện khi đăng ký "
                                      "cho đến khi có danh sách.",),
        "Thể lệ": ("Chưa có nội dung thể lệ.",),
        "Cơ cấu giải": ("Chưa đặt số giải cho mỗi đợt.",),
        "Đường dây hỗ trợ": ("Chưa có số điện thoại hoặc e-mail hỗ trợ: thí sinh quên mật khẩu không biết gọi ai "
                             "để lấy mã khôi phục.",),
        "Địa chỉ dự thi": ("Hội thi chưa công bố: http://x/c/thi-thu chưa mở cho thí sinh.",),
    }  # officials only: no locality list is asked for


def test_readiness_names_a_pool_too_small_for_the_draw(db):
    fixture = make_contest(db, draw={"strata": [{"topic": "Một cửa", "count": 10}, {"topic": "Thể chế", "count": 2}]})
    with db.write_session() as session:
        session.execute(update(Question).where(Question.bank_id == fixture.bank_id, Question.id % 2 == 0)
                        .values(status="retired"))
        active = session.scalar(select(func.count()).where(Question.status == "active"))
    notes = {c.label: c.notes for c in _readiness(db).missing}
    assert active == 18
    assert notes["Ngân hàng câu hỏi – Người dân"] == (
        "Đợt 1: không đủ câu hỏi theo chủ đề/mức độ (Một cửa: cần 10, có 6).",)


def test_organiser_contest_page_shows_the_readiness_check(client, db, staff):
    make_contest(db, units=False)
    login(client, staff["organiser"])
    page = html(client.get(f"/staff/contests/{_contest(db).id}"))
    section = page.find("section", class_="readiness")
    missing = [li.find("strong").get_text(strip=True) for li in section.select("li.missing")]
    assert missing == ["✗ Danh sách đơn vị công tác", "✗ Danh sách địa bàn (xã, phường)", "✗ Đường dây hỗ trợ"]
    assert "Còn thiếu 3 mục" in section.find("p", class_="warn").get_text()


# --- the confirm step before an attempt ------------------------------------------------------------------

@pytest.fixture
def player(client, db):
    make_contest(db, units=False, max_attempts=2, time_limit=600)
    assert _register(client).status_code == 303
    return client


def _attempts(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Attempt))


def test_confirm_page_shows_the_rules_and_starts_nothing(player, db):
    response = player.get(f"{HOME}/dot/1")
    assert response.status_code == 200
    page = html(response)
    rules = [li.get_text(" ", strip=True) for li in page.select("ul.start-rules > li")]
    assert rules == [
        "Số câu hỏi: 10 câu, mỗi câu chọn một đáp án.",
        "Thời gian làm bài: 10 phút, tính từ khi bạn bấm “Bắt đầu làm bài”. Hết giờ, bài được nộp tự động.",
        "Lượt thi: đã dùng 0/2; sau lượt này còn 1 lượt.",
        "Chỉ lượt thi tốt nhất của bạn được tính: nhiều câu đúng hơn; nếu bằng nhau, số dự đoán gần đúng hơn; "
        "rồi thời gian làm bài ngắn hơn.",
        "Câu hỏi dự đoán (không tính điểm, dùng để xếp hạng khi bằng điểm): "
        "Có bao nhiêu người trả lời đúng tất cả các câu hỏi trong đợt thi này?"]
    form = page.find("form", action=f"{HOME}/dot/1/bat-dau")
    assert form["method"] == "post" and form.find("input", attrs={"name": "_csrf_token"})["value"]
    assert form.find("button").get_text(strip=True) == "Bắt đầu làm bài"
    assert _attempts(db) == 0


def test_start_from_the_confirm_page_then_it_offers_to_resume(player, db):
    token = csrf_token(player, f"{HOME}/dot/1")
    started = player.post(f"{HOME}/dot/1/bat-dau", data={"_csrf_token": token}, follow_redirects=False)
    assert started.status_code == 200
    attempt_id = int(started.headers["content-location"].rsplit("/", 1)[1])
    page = html(player.get(f"{HOME}/dot/1"))
    assert page.find("a", string="Tiếp tục làm bài")["href"] == f"{HOME}/bai-thi/{attempt_id}"
    assert page.find("form", action=f"{HOME}/dot/1/bat-dau") is None
    assert _attempts(db) == 1


def test_start_without_the_form_token_is_refused(player, db):
    response = player.post(f"{HOME}/dot/1/bat-dau", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert _attempts(db) == 0


def test_confirm_page_when_no_attempt_is_left(player, db):
    for _ in range(2):
        token = csrf_token(player, f"{HOME}/dot/1")
        player.post(f"{HOME}/dot/1/bat-dau", data={"_csrf_token": token})
        with db.write_session() as session:
            session.execute(update(Attempt).values(status="submitted", finished_at=NOW))
    page = html(player.get(f"{HOME}/dot/1"))
    assert page.find("p", class_="warn").get_text(strip=True) == "Bạn đã dùng hết lượt thi của đợt này."
    assert page.find("form", action=f"{HOME}/dot/1/bat-dau") is None


def test_confirm_page_of_a_closed_round_and_of_no_round(player, clock):
    clock.advance(days=8)
    page = html(player.get(f"{HOME}/dot/1"))
    assert page.find("p", class_="warn").get_text(strip=True) == "Đợt này đã kết thúc."
    assert player.get(f"{HOME}/dot/9").status_code == 404


def test_confirm_page_asks_to_log_in_first(client, db):
    make_contest(db)
    response = client.get(f"{HOME}/dot/1", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, f"{HOME}/dang-nhap")


def test_readiness_notes_follow_the_chosen_language(client, db, staff):
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Hội thi mới", slug=SLUG, now=NOW, tracks=["officials"])
    login(client, staff["organiser"])
    client.cookies.set("lang", "en")
    notes = [li.get_text(strip=True) for li in html(client.get(f"/staff/contests/{contest.id}"))
             .select("section.readiness li.missing li")]
    assert "No rounds yet." in notes
