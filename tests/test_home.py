"""The public home page lists published contests: running, upcoming, finished, with dates in Vietnam's time, the
next round's countdown and how many registered; counted in one grouped query, without any name."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from contest.contests import setup
from contest.contests.listing import FINISHED_SHOWN
from contest.i18n import format_countdown
from contest.models import Contest, Contestant
from tests.conftest import NOW, html
from tests.contest_helpers import make_contest

_phones = itertools.count(1)


def add_contest(db, title: str, *, rounds=(), published: bool = True, body: str = "Sở Nội vụ tỉnh Thử") -> int:
    """A contest with rounds given as (opens, closes) offsets from NOW."""
    with db.write_session() as session:
        contest = setup.create_contest(session, title=title, now=NOW, tracks=["officials"], organiser_body=body)
        contest.is_published = published
        for number, (opens, closes) in enumerate(rounds, start=1):
            setup.save_round(session, contest=contest, now=NOW - timedelta(days=60), round_=None, number=number,
                             title=f"Tuần {number}", opens_at=NOW + opens, closes_at=NOW + closes, grace_seconds=30,
                             prediction_kind="perfect_scores", tracks=[])
        return contest.id


def add_people(db, contest_id: int, n: int) -> None:
    with db.write_session() as session:
        for _ in range(n):
            i = next(_phones)
            session.add(Contestant(contest_id=contest_id, track="officials", full_name=f"Nguyễn Văn Bí Mật {i}",
                                   phone=f"09{i:08d}", password_hash="x", consent_at=NOW, created_at=NOW))


def cards(page, group: str) -> list[str]:
    return [card.select_one("h3").get_text(strip=True) for card in page.select(f"section#{group} li.contest-card")]


def card(page, title: str):
    return next(c for c in page.select("li.contest-card") if c.select_one("h3").get_text(strip=True) == title)


@pytest.fixture
def contests(db):
    make_contest(db)  # "Thi thử cải cách hành chính": round 1 open from an hour ago for a week
    ids = {
        # opens 05/03/2026 01:00 in Hanoi (18:00 UTC the day before): the date shown is Vietnam's
        "upcoming": add_contest(db, "Hội thi sắp tới", rounds=[(timedelta(days=2, hours=8), timedelta(days=9)),
                                                               (timedelta(days=9, hours=1), timedelta(days=16))]),
        "no_rounds": add_contest(db, "Hội thi chưa có lịch"),
        "finished": add_contest(db, "Hội thi năm trước", rounds=[(timedelta(days=-40), timedelta(days=-33)),
                                                                 (timedelta(days=-30), timedelta(days=-23))]),
        "between": add_contest(db, "Hội thi giữa hai tuần", rounds=[(timedelta(days=-8), timedelta(days=-1)),
                                                                    (timedelta(hours=5), timedelta(days=7))]),
        "hidden": add_contest(db, "Hội thi chưa công bố", rounds=[(timedelta(days=-1), timedelta(days=1))],
                              published=False),
    }
    return ids


def test_home_lists_published_contests_in_three_groups(client, contests):
    page = html(client.get("/"))
    assert cards(page, "running") == ["Thi thử cải cách hành chính", "Hội thi giữa hai tuần"]
    assert cards(page, "upcoming") == ["Hội thi sắp tới", "Hội thi chưa có lịch"]
    assert cards(page, "finished") == ["Hội thi năm trước"]
    assert "Hội thi chưa công bố" not in page.get_text()
    assert [a["href"] for a in page.select("li.contest-card h3 a")][:2] == ["/c/thi-thu", "/c/hoi-thi-giua-hai-tuan"]


def test_each_contest_shows_its_dates_round_and_countdown_in_vietnam_time(client, contests):
    page = html(client.get("/"))
    upcoming = card(page, "Hội thi sắp tới")
    texts = [p.get_text(" ", strip=True) for p in upcoming.select("p")]
    assert texts == ["Sở Nội vụ tỉnh Thử", "Thời gian: 04/03/2026 – 18/03/2026",
                     "Đợt 1: Tuần 1 mở lúc 04/03/2026 18:00 ( còn 2 ngày 8 giờ )", "0 người đăng ký dự thi"]
    assert upcoming.select_one("[data-countdown]")["data-countdown"] == "2026-03-04T11:00:00+00:00"
    between = card(page, "Hội thi giữa hai tuần")
    assert between.select_one("[data-countdown]").get_text() == "còn 5 giờ"
    running = card(page, "Thi thử cải cách hành chính")
    assert running.select_one(".ok-text").get_text() == "Đang mở: Đợt 1: Tuần 1, đến 09/03/2026 10:00"
    assert running.select_one("[data-countdown]") is None  # no later round
    assert "Lịch thi sẽ được công bố." in card(page, "Hội thi chưa có lịch").get_text()
    assert "Thời gian: 21/01/2026 – 07/02/2026" in card(page, "Hội thi năm trước").get_text()


def test_dates_follow_vietnam_across_midnight_utc(client, db):
    opens = datetime(2026, 3, 4, 18, 0, tzinfo=timezone.utc)  # 01:00 on 05/03 in Hanoi
    add_contest(db, "Nửa đêm", rounds=[(opens - NOW, opens - NOW + timedelta(days=1))])
    text = card(html(client.get("/")), "Nửa đêm").get_text(" ", strip=True)
    assert "Thời gian: 05/03/2026 – 06/03/2026" in text
    assert "mở lúc 05/03/2026 01:00" in text


def test_the_count_is_registrations_without_any_name(client, db, contests):
    add_people(db, contests["between"], 3)
    add_people(db, contests["hidden"], 2)
    page = client.get("/")
    assert card(html(page), "Hội thi giữa hai tuần").select("p")[-1].get_text() == "3 người đăng ký dự thi"
    assert "Bí Mật" not in page.text and "09000" not in page.text


def test_the_page_costs_the_same_queries_for_one_contest_or_thirty(client, db):
    add_contest(db, "Hội thi 0", rounds=[(timedelta(days=1), timedelta(days=2))])
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/")
        one = len(statements)
        for i in range(1, 30):
            contest_id = add_contest(db, f"Hội thi {i}", rounds=[(timedelta(days=i), timedelta(days=i + 1))])
            add_people(db, contest_id, 2)
        statements.clear()
        page = client.get("/")
        assert len(statements) == one
        assert sum("GROUP BY" in s for s in statements) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(cards(html(page), "upcoming")) == 30
    assert len(page.content) < 40_000  # thirty contests: still a light page


def test_only_the_latest_finished_contests_are_listed(client, db):
    for i in range(FINISHED_SHOWN + 2):
        add_contest(db, f"Cũ {i}", rounds=[(timedelta(days=-100 + i), timedelta(days=-99 + i))])
    listed = cards(html(client.get("/")), "finished")
    assert len(listed) == FINISHED_SHOWN and listed[0] == f"Cũ {FINISHED_SHOWN + 1}"


def test_staff_login_stays_reachable_but_after_the_contests(client, contests):
    page = html(client.get("/"))
    links = [a["href"] for a in page.select("main a")]
    assert links[-1] == "/login" and "/login" not in links[:-1]


def test_empty_groups_say_so_and_the_page_has_the_countdown_script(client):
    page = html(client.get("/"))
    assert [s.select_one("p").get_text() for s in page.select("section.contest-group")] == ["Không có hội thi nào."] * 3
    assert page.select_one("script[src^='/static/countdown.js']") is not None


def test_english_home_page(client, contests):
    client.cookies.set("lang", "en")
    page = html(client.get("/"))
    assert [h.get_text() for h in page.select("section.contest-group h2")] == ["Running", "Upcoming", "Ended"]
    assert card(page, "Hội thi giữa hai tuần").select_one("[data-countdown]").get_text() == "in 5 h"


@pytest.mark.parametrize(("seconds", "text"), [(0, "dưới 1 phút"), (59, "dưới 1 phút"), (60, "1 phút"),
                                               (3600, "1 giờ"), (86_400 + 3 * 3600 + 5 * 60, "1 ngày 3 giờ 5 phút"),
                                               (2 * 86_400 + 59, "2 ngày")])
def test_countdown_text_leaves_out_zero_units(seconds, text):
    assert format_countdown(seconds) == text
