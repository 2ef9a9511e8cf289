"""The demo a newcomer sees after `make run`: accounts, the shipped banks, a contest with a quiz round and an
entry round (and its judges), and a finished contest with its results."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from contest import accounts
from contest.banks import store
from contest.banks.importer import check_and_import
from contest.db import Database
from contest.contests import announcements, setup, site
from contest.contests.setup import round_tracks
from contest.contests.units import LOCALITY, UNIT, import_units
from contest.models import Contest, Role, Unit, User
from contest.results import prizes, ranking
from contest.settings import PROJECT_ROOT
from contest.simulate import simulate_round

DEMO_ORGANISER = ("bantochuc@example.org", "demo-cchc-2026")
DEMO_VIEWER = ("xemketqua@example.org", "demo-cchc-2026")
DEMO_JUDGES = [(f"giamkhao{n}@example.org", "demo-cchc-2026", f"Giám khảo {n} (demo)") for n in (1, 2, 3)]
BANKS_DIR = PROJECT_ROOT / "question_banks"
# The shipped banks: file in question_banks/ -> bank name.
SHIPPED_BANKS = {
    "cchc-can-bo-cong-chuc.xlsx": "CCHC – Cán bộ, công chức, viên chức",
    "cchc-nguoi-dan.xlsx": "CCHC – Người dân",
    "cchc-dia-phuong-mau.xlsx": "CCHC – Nội dung địa phương (mẫu: Tây Ninh, Gia Lai, Sóc Trăng 2020–2022)",
}


def _ensure_user(session, email: str, password: str, role: Role, name: str, now: datetime) -> bool:
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return False
    accounts.create_user(session, email=email, password=password, role=role, full_name=name, now=now)
    return True


def load_shipped_banks(db: Database, *, now: datetime) -> list[str]:
    """Import each shipped bank once (a bank that already exists is left as the organiser made it)."""
    lines = []
    for filename, bank_name in SHIPPED_BANKS.items():
        path = BANKS_DIR / filename
        with db.write_session() as session:
            if store.find_bank(session, bank_name) is not None:
                continue
            report = check_and_import(session, data=path.read_bytes(), filename=filename, bank_name=bank_name,
                                      now=now)
        if not report.saved:
            raise RuntimeError("\n".join(report.lines()))
        lines.append(f"Bank '{bank_name}': {report.imported} questions")
    return lines


DEMO_SLUG = "cchc-2026"
DEMO_TITLE = "Hội thi trực tuyến tìm hiểu về cải cách hành chính năm 2026 (dữ liệu mẫu)"
# Demo units: code, name, parent code, headcount (the same columns an organiser's sheet has).
DEMO_UNITS = [
    ("UBND", "Ủy ban nhân dân tỉnh (mẫu)", "", 60),
    ("SNV", "Sở Nội vụ", "UBND", 85), ("SNV-CCHC", "Phòng Cải cách hành chính – Sở Nội vụ", "SNV", 12),
    ("STP", "Sở Tư pháp", "UBND", 64), ("STC", "Sở Tài chính", "UBND", 120),
    ("SKHCN", "Sở Khoa học và Công nghệ", "UBND", 70), ("SYT", "Sở Y tế", "UBND", 95),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "UBND", 110), ("TTHCC", "Trung tâm Phục vụ hành chính công tỉnh", "UBND", 48),
    ("UBX-TL", "UBND xã Tân Lập", "", 32), ("UBP-DH", "UBND phường Đông Hòa", "", 41),
    ("UBX-PL", "UBND xã Phú Lộc", "", 28),
]
# Since 1 July 2025 local government has two tiers: the province directly above its communes and wards.
DEMO_LOCALITIES = [
    ("TINH", "Tỉnh (mẫu)", ""), ("X-TL", "Xã Tân Lập", "TINH"), ("P-DH", "Phường Đông Hòa", "TINH"),
    ("X-PL", "Xã Phú Lộc", "TINH"), ("P-BT", "Phường Bình Thạnh", "TINH"), ("X-AN", "Xã An Nhơn", "TINH"),
]
DEMO_RULES = """Hội thi gồm 4 đợt, mỗi đợt một tuần. Mỗi lượt thi có 20 câu hỏi trắc nghiệm được chọn ngẫu nhiên \
từ ngân hàng câu hỏi và một câu hỏi dự đoán số người trả lời đúng tất cả các câu hỏi.

Cán bộ, công chức, viên chức làm bài trong 20 phút; người dân làm bài trong 30 phút. Mỗi người được thi \
tối đa 3 lượt trong một đợt; lượt có kết quả cao nhất được tính.

Xếp hạng theo số câu trả lời đúng; nếu bằng nhau, người có số dự đoán gần đúng hơn xếp trên; nếu vẫn \
bằng nhau, người làm bài trong thời gian ngắn hơn xếp trên, rồi đến người nộp bài sớm hơn.

Thành viên Ban tổ chức, Tổ thư ký, Tổ giúp việc không được xét giải. Khai sai thông tin cá nhân \
thì kết quả không được công nhận.

Đây là hội thi mẫu để giới thiệu nền tảng; dữ liệu không có giá trị thật."""
OFFICIAL_STRATA = [  # 20 questions across the topics of the officials' bank
    ("Chương trình tổng thể CCHC 2021–2030", 2), ("Chính quyền địa phương hai cấp", 2),
    ("Tổ chức bộ máy và công chức", 2), ("Cơ chế một cửa, một cửa liên thông", 3),
    ("Dịch vụ công trực tuyến và chuyển đổi số", 3), ("Đề án 06 và định danh điện tử", 2),
    ("Kiểm soát thủ tục hành chính", 1), ("Quyền của người dân khi giải quyết thủ tục hành chính", 1),
    ("Văn hóa công vụ", 2), ("Các chỉ số đánh giá CCHC", 2),
]


def _csv(rows) -> bytes:
    lines = ["Mã,Tên,Mã cấp trên,Số CBCCVC"] + [",".join(str(c) for c in row) for row in rows]
    return "\n".join(lines).encode("utf-8")


def _import_demo_units(session, contest_id: int) -> None:
    for kind, rows in ((UNIT, DEMO_UNITS), (LOCALITY, [(*row, "") for row in DEMO_LOCALITIES])):
        report = import_units(session, contest_id=contest_id, kind=kind, data=_csv(rows), filename="demo.csv")
        if not report.saved:
            raise RuntimeError("\n".join(report.lines()))


def _demo_tracks(session) -> list[setup.TrackConfig]:
    banks = [store.find_bank(session, name) for name in SHIPPED_BANKS.values()]
    return [
        setup.TrackConfig(track="officials", bank_ids=[banks[0].id], time_limit_seconds=20 * 60, max_attempts=3,
                          draw={"strata": [{"topic": topic, "count": count} for topic, count in OFFICIAL_STRATA]}),
        setup.TrackConfig(track="citizens", bank_ids=[banks[1].id], time_limit_seconds=30 * 60, max_attempts=3,
                          draw={"total": 20}),
    ]


def _local_midnight(now: datetime, tz: str) -> datetime:
    return now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)


def load_demo_contest(db: Database, *, now: datetime, tz: str = "Asia/Ho_Chi_Minh") -> str | None:
    """The live demo contest: units, localities and a first round open from today for four weeks.
    Returns its slug, or None when it already exists (then it is left as the organiser made it)."""
    with db.write_session() as session:
        if session.scalar(select(Contest.id).where(Contest.slug == DEMO_SLUG)) is not None:
            return None
        contest = setup.create_contest(
            session, title=DEMO_TITLE, slug=DEMO_SLUG, now=now, rules=DEMO_RULES,
            organiser_body="Ban Tổ chức Hội thi (mẫu)", plan_reference="Kế hoạch tổ chức hội thi (mẫu)")
        _import_demo_units(session, contest.id)
        site.set_contact(contest, phone="0999 999 999", email="hotro@example.org",
                         hours="7:30–17:00 các ngày làm việc (số mẫu, không có thật)")
        announcements.create(session, contest_id=contest.id, user_id=None, now=now, form=announcements.AnnouncementForm(
            title="Đợt 1 đã mở", body="Mỗi người có 3 lượt thi trong đợt; lượt có kết quả tốt nhất được tính.\n"
            "Quên mật khẩu? Gọi đường dây hỗ trợ ở cuối trang để nhận mã khôi phục.", pinned=True, published_at=now))
        local_midnight = _local_midnight(now, tz)
        setup.save_round(
            session, contest=contest, now=now, round_=None, number=1, title="Tuần thứ nhất",
            opens_at=local_midnight, closes_at=local_midnight + timedelta(days=28, hours=9, minutes=30),
            grace_seconds=30, prediction_kind="perfect_scores", tracks=_demo_tracks(session))
        _demo_entry_round(session, contest, opens_at=local_midnight, now=now)
        return contest.slug


def _demo_entry_round(session, contest: Contest, *, opens_at: datetime, now: datetime) -> None:
    """Round 2 takes entries (an essay typed on the page, or a poster or a Word file) for the demo judges."""
    from contest.entries import judging, rounds

    round_ = rounds.save_entry_round(
        session, contest=contest, now=now, round_=None, number=2, title="Viết về cải cách hành chính nơi em làm việc",
        opens_at=opens_at, closes_at=opens_at + timedelta(days=28, hours=9, minutes=30),
        rules=rounds.EntryRules(max_words=1500, file_kinds=("docx", "pdf", "jpg", "png"), max_files=2,
                                max_file_mb=10, judges_per_entry=2, flag_gap=15))
    judges = {}
    for email, password, name in DEMO_JUDGES:
        _ensure_user(session, email, password, Role.judge, name, now)
        judges[session.scalar(select(User.id).where(User.email == email))] = None
    judging.set_panel(session, round_.id, judges)


RESULTS_SLUG = "cchc-2026-ket-qua"
RESULTS_TITLE = "Hội thi mẫu đã kết thúc (dữ liệu mô phỏng)"
RESULTS_RULES = DEMO_RULES.replace("Hội thi gồm 4 đợt, mỗi đợt một tuần.", "Hội thi gồm 1 đợt, kéo dài một tuần.") + """

Người dự thi, đơn vị và bài thi của hội thi này do máy tạo ngẫu nhiên (họ tên, số điện thoại 0399xxxxxx \
đều không có thật) để giới thiệu bảng xếp hạng, giải thưởng và thống kê."""
DEMO_SIMULATED = 3000  # simulated contestants of the finished demo contest (about 4,500 attempts)
DEMO_APPEAL_HOURS = 12  # the finished demo contest's appeal period (new contests get 48 hours)


def load_demo_results(db: Database, *, now: datetime, contestants: int = DEMO_SIMULATED,
                      tz: str = "Asia/Ho_Chi_Minh") -> str | None:
    """The finished demo contest: one week-long round that closed yesterday morning, `contestants` simulated
    people across the demo units and localities, ranked, results public. Returns its slug, or None when it
    already exists."""
    with db.write_session() as session:
        if session.scalar(select(Contest.id).where(Contest.slug == RESULTS_SLUG)) is not None:
            return None
        closes_at = _local_midnight(now, tz) - timedelta(days=1) + timedelta(hours=9, minutes=30)
        opens_at = closes_at - timedelta(days=7) + timedelta(minutes=30)
        contest = setup.create_contest(
            session, title=RESULTS_TITLE, slug=RESULTS_SLUG, now=opens_at - timedelta(days=3), rules=RESULTS_RULES,
            organiser_body="Ban Tổ chức Hội thi (mẫu)", plan_reference="Kế hoạch tổ chức hội thi (mẫu)")
        contest.public_results = True
        # Twelve hours to appeal: over by the time the demo is loaded (the round closed yesterday morning), so
        # the officials' list below can be locked.
        contest.appeal_hours = DEMO_APPEAL_HOURS
        _import_demo_units(session, contest.id)
        round_ = setup.save_round(
            session, contest=contest, now=opens_at - timedelta(days=3), round_=None, number=1, title="Đợt 1",
            opens_at=opens_at, closes_at=closes_at, grace_seconds=30, prediction_kind="perfect_scores",
            tracks=_demo_tracks(session))
        units = session.scalars(select(Unit).where(Unit.contest_id == contest.id)).all()
        # A fixed seed: the demo tells the same story each time it is loaded.
        simulate_round(session, round_=round_, contestants=contestants, units=units, rng=random.Random(2026),
                       now=now, tz=tz)
        ranking.rank_round(session, round_, now=now)
        # Prize lists to look at: the officials' locked (so winners, certificates and the evidence pack
        # have them), the citizens' left as a proposal awaiting review.
        for track in round_tracks(session, round_.id):
            proposed = prizes.propose(session, round_.id, track, now)
            if track == "officials":
                prizes.lock(session, proposed.id, None, now)
        return contest.slug


def load_demo(db: Database, *, now: datetime, simulated: int = DEMO_SIMULATED) -> list[str]:
    """Load (idempotently) the demo data; return lines telling what is there and how to log in.
    `simulated` is the number of simulated contestants in the finished demo contest (tests use fewer)."""
    with db.write_session() as session:
        _ensure_user(session, *DEMO_ORGANISER, Role.organiser, "Ban tổ chức (demo)", now)
        _ensure_user(session, *DEMO_VIEWER, Role.viewer, "Lãnh đạo xem kết quả (demo)", now)
    lines = load_shipped_banks(db, now=now)
    slug = load_demo_contest(db, now=now)
    if slug:
        lines.append(f"Demo contest: /c/{slug}")
    finished = load_demo_results(db, now=now, contestants=simulated)
    if finished:
        lines.append(f"Finished demo contest ({simulated:,} simulated contestants, ranked): /c/{finished}")
    return lines + [
        f"Demo organiser: {DEMO_ORGANISER[0]} / {DEMO_ORGANISER[1]}",
        f"Demo viewer:    {DEMO_VIEWER[0]} / {DEMO_VIEWER[1]}",
        f"Demo judges:    {', '.join(email for email, _, _ in DEMO_JUDGES)} / {DEMO_JUDGES[0][1]}",
    ]
