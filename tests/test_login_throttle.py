"""Login throttling slows guessing per client address and per account without locking out the owner.

Client addresses are varied the way production sees them: through uvicorn's proxy-headers middleware
(what `contest serve` runs), with X-Forwarded-For trusted from the test client.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from litestar.testing import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from contest.accounts import CONTESTANT_HASHER, LoginPolicy, LoginThrottled, hash_password
from contest.app import create_app
from contest.contests import registration
from contest.models import Contestant
from tests.conftest import NOW, PASSWORD as STAFF_PASSWORD, html, login, post_form
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id

API = f"/api/v1/contests/{SLUG}"
ATTACKER, OWNER, NEIGHBOUR = "203.0.113.66", "198.51.100.7", "192.0.2.10"
ADDRESS_LIMIT = 20  # CONTEST_LOGIN_MAX_ADDRESS_FAILURES's default


@pytest.fixture
def client_from(settings, db, clock):
    """A client whose requests come from `address`."""
    clients = []

    def factory(address: str) -> TestClient:
        app = ProxyHeadersMiddleware(create_app(settings, database=db, clock=clock), trusted_hosts="*")
        client = TestClient(app, raise_server_exceptions=False)  # type: ignore[arg-type]
        client.headers["x-forwarded-for"] = address
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


def registration_body(db, phone: str = PHONE, **extra) -> dict:
    return {"track": "officials", "full_name": "Nguyễn Thị Lan", "birth_date": "1990-05-17", "phone": phone,
            "unit_id": unit_id(db, "SNV"),
            "password": PASSWORD, "consent": True, **extra}


def add_contestants(db, contest_id: int, phones: list[str]) -> None:
    """Registered contestants (one shared hash: hashing each would only slow the test)."""
    password_hash = hash_password(PASSWORD, CONTESTANT_HASHER)
    with db.write_session() as session:
        session.add_all(Contestant(contest_id=contest_id, track="officials", full_name=f"Người {phone}",
                                   phone=phone, password_hash=password_hash, consent_at=NOW, created_at=NOW)
                        for phone in phones)


def api_login(client, phone: str, password: str) -> int:
    return client.post(f"{API}/sessions", json={"phone": phone, "password": password}).status_code


def test_staff_owner_logs_in_after_another_address_failed_many_times(client_from, staff):
    attacker = client_from(ATTACKER)
    assert [login(attacker, staff["organiser"], "wrong password!").status_code for _ in range(6)] == [400] * 5 + [429]
    # The attacker's address now waits, even with the right password...
    assert login(attacker, staff["organiser"]).status_code == 429
    # ...but the owner, from an address that has not been failing, gets in at once.
    owner = client_from(OWNER)
    assert login(owner, staff["organiser"], STAFF_PASSWORD).status_code == 303
    assert staff["organiser"] in owner.get("/staff/").text


def test_every_spelling_of_a_phone_is_one_account_and_the_owner_still_gets_in(client_from, db):
    make_contest(db)
    owner = client_from(OWNER)
    assert owner.post(f"{API}/registrations", json=registration_body(db)).status_code == 201
    attacker = client_from(ATTACKER)
    spellings = ["0912345678", "+84912345678", "84912345678", "0912 345 678", "0912.345.678", "+84 912-345-678"]
    assert [api_login(attacker, phone, "doan-bua-1") for phone in spellings] == [401] * 5 + [429]
    assert api_login(attacker, "+84 912 345 678", PASSWORD) == 429
    assert api_login(owner, "0912345678", PASSWORD) == 201


def test_an_account_guessed_from_many_addresses_only_admits_addresses_it_knows(client_from, db, make_client):
    """Beyond the account-wide limit, an address that never logged in to the account waits; the
    owner's usual address is still let in."""
    fixture = make_contest(db)
    add_contestants(db, fixture.contest_id, [PHONE])
    owner = client_from(OWNER)
    assert api_login(owner, PHONE, PASSWORD) == 201
    for n in range(4):  # four addresses, three guesses each: 12 failures, under each pair's limit
        guesser = client_from(f"203.0.113.{n + 1}")
        assert [api_login(guesser, PHONE, f"doan-{i}") for i in range(3)] == [401] * 3
    policy = LoginPolicy(max_failures=5, max_account_failures=10, max_address_failures=20)
    with pytest.raises(LoginThrottled):
        registration.authenticate(db, contest_id=fixture.contest_id, phone=PHONE, password=PASSWORD, now=NOW,
                                  ip=NEIGHBOUR, policy=policy)
    assert registration.authenticate(db, contest_id=fixture.contest_id, phone=PHONE, password=PASSWORD, now=NOW,
                                     ip=OWNER, policy=policy).phone == PHONE


def test_one_address_trying_one_password_on_many_phones_is_stopped(client_from, db, settings):
    fixture = make_contest(db)
    phones = [f"09{n:08d}" for n in range(30)]
    add_contestants(db, fixture.contest_id, phones)
    sprayer = client_from(ATTACKER)
    statuses = [api_login(sprayer, phone, "matkhau-2024") for phone in phones]
    assert statuses == [401] * ADDRESS_LIMIT + [429] * (30 - ADDRESS_LIMIT)
    assert settings.login_max_address_failures == ADDRESS_LIMIT
    # The web form refuses that address too; other addresses are not affected.
    web = post_form(sprayer, f"/c/{SLUG}/dang-nhap", {"phone": phones[0], "password": PASSWORD})
    assert web.status_code == 429
    assert "quá nhiều lần" in html(web).select_one(".error").get_text()
    assert api_login(client_from(NEIGHBOUR), phones[0], PASSWORD) == 201


def test_concurrent_guesses_check_at_most_the_allowed_number_of_passwords(db):
    fixture = make_contest(db)
    add_contestants(db, fixture.contest_id, [PHONE])
    policy = LoginPolicy(max_failures=3)
    threads_count = 10
    barrier = threading.Barrier(threads_count)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def guess(n: int) -> None:
        barrier.wait()
        try:
            result = registration.authenticate(db, contest_id=fixture.contest_id, phone=PHONE,
                                               password=f"doan-{n}", now=NOW, ip=ATTACKER, policy=policy)
            outcome = "checked" if result is None else "signed in"
        except LoginThrottled:
            outcome = "throttled"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {"checked": 3, "throttled": threads_count - 3}


def test_registration_saying_a_phone_is_taken_counts_against_the_address(client_from, db, settings):
    fixture = make_contest(db)
    phones = [f"09{n:08d}" for n in range(25)]
    add_contestants(db, fixture.contest_id, phones)
    prober = client_from(ATTACKER)
    answers = [prober.post(f"{API}/registrations", json=registration_body(db, phone)) for phone in phones]
    assert [a.status_code for a in answers] == [400] * ADDRESS_LIMIT + [429] * (25 - ADDRESS_LIMIT)
    assert "đã được đăng ký" in answers[0].text
    assert "đã được đăng ký" not in answers[-1].text
    # Once over the limit, the address learns nothing, even of a free number, nor can it log in.
    assert prober.post(f"{API}/registrations", json=registration_body(db, "0987654321")).status_code == 429
    assert api_login(prober, phones[0], PASSWORD) == 429
    web = post_form(prober, f"/c/{SLUG}/dang-ky", {"track": "officials", "full_name": "Nguyễn Văn Bình",
                                                   "phone": phones[1], "birth_date": "15/08/1990", "unit_id": str(unit_id(db, "SNV")),
                                                   "password": PASSWORD, "consent": "1"})
    assert web.status_code == 429 and "đã được đăng ký" not in web.text
    # Someone else still registers, and is told plainly when a number is taken.
    neighbour = client_from(NEIGHBOUR)
    assert neighbour.post(f"{API}/registrations", json=registration_body(db, "0987654321")).status_code == 201
    assert "đã được đăng ký" in neighbour.post(f"{API}/registrations", json=registration_body(db, phones[0])).text
