"""Every response, errors included, carries the security headers; HSTS only in production."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import SECRET, login
from tests.contest_helpers import SLUG, make_contest

HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def assert_secured(response) -> None:
    for name, part in HEADERS.items():
        assert part in response.headers.get(name, ""), f"{name} missing on {response.status_code}"
        assert len(response.headers.get_list(name)) == 1, f"{name} sent twice"


def test_pages_and_static_files_carry_the_headers(client):
    for path in ("/", "/login", "/static/site.css", "/static/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert_secured(response)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/no-such-page", 404),
    ("GET", "/static/no-such-file.css", 404),
    ("GET", "/logout", 405),
    ("POST", "/logout", 403),  # no CSRF token
    ("GET", "/staff/", 303),  # 401 answered by a redirect to the login page
    ("GET", "/api/v1/contests/no-such-contest", 404),
    ("GET", "/api/v1/contests/no-such-contest/rounds", 401),
    ("DELETE", "/api/v1/contests/no-such-contest", 405),
])
def test_error_responses_carry_the_headers(client, method, path, status):
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == status
    assert_secured(response)


def test_forbidden_page_carries_the_headers(client, staff):
    login(client, staff["viewer"])
    response = client.get("/staff/users/")
    assert response.status_code == 403
    assert_secured(response)


def test_too_large_and_too_many_carry_the_headers(client, db, staff):
    make_contest(db)
    big = client.post(f"/api/v1/contests/{SLUG}/sessions", content=b"x" * (26 * 1024 * 1024),
                      headers={"content-type": "application/json"})
    assert big.status_code == 413
    assert_secured(big)
    for _ in range(6):
        throttled = login(client, staff["viewer"], "wrong password!")
    assert throttled.status_code == 429
    assert_secured(throttled)


def test_server_error_carries_the_headers(client, db):
    make_contest(db)
    with db.write_session() as session:  # a real failure: the table the page reads is gone
        session.execute(text("ALTER TABLE contests RENAME TO contests_away"))
    try:
        response = client.get(f"/c/{SLUG}/")
    finally:
        with db.write_session() as session:
            session.execute(text("ALTER TABLE contests_away RENAME TO contests"))
    assert response.status_code == 500
    assert_secured(response)


def test_hsts_in_production_only(client, make_client):
    assert "strict-transport-security" not in client.get("/").headers
    assert "strict-transport-security" not in client.get("/no-such-page").headers
    production = make_client(env="production", secret_key=SECRET)
    for path in ("/", "/no-such-page", "/static/site.css"):
        assert production.get(path).headers["strict-transport-security"] == HSTS
