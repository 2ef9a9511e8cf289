"""The `contest` command, run in-process with Click's runner against the test database."""

import pytest
from openpyxl import load_workbook

from tests.banks_helpers import GOOD_ROWS, row, xlsx_bytes


@pytest.fixture
def run(run_cli):
    return run_cli


def test_migrate_is_idempotent(run):
    result = run("migrate")
    assert result.exit_code == 0
    assert result.output.startswith("Database is up to date: ")


def test_create_user_then_refuse_duplicate(run):
    result = run("create-user", "Chu.Tich@Example.org", "--role", "admin", input="mật khẩu rất dài\nmật khẩu rất dài\n")
    assert result.exit_code == 0
    assert result.output.endswith("Created admin account chu.tich@example.org.\n")
    again = run("create-user", "chu.tich@example.org", "--role", "viewer", input="mật khẩu rất dài\nmật khẩu rất dài\n")
    assert again.exit_code == 1
    assert "Đã có tài khoản với e-mail chu.tich@example.org." in again.output


def test_import_bank_reports_errors_and_exits_non_zero(run, tmp_path):
    path = tmp_path / "loi.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS + [row(5, "Câu?", ["Một", "Hai", "Ba", "Bốn"], "E")]))
    result = run("import-bank", str(path), "--bank", "Thử")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Tệp loi.xlsx (Excel (mẫu của nền tảng)) → ngân hàng 'Thử'",
        "LỖI  Dòng 6, cột Đáp án: Đáp án 'E' không có; câu này có các phương án A–D",
        "4 câu hợp lệ, 1 lỗi, 0 chú ý.",
        "Chưa lưu gì. Sửa các lỗi trên, hoặc đồng ý bỏ qua các dòng lỗi.",
    ]


def test_import_bank_dry_run_then_import_then_export(run, tmp_path):
    path = tmp_path / "tot.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS))
    dry = run("import-bank", str(path), "--bank", "Thử", "--dry-run")
    assert (dry.exit_code, dry.output.splitlines()[-1]) == (0, "Chạy thử: chưa lưu gì.")
    real = run("import-bank", str(path), "--bank", "Thử")
    assert (real.exit_code, real.output.splitlines()[-1]) == (0, "Đã nhập 4 câu hỏi.")
    out = tmp_path / "ra.xlsx"
    exported = run("export-bank", "Thử", "-o", str(out))
    assert exported.output == f"Đã xuất 4 câu hỏi của 'Thử' ra {out}.\n"
    sheet = load_workbook(out)["Câu hỏi"]
    assert sheet.max_row == 5
    assert sheet["E2"].value == GOOD_ROWS[0][4]


def test_import_gift_with_unsupported_type_needs_accept_skips(run, tmp_path):
    path = tmp_path / "moodle.gift"
    path.write_text("Cơ chế một cửa do Nghị định nào quy định? {=61/2018/NĐ-CP ~63/2010/NĐ-CP}\n\n"
                    "Hãy nêu cảm nhận của bạn về cải cách hành chính. {}\n", encoding="utf-8")
    refused = run("import-bank", str(path), "--bank", "Moodle")
    assert refused.exit_code == 1
    assert refused.output.splitlines()[1] == "LỖI  Dòng 3: Câu hỏi dạng tự luận (essay) không được hỗ trợ."
    accepted = run("import-bank", str(path), "--bank", "Moodle", "--accept-skips")
    assert (accepted.exit_code, accepted.output.splitlines()[-1]) == (0, "Đã nhập 1 câu hỏi.")
    assert accepted.output.splitlines()[1] == "BỎ QUA Dòng 3: Câu hỏi dạng tự luận (essay) không được hỗ trợ."


def test_export_unknown_bank_is_a_clear_error(run, tmp_path):
    result = run("export-bank", "Không có", "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 1
    assert "Không có ngân hàng câu hỏi 'Không có'." in result.output
