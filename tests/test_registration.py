"""Contestants' registration and login (contest.contests.registration), directly on a real database."""

from __future__ import annotations

import pytest

from contest.contests.registration import (TAKEN, RegistrationError, RegistrationForm, authenticate, mask_cccd,
                                           mask_phone, normalise_phone, register)
from contest.models import Contest
from tests.conftest import NOW
from tests.contest_helpers import make_contest, unit_id

PASSWORD = "matkhau-123"


@pytest.fixture
def contest(db) -> Contest:
    fixture = make_contest(db)
    with db.session() as session:
        return session.get(Contest, fixture.contest_id)


def _form(db, **changes) -> RegistrationForm:
    values = {"track": "officials", "full_name": "Nguyễn Văn An", "birth_date": "02/09/1990", "gender": "nam",
              "phone": "0912 345 678", "unit_id": str(unit_id(db, "CCHC")), "locality_id": str(unit_id(db, "X1")),
              "password": PASSWORD, "consent": True, **changes}
    return RegistrationForm(**values)


@pytest.mark.parametrize("raw, phone", [("0912345678", "0912345678"), ("+84 912 345 678", "0912345678"),
                                        ("84912345678", "0912345678"), ("091.234.5678", "0912345678"),
                                        ("091234567", None), ("1912345678", None), ("", None)])
def test_normalise_phone_reads_the_usual_spellings(raw, phone):
    assert normalise_phone(raw) == phone


def test_masks_leave_only_the_ends():
    assert (mask_phone("0912345678"), mask_cccd("001099012345"), mask_cccd(None)) == (
        "09xx xxx 678", "001xxxxxx345", "")


def test_register_stores_the_normalised_phone_and_a_hash(db, contest):
    contestant = register(db, contest=contest, form=_form(db), now=NOW)

    assert (contestant.phone, contestant.track, contestant.gender, contestant.unit_id) == (
        "0912345678", "officials", "Nam", unit_id(db, "CCHC"))
    assert contestant.password_hash != PASSWORD and contestant.consent_at == NOW


def test_register_lists_every_problem_at_once(db, contest):
    form = _form(db, full_name="A", phone="12345", cccd="12", birth_date="31/02/1990", unit_id="999999",
                 password="ngan", consent=False)

    with pytest.raises(RegistrationError) as refused:
        register(db, contest=contest, form=form, now=NOW)

    assert refused.value.errors == {
        "full_name": "Vui lòng nhập họ và tên.", "phone": "Số điện thoại phải có 10 chữ số, bắt đầu bằng 0.",
        "cccd": "Số CCCD phải có đúng 12 chữ số.", "birth_date": "Ngày sinh không hợp lệ (dd/mm/yyyy).",
        "unit": "Vui lòng chọn một mục trong danh sách.", "password": "Mật khẩu phải có ít nhất 8 ký tự.",
        "consent": "Cần đồng ý cho phép xử lý dữ liệu cá nhân để dự thi."}


def test_register_same_phone_in_another_spelling_is_taken_without_saying_whose(db, contest):
    register(db, contest=contest, form=_form(db), now=NOW)

    with pytest.raises(RegistrationError) as refused:
        register(db, contest=contest, form=_form(db, full_name="Trần Thị Bình", phone="+84912345678"), now=NOW)

    assert refused.value.errors == {"phone": TAKEN}


def test_register_same_cccd_is_taken(db, contest):
    register(db, contest=contest, form=_form(db, cccd="001099012345"), now=NOW)

    with pytest.raises(RegistrationError) as refused:
        register(db, contest=contest, form=_form(db, phone="0987654321", cccd="001 099 012 345"), now=NOW)

    assert refused.value.errors == {"phone": TAKEN}


def test_authenticate_with_any_spelling_of_the_phone_and_only_the_right_password(db, contest):
    registered = register(db, contest=contest, form=_form(db), now=NOW)

    found = authenticate(db, contest_id=contest.id, phone="+84 912 345 678", password=PASSWORD, now=NOW)
    wrong = authenticate(db, contest_id=contest.id, phone="0912345678", password="sai-mat-khau", now=NOW)
    unknown = authenticate(db, contest_id=contest.id, phone="0987654321", password=PASSWORD, now=NOW)

    assert (found.id, wrong, unknown) == (registered.id, None, None)
