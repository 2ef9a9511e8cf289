"""Sessions: encrypted cookies, written back only when the session changed or is due for renewal."""

from __future__ import annotations

from sqlalchemy import select

from contest import accounts
from contest.app import _derive_key
from contest.models import User
from contest.web.sessions import RENEW_SECONDS, QuietCookieSessions, SessionConfig
from tests.conftest import NOW, login, post_form

COOKIE = "contest_session"


def staff_session(db, email: str) -> dict:
    """The session data of a live staff login of `email`."""
    session_id = accounts.new_session_id()
    with db.write_session() as session:
        accounts.store_session(session, session_id, user_id=user_id(db, email), now=NOW)
    return {"uid": user_id(db, email), "sid": session_id}


def session_cookie(settings, data: dict, *, age: int = 0) -> str:
    """A session cookie as the app would have set it `age` seconds ago."""
    backend = QuietCookieSessions(SessionConfig(secret=_derive_key(settings.secret_key, "session"), key=COOKIE,
                                                max_age=settings.session_max_age))
    backend.config.max_age -= age  # may go below zero: an expired cookie
    return backend.dump_data(data)[0].decode()


def sets_session(response) -> bool:
    return any(value.startswith(f"{COOKIE}=") for value in response.headers.get_list("set-cookie"))


def user_id(db, email: str) -> int:
    with db.session() as session:
        return session.scalar(select(User.id).where(User.email == email))


def test_login_sets_the_cookie_and_later_requests_do_not_rewrite_it(client, staff):
    assert sets_session(login(client, staff["viewer"]))
    page = client.get("/staff/")
    assert page.status_code == 200 and staff["viewer"] in page.text
    assert not sets_session(page)


def test_a_session_due_for_renewal_is_written_again(client, settings, db, staff):
    data = staff_session(db, staff["viewer"])
    fresh = session_cookie(settings, data, age=RENEW_SECONDS - 60)
    client.cookies.set(COOKIE, fresh)
    assert client.get("/staff/").status_code == 200 and not sets_session(client.get("/staff/"))
    client.cookies.set(COOKIE, session_cookie(settings, data, age=RENEW_SECONDS + 60))
    renewed = client.get("/staff/")
    assert renewed.status_code == 200 and sets_session(renewed)


def test_expired_forged_and_logged_out_sessions_sign_nobody_in(client, settings, db, staff):
    data = staff_session(db, staff["viewer"])
    for cookie in (session_cookie(settings, data, age=settings.session_max_age + 5),
                   session_cookie(settings, data)[:-8] + "AAAAAAAA", "not-a-session"):
        client.cookies.set(COOKIE, cookie)
        assert staff["viewer"] not in client.get("/staff/", follow_redirects=False).text
    client.cookies.clear()
    login(client, staff["viewer"])
    assert staff["viewer"] in client.get("/staff/").text
    logout = post_form(client, "/logout", {}, form_page="/staff/", follow_redirects=False)
    assert logout.status_code == 303 and f"{COOKIE}=null" in logout.headers.get_list("set-cookie")[0]
    assert staff["viewer"] not in client.get("/staff/", follow_redirects=False).text
