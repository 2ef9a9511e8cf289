"""A small contest for tests: a generated bank with known topics and levels, units, an open round."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from contest.banks import store
from contest.banks.importer import check_and_import
from contest.contests import setup
from contest.contests.units import LOCALITY, UNIT, import_units
from contest.models import Contest, QuestionOption, Unit
from tests.banks_helpers import row, xlsx_bytes
from tests.conftest import NOW

TOPICS = ["Thể chế", "Một cửa", "Chỉ số"]
LEVELS = ["Dễ", "Trung bình", "Khó"]
PER_CELL = 4  # questions per (topic, level): 36 in all
SLUG = "thi-thu"
PHONE, PASSWORD = "0912345678", "matkhau-123"


def bank_rows() -> list[list]:
    rows, n = [], 0
    for topic in TOPICS:
        for level in LEVELS:
            for i in range(PER_CELL):
                n += 1
                if n % 9 == 0:
                    rows.append(row(n, f"Câu đúng/sai số {n} về {topic}.", ["", ""], "Đúng", topic=topic,
                                    level=level, kind="Đúng/Sai", explanation=f"GIAITHICH-{n}"))
                elif n % 7 == 0:
                    rows.append(row(n, f"Câu nhiều đáp án số {n} về {topic}?", [f"P{n}a", f"P{n}b", f"P{n}c", f"P{n}d"],
                                    "A, C", topic=topic, level=level, kind="Nhiều đáp án",
                                    explanation=f"GIAITHICH-{n}"))
                else:
                    rows.append(row(n, f"Câu hỏi số {n} về {topic} mức {level}?",
                                    [f"P{n}a", f"P{n}b", f"P{n}c", f"P{n}d"], "ABCD"[n % 4], topic=topic, level=level,
                                    explanation=f"GIAITHICH-{n}"))
    return rows


@dataclass
class ContestFixture:
    contest_id: int
    round_id: int
    bank_id: int
    slug: str = SLUG


def make_contest(db, *, now: datetime = NOW, draw: dict | None = None, time_limit: int = 600, max_attempts: int = 2,
                 opens: timedelta = timedelta(hours=-1), closes: timedelta = timedelta(days=7),
                 grace: int = 30, tracks=("officials", "citizens"), fields: dict | None = None,
                 access_code: str = "", units: bool = True, appeal_hours: int = 0) -> ContestFixture:
    """A published contest with one round open around `now`, both tracks drawing from one bank; with units and
    localities imported unless `units` is False; no appeal period unless `appeal_hours` (hours after the close)."""
    with db.write_session() as session:
        report = check_and_import(session, data=xlsx_bytes(bank_rows()), filename="bank.xlsx",
                                  bank_name="Ngân hàng thử", now=now)
        assert report.saved, report.lines()
        bank_id = store.find_bank(session, "Ngân hàng thử").id
        contest = setup.create_contest(session, title="Thi thử cải cách hành chính", slug=SLUG, now=now,
                                       tracks=list(tracks), fields=fields, access_code=access_code,
                                       organiser_body="Sở Nội vụ (thử)", rules="Thể lệ thử.")
        contest.appeal_hours = appeal_hours
        unit_rows = "Mã,Tên,Mã cấp trên,Số CBCCVC\nSNV,Sở Nội vụ,,80\nCCHC,Phòng Cải cách hành chính,SNV,12\n"
        locality_rows = "Mã,Tên,Mã cấp trên,Số CBCCVC\nT,Tỉnh Thử,,\nX1,Xã Tân Lập,T,\n"
        for kind, data in ((UNIT, unit_rows), (LOCALITY, locality_rows)) if units else ():
            assert import_units(session, contest_id=contest.id, kind=kind, data=data.encode(),
                                filename="u.csv").saved
        round_ = setup.save_round(
            session, contest=contest, now=now - timedelta(days=30), round_=None, number=1, title="Tuần 1",
            opens_at=now + opens, closes_at=now + closes, grace_seconds=grace, prediction_kind="perfect_scores",
            tracks=[setup.TrackConfig(track=t, bank_ids=[bank_id], draw=draw or {"total": 10},
                                      time_limit_seconds=time_limit, max_attempts=max_attempts) for t in tracks])
        return ContestFixture(contest_id=contest.id, round_id=round_.id, bank_id=bank_id)


def second_round(db, contest: ContestFixture) -> int:
    """Round 2 of the contest (officials, the same bank), opening a week after NOW; returns its id."""
    with db.write_session() as session:
        round_ = setup.save_round(
            session, contest=session.get(Contest, contest.contest_id), now=NOW - timedelta(days=30), round_=None,
            number=2, title="Tuần 2", opens_at=NOW + timedelta(days=7), closes_at=NOW + timedelta(days=14),
            grace_seconds=30, prediction_kind="perfect_scores",
            tracks=[setup.TrackConfig(track="officials", bank_ids=[contest.bank_id], draw={"total": 10})])
        return round_.id


def unit_id(db, code: str) -> int:
    with db.session() as session:
        return session.scalar(select(Unit.id).where(Unit.code == code))


def key_of(db, question_id: int) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(QuestionOption.position).where(
            QuestionOption.question_id == question_id, QuestionOption.is_correct.is_(True))
            .order_by(QuestionOption.position)))


def contest_row(db) -> Contest:
    with db.session() as session:
        return session.scalar(select(Contest).where(Contest.slug == SLUG))
