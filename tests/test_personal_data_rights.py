"""One person's data (Nghị định 13/2023/NĐ-CP): everything held about a contestant exported for them, their
personal data erased at their request with results kept under an anonymous label, the consent text's version
kept with each registration, and the purge of non-winners once a contest's retention period has run out."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from contest.contests import consent, personal_data, recovery
from contest.exports import jobs
from contest.models import (Attempt, AuditEvent, ConsentText, Contest, Contestant, PersonalDataDownload, PrizeAward,
                            RankingEntry, Round)
from tests.conftest import html, login, post_form
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id
from tests.test_exports import CLOSED, add_person, contest, export  # noqa: F401 - fixtures
from tests.test_personal_data import as_role  # noqa: F401 - fixture

AN = ("Nguyễn Văn An", "0912000001", "001200000001")
BINH = ("Trần Thị Bình", "0987000009")


def contestant_id(db, phone: str) -> int:
    with db.session() as session:
        return session.scalar(select(Contestant.id).where(Contestant.phone == phone))


def person_page(fixture, cid: int) -> str:
    return f"/staff/contests/{fixture.contest_id}/contestants/{cid}"


def download(client, fixture, cid: int):
    return post_form(client, person_page(fixture, cid) + "/personal-data", {}, form_page=person_page(fixture, cid))


def erase(client, fixture, cid: int, confirm: str = "XÓA"):
    return post_form(client, person_page(fixture, cid) + "/erase", {"confirm": confirm},
                     form_page=person_page(fixture, cid))


def workbook_text(content: bytes) -> str:
    book = load_workbook(io.BytesIO(content))
    return "\n".join(str(cell) for ws in book for row in ws.iter_rows(values_only=True) for cell in row
                     if cell is not None)


def audit_entries(db, action: str) -> list[dict]:
    with db.session() as session:
        return [json.loads(d) for d in session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action))]


def results_snapshot(db, fixture) -> tuple:
    """Every ranking row and prize award of the contest, as plain tuples."""
    with db.session() as session:
        ranking = session.execute(select(RankingEntry.round_id, RankingEntry.track, RankingEntry.contestant_id,
                                         RankingEntry.attempt_id, RankingEntry.rank, RankingEntry.correct_count,
                                         RankingEntry.gap, RankingEntry.duration_ms, RankingEntry.finished_at)
                                  .order_by(RankingEntry.track, RankingEntry.rank, RankingEntry.contestant_id)).all()
        awards = session.execute(select(PrizeAward.list_id, PrizeAward.contestant_id, PrizeAward.prize,
                                        PrizeAward.rank, PrizeAward.position)
                                 .order_by(PrizeAward.list_id, PrizeAward.position)).all()
    return [tuple(r) for r in ranking], [tuple(a) for a in awards]


# --- export ------------------------------------------------------------------------------------------------

def test_export_holds_the_contestants_data_and_nothing_of_another(as_role, db, contest, staff):
    an = contestant_id(db, AN[1])
    recovery.issue_code(db, contest_id=contest.contest_id, contestant_id=an, user_id=None, now=CLOSED)
    client = as_role("organiser")
    response = download(client, contest, an)
    assert response.status_code == 200
    assert response.headers["content-type"] == jobs.MEDIA_TYPES["xlsx"]
    assert f'filename="{SLUG}-du-lieu-ca-nhan-{an}.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Đăng ký", "Lượt thi", "Câu trả lời", "Xếp hạng", "Giải thưởng", "Khiếu nại",
                               "Điều chỉnh", "Khôi phục mật khẩu", "Nhật ký"]
    details = {row[0]: row[1] for row in book["Đăng ký"].iter_rows(min_row=2, values_only=True)}
    assert (details["Họ và tên"], details["Số điện thoại"], details["Số CCCD"]) == AN
    assert details["Mã người dự thi"] == an
    rows = lambda name: list(book[name].iter_rows(min_row=2, values_only=True))  # noqa: E731
    assert [(r[1], r[2], r[7], r[8], r[9]) for r in rows("Lượt thi")] == [(1, 1, "submitted", 10, 10)]
    assert [(r[2], r[8]) for r in rows("Câu trả lời")] == [(1, "đúng"), (2, "đúng")]
    assert [(r[0], r[1], r[2], r[3]) for r in rows("Xếp hạng")] == [(1, "officials", 1, 10)]
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows("Giải thưởng")] == [(1, "officials", "first", 1, "locked")]
    assert [r[0] for r in rows("Khôi phục mật khẩu")] == ["code"]
    assert [r[1] for r in rows("Nhật ký")] == ["reset_code_issued"]
    text = workbook_text(response.content)
    others = ["0912000002", "0912000003", "0912000004", BINH[0], BINH[1], "HYPERLINK", "@SUM"]
    assert [other for other in others if other in text] == []
    with db.session() as session:
        records = session.execute(select(PersonalDataDownload.kind, PersonalDataDownload.actor,
                                         PersonalDataDownload.channel, PersonalDataDownload.fmt)).all()
    assert [tuple(r) for r in records] == [("contestant", staff["organiser"], "web", "xlsx")]
    assert audit_entries(db, "personal_data_exported") == [{"contestant": an}]
    record_page = client.get(f"/staff/contests/{contest.contest_id}/exports/personal-data")
    assert "Dữ liệu cá nhân của một người dự thi" in record_page.text


def test_search_page_offers_the_download_to_organisers(as_role, db, contest):
    page = html(as_role("organiser").get(f"/staff/contests/{contest.contest_id}/contestants?q=an"))
    an = contestant_id(db, AN[1])
    form = page.find("form", attrs={"action": person_page(contest, an) + "/personal-data"})
    assert form is not None and form.find("button").get_text(strip=True) == "Tải dữ liệu cá nhân"
    assert form.find("input", attrs={"name": "_csrf_token"}) is not None


def test_viewer_can_neither_export_nor_erase(as_role, db, contest):
    viewer = as_role("viewer")
    an = contestant_id(db, AN[1])
    results_page = f"/staff/contests/{contest.contest_id}/results"
    for action, data in (("/personal-data", {}), ("/erase", {"confirm": "XÓA"})):
        response = post_form(viewer, person_page(contest, an) + action, data, form_page=results_page)
        assert response.status_code == 403
    assert viewer.get(person_page(contest, an)).status_code == 403
    with db.session() as session:
        assert session.get(Contestant, an).full_name == AN[0]
        assert session.scalar(select(PersonalDataDownload.id)) is None
    assert audit_entries(db, "personal_data_exported") == []


def test_export_and_erase_need_the_forms_token(as_role, db, contest):
    client = as_role("organiser")
    an = contestant_id(db, AN[1])
    assert client.post(person_page(contest, an) + "/personal-data").status_code == 403
    assert client.post(person_page(contest, an) + "/erase", data={"confirm": "XÓA"}).status_code == 403
    with db.session() as session:
        assert session.get(Contestant, an).erased_at is None


# --- erase -------------------------------------------------------------------------------------------------

def test_erase_keeps_rankings_and_prizes_and_removes_the_person_everywhere(as_role, db, contest, tmp_path):
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == contest.contest_id).values(public_results=True))
    an = contestant_id(db, AN[1])
    before = results_snapshot(db, contest)
    client = as_role("organiser")
    response = erase(client, contest, an)
    assert response.status_code == 200
    assert "Đã xóa dữ liệu cá nhân của người dự thi" in response.text
    assert results_snapshot(db, contest) == before
    label = f"Thí sinh ẩn danh #{an}"
    with db.session() as session:
        row = session.get(Contestant, an)
        assert (row.full_name, row.phone, row.cccd, row.email, row.birth_date, row.gender) == (
            label, f"erased-{an}", None, "", None, "")
        names = session.scalars(select(Contestant.full_name)).all()
        phones = session.scalars(select(Contestant.phone)).all()
        cccds = session.scalars(select(Contestant.cccd)).all()
    assert (AN[0] in names, AN[1] in phones, AN[2] in cccds) == (False, False, False)
    board = client.get(f"/c/{SLUG}/ket-qua/dot/1/can-bo")
    assert board.status_code == 200
    assert label in board.text and AN[0] not in board.text and "erased" not in board.text
    path, _ = export(db, tmp_path, jobs.ExportSpec(kind="leaderboard", contest_id=contest.contest_id,
                                                   round_id=contest.round_id, track="officials"), "board.xlsx")
    first = list(load_workbook(path).active.iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert first[:4] == (1, label, f"erased-{an}", None)
    assert AN[0] not in workbook_text(path.read_bytes())
    public, _ = export(db, tmp_path, jobs.ExportSpec(kind="winners", contest_id=contest.contest_id,
                                                     round_id=contest.round_id, public=True), "winners.xlsx")
    public_text = workbook_text(public.read_bytes())
    assert label in public_text and AN[0] not in public_text and "erased" not in public_text
    entries = audit_entries(db, "personal_data_erased")
    assert entries == [{"contestant": an}]
    with db.session() as session:
        erased_detail = session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "personal_data_erased"))
    assert [part for part in AN if part in erased_detail] == []
    again = erase(client, contest, an)
    assert again.status_code == 200 and "đã được xóa trước đó" in again.text
    assert audit_entries(db, "personal_data_erased") == [{"contestant": an}]
    assert results_snapshot(db, contest) == before


def test_erase_needs_the_typed_confirmation(as_role, db, contest):
    an = contestant_id(db, AN[1])
    response = erase(as_role("organiser"), contest, an, confirm="xoa")
    assert response.status_code == 400
    assert "Gõ đúng chữ XÓA" in response.text
    with db.session() as session:
        assert session.get(Contestant, an).full_name == AN[0]
    assert audit_entries(db, "personal_data_erased") == []


def test_erased_contestant_cannot_log_in_and_their_session_opens_nothing(make_client, db, staff, clock):
    fixture = make_contest(db)
    person = make_client()
    registered = post_form(person, f"/c/{SLUG}/dang-ky", {
        "track": "officials", "full_name": "Lê Thị Hoa", "birth_date": "15/08/1990", "gender": "nu", "phone": PHONE,
        "cccd": "001090012345", "unit_id": str(unit_id(db, "SNV")), "password": PASSWORD, "consent": "1"},
        follow_redirects=False)
    assert registered.status_code == 303
    home = person.get(f"/c/{SLUG}/")
    assert "Lê Thị Hoa" in home.text
    token_in_form = html(home).find("input", attrs={"name": "_csrf_token"})["value"]
    api = make_client()
    assert api.post(f"/api/v1/contests/{SLUG}/sessions", json={"phone": PHONE, "password": PASSWORD}).status_code == 201
    token = api.post(f"/api/v1/contests/{SLUG}/sessions", json={"phone": PHONE, "password": PASSWORD}).json()["token"]
    cid = contestant_id(db, PHONE)
    organiser = make_client()
    login(organiser, staff["organiser"])
    assert erase(organiser, fixture, cid).status_code == 200
    assert "Lê Thị Hoa" not in person.get(f"/c/{SLUG}/").text
    started = person.post(f"/c/{SLUG}/dot/1/bat-dau", data={"_csrf_token": token_in_form}, follow_redirects=False)
    assert started.status_code in (303, 400, 403, 404, 409) and "content-location" not in started.headers, started.status_code
    with db.session() as session:
        assert session.scalar(select(Attempt.id)) is None
    assert api.get(f"/api/v1/contests/{SLUG}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    fresh = make_client()
    refused = post_form(fresh, f"/c/{SLUG}/dang-nhap", {"phone": PHONE, "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code != 303
    assert fresh.post(f"/api/v1/contests/{SLUG}/sessions",
                      json={"phone": PHONE, "password": PASSWORD}).status_code == 401
    with db.session() as session:
        assert session.scalars(select(Contestant.phone)).all() == [f"erased-{cid}"]


# --- consent versions ----------------------------------------------------------------------------------------

def test_registration_keeps_the_consent_version_and_a_changed_text_is_version_two(make_client, db, staff, clock):
    fixture = make_contest(db)
    client = make_client()
    page = html(client.get(f"/c/{SLUG}/dang-ky"))
    assert page.find(class_="consent-text").get_text(strip=True) == consent.DEFAULT_TEXT
    first = client.post(f"/api/v1/contests/{SLUG}/registrations", json={
        "track": "officials", "full_name": "Nguyễn Thị Lan", "phone": "0912000101", "unit_id": unit_id(db, "SNV"),
        "birth_date": "1990-05-17", "password": PASSWORD, "consent": True})
    assert first.status_code == 201, first.text
    organiser = make_client()
    login(organiser, staff["organiser"])
    edit = f"/staff/contests/{fixture.contest_id}/edit"
    form = html(organiser.get(edit)).find("form", attrs={"action": edit})
    assert form.find("textarea", attrs={"name": "consent_text"}).get_text() == consent.DEFAULT_TEXT
    values = {field["name"]: field.get("value", "") for field in form.find_all("input")
              if field.get("type") not in ("checkbox", "radio") and field.get("name") != "_csrf_token"}
    values |= {area["name"]: area.get_text() for area in form.find_all("textarea")}
    values |= {select_["name"]: (select_.find("option", selected=True) or select_.find("option"))["value"]
               for select_ in form.find_all("select")}
    values |= {"tracks": "both", "is_published": "1"}
    new_text = "Tôi đồng ý cho Sở Nội vụ xử lý dữ liệu của tôi để tổ chức hội thi (bản sửa đổi)."
    saved = post_form(organiser, edit, values | {"consent_text": new_text}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    saved_again = post_form(organiser, edit, values | {"consent_text": new_text}, follow_redirects=False)
    assert saved_again.status_code == 303  # the same text again makes no new version
    assert html(client.get(f"/c/{SLUG}/dang-ky")).find(class_="consent-text").get_text(strip=True) == new_text
    second = post_form(client, f"/c/{SLUG}/dang-ky", {
        "track": "officials", "full_name": "Trần Văn Nam", "birth_date": "01/02/1985", "phone": "0912000102",
        "unit_id": str(unit_id(db, "SNV")), "password": PASSWORD, "consent": "1"}, follow_redirects=False)
    assert second.status_code == 303
    with db.session() as session:
        versions = session.execute(select(ConsentText.version, ConsentText.text, ConsentText.contest_id)
                                   .order_by(ConsentText.version)).all()
        kept = dict(session.execute(select(Contestant.phone, ConsentText.version)
                                    .join(ConsentText, ConsentText.id == Contestant.consent_version_id)).all())
    assert [tuple(v) for v in versions] == [(1, consent.DEFAULT_TEXT, fixture.contest_id),
                                            (2, new_text, fixture.contest_id)]
    assert kept == {"0912000101": 1, "0912000102": 2}


def test_consent_version_is_in_the_export(as_role, db):
    fixture = make_contest(db)
    client = as_role("organiser")
    registered = client.post(f"/api/v1/contests/{SLUG}/registrations", json={
        "track": "officials", "full_name": "Nguyễn Thị Lan", "phone": "0912000101", "unit_id": unit_id(db, "SNV"),
        "birth_date": "1990-05-17", "password": PASSWORD, "consent": True})
    assert registered.status_code == 201
    response = download(client, fixture, contestant_id(db, "0912000101"))
    details = {r[0]: r[1] for r in load_workbook(io.BytesIO(response.content))["Đăng ký"].iter_rows(values_only=True)}
    assert (details["Phiên bản nội dung đồng ý"], details["Nội dung đồng ý"]) == (1, consent.DEFAULT_TEXT)


# --- retention and the purge ---------------------------------------------------------------------------------

def test_retention_is_set_on_the_contest_form_and_zero_is_refused(make_client, db, staff):
    fixture = make_contest(db)
    organiser = make_client()
    login(organiser, staff["organiser"])
    edit = f"/staff/contests/{fixture.contest_id}/edit"
    base = {"title": "Thi thử cải cách hành chính", "slug": SLUG, "tracks": "both", "consent_text": ""}
    refused = post_form(organiser, edit, base | {"retention_days": "0"})
    assert refused.status_code == 400
    assert "Thời hạn lưu dữ liệu cá nhân phải là số ngày từ 1 đến 3650" in refused.text
    assert post_form(organiser, edit, base | {"retention_days": "90"}, follow_redirects=False).status_code == 303
    with db.session() as session:
        assert session.get(Contest, fixture.contest_id).retention_days == 90
        assert session.scalar(select(ConsentText.id)) is None  # an empty text is the default: no version
    assert post_form(organiser, edit, base | {"retention_days": ""}, follow_redirects=False).status_code == 303
    with db.session() as session:
        assert session.get(Contest, fixture.contest_id).retention_days is None


def set_retention(db, fixture, days):
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == fixture.contest_id).values(retention_days=days))


@pytest.fixture
def run(run_cli):
    return run_cli


def test_purge_is_refused_without_retention_or_before_its_time(db, contest, run):
    refused = run("purge-personal-data", "--contest", SLUG)
    assert refused.exit_code == 1
    assert "chưa đặt thời hạn lưu dữ liệu cá nhân" in refused.stderr
    set_retention(db, contest, 30)
    with db.session() as session:
        ended = session.scalar(select(Round.closes_at).where(Round.id == contest.round_id))
    with pytest.raises(personal_data.PurgeRefused, match="Chưa đến hạn xóa"):
        personal_data.purge(db, slug=SLUG, now=ended + timedelta(days=30) - timedelta(seconds=1))
    set_retention(db, contest, 3650)  # ten years from March 2026: not yet, by the command's clock either
    early = run("purge-personal-data", "--contest", SLUG, "--dry-run")
    assert early.exit_code == 1 and "Chưa đến hạn xóa" in early.stderr
    with db.session() as session:
        assert session.scalar(select(Contestant.id).where(Contestant.erased_at.is_not(None))) is None
    assert audit_entries(db, "personal_data_purged") == []


def test_purge_dry_run_names_who_then_the_run_erases_non_winners_only(db, contest, run):
    lan = add_person(db, contest, "Phạm Thị Lan", "0912000077", unit="SNV")  # registered, never sat a round
    binh = contestant_id(db, BINH[1])
    set_retention(db, contest, 30)  # the round closed in March 2026: long past by the command's clock
    before = results_snapshot(db, contest)
    with db.session() as session:
        people_before = session.execute(select(Contestant).order_by(Contestant.id)).scalars().all()
        people_before = [(p.id, p.full_name, p.phone) for p in people_before]
    dry = run("purge-personal-data", "--contest", SLUG, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        f"  #{binh}  09xx xxx 009", f"  #{lan}  09xx xxx 077",
        f"Sẽ xóa dữ liệu cá nhân của 2 người dự thi không đoạt giải của hội thi '{SLUG}'; giữ 4 người đoạt giải; "
        "0 người đã xóa từ trước.", "Chạy thử: chưa thay đổi gì."]
    with db.session() as session:
        assert [(p.id, p.full_name, p.phone) for p in session.scalars(select(Contestant).order_by(Contestant.id))] \
            == people_before
    assert audit_entries(db, "personal_data_purged") == []
    real = run("purge-personal-data", "--contest", SLUG)
    assert real.exit_code == 0, real.stderr
    assert "Đã xóa dữ liệu cá nhân của 2 người dự thi" in real.stdout
    with db.session() as session:
        after = {p.id: (p.full_name, p.phone, p.erased_at is not None) for p in session.scalars(select(Contestant))}
    assert after[binh] == (f"Thí sinh ẩn danh #{binh}", f"erased-{binh}", True)
    assert after[lan] == (f"Thí sinh ẩn danh #{lan}", f"erased-{lan}", True)
    kept = {name for name, _, erased in after.values() if not erased}
    assert AN[0] in kept and len(kept) == 4  # the four officials on the locked prize list
    assert results_snapshot(db, contest) == before
    [entry] = audit_entries(db, "personal_data_purged")
    assert (entry["count"], entry["retention_days"], entry["kept_winners"]) == (2, 30, 4)
    assert audit_entries(db, "personal_data_erased") == []  # one entry for the purge, not one per person
    again = run("purge-personal-data", "--contest", SLUG)
    assert "Đã xóa dữ liệu cá nhân của 0 người dự thi" in again.stdout and "2 người đã xóa từ trước" in again.stdout
