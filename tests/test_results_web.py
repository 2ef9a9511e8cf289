"""Results pages: who may see and act, public pages and masking, certificates, paging and "find me"."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from contest.banks.common import fold
from contest.models import Attempt, AuditEvent, Contest, Contestant, PrizeList, Round, Unit
from contest.results import ranking
from tests.conftest import html, login, post_form
from tests.contest_helpers import make_contest, unit_id
from tests.test_ranking import CLOSED, attempt, person

PHONES = {"Nguyễn Thị Hoà": "0912345678", "Trần Văn Bình": "0987654321", "Lê Chi": "0911000222"}


@pytest.fixture
def contest(db):
    fixture = make_contest(db)
    snv = unit_id(db, "SNV")
    for i, (name, phone) in enumerate(PHONES.items()):
        cid = person(db, fixture, name)
        with db.write_session() as session:
            session.execute(update(Contestant).where(Contestant.id == cid).values(
                phone=phone, cccd=f"00109901234{i}", search_name=fold(name), unit_id=snv))
        attempt(db, fixture, cid, correct=9 - i)
    return fixture


def staff_client(client, staff, role: str):
    assert login(client, staff[role]).status_code == 303
    return client


def base(contest) -> str:
    return f"/staff/contests/{contest.contest_id}/results"


def round_url(contest, track="officials") -> str:
    return f"{base(contest)}/rounds/{contest.round_id}/{track}"


def set_contest(db, contest, **values):
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == contest.contest_id).values(**values))


def current_list(db, contest) -> PrizeList | None:
    with db.session() as session:
        return session.scalar(select(PrizeList).where(PrizeList.round_id == contest.round_id))


def propose_and_lock(client, contest) -> int:
    assert post_form(client, f"{round_url(contest)}/prizes", {}, form_page=round_url(contest),
                     follow_redirects=False).status_code == 303
    list_id = current_list(client.app.state.db, contest).id
    assert post_form(client, f"{base(contest)}/prizes/{list_id}/lock", {}, form_page=round_url(contest),
                     follow_redirects=False).status_code == 303
    return list_id


# --- staff ------------------------------------------------------------------------------------------------

def test_viewer_sees_results_but_every_action_is_forbidden(client, staff, contest, clock):
    clock.now = CLOSED
    staff_client(client, staff, "viewer")
    page = client.get(round_url(contest))
    assert page.status_code == 200
    assert [td.get_text() for td in html(page).select("#board td:nth-of-type(2)")] == list(PHONES)
    assert "Xếp hạng lại" not in page.text
    for path, data in ((f"{round_url(contest)}/prizes", {}),
                       (f"{base(contest)}/rounds/{contest.round_id}/rank", {"track": "officials"}),
                       (f"{base(contest)}/settings", {"first": "1", "team_min_rate": "50"})):
        assert post_form(client, path, data, form_page=round_url(contest)).status_code == 403
    assert current_list(client.app.state.db, contest) is None
    for path in ("", "/teams", "/audit", "/overall/officials"):
        assert client.get(base(contest) + path).status_code == 200
    overall = html(client.get(base(contest) + "/overall/officials"))  # one round: the same order
    assert [td.get_text() for td in overall.select("#board td:nth-of-type(2)")] == list(PHONES)
    assert client.get("/staff/results").status_code == 200


def test_anonymous_visitors_are_sent_to_login(client, contest):
    response = client.get(round_url(contest), follow_redirects=False)
    assert (response.status_code, response.headers["location"].split("?")[0]) == (303, "/login")


def test_organiser_reranks_proposes_and_locks(client, staff, contest, clock, db):
    clock.now = CLOSED
    staff_client(client, staff, "organiser")
    page = html(client.get(round_url(contest)))
    assert page.find("button", string="Xếp hạng lại") is not None
    assert post_form(client, f"{base(contest)}/rounds/{contest.round_id}/rank", {"track": "officials"},
                     form_page=round_url(contest), follow_redirects=False).status_code == 303
    list_id = propose_and_lock(client, contest)
    page = client.get(round_url(contest))
    assert current_list(db, contest).status == "locked"
    assert [td.get_text() for td in html(page).select(".prizes td:nth-of-type(1)")] == [
        "Giải Nhất", "Giải Nhì", "Giải Nhì"]
    assert f"/prizes/{list_id}/certificates" in page.text
    with db.session() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert [a for a in actions if a.startswith(("rank", "rerank", "prizes"))] == [
        "ranked", "reranked", "prizes_proposed", "prizes_locked"]
    assert actions.count("staff_action") == 3  # rank, propose, lock: each request is in the log too
    audit = client.get(f"{base(contest)}/audit")
    assert "Khóa danh sách giải" in audit.text and "organiser@example.org" in audit.text


def test_propose_on_a_locked_list_is_refused_with_a_message(client, staff, contest, clock):
    clock.now = CLOSED
    staff_client(client, staff, "organiser")
    propose_and_lock(client, contest)
    response = post_form(client, f"{round_url(contest)}/prizes", {}, form_page=round_url(contest))
    assert response.status_code == 409
    assert "cần mở khóa" in html(response).find(class_="error").get_text()


def test_locked_list_warns_when_the_ranking_changes_after_a_key_correction(client, staff, contest, clock, db):
    clock.now = CLOSED
    staff_client(client, staff, "organiser")
    propose_and_lock(client, contest)
    with db.write_session() as session:
        lowest = session.scalar(select(Contestant.id).where(Contestant.phone == PHONES["Lê Chi"]))
        session.execute(update(Attempt).where(Attempt.contestant_id == lowest).values(correct_count=10))
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED, reason="regraded")
    page = html(client.get(round_url(contest)))
    warning = page.find(class_="warn", attrs={"role": "alert"})
    assert warning is not None and "Lê Chi: Giải Nhì → Giải Nhất" in warning.get_text()
    assert [td.get_text() for td in page.select(".prizes td:nth-of-type(3)")] == list(PHONES)


def test_only_an_admin_unlocks_and_the_reason_is_recorded(make_client, staff, contest, clock, db):
    clock.now = CLOSED
    organiser = staff_client(make_client(), staff, "organiser")
    list_id = propose_and_lock(organiser, contest)
    unlock = f"{base(contest)}/prizes/{list_id}/unlock"
    assert post_form(organiser, unlock, {"reason": "thử"}, form_page=round_url(contest)).status_code == 403
    assert current_list(db, contest).status == "locked"
    admin = staff_client(make_client(), staff, "admin")
    assert html(admin.get(round_url(contest))).find("textarea", attrs={"name": "reason"}) is not None
    assert post_form(admin, unlock, {"reason": ""}, form_page=round_url(contest)).status_code == 409
    assert post_form(admin, unlock, {"reason": "Khiếu nại về câu 7"}, form_page=round_url(contest),
                     follow_redirects=False).status_code == 303
    assert current_list(db, contest).status == "draft"
    with db.session() as session:
        detail = session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "prizes_unlocked"))
    assert "Khiếu nại về câu 7" in detail


def test_settings_form_saves_prize_counts_and_publication(client, staff, contest, db):
    staff_client(client, staff, "organiser")
    response = post_form(client, f"{base(contest)}/settings",
                         {"first": "2", "second": "0", "third": "0", "consolation": "0", "team_min_rate": "60",
                          "public_results": "1"}, form_page=base(contest), follow_redirects=False)
    assert response.status_code == 303
    with db.session() as session:
        row = session.get(Contest, contest.contest_id)
    assert (row.prize_counts, row.team_min_rate, row.public_results, row.one_prize_per_person) == (
        '{"first": 2, "second": 0, "third": 0, "consolation": 0}', 60, True, False)
    bad = post_form(client, f"{base(contest)}/settings", {"first": "x", "team_min_rate": "60"},
                    form_page=base(contest))
    assert bad.status_code == 400 and html(bad).find(class_="error") is not None


def test_certificate_page_has_the_name_prize_and_a4_landscape_print_css(client, staff, contest, clock):
    clock.now = CLOSED
    staff_client(client, staff, "organiser")
    with client.app.state.db.session() as session:
        winner = session.scalar(select(Contestant.id).where(Contestant.phone == PHONES["Nguyễn Thị Hoà"]))
    assert post_form(client, f"{round_url(contest)}/prizes", {}, form_page=round_url(contest),
                     follow_redirects=False).status_code == 303
    list_id = current_list(client.app.state.db, contest).id
    certificate = f"{base(contest)}/prizes/{list_id}/certificates/{winner}"
    assert client.get(certificate).status_code == 404  # not before the list is locked
    post_form(client, f"{base(contest)}/prizes/{list_id}/lock", {}, form_page=round_url(contest))
    page = html(client.get(certificate))
    sheet = page.find("main", class_="certificate")
    text = " ".join(sheet.get_text(" ").split())
    assert "GIẤY CHỨNG NHẬN" in text and "Nguyễn Thị Hoà" in text and "GIẢI NHẤT" in text
    assert "Đơn vị: Sở Nội vụ" in text and "Thi thử cải cách hành chính" in text and "Đợt 1" in text
    assert "Ngày 10 tháng 03 năm 2026" in text  # the day it was locked, local time
    css_link = page.find("link", rel="stylesheet")["href"]
    css = client.get(css_link).text
    assert "@page certificate{size:A4 landscape;" in css and ".certificate{page:certificate;" in css
    assert len(html(client.get(f"{base(contest)}/prizes/{list_id}/certificates")).select("main.certificate")) == 3
    assert client.get(f"{base(contest)}/prizes/{list_id}/certificates/999999").status_code == 404


def many(db, contest, count: int) -> None:
    for i in range(count):
        attempt(db, contest, person(db, contest, f"Người thứ {i:02d}"), correct=5, seconds=100 + i)


def test_leaderboard_pages_through_the_ranking(client, staff, contest, clock, db):
    many(db, contest, 22)  # 25 in all
    clock.now = CLOSED
    staff_client(client, staff, "viewer")
    first = html(client.get(round_url(contest) + "?n=10"))
    assert len(first.select("#board tbody tr")) == 10
    assert first.find("a", rel="next")["href"].endswith("?page=2&n=10")
    last = html(client.get(round_url(contest) + "?page=3&n=10"))
    assert [td.get_text() for td in last.select("#board td:nth-of-type(1)")] == ["21", "22", "23", "24", "25"]
    assert last.find("a", rel="next") is None
    fragment = client.get(round_url(contest) + "?page=2&n=10", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and len(html(fragment).select("tbody tr")) == 10


def test_find_me_by_name_without_accents_and_by_phone(client, staff, contest, clock):
    clock.now = CLOSED
    staff_client(client, staff, "viewer")
    found = html(client.get(round_url(contest) + "/find", params={"q": "thi hoa"}))
    assert [td.get_text() for td in found.select("td:nth-of-type(2)")] == ["Nguyễn Thị Hoà"]
    found = html(client.get(round_url(contest) + "/find", params={"q": "0987 654 321"}))
    assert [td.get_text() for td in found.select("td:nth-of-type(1)")] == ["2"]
    none = client.get(round_url(contest) + "/find", params={"q": "không có ai"})
    assert "Không tìm thấy" in none.text
    page = html(client.get(round_url(contest), params={"q": "tran van binh"}))
    assert [td.get_text() for td in page.select("#found td:nth-of-type(2)")] == ["Trần Văn Bình"]


def test_team_ranking_page(client, staff, contest, clock, db):
    clock.now = CLOSED
    with db.write_session() as session:
        session.execute(update(Unit).where(Unit.code == "SNV").values(headcount=5))
    staff_client(client, staff, "viewer")
    client.get(round_url(contest))  # ranks the closed round
    page = html(client.get(f"{base(contest)}/teams"))
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select(".teams tbody tr")]
    assert rows[0][:5] == ["1", "Sở Nội vụ", "5", "3", "60%"]
    assert rows[1][0] == "–" and "Dưới tỉ lệ tối thiểu" in rows[1][6]


# --- public -----------------------------------------------------------------------------------------------

PUBLIC = "/c/thi-thu/ket-qua"


def test_public_results_are_404_unless_published_and_the_round_closed(client, contest, clock, db):
    clock.now = CLOSED
    for path in ("", "/dot/1/can-bo", "/dot/1/can-bo/tim?q=hoa", "/don-vi"):
        assert client.get(PUBLIC + path).status_code == 404
    set_contest(db, contest, public_results=True)
    clock.now = CLOSED.replace(year=2026, month=3, day=3)  # the round is still open
    assert client.get(PUBLIC + "/dot/1/can-bo").status_code == 404
    assert client.get(PUBLIC + "/dot/1/can-bo/tim?q=hoa").status_code == 404
    assert "Chưa có đợt thi nào kết thúc" in client.get(PUBLIC).text
    clock.now = CLOSED
    assert client.get(PUBLIC + "/dot/1/can-bo").status_code == 200
    assert client.get(PUBLIC + "/dot/2/can-bo").status_code == 404
    assert client.get(PUBLIC + "/dot/1/officials").status_code == 404
    set_contest(db, contest, is_published=False)
    assert client.get(PUBLIC + "/dot/1/can-bo").status_code == 404


def test_public_pages_mask_phones_and_never_show_them_or_the_cccd_in_full(client, staff, contest, clock, db):
    clock.now = CLOSED
    set_contest(db, contest, public_results=True)
    organiser = staff_client(client, staff, "organiser")
    propose_and_lock(organiser, contest)
    client.post("/logout", data={"_csrf_token": html(client.get("/staff")).find(
        "input", attrs={"name": "_csrf_token"})["value"]})
    responses = [client.get(PUBLIC + path) for path in (
        "", "/dot/1/can-bo", "/dot/1/can-bo?q=0912345678", "/dot/1/can-bo/tim?q=0912345678",
        "/dot/1/can-bo/tim?q=nguyen thi hoa", "/don-vi", "/don-vi?dot=1")]
    assert [r.status_code for r in responses] == [200] * 7
    for response in responses:
        for phone in PHONES.values():
            assert phone not in response.text
        assert "00109901234" not in response.text
    page = html(responses[1])
    assert [td.get_text() for td in page.select("#board td:nth-of-type(3)")] == [
        "09xx xxx 678", "09xx xxx 321", "09xx xxx 222"]
    assert [td.get_text() for td in page.select(".prizes td:nth-of-type(4)")] == [
        "09xx xxx 678", "09xx xxx 321", "09xx xxx 222"]
    assert [td.get_text() for td in page.select("#board td:nth-of-type(4)")] == ["Sở Nội vụ"] * 3
    found = html(responses[3])
    assert [td.get_text() for td in found.select("td:nth-of-type(2)")] == ["Nguyễn Thị Hoà"]


def test_public_prize_list_is_shown_only_once_locked(client, staff, contest, clock, db):
    clock.now = CLOSED
    set_contest(db, contest, public_results=True)
    organiser = staff_client(client, staff, "organiser")
    post_form(organiser, f"{round_url(contest)}/prizes", {}, form_page=round_url(contest))
    assert html(client.get(PUBLIC + "/dot/1/can-bo")).find(class_="prizes") is None
    post_form(organiser, f"{base(contest)}/prizes/{current_list(db, contest).id}/lock", {},
              form_page=round_url(contest))
    assert html(client.get(PUBLIC + "/dot/1/can-bo")).find(class_="prizes") is not None


def test_contest_home_links_to_results_only_when_public(client, contest, db):
    assert "/c/thi-thu/ket-qua" not in client.get("/c/thi-thu").text
    set_contest(db, contest, public_results=True)
    assert "/c/thi-thu/ket-qua" in client.get("/c/thi-thu").text


def test_rules_page_states_the_ranking_rule_word_for_word(client, contest):
    rule = html(client.get("/c/thi-thu/the-le")).find(class_="rule")
    assert rule.get_text() == ranking.RULE_TEXT


def test_team_ranking_page_of_one_round_or_the_whole_contest(client, staff, contest):
    staff_client(client, staff, "viewer")
    assert client.get(f"{base(contest)}/teams?round_id=&track=officials").status_code == 200
    assert client.get(f"{base(contest)}/teams?round_id={contest.round_id}").status_code == 200
    assert client.get(f"{base(contest)}/teams?round_id=999").status_code == 404
