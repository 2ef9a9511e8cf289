"""Everything held about one contestant, as a workbook an organiser can hand over (Nghị định 13/2023/NĐ-CP):
one sheet per kind of data, and the record of the download (personal_data_downloads and the audit log)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import audit
from contest.exports.csv_tables import AUTO, DATETIME, INT, Book, Column, Table
from contest.models import (Accommodation, Appeal, Attempt, AttemptQuestion, AuditEvent, ConsentText, Contest,
                            Contestant, OverallEntry, PersonalDataDownload, PrizeAward, PrizeList, PasswordReset,
                            Question, QuestionOption, RankingEntry, Round, Unit, User)

KIND = "contestant"  # its kind in the download record
EXPORTED = "personal_data_exported"
LETTERS = "ABCDEFGHIJ"


def _letters(stored: str, order: str) -> str:
    """Chosen options as the contestant saw them lettered (stored positions mapped through the shown order)."""
    shown = [int(p) for p in order.split(",") if p != ""]
    chosen = {int(p) for p in stored.split(",") if p != ""}
    return ", ".join(LETTERS[i] for i, p in enumerate(shown) if p in chosen and i < len(LETTERS))


def _sheet(title: str, slug: str, columns: list[Column], rows: list[list]) -> Table:
    return Table(title, slug, columns, rows, len(rows))


def contestant_book(session: Session, *, contest: Contest, contestant: Contestant) -> Book:
    """The contestant's registration, consent, attempts and answers, rankings, prizes, appeals, accommodations,
    password resets and the audit entries about them; nothing of anyone else."""
    cid = contestant.id
    units = {u.id: u.name for u in session.scalars(select(Unit).where(
        Unit.id.in_([i for i in (contestant.unit_id, contestant.locality_id) if i])))}
    consent = session.get(ConsentText, contestant.consent_version_id) if contestant.consent_version_id else None
    details = [
        ["Mã người dự thi", cid], ["Hội thi", contest.title], ["Đối tượng", contestant.track],
        ["Họ và tên", contestant.full_name], ["Ngày sinh", contestant.birth_date], ["Giới tính", contestant.gender],
        ["Số điện thoại", "" if contestant.erased_at else contestant.phone], ["Số CCCD", contestant.cccd or ""],
        ["E-mail", contestant.email], ["Nghề nghiệp", contestant.occupation],
        ["Đơn vị công tác", units.get(contestant.unit_id, "")], ["Địa bàn", units.get(contestant.locality_id, "")],
        ["Đăng ký lúc", contestant.created_at], ["Đồng ý xử lý dữ liệu lúc", contestant.consent_at],
        ["Phiên bản nội dung đồng ý", consent.version if consent else "không rõ (đăng ký trước khi lưu phiên bản)"],
        ["Nội dung đồng ý", consent.text if consent else ""],
        ["Dữ liệu cá nhân đã xóa lúc", contestant.erased_at],
    ]
    rounds = {r.id: r.number for r in session.scalars(select(Round).where(Round.contest_id == contest.id))}
    attempts = list(session.scalars(select(Attempt).where(Attempt.contestant_id == cid).order_by(Attempt.id)))
    attempt_rows = [[a.id, rounds.get(a.round_id), a.seq, a.track, a.started_at, a.deadline, a.finished_at, a.status,
                     a.correct_count, a.question_count, a.duration_ms / 1000 if a.duration_ms is not None else None,
                     a.prediction] for a in attempts]
    answers = session.execute(select(AttemptQuestion, Question.text).join(Question, Question.id == AttemptQuestion.question_id)
                              .where(AttemptQuestion.attempt_id.in_([a.id for a in attempts]))
                              .order_by(AttemptQuestion.attempt_id, AttemptQuestion.position)).all()
    options: dict[int, dict[int, str]] = {}
    for option in session.scalars(select(QuestionOption).where(
            QuestionOption.question_id.in_({q.question_id for q, _ in answers}))):
        options.setdefault(option.question_id, {})[option.position] = option.text
    by_attempt = {a.id: a for a in attempts}
    answer_rows = [[q.attempt_id, rounds.get(by_attempt[q.attempt_id].round_id), q.position + 1, q.question_id, text,
                    _letters(q.chosen, q.option_order),
                    " | ".join(options.get(q.question_id, {}).get(int(p), "") for p in q.chosen.split(",") if p != ""),
                    q.answered_at, {True: "đúng", False: "sai"}.get(q.is_correct, "")] for q, text in answers]
    ranking_rows = [[rounds.get(e.round_id), e.track, e.rank, e.correct_count, e.question_count, e.gap,
                     e.duration_ms / 1000, e.finished_at]
                    for e in session.scalars(select(RankingEntry).where(RankingEntry.contestant_id == cid)
                                             .order_by(RankingEntry.round_id))]
    ranking_rows += [["cả hội thi", e.track, e.rank, e.correct_count, e.question_count, e.gap, e.duration_ms / 1000,
                      e.finished_at]
                     for e in session.scalars(select(OverallEntry).where(OverallEntry.contestant_id == cid))]
    prize_rows = [[rounds.get(pl.round_id), pl.track, award.prize, award.rank, pl.status, pl.locked_at]
                  for award, pl in session.execute(select(PrizeAward, PrizeList)
                                                   .join(PrizeList, PrizeList.id == PrizeAward.list_id)
                                                   .where(PrizeAward.contestant_id == cid).order_by(PrizeList.id))]
    appeal_rows = [[rounds.get(a.round_id), a.filed_at, a.text, a.status, a.answer, a.answered_at]
                   for a in session.scalars(select(Appeal).where(Appeal.contestant_id == cid).order_by(Appeal.id))]
    granted_rows = [[rounds.get(a.round_id), a.extra_seconds // 60, "có" if a.no_time_limit else "", a.extra_attempts,
                     a.reason, a.granted_at]
                    for a in session.scalars(select(Accommodation).where(Accommodation.contestant_id == cid))]
    reset_rows = [[r.kind, r.created_at, r.expires_at, r.used_at, email or ""]
                  for r, email in session.execute(select(PasswordReset, User.email)
                                                  .outerjoin(User, User.id == PasswordReset.issued_by)
                                                  .where(PasswordReset.contestant_id == cid)
                                                  .order_by(PasswordReset.id))]
    audit_rows = [[e.at, e.action, email or "", e.detail] for e, email in _audit_entries(session, contest.id, cid,
                                                                                          {a.id for a in attempts})]
    tables = [
        _sheet("Đăng ký", "dang-ky", [Column("Mục", 30), Column("Nội dung", 60, AUTO)], details),
        _sheet("Lượt thi", "luot-thi", [Column("Mã lượt", 9, INT), Column("Đợt", 6, INT), Column("Lượt thứ", 8, INT),
                                        Column("Đối tượng", 12), Column("Bắt đầu", 17, DATETIME),
                                        Column("Hạn nộp", 17, DATETIME), Column("Nộp lúc", 17, DATETIME),
                                        Column("Trạng thái", 11), Column("Số câu đúng", 10, INT),
                                        Column("Số câu hỏi", 10, INT), Column("Thời gian (giây)", 12),
                                        Column("Dự đoán", 10, INT)], attempt_rows),
        _sheet("Câu trả lời", "cau-tra-loi", [Column("Mã lượt", 9, INT), Column("Đợt", 6, INT), Column("Câu", 6, INT),
                                              Column("Mã câu hỏi", 10, INT), Column("Câu hỏi", 50),
                                              Column("Chọn", 8), Column("Phương án đã chọn", 40),
                                              Column("Trả lời lúc", 17, DATETIME), Column("Kết quả", 8)], answer_rows),
        _sheet("Xếp hạng", "xep-hang", [Column("Đợt", 10), Column("Đối tượng", 12), Column("Hạng", 6, INT),
                                        Column("Số câu đúng", 10, INT), Column("Số câu hỏi", 10, INT),
                                        Column("Chênh lệch dự đoán", 12, INT), Column("Thời gian (giây)", 12),
                                        Column("Nộp bài lúc", 17, DATETIME)], ranking_rows),
        _sheet("Giải thưởng", "giai-thuong", [Column("Đợt", 6, INT), Column("Đối tượng", 12), Column("Giải", 12),
                                              Column("Hạng", 6, INT), Column("Danh sách", 10),
                                              Column("Khóa lúc", 17, DATETIME)], prize_rows),
        _sheet("Khiếu nại", "khieu-nai", [Column("Đợt", 6, INT), Column("Gửi lúc", 17, DATETIME), Column("Nội dung", 50),
                                          Column("Trạng thái", 10), Column("Trả lời", 50),
                                          Column("Trả lời lúc", 17, DATETIME)], appeal_rows),
        _sheet("Điều chỉnh", "dieu-chinh", [Column("Đợt", 6, INT), Column("Thêm phút", 9, INT),
                                            Column("Không giới hạn", 10), Column("Thêm lượt", 9, INT),
                                            Column("Lý do", 40), Column("Lúc", 17, DATETIME)], granted_rows),
        _sheet("Khôi phục mật khẩu", "khoi-phuc", [Column("Cách", 8), Column("Tạo lúc", 17, DATETIME),
                                                   Column("Hết hạn", 17, DATETIME), Column("Đã dùng lúc", 17, DATETIME),
                                                   Column("Người cấp", 30)], reset_rows),
        _sheet("Nhật ký", "nhat-ky", [Column("Thời điểm", 17, DATETIME), Column("Việc", 24), Column("Người làm", 30),
                                      Column("Chi tiết", 80)], audit_rows),
    ]
    return Book(name=f"{contest.slug}-du-lieu-ca-nhan-{cid}", tables=tables)


def _audit_entries(session: Session, contest_id: int, contestant_id: int, attempt_ids: set[int]):
    """The contest's audit entries naming this contestant (by id) or one of their attempts, oldest first."""
    found = []
    rows = session.execute(select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
                           .where(AuditEvent.contest_id == contest_id,
                                  AuditEvent.detail.contains(str(contestant_id), autoescape=True))
                           .order_by(AuditEvent.at, AuditEvent.id))
    for event, email in rows:
        try:
            detail = json.loads(event.detail or "{}")
        except ValueError:
            continue
        if not isinstance(detail, dict):
            continue
        if contestant_id in (detail.get("contestant"), detail.get("contestant_id")) or detail.get("attempt") in attempt_ids:
            found.append((event, email))
    return found


def record_export(session: Session, *, contest: Contest, contestant_id: int, user: User, now: datetime,
                  rows: int, fmt: str = "xlsx") -> None:
    """The download's two records: a personal-data download row and an audit entry (by id only)."""
    session.add(PersonalDataDownload(at=now, user_id=user.id, actor=user.email[:254], channel="web",
                                     contest_id=contest.id, kind=KIND, fmt=fmt, rows=rows))
    audit.record(session, now=now, user_id=user.id, contest_id=contest.id, action=EXPORTED, contestant=contestant_id)
