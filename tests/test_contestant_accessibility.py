"""A quick accessibility check of the contestant's pages through the test client (the axe-core audit in a
real browser is tests/test_browser_axe.py): every form control has a label a screen reader announces, every
scrollable table can be reached by keyboard and has a name; and a finished contest's page leads to its
results, not to a registration."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from contest.models import Contest
from tests.conftest import csrf_token, html
from tests.contest_helpers import SLUG, make_contest
from tests.test_contestant_web import register, started
from tests.test_ranking import CLOSED, attempt, person

HOME = f"/c/{SLUG}"
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


@pytest.fixture
def contest(db):
    fixture = make_contest(db)
    attempt(db, fixture, person(db, fixture, "Lê Chi"), correct=9)
    return fixture


def publish_results(db, contest) -> None:
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == contest.contest_id).values(public_results=True))


def unlabelled(page) -> list[str]:
    """The form controls of a page that no label, aria-label or aria-labelledby names."""
    missing = []
    for control in page.find_all(["input", "select", "textarea"]):
        if control.name == "input" and control.get("type", "text") in UNLABELLED_TYPES:
            continue
        named = (control.get("aria-label", "").strip()
                 or any(page.find(id=ref) for ref in control.get("aria-labelledby", "").split())
                 or (control.get("id") and page.find("label", attrs={"for": control["id"]}))
                 or control.find_parent("label"))
        if not named:
            missing.append(str(control)[:120])
    return missing


def unnamed_buttons(page) -> list[str]:
    return [str(b)[:120] for b in page.find_all("button") if not (b.get_text(strip=True) or b.get("aria-label"))]


def test_every_form_control_on_the_contestant_pages_has_a_label(client, db, contest):
    pages = {path: client.get(HOME + path) for path in ("", "/the-le", "/dang-ky", "/dang-nhap")}
    assert register(client, db).status_code == 303
    pages["home signed in"] = client.get(HOME)
    attempt_id = started(client, db)
    pages["attempt"] = client.get(f"{HOME}/bai-thi/{attempt_id}")
    token = csrf_token(client, f"{HOME}/bai-thi/{attempt_id}")
    pages["confirm"] = client.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit"})
    client.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit", "confirm": "1"})
    pages["result"] = client.get(f"{HOME}/bai-thi/{attempt_id}/ket-qua")
    assert {name: r.status_code for name, r in pages.items()} == {name: 200 for name in pages}
    assert {name: unlabelled(html(r)) + unnamed_buttons(html(r)) for name, r in pages.items()} == {
        name: [] for name in pages}


def test_public_results_and_statistics_pages_have_labelled_controls_and_reachable_tables(client, db, contest, clock):
    publish_results(db, contest)
    clock.now = CLOSED
    paths = ("/ket-qua", "/ket-qua/dot/1/can-bo", "/ket-qua/don-vi", "/thong-ke", "/thong-ke/cau-hoi")
    pages = {path: client.get(HOME + path) for path in paths}
    assert {path: r.status_code for path, r in pages.items()} == {path: 200 for path in paths}
    assert {path: unlabelled(html(r)) for path, r in pages.items()} == {path: [] for path in paths}
    tables = [(path, table) for path, r in pages.items() for table in html(r).select("table.grid")]
    assert len(tables) >= 4
    for path, table in tables:
        page = html(pages[path])
        name = table.get("aria-label") or " ".join(
            page.find(id=ref).get_text(strip=True) for ref in table.get("aria-labelledby", "").split())
        assert (path, table.get("tabindex"), bool(name.strip())) == (path, "0", True), table["class"]


def test_finished_contest_leads_to_results_and_winners_not_to_registration(client, db, contest, clock):
    publish_results(db, contest)
    clock.now = CLOSED
    page = html(client.get(HOME))
    links = {a.get_text(" ", strip=True): a["href"] for a in page.select("main a")}
    assert "Đăng ký dự thi" not in links and "Đăng nhập" not in links
    assert links["Xem kết quả cuộc thi"] == f"{HOME}/ket-qua"
    assert links["Danh sách đạt giải: Đợt 1 · Cán bộ, công chức, viên chức"] == f"{HOME}/ket-qua/dot/1/can-bo"
    assert links["Giải tập thể"] == f"{HOME}/ket-qua/don-vi"
    assert "Cuộc thi đã kết thúc." in page.select_one(".finished").get_text()


def test_finished_contest_without_published_results_says_they_will_be_announced(client, db, contest, clock):
    clock.now = CLOSED
    page = html(client.get(HOME))
    assert page.find("a", href=f"{HOME}/dang-ky") is None
    assert page.select_one(".finished").get_text(" ", strip=True) == (
        "Cuộc thi đã kết thúc. Kết quả sẽ được ban tổ chức công bố.")


def test_open_contest_still_offers_registration(client, contest):
    page = html(client.get(HOME))
    assert page.find("a", href=f"{HOME}/dang-ky") is not None and page.select_one(".finished") is None


def test_contestant_sign_out_is_a_visible_link_button(client, db, contest):
    assert register(client, db).status_code == 303
    button = html(client.get(HOME)).find("form", action=f"{HOME}/dang-xuat").find("button")
    assert (button.get_text(), button["class"]) == ("Đăng xuất", ["link", "tap"])
