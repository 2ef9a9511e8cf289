from datetime import timedelta

import pytest
from sqlalchemy import select

from contest import accounts
from contest.models import LoginAttempt, Role, User
from tests.conftest import NOW, PASSWORD, html, login, post_form


def test_password_hash_is_argon2id(db, staff):
    with db.session() as session:
        user = session.scalar(select(User).where(User.email == staff["admin"]))
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_success_redirects_to_dashboard(client, staff):
    response = login(client, staff["organiser"])
    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    page = html(client.get("/staff"))
    assert page.h1.get_text() == "Quản trị"
    assert "Ban tổ chức" in page.main.get_text()


def test_login_follows_local_next_only(client, staff):
    token_page = "/login?next=/staff/users"
    response = post_form(client, "/login", {"email": staff["admin"], "password": PASSWORD,
                                            "next": "//evil.example/"}, form_page=token_page,
                         follow_redirects=False)
    assert response.headers["location"] == "/staff"


@pytest.mark.parametrize("email,password", [
    ("organiser@example.org", "wrong password!"),
    ("nobody@example.org", PASSWORD),
])
def test_login_failure_gives_one_calm_message(client, staff, email, password):
    response = login(client, email, password)
    assert response.status_code == 400
    alert = html(response).find(attrs={"role": "alert"})
    assert alert.get_text() == "E-mail hoặc mật khẩu không đúng."
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_login_email_is_case_insensitive(client, staff):
    assert login(client, "  Organiser@Example.ORG ").status_code == 303


def test_login_is_throttled_after_repeated_failures(client, staff):
    for _ in range(5):
        assert login(client, staff["viewer"], "wrong password!").status_code == 400
    response = login(client, staff["viewer"])  # right password, but too late
    assert response.status_code == 429
    assert "quá nhiều lần" in html(response).find(attrs={"role": "alert"}).get_text()


def test_throttle_window_expires(db, staff):
    policy = accounts.LoginPolicy(max_failures=2, window=timedelta(minutes=15))
    for _ in range(2):
        assert accounts.authenticate(db, email=staff["viewer"], password="nope", ip="1.2.3.4",
                                     now=NOW, policy=policy) is None
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(db, email=staff["viewer"], password=PASSWORD, ip="1.2.3.4",
                              now=NOW + timedelta(minutes=14), policy=policy)
    user = accounts.authenticate(db, email=staff["viewer"], password=PASSWORD, ip="1.2.3.4",
                                 now=NOW + timedelta(minutes=16), policy=policy)
    assert user.email == staff["viewer"]
    with db.session() as session:
        attempts = session.scalars(select(LoginAttempt.succeeded).order_by(LoginAttempt.id)).all()
    assert attempts == [False, False, True]


def test_inactive_user_cannot_log_in(client, db, staff):
    with db.write_session() as session:
        session.scalar(select(User).where(User.email == staff["organiser"])).is_active = False
    assert login(client, staff["organiser"]).status_code == 400


def test_logout_requires_csrf_and_ends_session(client, staff):
    login(client, staff["viewer"])
    assert client.post("/logout", follow_redirects=False).status_code == 403
    response = post_form(client, "/logout", {}, form_page="/staff", follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_create_user_refuses_duplicates_and_short_passwords(db, staff):
    with db.write_session() as session, pytest.raises(accounts.AccountError, match="Đã có tài khoản"):
        accounts.create_user(session, email=staff["viewer"].upper(), password=PASSWORD, role=Role.viewer, now=NOW)
    with db.write_session() as session, pytest.raises(accounts.AccountError, match="ít nhất 10 ký tự"):
        accounts.create_user(session, email="new@example.org", password="short", role=Role.viewer, now=NOW)
