"""Public results pages kept as rendered: every change they show raises the contest's results version in its
own transaction, so it shows on the next request to any process (each app below is a process of its own, with
its own kept pages, on one database); nothing kept crosses from one visitor to another (language, staff
sign-in, what was searched for); time alone changes what it should; a reload with the ETag gets 304."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contest.contests import personal_data, setup
from contest.contests.units import UNIT, import_units, import_units_file, save_unit
from contest.models import Contest, Contestant, PrizeList, Round, Unit
from contest.results import prizes, ranking
from contest.web.page_cache import PageCache, _Page
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import make_contest, unit_id
from tests.test_ranking import CLOSED, attempt, person

PUBLIC = "/c/thi-thu/ket-qua"
BOARD = PUBLIC + "/dot/1/can-bo"
PEOPLE = {"Nguyễn Thị Hoà": "0912345678", "Trần Văn Bình": "0987654321", "Lê Chi": "0911000222"}


@pytest.fixture
def contest(db):
    fixture = make_contest(db, appeal_hours=12)
    snv = unit_id(db, "SNV")
    for i, (name, phone) in enumerate(PEOPLE.items()):
        cid = person(db, fixture, name)
        with db.write_session() as session:
            session.execute(update(Contestant).where(Contestant.id == cid).values(phone=phone, unit_id=snv))
        attempt(db, fixture, cid, correct=9 - i)
    with db.write_session() as session:
        session.execute(update(Contest).values(public_results=True))
    return fixture


@pytest.fixture
def organiser(make_client, staff, clock):
    """An organiser's browser on another process than the public's."""
    client = make_client()
    assert login(client, staff["organiser"]).status_code == 303
    return client


def staff_results(contest) -> str:
    return f"/staff/contests/{contest.contest_id}/results"


def board_names(response) -> list[str]:
    return [td.get_text() for td in html(response).select("#board td:nth-of-type(2)")]


def version(db) -> int:
    with db.session() as session:
        return session.scalar(select(Contest.results_version))


def lock_officials(client, contest) -> int:
    page = f"{staff_results(contest)}/rounds/{contest.round_id}/officials"
    post_form(client, page + "/prizes", {}, form_page=page)
    with client.app.state.db.session() as session:
        list_id = session.scalar(select(PrizeList.id).where(PrizeList.round_id == contest.round_id,
                                                            PrizeList.track == "officials"))
    assert post_form(client, f"{staff_results(contest)}/prizes/{list_id}/lock", {}, form_page=page,
                     follow_redirects=False).status_code == 303
    return list_id


def test_a_ranking_done_by_another_process_shows_on_the_next_request(client, organiser, contest, clock, db):
    clock.now = CLOSED + timedelta(hours=13)
    first = client.get(BOARD)
    assert board_names(first) == list(PEOPLE)
    attempt(db, contest, person(db, contest, "Phạm Dũng"), correct=10)  # a late paper, not ranked yet
    kept = client.get(BOARD)
    assert (kept.headers["etag"], board_names(kept)) == (first.headers["etag"], list(PEOPLE))
    rank = f"{staff_results(contest)}/rounds/{contest.round_id}/rank"
    assert post_form(organiser, rank, {"track": "officials"}, form_page=staff_results(contest),
                     follow_redirects=False).status_code == 303
    assert board_names(client.get(BOARD)) == ["Phạm Dũng", *PEOPLE]


def prize_names(response) -> list[str]:
    return [td.get_text() for td in html(response).select(".prizes td:nth-of-type(3)")]


def test_an_erased_persons_name_leaves_the_public_pages_at_once(client, organiser, contest, clock, db):
    clock.now = CLOSED + timedelta(hours=13)  # the appeal period is over: the list can be locked
    lock_officials(organiser, contest)
    board = client.get(BOARD)
    assert board_names(board) == prize_names(board) == list(PEOPLE)
    assert "Nguyễn Thị Hoà" in client.get(f"{BOARD}/tim?q={PEOPLE['Nguyễn Thị Hoà']}").text
    with db.session() as session:
        hoa = session.scalar(select(Contestant.id).where(Contestant.phone == PEOPLE["Nguyễn Thị Hoà"]))
    person_page = f"/staff/contests/{contest.contest_id}/contestants/{hoa}"
    assert post_form(organiser, person_page + "/erase", {"confirm": "XÓA"}, form_page=person_page).status_code == 200
    board = client.get(BOARD)
    label = personal_data.anonymous_label(hoa)
    assert "Nguyễn Thị Hoà" not in board.text
    assert board_names(board) == prize_names(board) == [label, *list(PEOPLE)[1:]]
    assert "Nguyễn Thị Hoà" not in client.get(f"{BOARD}/tim?q={PEOPLE['Nguyễn Thị Hoà']}").text
    assert "Nguyễn Thị Hoà" not in client.get(f"{BOARD}/tim?q=nguyen thi hoa").text


def test_locking_and_unlocking_a_prize_list_shows_at_once(client, make_client, organiser, staff, contest, clock):
    clock.now = CLOSED + timedelta(hours=13)
    assert html(client.get(BOARD)).find(class_="prizes") is None
    list_id = lock_officials(organiser, contest)
    assert html(client.get(BOARD)).find(class_="prizes") is not None
    admin = make_client()
    login(admin, staff["admin"])
    page = f"{staff_results(contest)}/rounds/{contest.round_id}/officials"
    assert post_form(admin, f"{staff_results(contest)}/prizes/{list_id}/unlock", {"reason": "Khiếu nại"},
                     form_page=page, follow_redirects=False).status_code == 303
    assert html(client.get(BOARD)).find(class_="prizes") is None


def test_results_settings_show_at_once(client, organiser, contest, clock):
    clock.now = CLOSED
    assert "Dự đoán</th>" not in client.get(BOARD).text
    settings = {"first": "1", "second": "2", "third": "3", "consolation": "4", "team_min_rate": "50",
                "public_results": "1", "public_tie_details": "1", "appeal_hours": "12"}
    assert post_form(organiser, f"{staff_results(contest)}/settings", settings, form_page=staff_results(contest),
                     follow_redirects=False).status_code == 303
    assert "Dự đoán</th>" in client.get(BOARD).text
    settings.pop("public_results")
    post_form(organiser, f"{staff_results(contest)}/settings", settings, form_page=staff_results(contest))
    assert client.get(BOARD).status_code == 404


def test_every_change_the_public_pages_show_raises_the_version(db, contest, clock):
    """Each domain function that changes what the public pages show raises the version in its own transaction."""
    seen = [version(db)]

    def raised() -> bool:
        seen.append(version(db))
        return seen[-1] > seen[-2]

    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
    assert raised()
    with db.write_session() as session:
        prizes.save_settings(session, session.get(Contest, contest.contest_id), counts={"first": 1},
                             one_prize_per_person=False, team_min_rate=40, public_results=True, user_id=None,
                             now=CLOSED)
    assert raised()
    with db.write_session() as session:
        list_id = prizes.propose(session, contest.round_id, "officials", CLOSED).id
    assert raised()
    with db.write_session() as session:
        prizes.lock(session, list_id, None, CLOSED + timedelta(hours=13))
    assert raised()
    with db.write_session() as session:
        prizes.unlock(session, list_id, None, CLOSED + timedelta(hours=13), reason="thử")
    assert raised()
    with db.write_session() as session:
        row = session.get(Contest, contest.contest_id)
        setup.update_contest(session, row, title="Tên mới", slug=row.slug, organiser_body="",
                             tracks=["officials", "citizens"], fields={}, rules="", access_code="", plan_reference="",
                             excluded="",
                             answers_published="after_contest", is_published=True)
    assert raised()
    with db.write_session() as session:
        round_ = session.get(Round, contest.round_id)
        tracks = [setup.track_config(row) for row in setup.round_tracks(session, round_.id).values()]
        setup.save_round(session, contest=session.get(Contest, contest.contest_id), now=NOW, round_=round_,
                         number=1, title="Tuần một", opens_at=round_.opens_at, closes_at=round_.closes_at,
                         grace_seconds=round_.grace_seconds, prediction_kind=round_.prediction_kind, tracks=tracks)
    assert raised()
    sheet = "Mã,Tên,Mã cấp trên,Số CBCCVC\nSNV,Sở Nội vụ tỉnh,,80\n".encode()
    with db.write_session() as session:
        assert import_units(session, contest_id=contest.contest_id, kind=UNIT, data=sheet, filename="u.csv").saved
    assert raised()
    assert import_units_file(db, contest_id=contest.contest_id, kind=UNIT, filename="u.csv",
                             data=sheet.replace(b"80", b"90")).saved
    assert raised()
    with db.write_session() as session:
        unit = session.get(Unit, unit_id(db, "SNV"))
        save_unit(session, contest_id=contest.contest_id, kind=UNIT, unit=unit, code="SNV", name="Sở Nội vụ",
                  parent_code="", headcount="85")
    assert raised()
    with db.session() as session:
        someone = session.scalar(select(Contestant.id).limit(1))
    assert personal_data.erase(db, contest_id=contest.contest_id, contestant_id=someone, user_id=None, now=CLOSED)
    assert raised()


def test_each_visitor_gets_the_page_in_their_own_language(client, contest, clock):
    clock.now = CLOSED
    assert html(client.get(PUBLIC)).h1.get_text() == "Kết quả cuộc thi"
    client.cookies.set("lang", "en")
    assert html(client.get(PUBLIC)).h1.get_text() == "Contest results"
    client.cookies.delete("lang")
    assert html(client.get(PUBLIC)).h1.get_text() == "Kết quả cuộc thi"


def test_a_staff_members_page_is_theirs_alone(client, staff, contest, clock):
    clock.now = CLOSED
    assert "Đăng xuất" not in client.get(BOARD).text
    login(client, staff["viewer"])
    signed_in = client.get(BOARD)
    token = html(signed_in).find("input", attrs={"name": "_csrf_token"})["value"]
    assert "Đăng xuất" in signed_in.text and "etag" not in signed_in.headers
    client.cookies.clear()
    anonymous = client.get(BOARD)
    assert "Đăng xuất" not in anonymous.text and token not in anonymous.text


def test_what_a_visitor_searched_for_is_never_kept(client, contest, clock):
    clock.now = CLOSED
    for name, phone in PEOPLE.items():
        for path in (f"{BOARD}?q={phone}", f"{BOARD}/tim?q={phone}"):
            found = html(client.get(path))
            assert [td.get_text() for td in found.select("#found td:nth-of-type(2), table td:nth-of-type(2)")][:1] == [
                name]
    assert html(client.get(BOARD)).find(id="found").get_text(strip=True) == ""


def test_a_reload_with_the_etag_gets_304_until_the_page_changes(client, organiser, contest, clock):
    clock.now = CLOSED + timedelta(hours=13)
    first = client.get(BOARD, headers={"Accept-Encoding": "gzip"})
    assert (first.headers["cache-control"], first.headers["content-encoding"]) == ("private, no-cache", "gzip")
    plain = client.get(BOARD, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == first.content  # httpx decoded the first
    again = client.get(BOARD, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    lock_officials(organiser, contest)
    changed = client.get(BOARD, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]


def test_time_alone_changes_the_pages_it_should(client, contest, clock):
    closes_at = NOW + timedelta(days=7)
    clock.now = closes_at - timedelta(days=2)  # the round still takes answers
    assert "Chưa có đợt thi nào kết thúc" in client.get(PUBLIC).text
    assert client.get(BOARD).status_code == 404
    clock.now = closes_at + timedelta(hours=1)
    assert "Chưa có đợt thi nào kết thúc" not in client.get(PUBLIC).text
    assert "Kết quả tạm thời" in html(client.get(BOARD)).find(class_="appeal-period").get_text()
    clock.now = closes_at + timedelta(hours=12)  # the appeal period is over
    assert "đã kết thúc" in html(client.get(BOARD)).find(class_="appeal-period").get_text()
    clock.now = closes_at - timedelta(days=2)  # a test's clock may go back: what was kept for later is not served
    assert client.get(BOARD).status_code == 404


def test_kept_pages_are_bounded_least_recently_used_first():
    cache = PageCache(max_bytes=30)

    def page(body: bytes) -> _Page:
        return _Page(body, None, "W/\"x\"", None, None)

    cache.put(("a",), page(b"a" * 10))
    cache.put(("b",), page(b"b" * 10))
    cache.put(("c",), page(b"c" * 10))
    assert cache.get(("a",), NOW) is not None  # now the most recently used
    cache.put(("d",), page(b"d" * 10))
    assert [key for key in (("a",), ("b",), ("c",), ("d",)) if cache.get(key, NOW)] == [("a",), ("c",), ("d",)]
    cache.put(("e",), page(b"e" * 31))  # larger than the whole cache: not kept, nothing dropped for it
    assert cache.get(("e",), NOW) is None and cache.get(("d",), NOW) is not None
