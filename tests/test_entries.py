"""Entry rounds: setting one up, entries and their versions, the jury's assignment, scores, flags and finalising
(the domain, contest.entries), on the real database."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contest import accounts
from contest.contests.setup import SetupError
from contest.entries import judging, rounds, submissions
from contest.entries.files import StoredFile
from contest.models import (AuditEvent, Contest, Contestant, Entry, EntryRound, JudgeAssignment, RankingEntry, Role, Round,
                            RoundKind)
from tests.conftest import NOW
from tests.contest_helpers import make_contest, unit_id

RULES = rounds.EntryRules(tracks=("officials", "citizens"), max_words=100, file_kinds=("png", "docx"), max_files=2,
                          judges_per_entry=2, flag_gap=10, criteria=(
                              rounds.Criterion("Nội dung", "Đúng chủ đề", 60), rounds.Criterion("Sáng tạo", "", 40)))


def entry_round(db, contest, rules=RULES, *, number=2, opens=timedelta(hours=-1), closes=timedelta(days=7)) -> int:
    with db.write_session() as session:
        contest_row = session.get(Contest, contest.contest_id)
        round_ = rounds.save_entry_round(session, contest=contest_row, now=NOW - timedelta(days=10), round_=None,
                                         number=number, title="Vòng 2 – Bài viết", opens_at=NOW + opens,
                                         closes_at=NOW + closes, rules=rules)
        return round_.id


def person(db, contest_id: int, n: int, *, track="officials", unit=None) -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=contest_id, track=track, full_name=f"Người dự thi {n}", search_name=f"nguoi {n}",
                         phone=f"09{n:08d}", password_hash="x", consent_at=NOW, created_at=NOW, unit_id=unit)
        session.add(row)
        session.flush()
        return row.id


def judge(db, n: int) -> int:
    with db.write_session() as session:
        return accounts.create_user(session, email=f"giamkhao{n}@example.org", password="mat-khau-giam-khao",
                                    role=Role.judge, now=NOW, full_name=f"Giám khảo {n}").id


def loaded(session, round_id):
    row, rules = rounds.entry_round(session, round_id)
    return session.get(Round, round_id), rules


def submit_text(db, round_id, contestant_id, text, *, now=NOW, files=(), video=""):
    with db.write_session() as session:
        round_, rules = loaded(session, round_id)
        return submissions.submit(session, round_=round_, rules=rules, contestant=session.get(Contestant, contestant_id),
                                  text=text, video_url=video, files=list(files), now=now).version.seq


def stored_png(sha="a" * 64) -> StoredFile:
    return StoredFile(kind="png", size=1234, sha256=sha, path=None, original_name="tranh-co-dong.png", removed=(),
                      warnings=())


@pytest.fixture
def contest(db):
    return make_contest(db)


def test_an_entry_round_is_saved_with_its_rubric_and_quiz_pages_do_not_take_it(db, contest):
    round_id = entry_round(db, contest)
    with db.session() as session:
        round_ = session.get(Round, round_id)
        assert round_.kind == RoundKind.ENTRY
        row, rules = rounds.entry_round(session, round_id)
        assert rules.criteria == RULES.criteria and rules.max_total == 100 and rules.file_kinds == ("png", "docx")
        assert rounds.entry_round(session, contest.round_id) is None  # the quiz round has no entry settings


@pytest.mark.parametrize("change, field", [
    ({"max_words": 10}, "max_words"), ({"file_kinds": ("exe",)}, "file_kinds"), ({"max_files": 0}, "max_files"),
    ({"judges_per_entry": 0}, "judges_per_entry"), ({"aggregation": "median"}, "aggregation"),
    ({"criteria": ()}, "criteria"), ({"criteria": (rounds.Criterion("", "", 10),)}, "criteria"),
    ({"criteria": (rounds.Criterion("Nội dung", "", 0),)}, "criteria"),
    ({"allow_text": False, "file_kinds": (), "max_files": 0}, "allow_text"),
    ({"tracks": ("aliens",)}, "tracks"),
])
def test_entry_round_settings_that_cannot_work_are_refused_naming_the_field(db, contest, change, field):
    from dataclasses import replace
    with pytest.raises(SetupError) as refused:
        entry_round(db, contest, replace(RULES, **change))
    assert refused.value.field == field


def test_two_stage_contest_only_lets_the_best_of_the_quiz_round_enter(db, contest):
    from dataclasses import replace
    first, second, third = (person(db, contest.contest_id, n) for n in (1, 2, 3))
    with db.write_session() as session:
        for rank, contestant_id in enumerate((first, second), start=1):
            session.add(RankingEntry(round_id=contest.round_id, track="officials", contestant_id=contestant_id,
                                     attempt_id=rank, rank=rank, correct_count=10 - rank, question_count=10,
                                     duration_ms=1000, finished_at=NOW))
    round_id = entry_round(db, contest, replace(RULES, best_of_round_id=contest.round_id, best_n=1))
    assert submit_text(db, round_id, first, "Bài viết của người đứng đầu vòng sơ khảo.") == 1
    for contestant_id in (second, third):
        with pytest.raises(submissions.EntryRefused, match="1 người có kết quả cao nhất"):
            submit_text(db, round_id, contestant_id, "Bài viết của người không vào vòng.")
    with pytest.raises(SetupError) as refused:  # the earlier round must be a quiz round of the contest, before this one
        entry_round(db, contest, replace(RULES, best_of_round_id=round_id, best_n=1), number=3)
    assert refused.value.field == "best_of_round_id"


def test_versions_are_kept_with_time_and_hash_and_files_carry_over(db, contest):
    round_id = entry_round(db, contest)
    someone = person(db, contest.contest_id, 1)
    with db.write_session() as session:
        round_, rules = loaded(session, round_id)
        submissions.save_draft(session, round_=round_, rules=rules, contestant=session.get(Contestant, someone),
                               text="Bản nháp đầu", now=NOW)
    with db.session() as session:
        entry = submissions.entry_of(session, round_id, someone)
        assert entry.status == "draft" and entry.draft_text == "Bản nháp đầu" and entry.versions == 0
        code = entry.code
    assert submit_text(db, round_id, someone, "Bài viết lần một.", files=[stored_png()]) == 1
    later = NOW + timedelta(hours=2)
    assert submit_text(db, round_id, someone, "Bài viết lần hai, sửa lại.", now=later) == 2
    with db.session() as session:
        entry = submissions.entry_of(session, round_id, someone)
        assert entry.code == code and entry.status == "submitted" and entry.submitted_at == later
        newest, oldest = submissions.versions(session, entry.id)
        assert (newest.seq, newest.text, newest.words, newest.submitted_at) == (2, "Bài viết lần hai, sửa lại.", 6,
                                                                                 later)
        assert [f.sha256 for f in submissions.files_of(session, newest.id)] == ["a" * 64]  # the poster stays
        expected = hashlib.sha256("Bài viết lần hai, sửa lại.\0\0".encode() + b"a" * 64 + b"\0").hexdigest()
        assert newest.content_hash == expected != oldest.content_hash
        logged = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "entry_submitted")).all()
        assert len(logged) == 2 and all(code in detail for detail in logged)


def test_entries_outside_the_rules_or_the_window_are_refused(db, contest):
    round_id = entry_round(db, contest)
    someone = person(db, contest.contest_id, 1)
    with pytest.raises(submissions.EntryRefused, match="vượt giới hạn 100 chữ"):
        submit_text(db, round_id, someone, "chữ " * 101)
    with pytest.raises(submissions.EntryRefused, match="trống"):
        submit_text(db, round_id, someone, "   ")
    with pytest.raises(submissions.EntryRefused, match="hết hạn"):
        submit_text(db, round_id, someone, "Nộp muộn.", now=NOW + timedelta(days=8))
    with pytest.raises(submissions.EntryRefused, match="tối đa 2 tệp"):
        submit_text(db, round_id, someone, "Ba tệp.", files=[stored_png(c * 64) for c in "abc"])
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 0  # nothing half-saved


def scored_world(db, contest, *, entries=12, judges=4, units=True):
    """A closed entry round (submissions in, then closed) with `entries` entries and a panel of `judges`."""
    round_id = entry_round(db, contest, closes=timedelta(days=1))
    unit_a, unit_b = unit_id(db, "SNV"), unit_id(db, "CCHC")
    people = [person(db, contest.contest_id, n, unit=(unit_a if n % 2 else unit_b) if units else None)
              for n in range(1, entries + 1)]
    for contestant_id in people:
        submit_text(db, round_id, contestant_id, f"Bài viết số {contestant_id} về cải cách hành chính.")
    panel = [judge(db, n) for n in range(1, judges + 1)]
    with db.write_session() as session:
        judging.set_panel(session, round_id, {j: (unit_a if i == 0 and units else None) for i, j in enumerate(panel)})
    return round_id, people, panel


def assign(db, round_id):
    with db.write_session() as session:
        round_, rules = loaded(session, round_id)
        return judging.assign(session, round_, rules, now=NOW, user_id=None)


def test_assignment_gives_each_entry_k_judges_balanced_never_the_judges_own_unit(db, contest):
    round_id, people, panel = scored_world(db, contest, entries=12, judges=4)
    assert assign(db, round_id) == 24
    assert assign(db, round_id) == 0  # again: nothing is missing, nothing moves
    with db.session() as session:
        rows = session.execute(select(JudgeAssignment.judge_id, Contestant.unit_id)
                               .join(Entry, Entry.id == JudgeAssignment.entry_id)
                               .join(Contestant, Contestant.id == Entry.contestant_id)).all()
        per_entry = session.execute(select(JudgeAssignment.entry_id, func.count())
                                    .group_by(JudgeAssignment.entry_id)).all()
        unit_a = unit_id(db, "SNV")
    assert sorted(n for _, n in per_entry) == [2] * 12
    assert not [1 for judge_id, unit in rows if judge_id == panel[0] and unit == unit_a]  # own unit: never
    load = {j: sum(1 for judge_id, _ in rows if judge_id == j) for j in panel}
    # the first judge may take only the 6 entries of the other unit; the other three share the rest evenly
    assert load[panel[0]] <= 6 and max(load[j] for j in panel[1:]) - min(load[j] for j in panel[1:]) <= 1


def test_assignment_that_cannot_reach_k_judges_is_refused_with_nothing_saved(db, contest):
    round_id, people, panel = scored_world(db, contest, entries=3, judges=2)
    # judge 1 is of unit SNV, so SNV's entries have only one judge left for a K of 2
    with pytest.raises(judging.JudgingError, match="cần 2 giám khảo"):
        assign(db, round_id)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(JudgeAssignment)) == 0


def score_all(db, round_id, points_by_judge):
    """Every assignment not yet scored is scored: points_by_judge(entry_code, nth) -> (content, creativity) as
    typed, nth counting the entry's assignments from 0 in the order they were made."""
    with db.write_session() as session:
        criteria = rounds.rubric(session, round_id)
        seen: dict[int, int] = {}
        for assignment in session.scalars(select(JudgeAssignment).order_by(JudgeAssignment.id)).all():
            nth = seen[assignment.entry_id] = seen.get(assignment.entry_id, -1) + 1
            if assignment.scored_at is not None:
                continue
            code = session.get(Entry, assignment.entry_id).code
            values = points_by_judge(code, nth)
            judging.score(session, assignment, {c.id: v for c, v in zip(criteria, values)}, "Nhận xét.",
                          now=NOW + timedelta(days=2))


def test_scores_add_up_flags_are_raised_and_one_more_judge_resolves_them(db, contest):
    round_id, people, panel = scored_world(db, contest, entries=4, judges=3, units=False)
    assign(db, round_id)
    with db.session() as session:
        codes = [e.code for e in session.scalars(select(Entry).order_by(Entry.id))]
    disputed = codes[0]

    def points(code, nth):
        if code == disputed:  # 80 and 40.5 from the first two judges; 60 from the one more judge
            return [("50", "30"), ("30", "10,5"), ("30", "30")][nth]
        return ("45,5", "30")

    score_all(db, round_id, points)
    with db.session() as session:
        _, rules = loaded(session, round_id)
        results = {r.code: r for r in judging.results(session, round_id, rules)}
    assert results[codes[1]].score == 7550 and not results[codes[1]].flagged  # 75.5 from both
    assert results[disputed].flagged and results[disputed].totals == [800, 405] and results[disputed].score == 6025
    with db.write_session() as session:
        round_, rules = loaded(session, round_id)
        with pytest.raises(judging.JudgingError, match="chưa hết hạn"):
            judging.finalise(session, round_, rules, now=NOW, user_id=None)
    closed = NOW + timedelta(days=2)
    with db.write_session() as session:
        round_, rules = loaded(session, round_id)
        with pytest.raises(judging.JudgingError, match=disputed):
            judging.finalise(session, round_, rules, now=closed, user_id=None)
        entry = session.scalar(select(Entry).where(Entry.code == disputed))
        extra = judging.send_to_another(session, round_, entry, now=closed, user_id=None)
        assert extra.extra and extra.judge_id in panel
    with db.write_session() as session:
        round_, rules = loaded(session, round_id)
        with pytest.raises(judging.JudgingError, match="1 lượt chấm chưa xong"):
            judging.finalise(session, round_, rules, now=closed, user_id=None)
    score_all(db, round_id, points)
    with db.write_session() as session:
        round_, rules = loaded(session, round_id)
        ranked = judging.finalise(session, round_, rules, now=closed, user_id=None)
    assert [(r.rank, r.score) for r in ranked] == [(1, 7550), (1, 7550), (1, 7550), (4, 6017)]
    assert ranked[3].code == disputed and ranked[3].totals == [800, 405, 600] and ranked[3].flagged
    with db.write_session() as session:  # frozen: no judge can change a score now
        assignment = session.scalars(select(JudgeAssignment)).first()
        criteria = rounds.rubric(session, round_id)
        with pytest.raises(judging.JudgingError, match="đã được chốt"):
            judging.score(session, assignment, {c.id: "1" for c in criteria}, "", now=closed)
        assert session.get(EntryRound, round_id).finalised_at == closed


@pytest.mark.parametrize("typed, tenths", [("8", 80), ("8,5", 85), ("8.5", 85), (" 10 ", 100), ("0", 0),
                                           ("8,55", None), ("-1", None), ("", None), ("abc", None), ("٣", None),
                                           ("99999", None)])
def test_points_are_read_as_judges_type_them(typed, tenths):
    assert judging.parse_points(typed) == tenths


def test_a_score_above_the_criterion_maximum_or_missing_is_refused(db, contest):
    round_id, people, panel = scored_world(db, contest, entries=2, judges=2, units=False)
    assign(db, round_id)
    with db.write_session() as session:
        criteria = rounds.rubric(session, round_id)
        assignment = session.scalars(select(JudgeAssignment)).first()
        with pytest.raises(judging.JudgingError, match="vượt mức tối đa 60"):
            judging.score(session, assignment, {criteria[0].id: "60,5", criteria[1].id: "1"}, "", now=NOW)
        with pytest.raises(judging.JudgingError, match="Sáng tạo"):
            judging.score(session, assignment, {criteria[0].id: "5"}, "", now=NOW)


def test_combining_totals_rounds_half_up_and_trims_only_with_enough_judges():
    from dataclasses import replace
    mean, trimmed = RULES, replace(RULES, aggregation="trimmed", trim_from=4)
    assert judging.combine([], mean) is None
    assert judging.combine([855, 870, 881], mean) == 8687  # 86.8666… points
    assert judging.combine([1, 2], mean) == 15  # 0.15 exactly
    assert judging.combine([855, 870, 881], trimmed) == 8687  # three judges: nothing left out
    assert judging.combine([500, 870, 881, 1000], trimmed) == 8755  # 50 and 100 left out
    rng = random.Random(7)
    for _ in range(500):  # against exact arithmetic
        totals = [rng.randrange(0, 1001) for _ in range(rng.randrange(1, 8))]
        from fractions import Fraction
        exact = Fraction(sum(totals) * 10, len(totals))
        assert judging.combine(totals, mean) == int(exact + Fraction(1, 2))


def test_flag_only_past_the_gap():
    assert not judging.is_flagged([800], RULES)
    assert not judging.is_flagged([800, 900], RULES)  # 10 points apart: the gap itself is not past it
    assert judging.is_flagged([800, 901], RULES)


def test_a_judge_with_entries_stays_on_the_panel_and_non_judges_cannot_join(db, contest):
    round_id, people, panel = scored_world(db, contest, entries=2, judges=2, units=False)
    assign(db, round_id)
    with db.write_session() as session:
        with pytest.raises(judging.JudgingError, match="đã được giao bài"):
            judging.set_panel(session, round_id, {panel[0]: None})
    with db.write_session() as session:
        organiser = accounts.create_user(session, email="btc@example.org", password="mat-khau-btc-2026",
                                         role=Role.organiser, now=NOW)
        with pytest.raises(judging.JudgingError, match="không phải là giám khảo"):
            judging.set_panel(session, round_id, {**{j: None for j in panel}, organiser.id: None})


def test_the_evidence_pack_carries_the_jury_sheets_cell_by_cell(db, contest, settings):
    from openpyxl import load_workbook

    from contest.exports import jobs

    round_id, people, panel = scored_world(db, contest, entries=3, judges=2, units=False)
    assign(db, round_id)
    with db.session() as session:
        codes = [e.code for e in session.scalars(select(Entry).order_by(Entry.id))]

    def points(code, nth):
        return ("55", "35,5") if code == codes[0] and nth == 0 else ("40", "20")

    score_all(db, round_id, points)
    with db.write_session() as session:
        job_id = jobs.create_job(session, jobs.ExportSpec(kind="evidence", contest_id=contest.contest_id, public=True),
                                 user_id=None, now=NOW).id
    jobs.run_job(db, job_id, directory=settings.exports_dir, tz=settings.timezone, clock=lambda: NOW)
    with db.session() as session:
        from contest.models import ExportJob
        job = session.get(ExportJob, job_id)
        assert job.status == jobs.DONE, job.error
        path = jobs.job_file(settings.exports_dir, job)
    book = load_workbook(path, read_only=True)
    combined = list(book["Bảng điểm đợt 2"].iter_rows(values_only=True))
    assert combined[0][:6] == ("Mã bài", "Họ và tên", "Số điện thoại", "Đối tượng", "Đơn vị / địa bàn", "Giám khảo")
    assert combined[0][7:10] == ("Nội dung (tối đa 60)", "Sáng tạo (tối đa 40)", "Tổng điểm")
    assert len(combined) == 1 + 6  # three entries, two judges each
    first = [row for row in combined[1:] if row[0] == codes[0]]
    assert sorted((row[7], row[8], row[9]) for row in first) == [(40, 20, 60), (55, 35.5, 90.5)]
    assert {row[2] for row in combined[1:]} == {"09xx xxx 001", "09xx xxx 002", "09xx xxx 003"}  # masked in public
    final = list(book["Kết quả chấm đợt 2"].iter_rows(values_only=True))
    assert final[1][:2] == (1, codes[0]) and final[1][6:10] == (2, "90,5; 60", 75.25, "Có")
    assert [row[0] for row in final[1:]] == [1, 2, 2]
    flagged = list(book["Bài lệch điểm đợt 2"].iter_rows(values_only=True))
    assert flagged[1:] == [(codes[0], "90,5; 60", "30,5", 0, 75.25)]
    judge_sheets = [name for name in book.sheetnames if name.startswith("Đợt 2 GK")]
    assert len(judge_sheets) == 2
    for name in judge_sheets:  # blind: codes, points, comments; no author
        rows = list(book[name].iter_rows(values_only=True))
        assert rows[0][0] == "Mã bài" and len(rows) == 1 + 3
        assert not any("Người dự thi" in str(value) for row in rows for value in row)
