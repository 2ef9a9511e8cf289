"""Full phone and CCCD numbers leave the server only for organisers and admins, only when asked for, and
each such download is recorded; viewers get masked files and pages whatever they ask for."""

from __future__ import annotations

import csv
import getpass
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from contest.exports import jobs
from tests.conftest import html, login, post_form
from tests.test_exports import CLOSED, TZ, contest, run  # noqa: F401 - fixtures

# Every phone and CCCD the `contest` fixture holds, which no masked file may contain.
PHONES = ["0912000001", "0912000002", "0912000003", "0912000004", "0987000009"]
CCCDS = ["001200000001"]
MASKED_PHONE = re.compile(r"\d{2}xx xxx \d{3}")
MASKED_CCCD = re.compile(r"\d{3}x{6}\d{3}")


@pytest.fixture
def as_role(make_client, staff, clock):
    """A logged-in client for a staff role, at the time the round is closed and ranked."""
    clock.now = CLOSED

    def factory(role: str):
        client = make_client()
        assert login(client, staff[role]).status_code == 303
        return client

    return factory


def exports_page(contest) -> str:
    return f"/staff/contests/{contest.contest_id}/exports"


def tables_of(response) -> list[list[list]]:
    """Every table of a downloaded file (xlsx sheets, one CSV, or the CSV files of a zip) as rows of cells."""
    content_type = response.headers["content-type"]
    if content_type.startswith("text/csv"):
        return [list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))]
    if content_type == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return [list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
                    for name in archive.namelist()]
    book = load_workbook(io.BytesIO(response.content))
    return [[list(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames]


def assert_masked(response) -> int:
    """Check every cell: phone cells masked, CCCD cells masked or absent, no full number anywhere.
    Returns how many phone cells were checked."""
    checked = 0
    for table in tables_of(response):
        if not table:
            continue
        header = [str(h) if h is not None else "" for h in table[0]]
        for row in table[1:]:
            for column, cell in zip(header, row):
                value = "" if cell is None else str(cell)
                assert not any(secret in value for secret in PHONES + CCCDS), (column, value)
                if column == "Số điện thoại" and value:
                    assert MASKED_PHONE.fullmatch(value), value
                    checked += 1
                if column == "Số CCCD" and value:
                    assert MASKED_CCCD.fullmatch(value), value
    return checked


def records(db) -> list[tuple]:
    with db.session() as session:
        return [tuple(r) for r in session.execute(text(
            "SELECT actor, channel, contest_id, round_id, kind, track, fmt, rows, job_id, user_id "
            "FROM personal_data_downloads ORDER BY id"))]


FULL_REQUESTS = [  # what a viewer may try: the new box, the old "internal" choice, or both
    {"kind": "leaderboard", "track": "officials", "fmt": "xlsx", "full": "1", "public": "0"},
    {"kind": "leaderboard", "track": "citizens", "fmt": "csv", "full": "1"},
    {"kind": "leaderboard", "fmt": "xlsx", "public": "0"},
    {"kind": "attempts", "fmt": "xlsx", "full": "1", "public": "0"},
    {"kind": "attempts", "track": "officials", "fmt": "csv", "full": "1"},
    {"kind": "winners", "fmt": "xlsx", "full": "1", "public": "0"},
    {"kind": "winners", "fmt": "csv", "full": "1"},
    {"kind": "overall", "fmt": "xlsx", "full": "1", "public": "0"},
    {"kind": "overall", "track": "officials", "fmt": "csv", "full": "1"},
    {"kind": "evidence", "fmt": "xlsx", "full": "1", "public": "0"},
    {"kind": "evidence", "fmt": "zip", "full": "1"},
]


def test_viewer_asking_for_full_data_gets_masked_cells(as_role, db, contest):
    viewer = as_role("viewer")
    for form in FULL_REQUESTS:
        needs_round = form["kind"] in ("leaderboard", "attempts")
        response = post_form(viewer, exports_page(contest), {**form, **({"round_id": str(contest.round_id)}
                                                                       if needs_round else {})})
        assert response.status_code == 200, form
        assert assert_masked(response) >= 1, form
    assert records(db) == []


def test_viewer_export_page_offers_no_full_variant(as_role, contest):
    page = html(as_role("viewer").get(exports_page(contest)))
    assert page.find("input", attrs={"name": "full"}) is None
    assert page.find("select", attrs={"name": "public"}) is None
    assert page.find("a", href=f"{exports_page(contest)}/personal-data") is None


def test_organiser_gets_masked_data_by_default(as_role, db, contest):
    organiser = as_role("organiser")
    page = html(organiser.get(exports_page(contest)))
    box = page.find("input", attrs={"name": "full"})
    assert box["type"] == "checkbox" and not box.has_attr("checked")
    assert box.parent.text.strip() == "bản đầy đủ (có số điện thoại, CCCD)"
    response = post_form(organiser, exports_page(contest), {"kind": "leaderboard", "round_id": str(contest.round_id),
                                                            "track": "officials", "fmt": "xlsx"})
    assert assert_masked(response) == 4
    assert records(db) == []


def test_organiser_gets_full_data_when_asked_and_the_download_is_recorded(as_role, db, contest, staff, clock):
    organiser = as_role("organiser")
    response = post_form(organiser, exports_page(contest), {"kind": "leaderboard", "round_id": str(contest.round_id),
                                                            "track": "officials", "fmt": "xlsx", "full": "1"})
    assert response.status_code == 200
    assert 'filename="thi-thu-xep-hang-dot-1-can-bo.xlsx"' in response.headers["content-disposition"]
    sheet = tables_of(response)[0]
    assert sheet[0][2:4] == ["Số điện thoại", "Số CCCD"]
    assert sheet[1][1:4] == ["Nguyễn Văn An", "0912000001", "001200000001"]
    assert [r[2] for r in sheet[1:]] == PHONES[:4]
    assert records(db) == [(staff["organiser"], "web", contest.contest_id, contest.round_id, "leaderboard",
                            "officials", "xlsx", 4, None, 2)]
    from contest.models import PersonalDataDownload

    with db.session() as session:
        assert session.scalar(select(PersonalDataDownload.at)) == clock.now

    listing = html(organiser.get(f"{exports_page(contest)}/personal-data"))
    cells = [td.text.strip() for td in listing.find("table", class_="personal-data-log").find("tbody").find("td").
             find_parent("tr").find_all("td")]
    assert cells[1:] == [staff["organiser"], "Tải trực tiếp", "Bảng xếp hạng một đợt", "1", "Cán bộ, công chức, viên chức",
                         "xlsx", "4"]


def test_record_page_and_its_workbook_are_for_organisers_and_admins_only(as_role, make_client, contest):
    page = f"{exports_page(contest)}/personal-data"
    anonymous = make_client()
    assert anonymous.get(page, follow_redirects=False).status_code in (303, 401)
    assert anonymous.get(page + ".xlsx", follow_redirects=False).status_code in (303, 401)
    viewer = as_role("viewer")
    assert viewer.get(page).status_code == 403
    assert viewer.get(page + ".xlsx").status_code == 403
    for role in ("organiser", "admin"):
        client = as_role(role)
        assert client.get(page).status_code == 200
        workbook = client.get(page + ".xlsx")
        assert workbook.status_code == 200
        assert tables_of(workbook)[0][0] == ["Thời điểm", "Người tải", "Cách tải", "Loại dữ liệu", "Đợt", "Đối tượng",
                                             "Định dạng", "Số dòng"]


def _finished_job(db, settings, spec) -> int:
    with db.write_session() as session:
        job_id = jobs.create_job(session, spec, user_id=None, now=CLOSED).id
    jobs.run_job(db, job_id, directory=settings.exports_dir, tz=TZ, clock=lambda: CLOSED)
    return job_id


def test_viewer_cannot_download_an_organisers_full_background_export(as_role, db, settings, contest, staff):
    full_job = _finished_job(db, settings, jobs.ExportSpec(kind="evidence", contest_id=contest.contest_id))
    masked_job = _finished_job(db, settings, jobs.ExportSpec(kind="evidence", contest_id=contest.contest_id,
                                                             public=True))
    viewer = as_role("viewer")
    assert viewer.get(f"/staff/exports/{full_job}/download").status_code == 403
    block = html(viewer.get(f"/staff/exports/{full_job}", headers={"HX-Request": "true"})).find(id="job")
    assert block["data-status"] == "done" and block.find("a") is None
    listing = html(viewer.get(exports_page(contest)))
    assert listing.find("a", href=f"/staff/exports/{full_job}/download") is None
    masked = viewer.get(f"/staff/exports/{masked_job}/download")
    assert masked.status_code == 200 and assert_masked(masked) >= 1
    assert records(db) == []

    organiser = as_role("organiser")
    full = organiser.get(f"/staff/exports/{full_job}/download")
    assert full.status_code == 200
    sheet = next(t for t in tables_of(full) if t[0][:3] == ["Đối tượng", "Hạng", "Họ và tên"])
    assert sheet[1][3:5] == ["0912000001", "001200000001"]
    assert records(db) == [(staff["organiser"], "job", contest.contest_id, None, "evidence", "", "xlsx", None,
                            full_job, 2)]


def test_viewer_cannot_start_a_full_background_export(as_role, db, contest, monkeypatch):
    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", -1)
    response = post_form(as_role("viewer"), exports_page(contest), {"kind": "evidence", "fmt": "xlsx", "full": "1",
                                                                    "public": "0"}, follow_redirects=False)
    assert response.status_code == 303
    with db.session() as session:
        params = session.scalar(text("SELECT params FROM export_jobs"))
    assert jobs.ExportSpec.from_json(params).public is True


def test_staff_result_pages_mask_phones_for_viewers(as_role, contest):
    board = f"/staff/contests/{contest.contest_id}/results/rounds/{contest.round_id}/officials"
    pages = [board, f"{board}/find?q=An", f"/staff/contests/{contest.contest_id}/results/overall/officials"]
    for page in pages:
        text_ = html(as_role("viewer").get(page)).text
        assert not any(phone in text_ for phone in PHONES), page
        assert "09xx xxx 001" in text_, page
        assert "0912000001" in html(as_role("organiser").get(page)).text, page


def test_cli_export_keeps_full_data_and_records_it_under_the_os_user(run, db, contest, tmp_path):
    board = tmp_path / "board.xlsx"
    assert run("export", "leaderboard", "--round", str(contest.round_id), "--track", "officials",
               "-o", str(board)).exit_code == 0
    assert load_workbook(board)["Xếp hạng CBCCVC"]["C2"].value == "0912000001"
    assert run("export", "leaderboard", "--round", str(contest.round_id), "--track", "officials", "--public",
               "-o", str(tmp_path / "masked.xlsx")).exit_code == 0
    assert records(db) == [(getpass.getuser(), "cli", contest.contest_id, contest.round_id, "leaderboard",
                            "officials", "xlsx", 4, None, None)]
