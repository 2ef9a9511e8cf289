"""Staff sessions end on the server (logout, password change, deactivation); CSRF tokens are bound
to the session they were issued in."""

from __future__ import annotations

from tests.conftest import PASSWORD, csrf_token, html, login, post_form
from tests.contest_helpers import PHONE, SLUG, make_contest
from tests.test_contestant_web import register, save, started

COOKIE = "contest_session"
NEW_PASSWORD = "a brand new passphrase"


def signed_in(client, email: str) -> bool:
    response = client.get("/staff/", follow_redirects=False)
    return response.status_code == 200 and email in response.text


def active_form(page, email: str):
    """The lock/unlock form on the row of `email` in the accounts table."""
    return next(row.form for row in page.select("tbody tr") if email in row.get_text())


def test_a_cookie_replayed_after_logout_signs_nobody_in(client, staff):
    login(client, staff["organiser"])
    stolen = client.cookies.get(COOKIE)
    assert signed_in(client, staff["organiser"])
    assert post_form(client, "/logout", {}, form_page="/staff/", follow_redirects=False).status_code == 303
    client.cookies.set(COOKIE, stolen)
    assert not signed_in(client, staff["organiser"])
    assert client.get("/staff/contests", follow_redirects=False).status_code == 303


def test_password_change_ends_every_other_session(make_client, staff):
    here, elsewhere = make_client(), make_client()
    for client in (here, elsewhere):
        login(client, staff["organiser"])
    wrong = post_form(here, "/staff/password", {"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert html(wrong).find(attrs={"role": "alert"}).get_text() == "Mật khẩu hiện tại không đúng."
    assert signed_in(elsewhere, staff["organiser"])
    changed = post_form(here, "/staff/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200
    assert "Đã đổi mật khẩu" in html(changed).find(attrs={"role": "status"}).get_text()
    assert signed_in(here, staff["organiser"])
    assert not signed_in(elsewhere, staff["organiser"])
    assert login(make_client(), staff["organiser"]).status_code == 400
    assert login(make_client(), staff["organiser"], NEW_PASSWORD).status_code == 303


def test_deactivating_an_account_ends_its_sessions(make_client, staff):
    admin, organiser = make_client(), make_client()
    login(admin, staff["admin"])
    login(organiser, staff["organiser"])
    page = html(admin.get("/staff/users/"))
    response = admin.post(active_form(page, staff["organiser"])["action"], data={"active": "0", "_csrf_token": csrf_token(admin, "/staff/users/")})
    assert response.status_code == 200
    assert not signed_in(organiser, staff["organiser"])
    assert login(make_client(), staff["organiser"]).status_code == 400
    self_lock = admin.post(active_form(page, staff["admin"])["action"],
                           data={"active": "0", "_csrf_token": csrf_token(admin, "/staff/users/")})
    assert self_lock.status_code == 400 and signed_in(admin, staff["admin"])


def test_a_csrf_pair_from_another_session_is_refused(make_client, staff):
    mallory, victim = make_client(), make_client()
    login(mallory, staff["viewer"])
    login(victim, staff["organiser"])
    token, cookie = csrf_token(mallory, "/staff/"), mallory.cookies.get("contest_csrf")
    victim.cookies.set("contest_csrf", cookie)
    refused = victim.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    assert signed_in(victim, staff["organiser"])
    # A pair from a visitor who never signed in is no better.
    stranger = make_client()
    token, cookie = csrf_token(stranger, "/login"), stranger.cookies.get("contest_csrf")
    victim.cookies.set("contest_csrf", cookie)
    assert victim.post("/logout", data={"_csrf_token": token}, follow_redirects=False).status_code == 403
    # The victim's own page still works.
    assert post_form(victim, "/logout", {}, form_page="/staff/", follow_redirects=False).status_code == 303


def test_a_contestants_csrf_pair_does_not_work_in_another_contestants_session(make_client, db):
    make_contest(db)
    mallory, victim = make_client(), make_client()
    assert register(mallory, db, phone="0987654321", cccd="001090099999").status_code == 303
    assert register(victim, db, phone=PHONE).status_code == 303
    attempt_id = started(victim, db)
    token, cookie = csrf_token(mallory, f"/c/{SLUG}"), mallory.cookies.get("contest_csrf")
    victim.cookies.set("contest_csrf", cookie)
    assert save(victim, attempt_id, 0, 1, token=token).status_code == 403
    victim.cookies.delete("contest_csrf")
    assert save(victim, attempt_id, 0, 1).status_code == 200


def test_forms_work_on_a_first_visit(client, staff, db):
    make_contest(db)
    assert login(client, staff["viewer"]).status_code == 303
    assert register(client, db).status_code == 303
