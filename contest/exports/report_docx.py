"""The report "Báo cáo kết quả tổ chức Hội thi" as an editable .docx: the figures of
contest.exports.report_document in the frame of contest.exports.docx_layout (Nghị định 30/2020/NĐ-CP),
with the evidence pack's charts as images (contest.exports.report_charts).

Sections: the plan the contest carries out; I. purpose (for the organiser to write); II. results: rounds
held and who could take part, participation by track, by unit (the units under the minimum rate named)
and by locality, attempts by day, the score distribution, individual and team prizes; III. assessment and
IV. proposals (for the organiser to write); the time the figures were taken and, when given, the audit
chain's head; recipients and signature.
"""

from __future__ import annotations

from math import ceil
from typing import BinaryIO

from contest.contests.setup import round_subtitle
from contest.exports import docx_layout as layout
from contest.exports import report_charts as charts
from contest.exports.docx_layout import DOTS
from contest.exports.report_document import ReportData, track_label
from contest.i18n import format_date, format_datetime, format_number, format_percentage, to_local
from contest.results import prizes, stats

KIND = "BÁO CÁO"
AUTHORITY, POSITION = "TM. BAN TỔ CHỨC", "TRƯỞNG BAN"


def report_title(title: str) -> str:
    """The summary line: "Kết quả tổ chức Hội thi <title>", without saying "Hội thi" twice."""
    for word in ("Hội thi", "Cuộc thi"):
        if title.lower().startswith(word.lower()):
            return f"Kết quả tổ chức {word}{title[len(word):]}"
    return f"Kết quả tổ chức Hội thi {title}"


def _summary_in_sentence(title: str) -> str:
    summary = report_title(title)
    return summary[0].lower() + summary[1:]


def _n(value: int | None) -> str:
    return "" if value is None else format_number(value)


def _pct(value: float | None) -> str:
    return "" if value is None else format_percentage(value)


def _names(units) -> str:
    return "; ".join(f"{u.path} ({_pct(u.rate)})" for u in units)


def _round_name(number: int, title: str) -> str:
    """ "Đợt 2: Tuần 2", or "Đợt 1" when the title only repeats the label (as the pages name rounds)."""
    subtitle = round_subtitle(number, title)
    return f"Đợt {number}: {subtitle}" if subtitle else f"Đợt {number}"


def _minutes(seconds: int) -> str:
    return format_number(round(seconds / 60, 1))


# --- II. results ------------------------------------------------------------------------------------------

def _rounds(doc, data: ReportData, counts: dict[str, int]) -> None:
    layout.heading(doc, "1. Thời gian, hình thức và đối tượng dự thi", 2)
    if not data.rounds:
        layout.para(doc, "Hội thi chưa có đợt thi nào.")
        return
    who = " và ".join(track_label(t).lower() for t in data.tracks)
    layout.para(doc, f"Hội thi được tổ chức theo hình thức trực tuyến, gồm {data.round_count} đợt thi, từ ngày "
                     f"{format_date(data.first_day, tz=data.tz)} đến ngày {format_date(data.last_day, tz=data.tz)}, "
                     f"dành cho {who}. Thời gian theo giờ Việt Nam.")
    rows = [[_round_name(r.round_number, r.round_title),
             f"{format_datetime(r.opens_at, tz=data.tz)} – {format_datetime(r.closes_at, tz=data.tz)}",
             track_label(r.track),
             f"{r.questions} câu, {_minutes(r.time_limit_seconds)} phút, tối đa {r.max_attempts} lượt",
             _n(r.participants), _n(r.finished)] for r in data.rounds]
    layout.table(doc, ["Đợt", "Thời gian", "Đối tượng dự thi", "Đề thi", "Người tham gia", "Lượt thi đã nộp"],
                 rows, (2.3, 3.6, 3.2, 3.2, 2.1, 2.1), numeric=(4, 5))
    counts["Các đợt thi"] = len(rows)


def _participation(doc, data: ReportData, counts: dict[str, int]) -> None:
    totals = data.figures.totals
    layout.heading(doc, "2. Số người tham gia", 2)
    layout.para(doc, f"Có {_n(totals.registered)} người đăng ký dự thi; {_n(totals.participants)} người đã tham "
                     f"gia với {_n(totals.finished)} lượt thi đã nộp bài ({_n(totals.started)} lượt đã bắt đầu).")
    rows = [[track_label(t.track), _n(t.registered), _n(t.participants), _n(t.finished)] for t in totals.tracks]
    rows.append(["Tổng cộng", _n(totals.registered), _n(totals.participants), _n(totals.finished)])
    layout.table(doc, ["Đối tượng", "Đã đăng ký", "Người tham gia", "Lượt thi đã nộp"], rows,
                 (6.9, 3.2, 3.2, 3.2), numeric=(1, 2, 3))
    counts["Theo đối tượng"] = len(rows) - 1


def _units(doc, data: ReportData, counts: dict[str, int], figures: list) -> None:
    units = data.figures.units
    if not units.rows:
        return
    layout.heading(doc, "3. Tham gia theo đơn vị", 2)
    layout.para(doc, f"{_n(units.taking_part)}/{_n(len(units.rows))} đơn vị có người tham gia. Tỉ lệ tham gia "
                     f"của đơn vị là số người tham gia trên số cán bộ, công chức, viên chức của đơn vị; đơn vị có "
                     f"tỉ lệ dưới {data.min_rate}% không được xét giải tập thể.")
    below = data.below_minimum
    if below:
        layout.para(doc, f"Các đơn vị có tỉ lệ tham gia dưới {data.min_rate}% ({len(below)} đơn vị): {_names(below)}.")
    else:
        layout.para(doc, f"Không có đơn vị nào có tỉ lệ tham gia dưới {data.min_rate}%.")
    missing = data.without_headcount
    if missing:
        layout.para(doc, "Đơn vị chưa có số cán bộ, công chức, viên chức (chưa tính được tỉ lệ): "
                         + "; ".join(u.path for u in missing) + ".")
    rows = [[str(i), u.path, _n(u.headcount), _n(u.participants), _pct(u.rate), _pct(u.average)]
            for i, u in enumerate(units.rows, start=1)]
    layout.table(doc, ["STT", "Đơn vị", "Số CBCCVC", "Người tham gia", "Tỉ lệ tham gia", "Điểm trung bình"], rows,
                 (1.2, 6.0, 2.5, 2.2, 2.2, 2.4), numeric=(0, 2, 3, 4, 5))
    counts["Theo đơn vị"] = len(rows)
    rated = [charts.Bar(u.path, u.rate) for u in units.rows if u.rate is not None]
    if rated:
        figures.append(None)
        png = charts.rate_bars(rated, title="Tỉ lệ tham gia theo đơn vị", threshold=data.min_rate / 100,
                               threshold_text=f"Tối thiểu {data.min_rate}%", more_text="… {n} đơn vị khác …")
        layout.chart(doc, png, f"Biểu đồ {len(figures)}. Tỉ lệ tham gia theo đơn vị")


def _localities(doc, data: ReportData, counts: dict[str, int]) -> None:
    places = data.figures.localities
    if not places.rows:
        return
    layout.heading(doc, "4. Tham gia theo địa bàn", 2)
    layout.para(doc, f"{_n(places.taking_part)}/{_n(len(places.rows))} địa bàn có người tham gia (một địa bàn "
                     f"tính cả người dự thi ở các địa bàn trực thuộc).")
    rows = [[str(i), p.path, _n(p.participants), _pct(p.average)] for i, p in enumerate(places.rows, start=1)]
    layout.table(doc, ["STT", "Địa bàn", "Người tham gia", "Điểm trung bình"], rows, (1.2, 10.1, 2.6, 2.6),
                 numeric=(0, 2, 3))
    counts["Theo địa bàn"] = len(rows)


def _days_and_scores(doc, data: ReportData, counts: dict[str, int], figures: list) -> None:
    by_day, histogram = data.figures.by_day, data.figures.histogram
    layout.heading(doc, "5. Lượt thi theo ngày và phân bố điểm", 2)
    if by_day:
        busiest = max(by_day, key=lambda c: c.count)
        layout.para(doc, f"Ngày có nhiều lượt thi nhất là {format_date(busiest.key, tz=data.tz)} với "
                         f"{_n(busiest.count)} lượt thi bắt đầu.")
        figures.append(None)
        png = charts.columns([charts.Bar(c.key.strftime("%d/%m"), c.count) for c in by_day],
                             title="Số lượt thi theo ngày", y_title="Lượt thi",
                             label_every=ceil(len(by_day) / 12), show_values=len(by_day) <= 14)
        layout.chart(doc, png, f"Biểu đồ {len(figures)}. Số lượt thi theo ngày")
    counted = sum(histogram.values())
    layout.para(doc, f"Phân bố điểm của {_n(counted)} kết quả được tính (mỗi người, mỗi đợt một kết quả: kết quả "
                     f"xếp hạng, hoặc lượt thi tốt nhất khi đợt chưa xếp hạng):")
    rows = [[stats.BUCKET_LABELS[k], _n(v), _pct(v / counted if counted else None)] for k, v in histogram.items()]
    layout.table(doc, ["Tỉ lệ câu trả lời đúng", "Số kết quả", "Tỉ lệ"], rows, (8.5, 4.0, 4.0), numeric=(1, 2))
    counts["Phân bố điểm"] = len(rows)
    if counted:
        figures.append(None)
        png = charts.columns([charts.Bar(str(stats.BUCKET_LABELS[k]), v) for k, v in histogram.items()],
                             title="Phân bố điểm", y_title="Số kết quả", show_values=True)
        layout.chart(doc, png, f"Biểu đồ {len(figures)}. Phân bố điểm")


def _prizes(doc, data: ReportData, counts: dict[str, int]) -> None:
    layout.heading(doc, "6. Kết quả xét giải", 2)
    layout.para(doc, "a) Giải cá nhân (theo danh sách giải đã khóa):")
    if not data.prize_groups:
        layout.para(doc, "Chưa có danh sách giải nào được khóa.")
    winners = 0
    for group in data.prize_groups:
        layout.para(doc, f"Đợt {group.round_number}, {group.track_label.lower()}: {len(group.winners)} giải.")
        rows = [[str(i), w.name, w.place, w.prize,
                 "" if w.correct is None else f"{w.correct}/{w.questions}",
                 "" if w.seconds is None else format_number(round(w.seconds, 1))]
                for i, w in enumerate(group.winners, start=1)]
        layout.table(doc, ["STT", "Họ và tên", "Đơn vị / địa bàn", "Giải", "Số câu đúng", "Thời gian (giây)"],
                     rows, (1.3, 3.9, 4.8, 3.0, 1.7, 1.8), numeric=(0, 4, 5))
        winners += len(rows)
    counts["Người đạt giải"] = winners
    if data.teams is None:
        return
    layout.para(doc, f"b) Giải tập thể: các đơn vị xếp theo tỉ lệ tham gia, rồi điểm trung bình; đơn vị có tỉ lệ "
                     f"dưới {data.min_rate}% hoặc chưa có số cán bộ, công chức, viên chức không được xếp hạng.")
    ranked = [t for t in data.teams if t.status == prizes.TeamStatus.RANKED]
    if not ranked:
        layout.para(doc, "Chưa có đơn vị nào đủ điều kiện xếp hạng.")
    else:
        rows = [[_n(t.rank), t.name, _n(t.headcount), _n(t.participants), _pct(t.rate / 100),
                 _pct(None if t.average is None else t.average / 100)] for t in ranked]
        layout.table(doc, ["Hạng", "Đơn vị", "Số CBCCVC", "Người tham gia", "Tỉ lệ tham gia", "Điểm trung bình"],
                     rows, (1.3, 5.9, 2.5, 2.2, 2.2, 2.4), numeric=(0, 2, 3, 4, 5))
    counts["Xếp hạng đơn vị"] = len(ranked)
    left_out = len(data.teams) - len(ranked)
    if left_out:
        layout.para(doc, f"{left_out} đơn vị không được xếp hạng.")


# --- the whole document -----------------------------------------------------------------------------------

def write_report(data: ReportData, out: BinaryIO | str, *, chain_head: str | None) -> dict[str, int]:
    """Write the report; {table: data rows, "Biểu đồ": charts}. `chain_head` (the audit log's head when
    the figures were read) is printed in the closing lines when given."""
    doc = layout.new_document()
    layout.heading_block(doc, issuing_body=data.organiser_body, day=to_local(data.exported_at, data.tz).date())
    layout.title_block(doc, KIND, report_title(data.title))
    plan = data.plan_reference
    layout.para(doc, "Thực hiện ", (plan, False) if plan else (f"Kế hoạch số {DOTS}/KH-{DOTS} ngày {DOTS}", True),
                ", ", (data.organiser_body, False) if data.organiser_body else ("Ban Tổ chức", False),
                f" báo cáo {_summary_in_sentence(data.title)} như sau:")
    layout.heading(doc, "I. MỤC ĐÍCH, YÊU CẦU", 1)
    layout.para(doc, ("Nêu mục đích, yêu cầu của Hội thi theo kế hoạch tổ chức.", True))
    layout.heading(doc, "II. KẾT QUẢ TỔ CHỨC HỘI THI", 1)
    counts: dict[str, int] = {}
    figures: list = []
    _rounds(doc, data, counts)
    _participation(doc, data, counts)
    _units(doc, data, counts, figures)
    _localities(doc, data, counts)
    _days_and_scores(doc, data, counts, figures)
    _prizes(doc, data, counts)
    layout.heading(doc, "III. ĐÁNH GIÁ CHUNG", 1)
    layout.para(doc, ("Nêu ưu điểm, hạn chế và nguyên nhân.", True))
    layout.heading(doc, "IV. ĐỀ XUẤT, KIẾN NGHỊ", 1)
    layout.para(doc, ("Nêu đề xuất, kiến nghị.", True))
    layout.para(doc, f"Trên đây là báo cáo {_summary_in_sentence(data.title)}./.")
    taken = format_datetime(data.exported_at, tz=data.tz)
    layout.para(doc, f"Số liệu trong báo cáo được lấy từ hệ thống thi trực tuyến lúc {taken} (giờ Việt Nam).")
    if chain_head:
        layout.para(doc, f"Mã kiểm tra nhật ký hệ thống (đầu chuỗi nhật ký lúc lấy số liệu): {chain_head}")
    layout.signature_block(doc, recipients=[(f"- {DOTS};", True), (f"- {DOTS};", True), ("- Lưu: VT.", False)],
                           authority=AUTHORITY, position=POSITION)
    doc.save(out)
    counts["Biểu đồ"] = len(figures)
    return counts
