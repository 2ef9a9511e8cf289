"""The re-verification report in words, as `contest verify-results` prints it (the staff page lays out the
same figures in its template)."""

from __future__ import annotations

from contest.contests.setup import TRACKS
from contest.i18n import N_, Message, join
from contest.results.verify import CHECK_LABELS, Difference, Report


def counts_line(report: Report) -> Message:
    return N_("Đã kiểm tra {attempts} lượt thi, {questions} đáp án câu hỏi, {rankings} bảng xếp hạng, "
              "{lists} danh sách giải đã khóa.", attempts=report.attempts, questions=report.questions,
              rankings=report.rankings, lists=report.prize_lists)


def unlogged_line(report: Report) -> Message | None:
    if not (report.unlogged_attempts or report.unlogged_keys or report.unlogged_lists):
        return None
    return N_("Không đối chiếu được với nhật ký (có từ trước khi nhật ký bắt đầu ghi; vẫn được tính lại): "
              "{attempts} lượt thi, {questions} đáp án, {lists} danh sách giải.", attempts=report.unlogged_attempts,
              questions=report.unlogged_keys, lists=report.unlogged_lists)


def where(difference: Difference) -> str:
    """Round, track and person of a difference, as far as it has them."""
    parts = []
    if difference.round_number is not None:
        parts.append(N_("Đợt {number}", number=difference.round_number))
    if difference.track:
        parts.append(TRACKS.get(difference.track, difference.track))
    if difference.contestant_id is not None:
        parts.append(N_("người dự thi #{id} {name}", id=difference.contestant_id, name=difference.full_name))
    return join(", ", parts)


def difference_line(difference: Difference) -> str:
    place = where(difference)
    return N_("- [{check}] {place}{what}: đang lưu {stored}; đúng ra {expected}",
              check=CHECK_LABELS[difference.check], place=f"{place}: " if place else "", what=difference.what,
              stored=difference.stored or "—", expected=difference.expected or "—")


def report_lines(report: Report) -> list[str]:
    """The whole report: what was checked, what predates the log, then each difference (or none)."""
    lines = [N_("Kiểm tra lại kết quả ({contests} hội thi).", contests=report.contests), counts_line(report)]
    unlogged = unlogged_line(report)
    if unlogged:
        lines.append(unlogged)
    if report.ok:
        lines.append(N_("Không có sai khác."))
    else:
        lines.append(N_("Có {n} sai khác:", n=len(report.differences)))
        lines += [difference_line(d) for d in report.differences]
    return lines
