"""An accessibility audit of the contestant's pages with axe-core (WCAG 2.1 A and AA rules) in headless
Chromium on a 360 px phone: the public pages, registration and login, the round's rules and the attempt
page of a signed-in contestant, and the published results and statistics of a finished contest.

axe-core comes with the axe-playwright-python test dependency (its own copy of axe.min.js, run in the page);
nothing is fetched from the network."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from contest.models import Contest
from tests.contest_helpers import PASSWORD, PHONE, make_contest
from tests.test_browser import HOME, PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)
from tests.test_browser_prediction import contestant
from tests.test_ranking import attempt, person

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect
except ImportError as exc:  # the browser fixture skips first when Playwright itself is missing
    Axe, expect, AXE_MISSING = None, None, str(exc)
else:
    AXE_MISSING = None

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}


def audit(page) -> list[str]:
    """The WCAG 2.1 A/AA violations axe-core finds on the page, one line each: rule, impact, first elements."""
    if AXE_MISSING:
        pytest.skip(f"axe-playwright-python cannot be imported ({AXE_MISSING})")
    page.wait_for_load_state("load")
    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    return [f"{v['id']} ({v['impact']}): " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3]) for v in found]


def phone(browser, live_server):  # noqa: F811
    context = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                  locale="vi-VN")
    return context, context.new_page()


def test_contestant_pages_of_an_open_contest_pass_wcag_21_aa(browser, live_server, db):  # noqa: F811
    now = datetime.now(timezone.utc)
    contestant(db, make_contest(db, now=now).contest_id, now)
    context, page = phone(browser, live_server)
    report = {}
    for path in ("/", HOME, f"{HOME}/the-le", f"{HOME}/tai-lieu", f"{HOME}/dang-ky", f"{HOME}/dang-nhap",
                 f"{HOME}/quen-mat-khau"):
        page.goto(path)
        report[path] = audit(page)
    # The registration form after a refused submit: errors beside their fields must pass too.
    page.goto(f"{HOME}/dang-ky")
    page.get_by_role("button", name="Đăng ký").tap()
    page.wait_for_url(f"**{HOME}/dang-ky")
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    report["registration with errors"] = audit(page)

    page.goto(f"{HOME}/dang-nhap")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").tap()
    expect(page).to_have_url(f"{live_server}{HOME}")
    report["home, signed in"] = audit(page)
    page.get_by_role("link", name="Vào thi").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/dot/1$"))
    report["round rules before the start"] = audit(page)
    page.get_by_role("button", name="Bắt đầu làm bài").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+$"))
    page.locator("input[type=radio]").first.check()
    report["attempt"] = audit(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nộp bài").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+/ket-qua$"))
    report["result"] = audit(page)
    context.close()
    assert report == {name: [] for name in report}


def test_published_results_and_statistics_pass_wcag_21_aa(browser, live_server, db):  # noqa: F811
    fixture = make_contest(db)  # its round closed in March 2026, long before the wall clock's today
    for n, name in enumerate(("Lê Chi", "Trần Văn Bình", "Phạm Thu Hà")):
        attempt(db, fixture, person(db, fixture, name), correct=9 - n, seconds=300 + n)
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == fixture.contest_id).values(public_results=True))
    context, page = phone(browser, live_server)
    report = {}
    for path in ("/ket-qua", "/ket-qua/dot/1/can-bo", "/ket-qua/don-vi", "/thong-ke", "/thong-ke/cau-hoi", ""):
        response = page.goto(HOME + path)
        assert response.status == 200, path
        report[path or "finished contest home"] = audit(page)
    context.close()
    assert report == {name: [] for name in report}
