"""The demo data and the shipped question banks."""

from collections import Counter
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.banks import store, xlsx
from contest.banks.validate import validate
from contest.demo import BANKS_DIR, DEMO_ORGANISER, SHIPPED_BANKS, load_demo
from contest.models import Question
from contest.results import prizes, ranking
from tests.conftest import NOW, html, login

SIMULATED = 200  # a small finished demo contest keeps these tests quick


def test_shipped_banks_are_clean_sourced_and_large_enough():
    total = 0
    difficulty = {}
    for filename in SHIPPED_BANKS:
        result = xlsx.parse((BANKS_DIR / filename).read_bytes())
        accepted = validate(result)
        assert [str(p) for p in result.problems] == [], filename
        assert all(q.source for q in accepted), f"{filename}: a question without its source"
        assert all(q.explanation for q in accepted), f"{filename}: a question without explanation"
        total += len(accepted)
        counts = Counter(q.difficulty for q in accepted)
        difficulty[filename] = sum(level * n for level, n in counts.items()) / len(accepted)
    assert total >= 200
    officials, citizens = difficulty["cchc-can-bo-cong-chuc.xlsx"], difficulty["cchc-nguoi-dan.xlsx"]
    assert officials > citizens  # the officials' bank is the harder one


def test_shipped_options_survive_shuffling():
    """Options are shuffled in attempts, so none may point at another by its letter."""
    forbidden = ("cả a", "cả b", "tất cả các phương án", "các phương án trên", "cả ba", "không phương án nào")
    for filename in SHIPPED_BANKS:
        for q in validate(xlsx.parse((BANKS_DIR / filename).read_bytes())):
            assert not [o for o in q.options if o.lower().startswith(forbidden)], (filename, q.number)


def test_import_template_is_the_blank_template_with_one_example():
    sheet = load_workbook(BANKS_DIR / "template.xlsx")["Câu hỏi"]
    assert sheet.max_row == 2
    assert sheet["L2"].value == "A"


def test_demo_is_idempotent_and_logs_in(db, client):
    first = load_demo(db, now=NOW, simulated=SIMULATED)
    second = load_demo(db, now=NOW, simulated=SIMULATED)
    assert second == first[-3:]  # neither the banks nor the contests are loaded twice: only the log-in lines
    with db.session() as session:
        for name in SHIPPED_BANKS.values():
            assert store.find_bank(session, name) is not None
        assert session.scalar(select(func.count()).select_from(Question)) >= 200
    login(client, DEMO_ORGANISER[0], DEMO_ORGANISER[1])
    names = [a.get_text() for a in html(client.get("/staff/banks")).select("table.grid tbody a[href^='/staff/banks/']")
             if not a["href"].endswith(".xlsx")]
    assert names == sorted(SHIPPED_BANKS.values())


def test_demo_contest_is_open_and_both_tracks_can_start(db, client):
    from datetime import timedelta

    from contest.contests.attempts import start_in_round
    from contest.contests.draw import PoolCache
    from contest.contests.setup import round_tracks
    from contest.demo import DEMO_SLUG
    from contest.models import Contest, Contestant, Round

    load_demo(db, now=NOW, simulated=SIMULATED)
    page = html(client.get(f"/c/{DEMO_SLUG}"))
    assert "(dữ liệu mẫu)" in page.h1.get_text()
    later = NOW + timedelta(days=3)
    with db.write_session() as session:
        contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
        round_ = session.scalar(select(Round).where(Round.contest_id == contest.id))
        configs = round_tracks(session, round_.id)
        for n, track in enumerate(configs):
            session.add(Contestant(contest_id=contest.id, track=track, full_name="Thử", phone=f"090000000{n}",
                                   password_hash="x", consent_at=NOW, created_at=NOW))
    with db.session() as session:
        # The finished demo contest has contestants of its own: take this contest's only.
        people = session.execute(select(Contestant.id, Contestant.track)
                                 .where(Contestant.contest_id == contest.id)).all()
    pools = PoolCache()
    for contestant_id, track in people:
        start_in_round(db, pools, contest_id=contest.id, number=round_.number, contestant_id=contestant_id, now=later)
    with db.session() as session:
        from contest.models import Attempt, AttemptQuestion

        assert session.scalar(select(func.count()).select_from(AttemptQuestion).join(Attempt).where(
            Attempt.round_id == round_.id)) == 40


def test_finished_demo_contest_is_ranked_public_and_loaded_once(db):
    from contest.demo import DEMO_SIMULATED, DEMO_UNITS, RESULTS_SLUG
    from contest.models import Attempt, Contest, Contestant, RankingEntry, Round, RoundResult, Unit

    load_demo(db, now=NOW)  # the size `make run` loads
    with db.session() as session:
        contest = session.scalar(select(Contest).where(Contest.slug == RESULTS_SLUG))
        assert contest.public_results
        assert "(dữ liệu mô phỏng)" in contest.title
        round_ = session.scalar(select(Round).where(Round.contest_id == contest.id))
        assert round_.closes_at < NOW
        people = session.scalars(select(Contestant).where(Contestant.contest_id == contest.id)).all()
        assert len(people) == DEMO_SIMULATED
        results = session.scalars(select(RoundResult).where(RoundResult.round_id == round_.id)).all()
        assert sorted(r.track for r in results) == ["citizens", "officials"]
        assert not any(r.stale for r in results)
        assert {r.track: r.entries for r in results} == dict(Counter(p.track for p in people))
        assert session.scalar(select(func.count()).select_from(RankingEntry)
                              .where(RankingEntry.round_id == round_.id)) == DEMO_SIMULATED
        assert session.scalar(select(func.count()).select_from(Attempt)
                              .where(Attempt.round_id == round_.id, Attempt.status == "open")) == 0
        units = {u.id: u.code for u in session.scalars(select(Unit).where(Unit.contest_id == contest.id))}
        assert {units[p.unit_id] for p in people if p.track == "officials"} == {code for code, *_ in DEMO_UNITS}
        winners = ranking.leaderboard(session, round_.id, "citizens", limit=3)
        assert winners[0].rank == 1
        lists = {t: prizes.current_list(session, round_.id, t) for t in ("officials", "citizens")}
        assert {t: lst.status for t, lst in lists.items()} == {"officials": prizes.PrizeListStatus.LOCKED, "citizens": prizes.PrizeListStatus.DRAFT}
        awarded = [a["prize"] for a in prizes.awards(session, lists["officials"].id)]
        assert Counter(awarded) == {"first": 1, "second": 2, "third": 3, "consolation": 4}
    assert len(load_demo(db, now=NOW + timedelta(hours=1), simulated=SIMULATED)) == 3  # only the log-in lines
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Contestant)
                              .where(Contestant.contest_id == contest.id)) == DEMO_SIMULATED
