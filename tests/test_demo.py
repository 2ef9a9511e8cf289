"""The demo data and the shipped question banks."""

from collections import Counter

from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.banks import store, xlsx
from contest.banks.validate import validate
from contest.demo import BANKS_DIR, DEMO_ORGANISER, SHIPPED_BANKS, load_demo
from contest.models import Question
from tests.conftest import NOW, html, login


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
    first = load_demo(db, now=NOW)
    second = load_demo(db, now=NOW)
    assert second == first[-2:]  # neither the banks nor the contest are loaded twice
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

    from contest.contests.attempts import start_attempt
    from contest.contests.draw import PoolCache
    from contest.contests.setup import round_tracks, track_config
    from contest.demo import DEMO_SLUG
    from contest.models import Contest, Contestant, Round

    load_demo(db, now=NOW)
    page = html(client.get(f"/c/{DEMO_SLUG}"))
    assert "(dữ liệu mẫu)" in page.h1.get_text()
    later = NOW + timedelta(days=3)
    with db.write() as session:
        contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
        round_ = session.scalar(select(Round).where(Round.contest_id == contest.id))
        configs = round_tracks(session, round_.id)
        for n, track in enumerate(configs):
            session.add(Contestant(contest_id=contest.id, track=track, full_name="Thử", phone=f"090000000{n}",
                                   password_hash="x", consent_at=NOW, created_at=NOW))
    with db.session() as session:
        people = session.execute(select(Contestant.id, Contestant.track)).all()
    pools = PoolCache()
    for contestant_id, track in people:
        config = track_config(configs[track])
        start_attempt(db, pools, contestant_id=contestant_id, track=track, round_=round_, config=configs[track],
                      bank_ids=config.bank_ids, draw=config.draw, now=later)
    with db.session() as session:
        from contest.models import AttemptQuestion

        assert session.scalar(select(func.count()).select_from(AttemptQuestion)) == 40
