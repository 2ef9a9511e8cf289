"""The skeleton: pages, roles, CSRF, errors, languages, settings, migrations."""

import unicodedata

import pytest
from litestar import get
from sqlalchemy import inspect

from contest.db import Database, make_engine, migrate
from contest.settings import Settings, SettingsError
from tests.conftest import POSTGRES_URL, html, login, post_form, scratch_database


def test_home_page_is_vietnamese_light_and_self_contained(client):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    page = html(response)
    assert response.status_code == 200
    assert page.html["lang"] == "vi"
    assert page.h1.get_text() == "Hội thi trực tuyến tìm hiểu về cải cách hành chính"
    assert unicodedata.is_normalized("NFC", response.text)
    assert page.find("meta", attrs={"name": "viewport"})["content"].startswith("width=device-width")
    external = [tag for tag in page.find_all(["script", "link", "img"])
                if (tag.get("src") or tag.get("href") or "").startswith(("http:", "https:", "//"))]
    assert external == []
    total = len(response.content)
    for tag in page.find_all(["script", "link"]):
        url = tag.get("src") or tag.get("href")
        if url and url.startswith("/static/"):
            asset = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert asset.status_code == 200
            total += int(asset.headers.get("content-length", len(asset.content)))
    assert total < 60_000


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_english_can_be_chosen(client):
    response = client.get("/lang/en?next=/login", follow_redirects=False)
    assert response.headers["location"] == "/login"
    page = html(client.get("/login"))
    assert page.html["lang"] == "en"
    assert page.h1.get_text() == "Sign in"
    missing = client.get("/no-such-page")  # rendered by the error handler, before any route
    assert missing.status_code == 404 and html(missing).h1.get_text() == "Page not found"
    assert html(missing).footer.get_text().startswith("An open-source platform")
    client.get("/lang/vi")
    assert html(client.get("/login")).h1.get_text() == "Đăng nhập"
    assert html(client.get("/no-such-page")).h1.get_text() == "Không tìm thấy trang"


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_staff_pages_send_anonymous_visitors_to_login(client):
    response = client.get("/staff/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/staff/users"


@pytest.mark.parametrize("role,status", [("viewer", 403), ("organiser", 403), ("admin", 200)])
def test_only_admins_manage_accounts(client, staff, role, status):
    login(client, staff[role])
    response = client.get("/staff/users")
    assert response.status_code == status
    if status == 403:
        assert html(response).h1.get_text() == "Không có quyền truy cập"


def test_role_is_checked_on_the_server_for_posts_too(client, staff):
    login(client, staff["viewer"])
    response = post_form(client, "/staff/users", {"email": "x@example.org", "password": "a" * 12,
                                                  "role": "admin"}, form_page="/staff")
    assert response.status_code == 403


def test_admin_creates_account_and_it_can_log_in(make_client, staff):
    admin = make_client()
    login(admin, staff["admin"])
    response = post_form(admin, "/staff/users", {"email": "new@example.org", "full_name": "Nguyễn Văn A",
                                                 "password": "mật khẩu dài", "role": "viewer"})
    assert html(response).find(attrs={"role": "status"}).get_text() == "Đã tạo tài khoản new@example.org."
    other = make_client()
    assert login(other, "new@example.org", "mật khẩu dài").status_code == 303


def test_admin_sees_a_clear_error_for_a_duplicate_account(client, staff):
    login(client, staff["admin"])
    response = post_form(client, "/staff/users", {"email": staff["viewer"], "password": "a" * 12,
                                                  "role": "viewer"})
    assert response.status_code == 400
    assert html(response).find(attrs={"role": "alert"}).get_text() == f"Đã có tài khoản với e-mail {staff['viewer']}."


def test_form_post_without_csrf_token_is_rejected(client, staff):
    response = client.post("/login", data={"email": staff["admin"], "password": "x"})
    assert response.status_code == 403
    assert "Phiên làm việc đã hết hạn" in html(response).main.get_text()


def test_form_post_with_forged_csrf_token_is_rejected(client, staff):
    client.get("/login")
    response = client.post("/login", data={"email": staff["admin"], "password": "x",
                                           "_csrf_token": "forged"})
    assert response.status_code == 403


def test_session_and_csrf_cookies_are_http_only(client, staff):
    response = login(client, staff["viewer"])
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("contest_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie


def test_production_cookies_are_secure(make_client):
    client = make_client(env="production")
    cookie = client.get("/login").headers["set-cookie"]
    assert "Secure" in cookie


def test_output_is_escaped(client, db, staff):
    from contest import accounts
    from contest.models import Role
    from tests.conftest import NOW

    with db.write_session() as session:
        accounts.create_user(session, email="evil@example.org", password="a" * 12, role=Role.viewer,
                             full_name="<script>alert(1)</script>", now=NOW)
    login(client, staff["admin"])
    response = client.get("/staff/users")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_not_found_page_is_vietnamese(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert html(response).h1.get_text() == "Không tìm thấy trang"


def test_server_error_page_hides_the_stack_trace(client):
    @get("/boom", sync_to_thread=False)
    def boom() -> str:
        raise RuntimeError("secret internals")

    client.app.register(boom)
    response = client.get("/boom")
    assert response.status_code == 500
    assert html(response).h1.get_text() == "Lỗi hệ thống"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_api_errors_use_the_json_shape(client):
    response = client.get("/api/v1/khong-co")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found",
                                         "message": "Trang bạn tìm không tồn tại hoặc đã được chuyển đi."}}


def test_health_check_reaches_the_database(client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_static_assets_are_vendored(client):
    response = client.get("/static/htmx.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env(environ={"CONTEST_ENV": "production", "CONTEST_VAR_DIR": str(tmp_path)})


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = Settings.from_env(environ={"CONTEST_VAR_DIR": str(tmp_path)})
    second = Settings.from_env(environ={"CONTEST_VAR_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_settings_come_from_the_environment(tmp_path):
    settings = Settings.from_env(environ={"CONTEST_VAR_DIR": str(tmp_path), "CONTEST_PORT": "9000",
                                          "SECRET_KEY": "k" * 40})
    assert settings.port == 9000
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.default_locale == "vi"
    assert settings.database_url == f"sqlite:///{tmp_path / 'contest.sqlite3'}"


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.session() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    db.dispose()


def test_migrations_from_empty_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'contest.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    assert {"users", "login_attempts", "alembic_version"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrated_schema_is_the_models_schema(db):
    """The migrations and the models describe the same tables, columns and indexes (on the engine under test)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import contest.models  # noqa: F401 - every table registered on the metadata

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL run only (TEST_DATABASE_URL not set)")
def test_migrations_from_empty_postgresql():
    with scratch_database("fresh_migration") as fresh:
        migrate(fresh)
        engine = make_engine(fresh)
        assert {"users", "login_attempts", "alembic_version"} <= set(inspect(engine).get_table_names())
        engine.dispose()


def test_english_catalog_translates_every_extracted_message():
    from babel.messages.pofile import read_po

    from contest.i18n import LOCALE_DIR

    with open(LOCALE_DIR / "messages.pot", "rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    with open(LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        translated = {m.id for m in read_po(fh, locale="en") if m.id and m.string}
    assert sorted(template - translated) == []
