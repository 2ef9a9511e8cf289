"""The demo data and the shipped question banks."""

from collections import Counter

from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.banks import store, xlsx
from contest.banks.validate import validate
from contest.demo import BANKS_DIR, DEMO_ORGANISER, SHIPPED_BANKS, load_demo
from contest.models import Question
from tests.conftest import NOW, html, login


def test_shipped_banks_are_clean_sourced_and_large_enough():
    total = 0
    difficulty = {}
    for filename in SHIPPED_BANKS:
        result = xlsx.parse((BANKS_DIR / filename).read_bytes())
        accepted = validate(result)
        assert [str(p) for p in result.problems] == [], filename
        assert all(q.source for q in accepted), f"{filename}: a question without its source"
        assert all(q.explanation for q in accepted), f"{filename}: a question without explanation"
        total += len(accepted)
        counts = Counter(q.difficulty for q in accepted)
        difficulty[filename] = sum(level * n for level, n in counts.items()) / len(accepted)
    assert total >= 200
    officials, citizens = difficulty["cchc-can-bo-cong-chuc.xlsx"], difficulty["cchc-nguoi-dan.xlsx"]
    assert officials > citizens  # the officials' bank is the harder one


def test_shipped_options_survive_shuffling():
    """Options are shuffled in attempts, so none may point at another by its letter."""
    forbidden = ("cả a", "cả b", "tất cả các phương án", "các phương án trên", "cả ba", "không phương án nào")
    for filename in SHIPPED_BANKS:
        for q in validate(xlsx.parse((BANKS_DIR / filename).read_bytes())):
            assert not [o for o in q.options if o.lower().startswith(forbidden)], (filename, q.number)


def test_import_template_is_the_blank_template_with_one_example():
    sheet = load_workbook(BANKS_DIR / "template.xlsx")["Câu hỏi"]
    assert sheet.max_row == 2
    assert sheet["L2"].value == "A"


def test_demo_is_idempotent_and_logs_in(db, client):
    first = load_demo(db, now=NOW)
    second = load_demo(db, now=NOW)
    assert second == first[-2:]  # the banks are not imported twice
    with db.session() as session:
        for name in SHIPPED_BANKS.values():
            assert store.find_bank(session, name) is not None
        assert session.scalar(select(func.count()).select_from(Question)) >= 200
    login(client, DEMO_ORGANISER[0], DEMO_ORGANISER[1])
    names = [a.get_text() for a in html(client.get("/staff/banks")).select("table.grid tbody a[href^='/staff/banks/']")
             if not a["href"].endswith(".xlsx")]
    assert names == sorted(SHIPPED_BANKS.values())
