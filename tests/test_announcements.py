"""Announcements: organisers write, edit and delete them (each recorded in the audit log), viewers cannot; the
contest's page shows those published by now, pinned first then newest first, with every text escaped."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from contest.models import Announcement, AuditEvent
from tests.conftest import html, login, post_form
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id

BASE = "/staff/contests/{id}/announcements"


@pytest.fixture
def contest(db):
    return make_contest(db)


@pytest.fixture
def organiser(make_client, staff):
    client = make_client()
    login(client, staff["organiser"])
    return client


def write(client, contest, **fields):
    base = BASE.format(id=contest.contest_id)
    return post_form(client, base, {"title": "", "body": "", "published_at": "", **fields}, follow_redirects=False)


def shown(client) -> list[tuple[str, str]]:
    """(title, text) of each announcement on the contest's page, in order."""
    page = html(client.get(f"/c/{SLUG}"))
    return [(a.select_one("h3").get_text(" ", strip=True),
             a.select_one(".announcement-body").get_text() if a.select_one(".announcement-body") else "")
            for a in page.select("section.announcements article")]


def rows(db) -> list[Announcement]:
    with db.session() as session:
        return list(session.scalars(select(Announcement).order_by(Announcement.id)))


def audit(db) -> list[tuple[str, str]]:
    with db.session() as session:
        return [(e.action, e.detail) for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("announcement%")).order_by(AuditEvent.id))]


def test_organiser_posts_and_the_contest_page_shows_pinned_then_newest(organiser, client, clock, db, contest):
    assert write(organiser, contest, title="Kết quả tuần 1", body="Xem danh sách đạt giải.").status_code == 303
    clock.advance(hours=1)
    assert write(organiser, contest, title="Đổi giờ mở tuần 2", body="Mở lúc 8 giờ.").status_code == 303
    clock.advance(hours=1)
    assert write(organiser, contest, title="Đường dây nóng", body="Gọi 0290 3 800 800", pinned="1").status_code == 303
    assert shown(client) == [("Ghim Đường dây nóng", "Gọi 0290 3 800 800"), ("Đổi giờ mở tuần 2", "Mở lúc 8 giờ."),
                             ("Kết quả tuần 1", "Xem danh sách đạt giải.")]
    times = [t.get_text() for t in html(client.get(f"/c/{SLUG}")).select("section.announcements time")]
    assert times == ["02/03/2026 12:00", "02/03/2026 11:00", "02/03/2026 10:00"]


def test_a_scheduled_announcement_shows_from_its_publish_time_in_vietnam_time(organiser, client, clock, db, contest):
    assert write(organiser, contest, title="Công bố giải", published_at="2026-03-02T14:00").status_code == 303
    assert rows(db)[0].published_at == datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc)
    listing = html(organiser.get(BASE.format(id=contest.contest_id)))
    assert "Chưa đến giờ đăng" in listing.select_one("table.announcements").get_text()
    assert shown(client) == []
    clock.now = datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc)
    assert shown(client) == [("Công bố giải", "")]


def test_text_is_escaped_and_line_breaks_kept(organiser, client, db, contest):
    write(organiser, contest, title="<script>alert('t')</script> Tuần 1",
          body="<b>đậm</b> & <img src=x onerror=alert(1)>\r\nDòng hai")
    response = client.get(f"/c/{SLUG}")
    section = html(response).select_one("section.announcements")
    assert section.select("script, b, img") == []
    assert shown(client) == [("<script>alert('t')</script> Tuần 1", "<b>đậm</b> & <img src=x onerror=alert(1)>\nDòng hai")]
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in response.text
    staff_page = organiser.get(BASE.format(id=contest.contest_id))
    assert html(staff_page).select_one("table.announcements script") is None


def test_edit_and_delete_are_recorded_in_the_audit_log(organiser, client, clock, db, contest):
    write(organiser, contest, title="Kết quả tuần 1", body="Bản nháp")
    (row,) = rows(db)
    page = BASE.format(id=contest.contest_id) + f"/{row.id}"
    form = html(organiser.get(page))
    assert form.select_one("input[name=title]")["value"] == "Kết quả tuần 1"
    assert form.select_one("input[name=published_at]")["value"] == "2026-03-02T10:00"
    clock.advance(minutes=5)
    edited = post_form(organiser, page, {"title": "Kết quả tuần 1 (đã sửa)", "body": "Bản chính thức",
                                         "published_at": "2026-03-02T10:00", "pinned": "1"}, follow_redirects=False)
    assert edited.status_code == 303
    assert shown(client) == [("Ghim Kết quả tuần 1 (đã sửa)", "Bản chính thức")]
    assert post_form(organiser, page + "/delete", {}, form_page=page, follow_redirects=False).status_code == 303
    assert shown(client) == [] and rows(db) == []
    assert [action for action, _ in audit(db)] == ["announcement_created", "announcement_edited",
                                                   "announcement_deleted"]
    trail = html(organiser.get(f"/staff/contests/{contest.contest_id}/results/audit")).select("table.audit tbody tr")
    assert [tr.select("td")[1].get_text() for tr in trail][:3] == ["Xóa thông báo", "Sửa thông báo", "Đăng thông báo"]
    assert "Tiêu đề: Kết quả tuần 1 (đã sửa)" in " ".join(trail[0].get_text(" ").split())


def test_viewers_and_contestants_cannot_write(make_client, staff, db, contest, organiser):
    write(organiser, contest, title="Có sẵn")
    (row,) = rows(db)
    viewer = make_client()
    login(viewer, staff["viewer"])
    base = BASE.format(id=contest.contest_id)
    token = html(viewer.get("/staff/password")).select_one("input[name=_csrf_token]")["value"]
    for path in (base, f"{base}/{row.id}", f"{base}/{row.id}/delete"):
        assert viewer.post(path, data={"title": "Viết trộm", "_csrf_token": token}).status_code == 403
    assert viewer.get(base).status_code == 403
    anonymous = make_client()
    assert anonymous.get(base, follow_redirects=False).status_code in (302, 303, 401)
    assert [r.title for r in rows(db)] == ["Có sẵn"]
    assert len(audit(db)) == 1


def test_an_announcement_of_another_contest_is_not_found(organiser, db, contest):
    write(organiser, contest, title="Của hội thi A")
    (row,) = rows(db)
    other = post_form(organiser, "/staff/contests/new", {"title": "Hội thi B", "tracks": "officials"},
                      form_page="/staff/contests/new", follow_redirects=False)
    other_id = int(other.headers["location"].rsplit("/", 1)[1])
    assert organiser.get(BASE.format(id=other_id) + f"/{row.id}").status_code == 404
    page = BASE.format(id=contest.contest_id) + f"/{row.id}"
    token = html(organiser.get(page)).select_one("input[name=_csrf_token]")["value"]
    assert organiser.post(BASE.format(id=other_id) + f"/{row.id}/delete", data={"_csrf_token": token}).status_code == 404
    assert len(rows(db)) == 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": "  "}, "Cần nhập tiêu đề thông báo."),
    ({"title": "x" * 201}, "Tiêu đề dài quá 200 ký tự."),
    ({"title": "Dài", "body": "x" * 5001}, "Nội dung dài quá 5000 ký tự."),
    ({"title": "Giờ sai", "published_at": "32/13/2026"}, "Thời điểm đăng '32/13/2026' không đúng dạng ngày giờ (dd/mm/yyyy HH:MM)."),
])
def test_what_cannot_be_saved_is_said_and_kept_in_the_form(organiser, db, contest, fields, message):
    response = write(organiser, contest, **fields)
    assert response.status_code == 400
    page = html(response)
    assert page.select_one("p.error").get_text() == message
    assert page.select_one("input[name=title]")["value"] == fields["title"].strip()
    assert rows(db) == []


def test_errors_in_english(organiser, db, contest):
    organiser.cookies.set("lang", "en")
    assert html(write(organiser, contest, title="")).select_one("p.error").get_text() == "Enter the announcement's title."


def test_the_signed_in_contestants_home_shows_them_too(make_client, organiser, db, contest):
    write(organiser, contest, title="Chúc các bạn thi tốt")
    player = make_client()
    registered = post_form(player, f"/c/{SLUG}/dang-ky", {
        "track": "officials", "full_name": "Trần Văn An", "birth_date": "15/08/1990", "phone": PHONE,
        "unit_id": str(unit_id(db, "SNV")), "locality_id": "", "password": PASSWORD, "consent": "1"},
        follow_redirects=False)
    assert registered.status_code == 303, registered.text
    page = html(player.get(f"/c/{SLUG}"))
    assert "Xin chào" in page.get_text()
    assert [h.get_text() for h in page.select("section.announcements h3")] == ["Chúc các bạn thi tốt"]


def test_the_staff_contest_page_links_to_announcements(organiser, contest):
    href = BASE.format(id=contest.contest_id)
    assert html(organiser.get(f"/staff/contests/{contest.contest_id}")).select_one(f"a[href='{href}']") is not None
