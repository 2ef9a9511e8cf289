"""The report "Báo cáo kết quả tổ chức Hội thi" (.docx): read back with python-docx (layout, headings, tables
cell by cell, images, NFC text, no personal numbers), opened by LibreOffice, downloaded from the results page
by staff only, written by `contest export report` and by a background job."""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from datetime import date

import pytest
from docx import Document
from docx.shared import Pt
from sqlalchemy import select, update

from contest import accounts
from contest.exports import jobs, report_document, report_docx
from contest.exports.docx_layout import vietnamese_date_line
from contest.models import Contest, Contestant, ExportJob, Question, QuestionOption
from tests.conftest import NOW, PASSWORD, html, login, post_form
from tests.contest_helpers import make_contest
from tests.test_exports import CLOSED, TZ, export
from tests.test_exports import contest as exports_contest  # noqa: F401 - the fixture, used through `contest`
from tests.test_exports import run  # noqa: F401 - the CLI fixture

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PHONES = ("0912000001", "0912000002", "0912000003", "0912000004", "0987000009", "001200000001")
TITLE = "Kết quả tổ chức Hội thi Thi thử cải cách hành chính"


@pytest.fixture
def contest(db, exports_contest):  # noqa: F811
    """test_exports' contest (four officials, one citizen, the officials' prize list locked) with a minimum
    participation rate of 5%: CCHC (1 of 12, 8.3%) is ranked for the team prize, SNV (2 of 80) is not."""
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == exports_contest.contest_id).values(team_min_rate=5))
    return exports_contest


def report_spec(contest) -> jobs.ExportSpec:
    return jobs.ExportSpec(kind="report", contest_id=contest.contest_id, fmt="docx")


def write(db, contest, tmp_path, *, chain_head=None):
    path = tmp_path / "bao-cao.docx"
    with db.session() as session:
        data = report_document.report_data(session, contest.contest_id, tz=TZ, now=CLOSED)
    counts = report_docx.write_report(data, str(path), chain_head=chain_head)
    return path, counts


def cells(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def every_text(document) -> list[str]:
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return texts


def test_report_frame_follows_decree_30(db, contest, tmp_path):
    path, _ = write(db, contest, tmp_path)
    document = Document(str(path))
    section = document.sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin, section.bottom_margin,
             section.left_margin, section.right_margin)
    assert [round(length.mm, 1) for length in sizes] == [210, 297, 20, 20, 30, 15]  # stored in twips
    normal = document.styles["Normal"].font
    assert (normal.name, normal.size) == ("Times New Roman", Pt(14))
    assert {r.font.name for p in document.paragraphs for r in p.runs if r.text} == {"Times New Roman"}
    header = document.tables[0]
    left, right = header.rows[0].cells
    assert [p.text for p in left.paragraphs] == ["TÊN CƠ QUAN, TỔ CHỨC CHỦ QUẢN", "SỞ NỘI VỤ (THỬ)", "",
                                                "Số: ……/BC-……"]
    # Exported at 10:00 on 10 March 2026 in Hanoi (03:00 UTC).
    assert [p.text for p in right.paragraphs] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                                                 "", "……, ngày 10 tháng 3 năm 2026"]
    assert right.paragraphs[3].runs[1].font.italic and right.paragraphs[0].runs[0].font.bold
    rules = [p for p in (left.paragraphs[2], right.paragraphs[2]) if p._p.pPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr") is not None]
    assert len(rules) == 2
    texts = [p.text for p in document.paragraphs]
    assert texts[texts.index("BÁO CÁO") + 1] == TITLE
    assert texts[texts.index("BÁO CÁO") + 3] == ("Thực hiện Kế hoạch 1183/KH-UBND ngày 08/4/2022, Sở Nội vụ (thử) báo "
                                                "cáo kết quả tổ chức Hội thi Thi thử cải cách hành chính như sau:")
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        ("Heading 1", "I. MỤC ĐÍCH, YÊU CẦU"), ("Heading 1", "II. KẾT QUẢ TỔ CHỨC HỘI THI"),
        ("Heading 2", "1. Thời gian, hình thức và đối tượng dự thi"), ("Heading 2", "2. Số người tham gia"),
        ("Heading 2", "3. Tham gia theo đơn vị"), ("Heading 2", "4. Tham gia theo địa bàn"),
        ("Heading 2", "5. Lượt thi theo ngày và phân bố điểm"), ("Heading 2", "6. Kết quả xét giải"),
        ("Heading 1", "III. ĐÁNH GIÁ CHUNG"), ("Heading 1", "IV. ĐỀ XUẤT, KIẾN NGHỊ")]
    signature = document.tables[-1]
    assert [p.text for p in signature.rows[0].cells[0].paragraphs] == ["Nơi nhận:", "- ……;", "- ……;", "- Lưu: VT."]
    assert [p.text for p in signature.rows[0].cells[1].paragraphs] == ["TM. BAN TỔ CHỨC", "TRƯỞNG BAN",
                                                                      "Họ và tên người ký"]
    highlighted = [r.text for p in document.paragraphs for r in p.runs if r.font.highlight_color]
    assert highlighted == ["Nêu mục đích, yêu cầu của Hội thi theo kế hoạch tổ chức.",
                           "Nêu ưu điểm, hạn chế và nguyên nhân.", "Nêu đề xuất, kiến nghị."]
    assert document.sections[0].different_first_page_header_footer
    assert 'w:instr="PAGE"' in document.sections[0].header._element.xml


def test_report_tables_cell_by_cell(db, contest, tmp_path):
    path, counts = write(db, contest, tmp_path)
    assert counts == {"Các đợt thi": 2, "Theo đối tượng": 2, "Theo đơn vị": 2, "Theo địa bàn": 2,
                      "Phân bố điểm": 5, "Người đạt giải": 4, "Xếp hạng đơn vị": 1, "Biểu đồ": 3}
    tables = Document(str(path)).tables
    rounds, tracks, units, places, scores, winners, teams = tables[1:8]
    assert cells(rounds) == [
        ["Đợt", "Thời gian", "Đối tượng dự thi", "Đề thi", "Người tham gia", "Lượt thi đã nộp"],
        ["Đợt 1: Tuần 1", "02/03/2026 09:00 – 09/03/2026 10:00", "Cán bộ, công chức, viên chức",
         "10 câu, 10 phút, tối đa 2 lượt", "4", "4"],
        ["Đợt 1: Tuần 1", "02/03/2026 09:00 – 09/03/2026 10:00", "Người dân", "10 câu, 10 phút, tối đa 2 lượt",
         "1", "1"]]
    assert cells(tracks) == [["Đối tượng", "Đã đăng ký", "Người tham gia", "Lượt thi đã nộp"],
                             ["Cán bộ, công chức, viên chức", "4", "4", "4"], ["Người dân", "1", "1", "1"],
                             ["Tổng cộng", "5", "5", "5"]]
    assert cells(units) == [["STT", "Đơn vị", "Số CBCCVC", "Người tham gia", "Tỉ lệ tham gia", "Điểm trung bình"],
                            ["1", "Sở Nội vụ › Phòng Cải cách hành chính", "12", "1", "8,3%", "100,0%"],
                            ["2", "Sở Nội vụ", "80", "2", "2,5%", "85,0%"]]
    assert cells(places) == [["STT", "Địa bàn", "Người tham gia", "Điểm trung bình"],
                             ["1", "Tỉnh Thử", "1", "70,0%"], ["2", "Tỉnh Thử › Xã Tân Lập", "1", "70,0%"]]
    assert cells(scores) == [["Tỉ lệ câu trả lời đúng", "Số kết quả", "Tỉ lệ"],
                             ["Đúng tất cả (100%)", "1", "20,0%"], ["Từ 75% đến dưới 100%", "2", "40,0%"],
                             ["Từ 25% đến dưới 75%", "2", "40,0%"], ["Trên 0 đến dưới 25%", "0", "0,0%"],
                             ["Không đúng câu nào (0)", "0", "0,0%"]]
    assert cells(winners)[0] == ["STT", "Họ và tên", "Đơn vị / địa bàn", "Giải", "Số câu đúng", "Thời gian (giây)"]
    assert cells(winners)[1] == ["1", "Nguyễn Văn An", "Sở Nội vụ › Phòng Cải cách hành chính", "Giải Nhất",
                                 "10/10", "300"]
    assert [row[3] for row in cells(winners)[1:]] == ["Giải Nhất", "Giải Nhì", "Giải Nhì", "Giải Ba"]
    assert cells(teams) == [["Hạng", "Đơn vị", "Số CBCCVC", "Người tham gia", "Tỉ lệ tham gia", "Điểm trung bình"],
                            ["1", "Sở Nội vụ › Phòng Cải cách hành chính", "12", "1", "8,3%", "100,0%"]]
    assert len(tables) == 9  # the heading block, the seven above, the signature block


def test_report_names_units_under_the_minimum_rate(db, contest, tmp_path):
    path, _ = write(db, contest, tmp_path)
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert "Các đơn vị có tỉ lệ tham gia dưới 5% (1 đơn vị): Sở Nội vụ (2,5%)." in texts
    assert "2/2 đơn vị có người tham gia." in texts[texts.index("3. Tham gia theo đơn vị") + 1]
    assert "1 đơn vị không được xếp hạng." in texts
    assert "Đợt 1, cán bộ, công chức, viên chức: 4 giải." in texts


def test_report_images_are_the_three_charts(db, contest, tmp_path):
    path, _ = write(db, contest, tmp_path)
    document = Document(str(path))
    assert len(document.inline_shapes) == 3
    images = [part for part in document.part.package.parts if part.content_type == "image/png"]
    assert len(images) == 3 and all(part.blob.startswith(b"\x89PNG\r\n\x1a\n") for part in images)
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions == ["Biểu đồ 1. Tỉ lệ tham gia theo đơn vị", "Biểu đồ 2. Số lượt thi theo ngày",
                        "Biểu đồ 3. Phân bố điểm"]


def test_report_text_is_nfc_and_carries_no_phone_cccd_question_or_option(db, contest, tmp_path):
    path, _ = write(db, contest, tmp_path)
    texts = every_text(Document(str(path)))
    assert all(unicodedata.normalize("NFC", t) == t for t in texts)
    joined = "\n".join(texts)
    assert not [number for number in PHONES if number in joined]
    assert "xxx" not in joined  # not even masked
    with db.session() as session:
        bank = list(session.scalars(select(Question.text))) + list(session.scalars(select(QuestionOption.text)))
    words = [text for text in bank if text not in ("Đúng", "Sai")]  # true/false options are everyday words
    assert len(words) > 100 and not [text for text in words if text in joined]
    assert "GIAITHICH" not in joined  # nor any explanation


def test_report_prints_the_chain_head_only_when_given(db, contest, tmp_path):
    head = "9f" * 32
    path, _ = write(db, contest, tmp_path, chain_head=head)
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert f"Mã kiểm tra nhật ký hệ thống (đầu chuỗi nhật ký lúc lấy số liệu): {head}" in texts
    assert texts[texts.index("Nêu đề xuất, kiến nghị.") + 2] == (
        "Số liệu trong báo cáo được lấy từ hệ thống thi trực tuyến lúc 10/03/2026 10:00 (giờ Việt Nam).")
    path, _ = write(db, contest, tmp_path)
    assert not [t for t in every_text(Document(str(path))) if "Mã kiểm tra nhật ký" in t]


def test_report_without_units_prizes_or_organiser_still_reads(db, tmp_path):
    fixture = make_contest(db, units=False)
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == fixture.contest_id).values(organiser_body="",
                                                                                       plan_reference=""))
    path, counts = write(db, fixture, tmp_path)
    document = Document(str(path))
    texts = [p.text for p in document.paragraphs]
    assert "Chưa có danh sách giải nào được khóa." in texts
    assert "Chưa có đơn vị nào đủ điều kiện xếp hạng." in texts
    assert counts["Người đạt giải"] == 0 and counts["Biểu đồ"] == 0 and "Theo đơn vị" not in counts
    assert [p.text for p in document.tables[0].rows[0].cells[0].paragraphs][1] == "TÊN CƠ QUAN, TỔ CHỨC BAN HÀNH"
    intro = texts[texts.index("BÁO CÁO") + 3]
    assert intro.startswith("Thực hiện Kế hoạch số ……/KH-…… ngày ……, Ban Tổ chức báo cáo")


def test_date_line_and_summary_follow_the_decree():
    assert vietnamese_date_line("Hà Nội", date(2026, 2, 5)) == "Hà Nội, ngày 05 tháng 02 năm 2026"
    assert vietnamese_date_line("……", date(2026, 12, 15)) == "……, ngày 15 tháng 12 năm 2026"
    assert vietnamese_date_line("……", date(2026, 3, 1)) == "……, ngày 01 tháng 3 năm 2026"
    assert report_docx.report_title("Hội thi tìm hiểu CCHC năm 2026") == (
        "Kết quả tổ chức Hội thi tìm hiểu CCHC năm 2026")
    assert report_docx.report_title("Cuộc thi trực tuyến PAR INDEX") == "Kết quả tổ chức Cuộc thi trực tuyến PAR INDEX"
    assert report_docx.report_title("Thi thử") == "Kết quả tổ chức Hội thi Thi thử"


def test_report_spec_takes_docx_only_and_workbooks_never_docx(db, contest):
    with db.session() as session:
        with pytest.raises(jobs.SpecError, match=r"Word \(\.docx\)"):
            jobs.check_spec(session, jobs.ExportSpec(kind="report", contest_id=contest.contest_id, fmt="xlsx"))
        with pytest.raises(jobs.SpecError, match="xlsx, csv hoặc zip"):
            jobs.check_spec(session, jobs.ExportSpec(kind="stats", contest_id=contest.contest_id, fmt="docx"))
        assert jobs.check_spec(session, report_spec(contest)).fmt == "docx"


# --- LibreOffice -------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed: "
                                                           "apt-get install libreoffice-writer-nogui")
def test_libreoffice_opens_the_report_and_reads_its_text(db, contest, tmp_path):
    path, _ = write(db, contest, tmp_path)
    out = tmp_path / "txt"
    done = subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                           "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    text = (out / "bao-cao.txt").read_text(encoding="utf-8-sig")
    lines = [line.strip() for line in text.splitlines()]
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO", TITLE,
                     "……, ngày 10 tháng 3 năm 2026", "II. KẾT QUẢ TỔ CHỨC HỘI THI", "Nguyễn Văn An", "Giải Nhất",
                     "Sở Nội vụ › Phòng Cải cách hành chính", "Biểu đồ 3. Phân bố điểm", "Nơi nhận:", "TRƯỞNG BAN"):
        assert expected in lines, expected
    assert unicodedata.normalize("NFC", text) == text
    assert not [number for number in PHONES if number in text]


# --- the results page, the command line, background jobs ----------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "organiser"])
def test_results_page_button_downloads_the_report(client, staff, clock, contest, role):
    clock.now = CLOSED
    assert login(client, staff[role]).status_code in (302, 303)
    page = f"/staff/contests/{contest.contest_id}/results"
    form = html(client.get(page)).find("form", id="report-form")
    assert form["action"] == f"/staff/contests/{contest.contest_id}/exports/report"
    assert form.find("input", attrs={"name": "_csrf_token"}) is not None
    assert form.button.get_text(strip=True) == "Tải báo cáo kết quả tổ chức Hội thi (Word)"
    response = post_form(client, form["action"], {}, form_page=page)
    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX
    assert response.headers["content-disposition"] == 'attachment; filename="thi-thu-bao-cao-ket-qua.docx"'
    texts = [p.text for p in Document(io.BytesIO(response.content)).paragraphs]
    assert TITLE in texts
    exports_page = html(client.get(f"/staff/contests/{contest.contest_id}/exports"))
    assert exports_page.find("form", id="report-form")["action"] == form["action"]


def test_report_is_refused_to_contestants_and_anonymous(client, contest):
    target = f"/staff/contests/{contest.contest_id}/exports/report"
    response = post_form(client, target, {}, form_page="/login", follow_redirects=False)
    assert response.status_code in (302, 303, 401, 403)
    assert response.headers.get("content-type") != DOCX
    # A contestant signed in to the contest is no staff member either.
    with client.app.state.db.write_session() as session:
        session.add(Contestant(contest_id=contest.contest_id, track="officials", full_name="Người thi",
                               search_name="nguoi thi", phone="0912999888", consent_at=NOW, created_at=NOW,
                               password_hash=accounts.hash_password(PASSWORD, accounts.CONTESTANT_HASHER)))
    signed_in = post_form(client, "/c/thi-thu/dang-nhap", {"phone": "0912999888", "password": PASSWORD},
                          follow_redirects=False)
    assert signed_in.status_code == 303
    response = post_form(client, target, {}, form_page="/login", follow_redirects=False)
    assert response.status_code in (302, 303, 401, 403)
    assert response.headers.get("content-type") != DOCX


def test_cli_export_report_by_slug(run, contest, tmp_path):  # noqa: F811 - `run` is the imported fixture
    out = tmp_path / "bao-cao.docx"
    result = run("export", "report", "--contest", "thi-thu", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(out), "  Các đợt thi: 2 dòng", "  Theo đối tượng: 2 dòng",
                                          "  Theo đơn vị: 2 dòng", "  Theo địa bàn: 2 dòng", "  Phân bố điểm: 5 dòng",
                                          "  Người đạt giải: 4 dòng", "  Xếp hạng đơn vị: 1 dòng", "  Biểu đồ: 3 dòng"]
    assert TITLE in [p.text for p in Document(str(out)).paragraphs]
    result = run("export", "report", "--contest", "khong-co", "-o", str(out))
    assert result.exit_code == 1 and "Không có hội thi 'khong-co'." in result.output
    result = run("export", "report", "--contest", "thi-thu", "-o", str(tmp_path / "bao-cao.xlsx"))
    assert result.exit_code == 1 and "phải kết thúc bằng .docx" in result.output


def test_report_as_a_background_job_is_a_downloadable_docx(db, settings, contest, tmp_path):
    with db.write_session() as session:
        job_id = jobs.create_job(session, report_spec(contest), user_id=None, now=CLOSED).id
    directory = settings.exports_dir
    jobs.run_job(db, job_id, directory=directory, tz=TZ, clock=lambda: CLOSED)
    with db.session() as session:
        job = session.get(ExportJob, job_id)
        assert (job.status, job.filename) == (jobs.DONE, f"{job_id}-thi-thu-bao-cao-ket-qua.docx")
        path = jobs.job_file(directory, job)
    assert path is not None and TITLE in [p.text for p in Document(str(path)).paragraphs]


def test_report_through_the_export_machinery_matches_the_builder(db, contest, tmp_path):
    path, counts = export(db, tmp_path, report_spec(contest), "bao-cao.docx")
    assert counts["Người đạt giải"] == 4
    assert [p.text for p in Document(str(path)).paragraphs if p.style.name == "Heading 1"][0] == "I. MỤC ĐÍCH, YÊU CẦU"
