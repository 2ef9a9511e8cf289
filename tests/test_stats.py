"""Participation and score statistics on a small contest whose every figure is worked out by hand,
the charts, and the staff and public statistics pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy import insert, select, update

from contest.models import Attempt, AttemptQuestion, Contest, Contestant, Question, Round, Unit
from contest.results import charts, public_version, ranking, stats
from tests.conftest import NOW, html, login
from tests.contest_helpers import SLUG, make_contest, second_round, unit_id

TZ = "Asia/Ho_Chi_Minh"
CLOSED = NOW + timedelta(days=8)
SVG = "{http://www.w3.org/2000/svg}"
_phones = count(1)


def add_unit(db, contest, code, name, *, kind="unit", headcount=None, parent=None) -> int:
    with db.write_session() as session:
        unit = Unit(contest_id=contest.contest_id, kind=kind, code=code, name=name, headcount=headcount,
                    parent_id=unit_id(db, parent) if parent else None)
        session.add(unit)
        session.flush()
        return unit.id


def person(db, contest, name, *, track="officials", unit=None, locality=None) -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=contest.contest_id, track=track, full_name=name, search_name=name.lower(),
                         phone=f"09{next(_phones):08d}", password_hash="x", consent_at=NOW, created_at=NOW,
                         unit_id=unit_id(db, unit) if unit else None,
                         locality_id=unit_id(db, locality) if locality else None)
        session.add(row)
        session.flush()
        return row.id


def attempt(db, contestant_id, *, round_id, correct, total=20, started=NOW, track="officials",
            status="submitted") -> int:
    """An attempt started at `started` (UTC); finished ten minutes later unless still open."""
    with db.write_session() as session:
        seq = session.scalar(select(Attempt.seq).where(Attempt.contestant_id == contestant_id)
                             .order_by(Attempt.seq.desc()).limit(1)) or 0
        done = status != "open"
        return session.scalar(insert(Attempt).returning(Attempt.id), {
            "contestant_id": contestant_id, "round_id": round_id, "track": track, "seq": seq + 1,
            "started_at": started, "deadline": started + timedelta(minutes=15), "status": status,
            "finished_at": started + timedelta(minutes=10) if done else None, "question_count": total,
            "correct_count": correct if done else None, "duration_ms": 600_000 if done else None})


def utc(day, hour, minute=0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def contest(db):
    """make_contest's units (SNV 80 > CCHC 12) and localities (T > X1), plus:
    units XA (4) and a unit whose name holds a script tag (10, nobody takes part); locality X2 (nobody).

    Round 1, 20 questions each (score = correct / 20):
      an    CCHC  20 and 12  -> counted 100%      hoa  citizen, X1  19 -> 95%
      binh  CCHC  15         -> 75% (edge)        khanh citizen, X2  registered only
      chi   SNV    5         -> 25% (edge)
      dung  XA     0, started 23:30 UTC = 06:30 next day in Hanoi
      em    XA     4         -> 20%, started 16:59 UTC = 23:59 local
      giang XA     still open: started, not a participant
    """
    fixture = make_contest(db)
    add_unit(db, fixture, "XA", "UBND xã Tân Lập", headcount=4)
    add_unit(db, fixture, "BAD", "Sở <script>alert(1)</script>", headcount=10)
    add_unit(db, fixture, "X2", "Xã Hòa Bình", kind="locality", parent="T")
    r = fixture.round_id
    an = person(db, fixture, "An", unit="CCHC")
    attempt(db, an, round_id=r, correct=20)
    attempt(db, an, round_id=r, correct=12)
    attempt(db, person(db, fixture, "Bình", unit="CCHC"), round_id=r, correct=15)
    attempt(db, person(db, fixture, "Chi", unit="SNV"), round_id=r, correct=5)
    attempt(db, person(db, fixture, "Dũng", unit="XA"), round_id=r, correct=0, started=utc(2, 23, 30))
    attempt(db, person(db, fixture, "Em", unit="XA"), round_id=r, correct=4, started=utc(2, 16, 59))
    attempt(db, person(db, fixture, "Giang", unit="XA"), round_id=r, correct=None, status="open")
    attempt(db, person(db, fixture, "Hoa", track="citizens", locality="X1"), round_id=r, correct=19,
            track="citizens")
    person(db, fixture, "Khánh", track="citizens", locality="X2")
    return fixture


def figures(db, contest, round_id=None):
    with db.session() as session:
        return stats.contest_stats(session, contest.contest_id, round_id, tz=TZ)


# --- totals, units, localities ---------------------------------------------------------------------------

def test_totals_split_by_track(db, contest):
    totals = figures(db, contest).totals
    assert [(t.track, t.registered, t.started, t.finished, t.participants) for t in totals.tracks] == [
        ("officials", 6, 7, 6, 5), ("citizens", 2, 1, 1, 1)]
    assert (totals.registered, totals.started, totals.finished, totals.participants) == (8, 8, 7, 6)


def test_units_by_participation_rate_with_average_and_laggards(db, contest):
    units = figures(db, contest).units
    rows = [(r.code, r.participants, r.headcount, r.rate, r.average) for r in units.rows]
    assert rows == [
        ("XA", 2, 4, 0.5, pytest.approx(0.1)),                  # (0 + 0.20) / 2; Giang's open attempt left out
        ("CCHC", 2, 12, pytest.approx(1 / 6), pytest.approx(0.875)),  # (1.00 + 0.75) / 2; An's best attempt
        ("SNV", 1, 80, pytest.approx(1 / 80), pytest.approx(0.25)),   # its own contestants only, not CCHC's
        ("BAD", 0, 10, 0.0, None),
    ]
    assert (units.taking_part, len(units.rows)) == (3, 4)
    assert [r.code for r in units.laggards] == ["BAD"]
    assert units.rows[2].path == "Sở Nội vụ"
    assert units.rows[1].path == "Sở Nội vụ › Phòng Cải cách hành chính"


def test_localities_add_up_to_the_locality_above(db, contest):
    places = {r.code: (r.participants, r.average) for r in figures(db, contest).localities.rows}
    assert places == {"T": (1, pytest.approx(0.95)), "X1": (1, pytest.approx(0.95)), "X2": (0, None)}


# --- time of day --------------------------------------------------------------------------------------------

def test_utc_offset_of_vietnam_is_seven_hours():
    assert stats.utc_offset(TZ) == timedelta(hours=7)


def test_attempts_by_day_and_hour_in_hanoi_time(db, contest):
    result = figures(db, contest)
    # NOW is 03:00 UTC = 10:00 on 2 March locally; 16:59 UTC is still 2 March (23:59);
    # 23:30 UTC on 2 March is 06:30 on 3 March.
    assert [(c.key, c.count) for c in result.by_day] == [(date(2026, 3, 2), 7), (date(2026, 3, 3), 1)]
    hours = {c.key: c.count for c in result.by_hour if c.count}
    assert hours == {6: 1, 10: 6, 23: 1}
    assert [c.key for c in result.by_hour] == list(range(24))


def test_days_without_attempts_are_listed_as_zero(db, contest):
    attempt(db, person(db, contest, "Muộn", unit="XA"), round_id=contest.round_id, correct=3,
            started=utc(5, 2))  # 09:00 on 5 March
    days = [(c.key.day, c.count) for c in figures(db, contest).by_day]
    assert days == [(2, 7), (3, 1), (4, 0), (5, 1)]


# --- score histogram ------------------------------------------------------------------------------------------

def test_histogram_buckets_at_their_edges(db, contest):
    # 100% An | [75%, 100%): Bình exactly 75%, Hoa 95% | [25%, 75%): Chi exactly 25% | (0, 25%): Em 20% | 0: Dũng
    assert figures(db, contest).histogram == {"full": 1, "high": 2, "middle": 1, "low": 1, "zero": 1}


def test_histogram_just_below_each_edge(db, contest):
    other = person(db, contest, "Sát ngưỡng", unit="XA")
    with db.write_session() as session:
        session.execute(update(Attempt).where(Attempt.contestant_id != other).values(status="open",
                                                                                      correct_count=None))
    r = contest.round_id
    for correct in (99, 74, 24, 1):
        attempt(db, person(db, contest, f"P{correct}", unit="XA"), round_id=r, correct=correct, total=100)
    assert figures(db, contest).histogram == {"full": 0, "high": 1, "middle": 1, "low": 2, "zero": 0}


def test_ranked_round_counts_the_ranking_entries(db, contest):
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
        scope = stats.scope_of(session, contest.contest_id, contest.round_id)
    assert (scope.ranked, scope.unranked) == ((contest.round_id,), ())
    # Ranking closed Giang's overdue attempt with 0 correct: she now counts, in XA and in the zero bucket.
    result = figures(db, contest, contest.round_id)
    assert result.histogram == {"full": 1, "high": 2, "middle": 1, "low": 1, "zero": 2}
    xa = next(r for r in result.units.rows if r.code == "XA")
    assert (xa.participants, xa.rate, xa.average) == (3, 0.75, pytest.approx(0.2 / 3))


def test_whole_contest_counts_each_round_and_one_round_only_its_own(db, contest):
    second_id = second_round(db, contest)
    with db.session() as session:
        an = session.scalar(select(Contestant.id).where(Contestant.full_name == "An"))
    attempt(db, an, round_id=second_id, correct=10, total=20, started=utc(9, 3))
    whole, first, only_second = figures(db, contest), figures(db, contest, contest.round_id), \
        figures(db, contest, second_id)
    assert (whole.totals.finished, whole.totals.participants) == (8, 6)   # An still one person
    assert (first.totals.finished, first.totals.participants) == (7, 6)
    assert (only_second.totals.finished, only_second.totals.participants) == (1, 1)
    assert whole.histogram["middle"] == 2 and only_second.histogram == {
        "full": 0, "high": 0, "middle": 1, "low": 0, "zero": 0}
    cchc = next(r for r in whole.units.rows if r.code == "CCHC")
    assert cchc.average == pytest.approx(((20 + 10) / 40 + 0.75) / 2)  # An's rounds pooled: 30 of 40


def test_a_round_of_another_contest_is_refused(db, contest):
    with db.session() as session, pytest.raises(stats.ScopeError):
        stats.totals(session, contest.contest_id + 1, contest.round_id)


# --- question statistics ----------------------------------------------------------------------------------------

@pytest.fixture
def items_case(db):
    """Ten finished attempts scoring 10, 9, ..., 1 of 10, and one still open. Upper group: ceil(27% of 10)
    = 3 attempts (10, 9, 8 correct); lower group: 3, 2, 1 correct.
      q1 right in the 5 best attempts          -> facility 5/10, D = 3/3 - 0/3 = 1
      q2 right only in the worst attempt        -> facility 1/10 (< 0.2, key?), D = 0 - 1/3 (negative)
      q3 right everywhere                       -> facility 10/10 (> 0.95), D = 0
      q4 drawn in the best, the worst and the open attempt -> drawn 3, facility 1/2, D = 1/1 - 0/1 = 1
    """
    fixture = make_contest(db)
    with db.session() as session:
        q1, q2, q3, q4 = session.scalars(select(Question.id).order_by(Question.id).limit(4)).all()
    scores = list(range(10, 0, -1))
    ids = [attempt(db, person(db, fixture, f"T{s}"), round_id=fixture.round_id, correct=s, total=10)
           for s in scores]
    open_id = attempt(db, person(db, fixture, "Đang thi"), round_id=fixture.round_id, correct=None, status="open")
    rows = []
    for i, (attempt_id, score) in enumerate(zip(ids, scores)):
        rows += [(attempt_id, 0, q1, i < 5), (attempt_id, 1, q2, score == 1), (attempt_id, 2, q3, True)]
        if score in (10, 1):
            rows.append((attempt_id, 3, q4, score == 10))
    rows.append((open_id, 0, q4, None))
    with db.write_session() as session:
        session.execute(insert(AttemptQuestion), [
            {"attempt_id": a, "position": p, "question_id": q, "option_order": "0,1,2,3", "is_correct": ok}
            for a, p, q, ok in rows])
    return fixture, (q1, q2, q3, q4)


def test_facility_and_discrimination_on_a_constructed_case(db, items_case):
    fixture, (q1, q2, q3, q4) = items_case
    with db.session() as session:
        items = stats.item_statistics(session, fixture.contest_id, fixture.round_id)
    got = {i.question_id: (i.drawn, i.answered, i.facility, i.discrimination, i.flags) for i in items}
    assert got == {
        q1: (10, 10, 0.5, 1.0, []),
        q2: (10, 10, 0.1, pytest.approx(-1 / 3), [stats.HARD, stats.NEGATIVE]),
        q3: (10, 10, 1.0, 0.0, [stats.EASY]),
        q4: (3, 2, 0.5, 1.0, []),
    }
    assert [i.question_id for i in items] == [q2, q3, q1, q4]  # flagged first, hardest first


# --- charts -----------------------------------------------------------------------------------------------------

def test_bar_chart_is_xml_titled_and_escapes_labels():
    svg = charts.bar_chart([charts.Bar("Sở <script>alert(1)</script> & \"Ban\"", 0.4, "40%"),
                            charts.Bar("UBND xã", 0.9, "90%")],
                           title="Tỉ lệ <tham gia>", threshold=0.5, threshold_text="Ngưỡng 50%")
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg" and root.get("viewBox").startswith("0 0 360 ")
    assert root.find(f"{SVG}title").text == "Tỉ lệ <tham gia>"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Sở <script>alert(1)</script> & \"Ban\"" in texts and "Ngưỡng 50%" in texts
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert len(root.findall(f".//{SVG}line")) == 1  # the threshold


def test_bar_chart_keeps_leaders_and_laggards_when_long_and_stays_light():
    bars = [charts.Bar(f"Đơn vị số {i} có tên khá dài như thường thấy trong danh sách", 1 - i / 200, f"{i}%")
            for i in range(200)]
    svg = str(charts.bar_chart(bars, title="T", threshold=0.5, threshold_text="50%", more_text="… {n} …"))
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "Đơn vị số 0 có tên khá dài như thường thấy trong danh…" in texts
    assert any(t and t.startswith("Đơn vị số 199 ") for t in texts) and "… 176 …" in texts
    assert len(svg.encode()) < 12_000


def test_column_chart_and_histogram_parse_as_xml():
    days = charts.column_chart([charts.Bar(f"{d:02d}/03", d * 3, str(d * 3)) for d in range(1, 29)],
                               title="Theo ngày", label_every=4)
    root = ET.fromstring(str(days))
    assert len(root.findall(f"{SVG}rect")) == 28
    assert [t.text for t in root.iter(f"{SVG}text")][:2] == ["84", "0"]  # the axis: highest value and zero
    hist = ET.fromstring(str(charts.histogram([charts.Bar("100%", 1, "1"), charts.Bar("0", 0, "0")], title="H")))
    assert hist.find(f"{SVG}title").text == "H"
    assert ET.fromstring(str(charts.column_chart([], title="trống"))).find(f"{SVG}title").text == "trống"


# --- pages ------------------------------------------------------------------------------------------------------

def set_public(db, value: bool) -> None:
    with db.write_session() as session:
        session.execute(update(Contest).values(public_results=value))


def test_staff_page_for_viewers_with_tables_and_charts(client, staff, db, contest):
    login(client, staff["viewer"])
    response = client.get(f"/staff/contests/{contest.contest_id}/thong-ke")
    assert response.status_code == 200
    page = html(response)
    assert page.find(id="total-finished").get_text() == "7"
    assert [tr.find_all("td")[1].get_text() for tr in page.select(".stats-units tbody tr")][:2] == [
        "UBND xã Tân Lập", "Sở Nội vụ › Phòng Cải cách hành chính"]
    assert "Sở <script>alert(1)</script>" in page.find(id="laggards").get_text()
    assert "<script>alert" not in response.text
    svgs = page.find_all("svg")
    assert len(svgs) == 4
    for svg in svgs:
        ET.fromstring(str(svg))
    assert page.find(id="items-link") is not None and page.find(id="items-hidden") is None  # staff: at once
    assert [td.get_text() for td in page.select(".stats-histogram td.num")][::2] == ["1", "2", "1", "1", "1"]


def test_staff_page_round_selector(client, staff, db, contest):
    login(client, staff["viewer"])
    base = f"/staff/contests/{contest.contest_id}/thong-ke"
    page = html(client.get(f"{base}?dot=1"))
    assert page.find("option", selected=True)["value"] == "1"
    assert client.get(f"{base}?dot=7").status_code == 404
    assert client.get(f"{base}?dot=x").status_code == 404


def test_staff_page_needs_a_staff_login(client, contest):
    response = client.get(f"/staff/contests/{contest.contest_id}/thong-ke", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_public_page_is_404_unless_results_are_public(client, db, contest):
    assert client.get(f"/c/{SLUG}/thong-ke").status_code == 404
    set_public(db, True)
    assert client.get(f"/c/{SLUG}/thong-ke").status_code == 200
    with db.write_session() as session:
        session.execute(update(Contest).values(is_published=False))
    assert client.get(f"/c/{SLUG}/thong-ke").status_code == 404


def test_public_page_hides_item_statistics_until_the_round_closes(client, clock, db, contest):
    set_public(db, True)
    with db.write_session() as session:
        question, first = session.scalar(select(Question.id).limit(1)), session.scalar(select(Attempt.id).limit(1))
        session.execute(insert(AttemptQuestion).values(attempt_id=first, position=0, question_id=question,
                                                       option_order="0,1,2,3", is_correct=True))
    page = html(client.get(f"/c/{SLUG}/thong-ke?dot=1"))
    assert page.find(id="items-hidden") is not None and page.find(id="items-link") is None
    assert client.get(f"/c/{SLUG}/thong-ke/cau-hoi?dot=1").status_code == 404
    assert client.get(f"/c/{SLUG}/thong-ke/cau-hoi").status_code == 404  # the whole contest: not closed either
    assert page.find(id="laggards") is not None
    assert "Giang" not in page.get_text() and "An" not in page.get_text().split()
    clock.now = CLOSED
    page = html(client.get(f"/c/{SLUG}/thong-ke?dot=1"))
    assert page.find(id="items-hidden") is None
    assert page.find(id="items-link")["hx-get"] == f"/c/{SLUG}/thong-ke/cau-hoi?dot=1"
    items = html(client.get(f"/c/{SLUG}/thong-ke/cau-hoi?dot=1"))
    assert [tr["data-question"] for tr in items.select(".stats-items tbody tr")] == [str(question)]


def test_item_statistics_as_a_fragment_for_htmx_or_a_page(client, staff, db, items_case):
    fixture, (q1, q2, q3, q4) = items_case
    login(client, staff["viewer"])
    url = f"/staff/contests/{fixture.contest_id}/thong-ke/cau-hoi?dot=1"
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    rows = html(fragment).select(".stats-items tbody tr")
    assert [r["data-question"] for r in rows] == [str(q) for q in (q2, q3, q1, q4)]
    assert [f["data-flag"] for f in rows[0].select("[data-flag]")] == [stats.HARD, stats.NEGATIVE]
    assert [td.get_text() for td in rows[0].select("td.num")] == ["10", "10,0%", "-0,33"]
    page = client.get(url)
    assert "<html" in page.text and html(page).find("table", class_="stats-items") is not None


def test_figures_are_kept_a_while_but_a_new_ranking_shows_at_once(client, clock, db, contest):
    set_public(db, True)
    clock.now = CLOSED

    def perfect_scores() -> str:
        page = html(client.get(f"/c/{SLUG}/thong-ke?dot=1"))
        return page.select_one('.stats-histogram tr[data-bucket="full"] td.num').get_text()

    assert perfect_scores() == "1"
    with db.write_session() as session:  # Chi's paper is re-graded: 20 of 20
        session.execute(update(Attempt).where(Attempt.correct_count == 5).values(correct_count=20))
    assert perfect_scores() == "1"  # the same ranking: the kept figures
    with db.write_session() as session:  # what a key correction does: the ranking is stale, the pages out of date
        session.execute(update(stats.RR).values(stale=True))
        public_version.changed(session, contest.contest_id)
    assert perfect_scores() == "2"


def test_public_page_of_a_round_taking_answers_is_at_most_a_minute_old(client, clock, db, contest):
    set_public(db, True)
    clock.now = NOW + timedelta(hours=1)

    def finished() -> str:
        return html(client.get(f"/c/{SLUG}/thong-ke?dot=1")).find(id="total-finished").get_text()

    assert finished() == "7"
    attempt(db, person(db, contest, "Long", unit="XA"), round_id=contest.round_id, correct=10)
    clock.advance(seconds=59)
    assert finished() == "7"  # the page as rendered a moment ago
    clock.advance(seconds=1)
    assert finished() == "8"


def test_contest_page_links_to_the_statistics(client, staff, contest):
    login(client, staff["organiser"])
    page = html(client.get(f"/staff/contests/{contest.contest_id}"))
    assert page.find("a", href=f"/staff/contests/{contest.contest_id}/thong-ke") is not None
