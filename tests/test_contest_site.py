"""What a provincial contest site offers (issue 15): the rules page's prize structure and schedule, the
study-materials page, link previews and the share button, the poster's short address, the help line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contest.banks.importer import check_and_import
from contest.contests import materials, setup, site
from contest.models import Contest, Question, QuestionOption, Round, StudyLink
from tests.banks_helpers import row, xlsx_bytes
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, second_round, unit_id
from tests.test_contestant_accessibility import unlabelled, unnamed_buttons

HOME = f"/c/{SLUG}"


@pytest.fixture
def contest(db):
    return make_contest(db)


def edit_contest(client, contest_id: int, **changes):
    """Submit the organiser's contest form as it stands, with `changes`."""
    page = html(client.get(f"/staff/contests/{contest_id}/edit"))
    data = {}
    for field in page.select("form input[name], form textarea[name], form select[name]"):
        name = field["name"]
        if field.name == "textarea":
            data[name] = field.get_text()
        elif field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            data[name] = chosen["value"]
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[name] = field["value"]
        else:
            data[name] = field.get("value", "")
    data.update(changes)
    return client.post(f"/staff/contests/{contest_id}/edit", data=data, follow_redirects=False)


def register(client, db, phone=PHONE):
    return post_form(client, f"{HOME}/dang-ky", {
        "track": "officials", "full_name": "Nguyễn Thị Hoà", "birth_date": "15/08/1990", "gender": "nu",
        "phone": phone, "cccd": "001090012345", "unit_id": str(unit_id(db, "SNV")), "password": PASSWORD,
        "consent": "1"}, follow_redirects=False)


# --- the rules page: prize structure and schedule -------------------------------------------------------------

def test_rules_page_shows_every_rounds_schedule_from_the_settings(client, db, contest):
    second_round(db, contest)
    page = html(client.get(f"{HOME}/the-le"))
    rounds = page.select("ol.schedule > li")
    assert [r.find("strong").get_text() for r in rounds] == ["Đợt 1: Tuần 1", "Đợt 2: Tuần 2"]
    # NOW is 10:00 in Hanoi; round 1 opened an hour before and closes a week later.
    assert "Mở: 02/03/2026 09:00 · Đóng: 09/03/2026 10:00" in rounds[0].get_text(" ", strip=True)
    assert [li.get_text(" ", strip=True) for li in rounds[0].select("ul > li")] == [
        "Cán bộ, công chức, viên chức: 10 câu hỏi, 10 phút làm bài, tối đa 2 lượt thi.",
        "Người dân: 10 câu hỏi, 10 phút làm bài, tối đa 2 lượt thi."]
    assert [li.get_text(" ", strip=True) for li in rounds[1].select("ul > li")] == [
        "Cán bộ, công chức, viên chức: 10 câu hỏi, 15 phút làm bài, tối đa 1 lượt thi."]
    assert "Giờ Việt Nam (Asia/Ho_Chi_Minh)." in page.get_text()


def test_rules_page_shows_the_prize_structure_and_the_organisers_prize_values(client, db, contest, staff):
    login(client, staff["organiser"])
    assert post_form(client, f"/staff/contests/{contest.contest_id}/results/settings", {
        "first": "1", "second": "2", "third": "3", "consolation": "0", "team_min_rate": "60"},
        form_page=f"/staff/contests/{contest.contest_id}/results", follow_redirects=False).status_code == 303
    assert edit_contest(client, contest.contest_id, **{
        "prize-note-first": "3.000.000 đồng và Giấy chứng nhận", "prize-note-third": "1.000.000 đồng",
        "prize-note-team": "Bằng khen của UBND tỉnh"}).status_code == 303

    page = html(client.get(f"{HOME}/the-le"))
    rows = [[cell.get_text(" ", strip=True) for cell in tr.select("th, td")]
            for tr in page.select("table.prize-structure tbody tr")]
    assert rows == [["Giải Nhất", "1", "3.000.000 đồng và Giấy chứng nhận"], ["Giải Nhì", "2", "—"],
                    ["Giải Ba", "3", "1.000.000 đồng"]]
    text = page.get_text(" ", strip=True)
    assert "Mỗi đợt có 6 giải cho mỗi đối tượng dự thi; cả hội thi (1 đợt, 2 đối tượng) có tối đa 12 giải cá nhân." in text
    team = page.select_one("#team-prize").get_text(" ", strip=True)
    assert "dưới 60% không được xếp hạng" in team and "Bằng khen của UBND tỉnh" in team
    # The organiser's form shows what was saved.
    form = html(client.get(f"/staff/contests/{contest.contest_id}/edit"))
    assert form.select_one("input[name=prize-note-first]")["value"] == "3.000.000 đồng và Giấy chứng nhận"


def test_a_prize_value_longer_than_the_limit_is_refused_and_nothing_saved(client, db, contest, staff):
    login(client, staff["organiser"])
    response = edit_contest(client, contest.contest_id, **{"prize-note-first": "x" * 301, "title": "Tên mới"})
    assert response.status_code == 400
    assert "Mô tả giải dài quá 300 ký tự." in html(response).select_one(".error").get_text()
    with db.session() as session:
        stored = session.get(Contest, contest.contest_id)
        assert (stored.prize_notes, stored.title) == ("", "Thi thử cải cách hành chính")


def test_prize_structure_lists_only_levels_given_or_described(db, contest):
    with db.write_session() as session:
        stored = session.get(Contest, contest.contest_id)
        stored.prize_counts = json.dumps({"first": 1, "second": 0, "third": 0, "consolation": 0})
        site.set_prize_notes(stored, {"consolation": "Quà lưu niệm"})
        structure = site.prize_structure(stored, rounds=4)
    assert [(p.level, p.per_round_track, p.note) for p in structure.levels] == [
        ("first", 1, ""), ("consolation", 0, "Quà lưu niệm")]
    assert (structure.per_round_track, structure.total) == (1, 8)


# --- study materials -----------------------------------------------------------------------------------------

SOURCES = {
    "Thể chế": ["Nghị định 118/2025/NĐ-CP ngày 09/6/2025, Điều 5, khoản 2",
                "Nghị định 118/2025/NĐ-CP, Điều 7 (trích yếu)",
                "Luật Cán bộ, công chức số 80/2025/QH15 ngày 24/6/2025, Điều 14 (những việc không được làm)"],
    "Một cửa": ["Quyết định 45/2016/QĐ-TTg ngày 19/10/2016 của Thủ tướng Chính phủ, phần căn cứ; "
                "Nghị định 118/2025/NĐ-CP ngày 09/6/2025, mục III.1"],
    "Chỉ số": ["Chỉ số SIPAS 2023 của Bộ Nội vụ (công bố tháng 4/2024) – kết quả chung cả nước"],
}


def cite(db, bank_id: int) -> None:
    """Give the test bank's questions real citations: each topic's sources in turn."""
    with db.write_session() as session:
        questions = session.scalars(select(Question).where(Question.bank_id == bank_id).order_by(Question.id)).all()
        for n, question in enumerate(questions):
            sources = next(SOURCES[topic] for topic in SOURCES if f"về {topic}" in question.text)
            question.source = sources[n % len(sources)]


def test_materials_page_names_each_cited_document_once_under_its_topic(client, db, contest):
    cite(db, contest.bank_id)
    page = html(client.get(f"{HOME}/tai-lieu"))
    groups = {section.find("h2").get_text(): [li.get_text() for li in section.select("ul.documents li")]
              for section in page.select("section.materials-topic")}
    assert groups == {
        "Chỉ số": ["Chỉ số SIPAS 2023 của Bộ Nội vụ"],
        # Nghị định 118 is cited by every "Một cửa" question and by a third of the "Thể chế" ones, in two
        # spellings: it is listed once, under the topic citing it most, in its fullest common spelling.
        "Một cửa": ["Nghị định 118/2025/NĐ-CP ngày 09/6/2025",
                    "Quyết định 45/2016/QĐ-TTg ngày 19/10/2016 của Thủ tướng Chính phủ"],
        "Thể chế": ["Luật Cán bộ, công chức số 80/2025/QH15 ngày 24/6/2025"],
    }


def test_materials_page_shows_no_question_option_key_explanation_or_article(client, db, contest):
    cite(db, contest.bank_id)
    text = client.get(f"{HOME}/tai-lieu").text
    with db.session() as session:
        questions = session.scalars(select(Question).where(Question.bank_id == contest.bank_id)).all()
        options = session.scalars(select(QuestionOption.text).join(Question)
                                  .where(Question.bank_id == contest.bank_id)).all()
    assert questions and options
    assert [q.text for q in questions if q.text in text] == []
    assert [o for o in options if o and o in text] == []
    assert [q.explanation for q in questions if q.explanation and q.explanation in text] == []
    assert [q.source for q in questions if q.source in text] == []  # only names, never where in the document
    for locator in ("Điều 5", "khoản 2", "mục III.1", "phần căn cứ", "trích yếu", "kết quả chung"):
        assert locator not in text


def test_materials_leave_out_retired_questions_and_banks_no_round_draws_from(db, contest):
    cite(db, contest.bank_id)
    with db.write_session() as session:
        report = check_and_import(session, data=xlsx_bytes([row(1, "Câu khác?", ["A1", "B1"], "A",
                                                                source="Quyết định 1847/QĐ-TTg, Điều 1")]),
                                  filename="other.xlsx", bank_name="Ngân hàng khác", now=NOW)
        assert report.saved
        session.execute(update(Question).where(Question.bank_id == contest.bank_id, Question.text.contains("Chỉ số"))
                        .values(status="retired"))
    with db.session() as session:
        found = materials.cited_documents(session, contest.contest_id)
    names = [name for group in found for name in group.documents]
    assert "Chỉ số SIPAS 2023 của Bộ Nội vụ" not in names
    assert not any("1847" in name for name in names)
    assert len(names) == 3


def test_documents_named_in_an_option_stay_off_the_public_list_until_every_round_closes(client, db, contest):
    """A "which decree rules X?" question: its key cites Nghị định 118, a wrong option names Nghị định 42. While
    a round can still draw it, neither is listed (the list must not tell the key from a wrong option); once
    every round has closed, the cited one is."""
    cite(db, contest.bank_id)
    with db.write_session() as session:
        question = session.scalars(select(Question).where(Question.bank_id == contest.bank_id,
                                                          Question.text.contains("Một cửa"))).first()
        options = session.scalars(select(QuestionOption).where(QuestionOption.question_id == question.id)
                                  .order_by(QuestionOption.position)).all()
        for option in options:
            option.text = ("Nghị định 118/2025/NĐ-CP" if option.is_correct else
                           f"Nghị định 4{option.position}/2022/NĐ-CP")
    page = client.get(f"{HOME}/tai-lieu").text
    assert "118/2025" not in page and "/2022/NĐ-CP" not in page
    assert "Quyết định 45/2016/QĐ-TTg" in page  # named in no option: listed
    assert "chỉ được liệt kê sau khi các đợt thi kết thúc" in page
    with db.session() as session:  # the organiser's page lists everything
        staff_view = [n for group in materials.cited_documents(session, contest.contest_id) for n in group.documents]
    assert "Nghị định 118/2025/NĐ-CP ngày 09/6/2025" in staff_view
    with db.write_session() as session:
        session.execute(update(Round).where(Round.contest_id == contest.contest_id)
                        .values(closes_at=NOW - timedelta(minutes=1)))
    page = client.get(f"{HOME}/tai-lieu").text
    assert "Nghị định 118/2025/NĐ-CP ngày 09/6/2025" in page
    assert "chỉ được liệt kê sau khi" not in page


def test_a_document_in_an_option_stays_held_while_another_contest_can_draw_the_bank(client, db, contest):
    """Banks are shared: once this contest is over, a contest still open on the same bank holds the list back."""
    cite(db, contest.bank_id)
    with db.write_session() as session:
        question = session.scalars(select(Question).where(Question.bank_id == contest.bank_id,
                                                          Question.text.contains("Một cửa"))).first()
        for option in session.scalars(select(QuestionOption).where(QuestionOption.question_id == question.id)):
            option.text = "Nghị định 118/2025/NĐ-CP" if option.is_correct else f"Nghị định 4{option.position}/2022/NĐ-CP"
        session.execute(update(Round).where(Round.contest_id == contest.contest_id)
                        .values(closes_at=NOW - timedelta(minutes=1)))
        other = setup.create_contest(session, title="Hội thi khác", slug="hoi-thi-khac", now=NOW)
        setup.save_round(session, contest=other, now=NOW - timedelta(days=30), round_=None, number=1, title="",
                         opens_at=NOW, closes_at=NOW + timedelta(days=7), grace_seconds=30,
                         prediction_kind="perfect_scores",
                         tracks=[setup.TrackConfig(track="officials", bank_ids=[contest.bank_id], draw={"total": 10})])
    page = client.get(f"{HOME}/tai-lieu").text
    assert "118/2025" not in page and "/2022/NĐ-CP" not in page
    assert "chỉ được liệt kê sau khi" in page


@pytest.mark.parametrize("source, names", [
    ("Nghị định 61/2018/NĐ-CP, Điều 5; Quyết định 45/2016/QĐ-TTg (trích yếu)",
     ["Nghị định 61/2018/NĐ-CP", "Quyết định 45/2016/QĐ-TTg"]),
    ("Luật Tiếp công dân số 42/2013/QH13, Điều 3a (bổ sung bởi Luật số 136/2025/QH15, Điều 1, khoản 1; hiệu lực)",
     ["Luật Tiếp công dân số 42/2013/QH13"]),
    ("Quyết định 1847/QĐ-TTg ngày 27/12/2018 của Thủ tướng Chính phủ (Đề án Văn hóa công vụ), Chương trình kèm theo",
     ["Quyết định 1847/QĐ-TTg ngày 27/12/2018 của Thủ tướng Chính phủ (Đề án Văn hóa công vụ)"]),
    ("Quyết định 405/QĐ-BKHCN phê duyệt Đề án “Xác định Bộ chỉ số, cơ quan ngang bộ”, phần ban hành",
     ["Quyết định 405/QĐ-BKHCN phê duyệt Đề án “Xác định Bộ chỉ số, cơ quan ngang bộ”"]),
    ("Điều 1", []),
])
def test_document_names_drop_where_in_the_document_and_remarks(source, names):
    assert materials.document_names(source) == names


def test_organiser_adds_and_removes_study_links_shown_by_topic(client, db, contest, staff):
    cite(db, contest.bank_id)
    login(client, staff["organiser"])
    base = f"/staff/contests/{contest.contest_id}/tai-lieu"
    assert post_form(client, base, {"title": "Toàn văn Nghị định 118/2025/NĐ-CP", "url": "https://vanban.example.vn/118",
                                    "topic": "thể chế"}, follow_redirects=False).status_code == 303
    assert post_form(client, base, {"title": "Sổ tay CCHC", "url": "http://sotay.example.vn/", "topic": ""},
                     follow_redirects=False).status_code == 303
    page = html(client.get(f"{HOME}/tai-lieu"))
    sections = {s.find("h2").get_text(): [(a.get_text(), a["href"]) for a in s.select("ul.study-links a")]
                for s in page.select("section.materials-topic")}
    assert sections["Thể chế"] == [("Toàn văn Nghị định 118/2025/NĐ-CP", "https://vanban.example.vn/118")]
    assert sections["Tài liệu chung"] == [("Sổ tay CCHC", "http://sotay.example.vn/")]
    assert html(client.get(HOME)).find("a", href=f"{HOME}/tai-lieu").get_text() == "Tài liệu tham khảo"

    with db.session() as session:
        link_id = session.scalar(select(StudyLink.id).where(StudyLink.title == "Sổ tay CCHC"))
    assert post_form(client, f"{base}/{link_id}/xoa", {}, form_page=base, follow_redirects=False).status_code == 303
    assert "Sổ tay CCHC" not in client.get(f"{HOME}/tai-lieu").text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.vn/a", "//example.vn/a", "/c/thi-thu",
                                 "data:text/html,<b>x</b>", "https://", "https://exa mple.vn/"])
def test_a_study_link_must_be_an_http_or_https_address(client, db, contest, staff, url):
    login(client, staff["organiser"])
    base = f"/staff/contests/{contest.contest_id}/tai-lieu"
    response = post_form(client, base, {"title": "Tài liệu", "url": url, "topic": ""})
    assert response.status_code == 400
    assert html(response).select_one(".error").get_text() == (
        "Đường dẫn phải là địa chỉ web đầy đủ bắt đầu bằng http:// hoặc https://.")
    with db.session() as session:
        assert session.scalars(select(StudyLink)).all() == []


def test_study_links_need_an_organiser_and_a_form_token(make_client, db, contest, staff):
    viewer = make_client()
    login(viewer, staff["viewer"])
    base = f"/staff/contests/{contest.contest_id}/tai-lieu"
    assert viewer.get(base).status_code == 403
    organiser = make_client()
    login(organiser, staff["organiser"])
    assert organiser.post(base, data={"title": "X", "url": "https://example.vn/"}).status_code == 403
    with db.session() as session:
        assert session.scalars(select(StudyLink)).all() == []


# --- link previews, share button, poster ------------------------------------------------------------------------

def meta(page, key: str) -> str | None:
    tag = page.find("meta", attrs={"property": key}) or page.find("meta", attrs={"name": key})
    return tag["content"] if tag else None


@pytest.mark.parametrize("path", ["", "/the-le", "/tai-lieu", "/dang-ky"])
def test_public_contest_pages_carry_open_graph_previews(client, db, contest, path):
    page = html(client.get(f"{HOME}{path}"))
    assert meta(page, "og:title") == "Thi thử cải cách hành chính"
    assert meta(page, "og:url") == f"http://testserver.local{HOME}{path}"
    assert meta(page, "og:type") == "website"
    assert meta(page, "twitter:card") == "summary_large_image"
    image = meta(page, "og:image")
    assert image.startswith("http://testserver.local/static/og-default.png?v=")
    assert meta(page, "twitter:image") == image
    assert (meta(page, "og:image:width"), meta(page, "og:image:height")) == ("1200", "630")
    assert meta(page, "og:description").startswith("Sở Nội vụ (thử) · ")


def test_preview_image_is_a_png_served_by_the_app(client, db, contest):
    image = meta(html(client.get(HOME)), "og:image").removeprefix("http://testserver.local")
    response = client.get(image)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_contest_page_preview_says_the_dates_and_offers_a_share_button(client, db, contest):
    second_round(db, contest)
    page = html(client.get(HOME))
    assert meta(page, "og:description") == (
        "Sở Nội vụ (thử) · Từ 02/03/2026 đến 16/03/2026 · Thi trực tuyến: thể lệ, lịch thi, đăng ký dự thi.")
    box = page.select_one("#share")
    assert box["data-url"] == f"http://testserver.local{HOME}"
    assert page.select_one("#share-button").get_text() == "Chia sẻ"
    assert page.select_one("#share-url")["value"] == f"http://testserver.local{HOME}"
    assert page.find("script", src=lambda s: s and s.startswith("/static/share.js?v="))
    assert not page.find("script", src=lambda s: s and not s.startswith("/static/"))


def test_staff_pages_carry_no_contest_preview(client, db, contest, staff):
    login(client, staff["organiser"])
    page = html(client.get(f"/staff/contests/{contest.contest_id}"))
    assert meta(page, "og:title") is None


def test_poster_shows_a_short_address_and_every_rounds_dates(client, db, contest, staff):
    second_round(db, contest)
    login(client, staff["organiser"])
    page = html(client.get(f"/staff/contests/{contest.contest_id}/poster"))
    assert page.select_one(".short-url").get_text() == f"testserver.local{HOME}"
    assert [li.get_text(" ", strip=True) for li in page.select(".poster-rounds li")] == [
        "Đợt 1: Tuần 1 : 02/03/2026 09:00 – 09/03/2026 10:00",
        "Đợt 2: Tuần 2 : 09/03/2026 10:00 – 16/03/2026 10:00"]
    assert page.select_one(".no-print .warn") is None  # "thi-thu" is short enough to type


def test_poster_suggests_a_shorter_address_when_the_slug_is_long(client, db, contest, staff):
    login(client, staff["organiser"])
    assert edit_contest(client, contest.contest_id,
                        slug="hoi-thi-truc-tuyen-tim-hieu-cai-cach-hanh-chinh-2026").status_code == 303
    page = html(client.get(f"/staff/contests/{contest.contest_id}/poster"))
    assert "có thể đặt địa chỉ công khai ngắn hơn" in page.select_one(".no-print .warn").get_text()


def test_short_address_drops_the_scheme_and_www():
    assert site.short_address("https://www.thi.example.vn/c/cchc-2026/") == "thi.example.vn/c/cchc-2026"
    assert site.short_address("http://127.0.0.1:8000/c/a") == "127.0.0.1:8000/c/a"


# --- the help line ---------------------------------------------------------------------------------------------

def set_help_line(client, contest_id, staff, **values):
    login(client, staff["organiser"])
    return edit_contest(client, contest_id, **values)


def test_help_line_is_on_every_contestant_page_with_a_tappable_number(make_client, db, contest, staff):
    organiser = make_client()
    assert set_help_line(organiser, contest.contest_id, staff, hotline_phone="0276 3822.123",
                         contact_email="hotro@snv.example.vn", contact_hours="7:30–17:00, thứ Hai đến thứ Sáu"
                         ).status_code == 303
    client = make_client()
    assert register(client, db).status_code == 303
    started = post_form(client, f"{HOME}/dot/1/bat-dau", {}, form_page=f"{HOME}/dot/1")
    attempt = started.headers["content-location"]
    pages = {path: client.get(path) for path in (HOME, f"{HOME}/the-le", f"{HOME}/tai-lieu", f"{HOME}/dang-nhap",
                                                 f"{HOME}/dang-ky", f"{HOME}/dot/1", attempt)}
    pages["start"] = started
    pages["confirm"] = post_form(client, f"{attempt}/nop", {"action": "submit"}, form_page=attempt)
    pages["result"] = post_form(client, f"{attempt}/nop", {"action": "submit", "confirm": "1"}, form_page=attempt)
    for name, response in pages.items():
        line = html(response).select_one("footer #contact-line")
        assert line is not None, name
        assert line.get_text(" ", strip=True) == (
            "Hỗ trợ người dự thi: 0276 3822.123 · hotro@snv.example.vn (7:30–17:00, thứ Hai đến thứ Sáu)"), name
        assert line.find("a", href="tel:02763822123").get_text() == "0276 3822.123"
        assert line.find("a", href="mailto:hotro@snv.example.vn")


def test_no_help_line_until_the_organiser_sets_one_and_none_on_staff_pages(client, db, contest, staff):
    assert html(client.get(HOME)).select_one("#contact-line") is None
    set_help_line(client, contest.contest_id, staff, hotline_phone="+84 276 3822 123")
    assert html(client.get(HOME)).select_one("#contact-line a")["href"] == "tel:+842763822123"
    assert html(client.get(f"/staff/contests/{contest.contest_id}")).select_one("#contact-line") is None


@pytest.mark.parametrize("values, message", [
    ({"hotline_phone": "gọi 0912"}, "Số điện thoại hỗ trợ chỉ gồm chữ số"),
    ({"hotline_phone": "12"}, "Số điện thoại hỗ trợ chỉ gồm chữ số"),
    ({"hotline_phone": "0912 345 678 / 0276 3822 123"}, "Số điện thoại hỗ trợ chỉ gồm chữ số"),  # one number to dial
    ({"contact_email": "hotro@"}, "E-mail hỗ trợ không hợp lệ."),
    ({"contact_hours": "x" * 201}, "Thời gian hỗ trợ dài quá 200 ký tự."),
])
def test_a_wrong_help_line_is_refused_with_its_reason(client, db, contest, staff, values, message):
    response = set_help_line(client, contest.contest_id, staff, **values)
    assert response.status_code == 400
    assert message in html(response).select_one(".error").get_text()
    with db.session() as session:
        assert site.contact_of(session.get(Contest, contest.contest_id)) == site.Contact()


def test_new_contest_form_saves_the_help_line_and_prize_values(client, db, staff):
    login(client, staff["organiser"])
    response = post_form(client, "/staff/contests/new", {
        "title": "Hội thi mới", "slug": "hoi-thi-moi", "tracks": "both", "hotline_phone": "1022",
        "prize-note-second": "Giấy chứng nhận"}, form_page="/staff/contests/new", follow_redirects=False)
    assert response.status_code == 303
    with db.session() as session:
        stored = session.scalar(select(Contest).where(Contest.slug == "hoi-thi-moi"))
        assert (site.contact_of(stored).tel, site.prize_notes(stored)["second"]) == ("1022", "Giấy chứng nhận")


def test_new_pages_have_labelled_controls_and_a_reachable_prize_table(client, db, contest):
    cite(db, contest.bank_id)
    pages = {path: html(client.get(HOME + path)) for path in ("", "/the-le", "/tai-lieu")}
    assert {path: unlabelled(page) + unnamed_buttons(page) for path, page in pages.items()} == {
        path: [] for path in pages}
    table = pages["/the-le"].select_one("table.prize-structure")
    assert (table["tabindex"], pages["/the-le"].find(id=table["aria-labelledby"]).get_text()) == (
        "0", "Cơ cấu giải thưởng")


def test_new_pages_read_in_english(client, db, contest, staff):
    set_help_line(client, contest.contest_id, staff, hotline_phone="1022")
    client.get("/lang/en")
    rules = html(client.get(f"{HOME}/the-le"))
    assert [h.get_text() for h in rules.select("h2")][:2] == ["Schedule", "Prize structure"]
    assert rules.select_one("ol.schedule li ul li").get_text(" ", strip=True) == (
        "Officials and public employees: 10 questions, 10 min to answer, at most 2 attempts.")
    assert rules.select_one("#contact-line").get_text(" ", strip=True) == "Help for contestants: 1022"
    assert html(client.get(f"{HOME}/tai-lieu")).h1.get_text() == "Study materials"
    assert html(client.get(HOME)).select_one("#share-button").get_text() == "Share"
