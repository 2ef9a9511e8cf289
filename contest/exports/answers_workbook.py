"""What an outsider needs to repeat `contest verify-results` by hand: every answer of every scored attempt of
the contest's closed rounds (drawn question, its version, the option order shown, the options chosen, the key
and the mark), and the rules that turn those into scores, ranks and prizes, in the words of the rules page.

The answers table goes into the evidence pack while it fits one Excel sheet, and is its own export ("answers":
one sheet, a CSV file, or a .zip holding it) for any size. It names attempts and contestants by id only, so it
carries no personal data; the attempts export links ids to people. A key, and with it a mark, is left empty
while a round not yet closed, of any contest, can still draw the question (contest.contests.disclosure).
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.banks.common import LETTERS
from contest.contests.attempts import ATTEMPT_QUESTIONS as AQ
from contest.contests.attempts import ATTEMPTS as A
from contest.contests.disclosure import unfinished_banks
from contest.contests.grading import SCORING_TEXT, answer_keys, stored_positions
from contest.contests.setup import PREDICTIONS, TRACKS
from contest.exports.csv_tables import INT, Book, Column, Table
from contest.exports.results_workbook import TRACK_SHORT, get_contest, round_and_contest
from contest.exports.xlsx_book import MAX_DATA_ROWS
from contest.models import AttemptStatus, Contest, Question, Round, RoundResult
from contest.results import prizes
from contest.results.ranking import RULE_TEXT, TRUE_VALUE_TEXT

CHUNK = 5000
ANSWER_COLUMNS = [Column("Mã lượt thi", 11, INT), Column("Đợt", 6, INT), Column("Đối tượng", 12),
                  Column("Mã người dự thi", 12, INT), Column("Câu số", 7, INT), Column("Mã câu hỏi", 10, INT),
                  Column("Phiên bản câu hỏi", 10, INT), Column("Thứ tự phương án hiển thị", 18),
                  Column("Phương án đã chọn", 12), Column("Đáp án", 10), Column("Đúng/Sai", 9)]
HELD_NOTE = ("Ô đáp án và đúng/sai để trống: câu hỏi còn được dùng trong đợt thi chưa kết thúc, nên đáp án "
             "chưa được công bố.")


def _letters(positions) -> str:
    """Stored option positions as the bank's letters, in the order given ("C, A, D, B")."""
    return ", ".join(LETTERS[p] for p in positions)


def _scope(contest_id: int, round_id: int | None, now: datetime | None) -> list:
    where = [Round.contest_id == contest_id, A.c.status != AttemptStatus.OPEN, A.c.correct_count.is_not(None)]
    where += [Round.closes_at <= now] if now is not None else []
    return where + ([Round.id == round_id] if round_id is not None else [])


def _drawn(where: list):
    return (select(AQ.c.question_id).join(A, A.c.id == AQ.c.attempt_id).join(Round, Round.id == A.c.round_id)
            .where(*where).distinct())


def answer_count(session: Session, contest_id: int, round_id: int | None, *, now: datetime | None) -> int:
    """How many rows the answers table of the contest (or round) has at `now` (None: of every round, open ones
    too, as an estimate of the work)."""
    return session.scalar(select(func.count()).select_from(AQ).join(A, A.c.id == AQ.c.attempt_id)
                          .join(Round, Round.id == A.c.round_id).where(*_scope(contest_id, round_id, now)))


def _answer_rows(session: Session, where: list, *, now: datetime) -> Iterator[list]:
    ids = list(session.scalars(_drawn(where)))
    keys = answer_keys(session, ids)
    held_banks = unfinished_banks(session, now=now)
    held = set(session.scalars(select(Question.id).where(Question.id.in_(_drawn(where)),
                                                         Question.bank_id.in_(sorted(held_banks))))) if held_banks else set()
    query = (select(A.c.id, Round.number, A.c.track, A.c.contestant_id, AQ.c.position, AQ.c.question_id,
                    Question.version, AQ.c.option_order, AQ.c.chosen, AQ.c.is_correct)
             .join(A, A.c.id == AQ.c.attempt_id).join(Round, Round.id == A.c.round_id)
             .join(Question, Question.id == AQ.c.question_id).where(*where).order_by(A.c.id, AQ.c.position))
    for (attempt_id, number, track, contestant_id, position, question_id, version, order, chosen,
         right) in session.connection().execute(query.execution_options(yield_per=CHUNK)):
        shown = question_id not in held
        yield [attempt_id, number, TRACK_SHORT.get(track, track), contestant_id, position + 1, question_id, version,
               _letters(stored_positions(order)), _letters(sorted(stored_positions(chosen))),
               _letters(sorted(keys.get(question_id, []))) if shown else None,
               ("Đúng" if right else "Sai") if shown and right is not None else None]


def answers_table(session: Session, contest_id: int, round_id: int | None = None, *, now: datetime) -> Table:
    """Every answer of every scored attempt of the closed rounds (one round when given), attempt by attempt."""
    where = _scope(contest_id, round_id, now)
    return Table("Đáp án từng lượt thi", "dap-an-tung-luot-thi", ANSWER_COLUMNS,
                 _answer_rows(session, where, now=now), answer_count(session, contest_id, round_id, now=now))


def answers_book(session: Session, contest_id: int, round_id: int | None = None, *, now: datetime) -> Book:
    """The answers table on its own: the `answers` export, as .xlsx (while it fits a sheet), .csv or .zip."""
    contest = get_contest(session, contest_id)
    name = f"{contest.slug}-dap-an-tung-luot-thi"
    if round_id is not None:
        round_, _ = round_and_contest(session, round_id)
        name += f"-dot-{round_.number}"
    return Book(name=name, tables=[answers_table(session, contest_id, round_id, now=now)])


def rules_table(session: Session, contest: Contest) -> Table:
    """How answers become scores, ranks and prizes, in the words the rules page uses, with each round's
    prediction question and the true value it was ranked with."""
    counts = prizes.prize_counts(contest)
    rows = [["Thể lệ của ban tổ chức", contest.rules or None], ["Chấm điểm", str(SCORING_TEXT)],
            ["Xếp hạng", str(RULE_TEXT)], ["Giá trị thực tế của câu dự đoán", str(TRUE_VALUE_TEXT)]]
    for round_ in session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.number)):
        question = round_.prediction_question or str(PREDICTIONS.get(round_.prediction_kind, ""))
        truths = session.execute(select(RoundResult.track, RoundResult.true_value)
                                 .where(RoundResult.round_id == round_.id).order_by(RoundResult.track)).all()
        values = "; ".join(f"{TRACKS.get(t, t)}: {v}" for t, v in truths) or "chưa xếp hạng"
        rows.append([f"Câu hỏi dự đoán – đợt {round_.number}", f"{question} Giá trị thực tế: {values}."])
    rows.append(["Giải cá nhân mỗi đợt, mỗi đối tượng",
                 "; ".join(f"{prizes.PRIZE_LABELS[p]}: {counts[p]}" for p in prizes.PRIZES) + ". "
                 + str(prizes.PRIZE_RULE_TEXT)
                 + (" " + str(prizes.ONE_PRIZE_TEXT) if contest.one_prize_per_person else "")])
    rows.append(["Giải tập thể", prizes.TEAM_RULE_TEXT.source.format(rate=contest.team_min_rate)])
    rows.append(["Kiểm tra lại", "Bảng “Đáp án từng lượt thi” ghi, cho mỗi lượt thi đã nộp của các đợt đã kết thúc, "
                 "từng câu hỏi được rút (mã, phiên bản), thứ tự phương án khi hiển thị, phương án đã chọn và đáp án, "
                 "theo ký hiệu phương án trong ngân hàng câu hỏi. " + HELD_NOTE])
    return Table("Quy tắc chấm, xếp hạng, giải", "quy-tac", [Column("Nội dung", 34), Column("Quy định", 110)],
                 rows, len(rows))


def evidence_tables(session: Session, contest: Contest, *, now: datetime, max_rows: int = MAX_DATA_ROWS
                    ) -> list[Table]:
    """What the evidence pack adds for re-checking: the rules, and the answers table when it fits a sheet
    (else a line saying where to get it)."""
    tables = [rules_table(session, contest)]
    if answer_count(session, contest.id, None, now=now) <= max_rows:
        tables.append(answers_table(session, contest.id, now=now))
    else:
        tables.append(Table("Đáp án từng lượt thi", "dap-an-tung-luot-thi", [Column("Ghi chú", 110)],
                            [["Quá số dòng của một trang Excel: tải “Đáp án từng lượt thi” dạng CSV (.zip) ở trang "
                              "xuất dữ liệu, hoặc bằng lệnh contest export answers."]], 1))
    return tables
