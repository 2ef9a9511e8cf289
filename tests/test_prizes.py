"""Prize lists: order, skips, ties at the boundary, locking, unlocking, the audit trail; team prizes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contest.models import Attempt, Contest, Contestant, PrizeAward, Round, Unit
from contest.results import prizes, ranking
from tests.conftest import NOW
from tests.contest_helpers import make_contest, second_round, unit_id
from tests.test_ranking import CLOSED, attempt, person


@pytest.fixture
def contest(db):
    return make_contest(db)


def set_contest(db, contest, **values):
    if "prize_counts" in values:
        values["prize_counts"] = json.dumps(values["prize_counts"])
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == contest.contest_id).values(**values))


def people(db, contest, scores: dict[str, int], *, round_id=None) -> dict[str, int]:
    """One contestant per name with one finished attempt of that many correct answers."""
    ids = {}
    for name, correct in scores.items():
        ids[name] = person(db, contest, name)
        attempt(db, contest, ids[name], correct=correct, round_id=round_id)
    return ids


def propose(db, contest, *, round_id=None, now=CLOSED, user_id=None) -> list[tuple[str, str]]:
    with db.write_session() as session:
        list_id = prizes.propose(session, round_id or contest.round_id, "officials", now, user_id=user_id).id
    return awarded(db, list_id)


def awarded(db, list_id: int) -> list[tuple[str, str]]:
    with db.session() as session:
        return [(row["full_name"], row["prize"]) for row in prizes.awards(session, list_id)]


def list_id_of(db, contest, round_id=None) -> int:
    with db.session() as session:
        return prizes.current_list(session, round_id or contest.round_id, "officials").id


def lock(db, contest, round_id=None, now=CLOSED):
    with db.write_session() as session:
        return prizes.lock(session, list_id_of(db, contest, round_id), None, now).id


COUNTS_1111 = {"first": 1, "second": 1, "third": 1, "consolation": 1}


def test_propose_awards_prizes_in_rank_order_by_the_contest_counts(db, contest):
    set_contest(db, contest, prize_counts={"first": 1, "second": 2, "third": 0, "consolation": 1})
    people(db, contest, {"An": 9, "Bình": 8, "Chi": 7, "Dũng": 6, "Em": 5})
    assert propose(db, contest) == [("An", "first"), ("Bình", "second"), ("Chi", "second"), ("Dũng", "consolation")]


def test_propose_ranks_a_closed_round_first(db, contest):
    people(db, contest, {"An": 9})
    with db.session() as session:
        assert ranking.round_result(session, contest.round_id, "officials") is None
    assert propose(db, contest) == [("An", "first")]
    with db.session() as session:
        assert ranking.round_result(session, contest.round_id, "officials").entries == 1


def test_propose_refuses_a_round_still_open(db, contest):
    people(db, contest, {"An": 9})
    with db.write_session() as session, pytest.raises(prizes.PrizeError, match="chưa kết thúc"):
        prizes.propose(session, contest.round_id, "officials", NOW)


def test_propose_skips_people_excluded_by_phone_and_by_cccd(db, contest):
    set_contest(db, contest, prize_counts=COUNTS_1111)
    ids = people(db, contest, {"Ban tổ chức": 10, "Tổ giúp việc": 9, "An": 8, "Bình": 7, "Chi": 6, "Dũng": 5})
    with db.write_session() as session:
        session.execute(update(Contestant).where(Contestant.id == ids["Ban tổ chức"]).values(phone="0911222333"))
        session.execute(update(Contestant).where(Contestant.id == ids["Tổ giúp việc"]).values(cccd="001099012345"))
    set_contest(db, contest, excluded="091 122 2333\n001099012345\n")
    assert propose(db, contest) == [("An", "first"), ("Bình", "second"), ("Chi", "third"), ("Dũng", "consolation")]
    with db.session() as session:
        round_ = session.get(Round, contest.round_id)
        skipped = prizes.plan(session, round_, "officials", COUNTS_1111).skipped
    assert [(entry.full_name, reason) for entry, reason in skipped] == [
        ("Ban tổ chức", prizes.SkipReason.EXCLUDED), ("Tổ giúp việc", prizes.SkipReason.EXCLUDED)]


def test_one_prize_per_person_skips_holders_of_a_locked_list_of_another_round(db, contest):
    set_contest(db, contest, prize_counts={"first": 1, "second": 1, "third": 0, "consolation": 0},
                one_prize_per_person=True)
    ids = people(db, contest, {"An": 9, "Bình": 8, "Chi": 7})
    round_2 = second_round(db, contest)
    for name, correct in (("An", 10), ("Chi", 9), ("Bình", 8)):
        attempt(db, contest, ids[name], correct=correct, round_id=round_2)
    later = NOW + timedelta(days=15)
    propose(db, contest, now=later)
    # A draft list elsewhere does not count: only locked prizes do.
    assert propose(db, contest, round_id=round_2, now=later) == [("An", "first"), ("Chi", "second")]
    lock(db, contest, now=later)
    assert propose(db, contest, round_id=round_2, now=later) == [("Chi", "first")]
    set_contest(db, contest, one_prize_per_person=False)
    assert propose(db, contest, round_id=round_2, now=later) == [("An", "first"), ("Chi", "second")]


def test_a_tie_at_the_boundary_shares_the_prize_even_beyond_the_count(db, contest):
    set_contest(db, contest, prize_counts={"first": 1, "second": 1, "third": 0, "consolation": 0})
    people(db, contest, {"An": 9, "Bình": 8, "Chi": 8, "Dũng": 7})
    assert propose(db, contest) == [("An", "first"), ("Bình", "second"), ("Chi", "second")]


def test_a_tie_takes_places_so_the_prizes_below_move_down(db, contest):
    set_contest(db, contest, prize_counts={"first": 1, "second": 2, "third": 0, "consolation": 0})
    people(db, contest, {"An": 9, "Bình": 9, "Chi": 8, "Dũng": 7})
    assert sorted(propose(db, contest)) == [("An", "first"), ("Bình", "first"), ("Chi", "second")]


def test_a_locked_list_does_not_change_after_a_rerank_and_propose_refuses(db, contest):
    set_contest(db, contest, prize_counts={"first": 1, "second": 1, "third": 0, "consolation": 0})
    ids = people(db, contest, {"An": 9, "Bình": 8, "Chi": 7})
    propose(db, contest)
    list_id = lock(db, contest)
    with db.write_session() as session:  # e.g. a corrected key lifts Chi to the top
        session.execute(update(Attempt).where(Attempt.contestant_id == ids["Chi"]).values(correct_count=10))
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED + timedelta(hours=1))
    assert awarded(db, list_id) == [("An", "first"), ("Bình", "second")]
    with db.session() as session:
        diffs = prizes.differences(session, list_id)
    assert [(d.full_name, d.listed, d.current) for d in diffs] == [
        ("Chi", None, "first"), ("An", "first", "second"), ("Bình", "second", None)]
    with db.write_session() as session, pytest.raises(prizes.PrizeError, match="đã được khóa"):
        prizes.propose(session, contest.round_id, "officials", CLOSED + timedelta(hours=2))
    assert awarded(db, list_id) == [("An", "first"), ("Bình", "second")]


def test_a_locked_list_matching_the_ranking_shows_no_differences(db, contest):
    people(db, contest, {"An": 9, "Bình": 8})
    propose(db, contest)
    list_id = lock(db, contest)
    with db.session() as session:
        assert prizes.differences(session, list_id) == []


def test_lock_refuses_a_draft_the_ranking_has_moved_away_from(db, contest):
    ids = people(db, contest, {"An": 9, "Bình": 8})
    set_contest(db, contest, prize_counts={"first": 1, "second": 0, "third": 0, "consolation": 0})
    propose(db, contest)
    with db.write_session() as session:
        session.execute(update(Attempt).where(Attempt.contestant_id == ids["Bình"]).values(correct_count=10))
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
    with db.write_session() as session, pytest.raises(prizes.PrizeError, match="đề xuất lại"):
        prizes.lock(session, list_id_of(db, contest), None, CLOSED)
    assert propose(db, contest) == [("Bình", "first")]
    lock(db, contest)


def test_unlock_needs_a_reason_and_makes_the_list_a_draft_again(db, contest):
    people(db, contest, {"An": 9})
    propose(db, contest)
    list_id = lock(db, contest)
    with db.write_session() as session, pytest.raises(prizes.PrizeError, match="lý do"):
        prizes.unlock(session, list_id, None, CLOSED, reason="   ")
    with db.write_session() as session:
        assert prizes.unlock(session, list_id, None, CLOSED, reason="Sửa đáp án câu 5").status == prizes.PrizeListStatus.DRAFT
    with db.write_session() as session, pytest.raises(prizes.PrizeError, match="chưa được khóa"):
        prizes.unlock(session, list_id, None, CLOSED, reason="lần nữa")


def test_propose_lock_and_unlock_each_leave_an_audit_event(db, contest):
    people(db, contest, {"An": 9})
    propose(db, contest)
    list_id = lock(db, contest)
    with db.write_session() as session:
        prizes.unlock(session, list_id, None, CLOSED, reason="Khiếu nại của thí sinh")
    with db.session() as session:
        events = prizes.audit_trail(session, contest.contest_id)
    assert [e["action"] for e in events] == ["prizes_unlocked", "prizes_locked", "prizes_proposed", "ranked"]
    assert events[0]["detail"]["reason"] == "Khiếu nại của thí sinh"
    assert (events[2]["detail"]["round"], events[2]["detail"]["awards"]) == (1, 1)


def test_a_new_proposal_replaces_the_draft(db, contest):
    people(db, contest, {"An": 9, "Bình": 8})
    propose(db, contest)
    set_contest(db, contest, prize_counts={"first": 1, "second": 0, "third": 0, "consolation": 0})
    assert propose(db, contest) == [("An", "first")]
    with db.session() as session:
        assert session.scalar(select(PrizeAward.list_id).distinct()) == list_id_of(db, contest)


def test_save_settings_checks_numbers(db, contest):
    with db.write_session() as session:
        row = session.get(Contest, contest.contest_id)
        with pytest.raises(prizes.PrizeError):
            prizes.save_settings(session, row, counts={"first": "-1"}, one_prize_per_person=False,
                                 team_min_rate="50", public_results=False, user_id=None, now=NOW)
        with pytest.raises(prizes.PrizeError):
            prizes.save_settings(session, row, counts={}, one_prize_per_person=False, team_min_rate="150",
                                 public_results=False, user_id=None, now=NOW)
        prizes.save_settings(session, row, counts={"first": "2", "second": "3"}, one_prize_per_person=True,
                             team_min_rate="60", public_results=True, user_id=None, now=NOW)
    with db.session() as session:
        row = session.get(Contest, contest.contest_id)
        assert prizes.prize_counts(row) == {"first": 2, "second": 3, "third": 0, "consolation": 0}
        assert (row.one_prize_per_person, row.team_min_rate, row.public_results) == (True, 60, True)


# --- team prizes ------------------------------------------------------------------------------------------

def members(db, contest, code: str, scores: list[int], *, prefix: str) -> None:
    uid = unit_id(db, code)
    for i, correct in enumerate(scores):
        cid = person(db, contest, f"{prefix} {i}")
        with db.write_session() as session:
            session.execute(update(Contestant).where(Contestant.id == cid).values(unit_id=uid))
        attempt(db, contest, cid, correct=correct)


def headcounts(db, **values):
    with db.write_session() as session:
        for code, headcount in values.items():
            session.execute(update(Unit).where(Unit.code == code).values(headcount=headcount))


def teams(db, contest, **kwargs):
    ranking.ensure_ranked(db, session_round(db, contest), now=CLOSED)
    with db.session() as session:
        return [(t.name.split(" › ")[-1], t.rank, t.status, t.participants, t.rate, t.average)
                for t in prizes.team_ranking(session, contest.contest_id, **kwargs)]


def session_round(db, contest) -> Round:
    with db.session() as session:
        return session.get(Round, contest.round_id)


def test_a_unit_under_the_minimum_rate_is_listed_but_not_ranked(db, contest):
    headcounts(db, SNV=10, CCHC=10)
    members(db, contest, "SNV", [5] * 4, prefix="Sở")  # 40%
    members(db, contest, "CCHC", [5] * 6, prefix="Phòng")  # 60%
    assert teams(db, contest) == [
        ("Phòng Cải cách hành chính", 1, prizes.TeamStatus.RANKED, 6, 60.0, 50.0),
        ("Sở Nội vụ", None, prizes.TeamStatus.BELOW_MIN, 4, 40.0, 50.0)]


def test_units_rank_by_rate_then_average_and_child_units_count_for_themselves(db, contest):
    headcounts(db, SNV=4, CCHC=2)
    members(db, contest, "SNV", [10, 8], prefix="Sở")  # 50%, average 90%
    members(db, contest, "CCHC", [6], prefix="Phòng")  # 50%, average 60%
    assert teams(db, contest, round_id=contest.round_id) == [
        ("Sở Nội vụ", 1, prizes.TeamStatus.RANKED, 2, 50.0, 90.0),
        ("Phòng Cải cách hành chính", 2, prizes.TeamStatus.RANKED, 1, 50.0, 60.0)]


def test_a_unit_without_headcount_is_not_ranked(db, contest):
    headcounts(db, SNV=None, CCHC=1)
    members(db, contest, "SNV", [5], prefix="Sở")
    members(db, contest, "CCHC", [5], prefix="Phòng")
    assert [(name, rank, status) for name, rank, status, *_ in teams(db, contest)] == [
        ("Phòng Cải cách hành chính", 1, prizes.TeamStatus.RANKED), ("Sở Nội vụ", None, prizes.TeamStatus.NO_HEADCOUNT)]


def test_public_team_ranking_leaves_out_rounds_not_closed(db, contest):
    headcounts(db, SNV=1, CCHC=1)
    members(db, contest, "SNV", [5], prefix="Sở")
    with db.write_session() as session:  # a provisional ranking while the round is open
        ranking.rank_round(session, session.get(Round, contest.round_id), now=NOW)
        rows = prizes.team_ranking(session, contest.contest_id, closed_by=NOW)
    assert [(t.participants, t.rank) for t in rows] == [(0, None), (0, None)]
