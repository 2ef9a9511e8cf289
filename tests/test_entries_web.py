"""Entry rounds through HTTP: the organiser sets one up and runs the jury, a contestant drafts, uploads and
submits, judges score blind. Each as its user would, and as someone trying what they may not."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from contest import accounts
from contest.models import Contest, Contestant, Entry, EntryFile, EntryRound, ExportJob, JudgeAssignment, Role, Round
from tests.conftest import NOW, PASSWORD, csrf_token, html, login, post_form
from tests.contest_helpers import PASSWORD as CONTESTANT_PASSWORD
from tests.contest_helpers import SLUG, make_contest, unit_id

HOME = f"/c/{SLUG}"
NAME, PHONE = "Nguyễn Thị Hoà", "0912345678"


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(author: str = "Nguyen Thi Hoa") -> bytes:
    """A 1x1 PNG whose text chunk names its author."""
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    return (b"\x89PNG\r\n\x1a\n" + header + chunk(b"tEXt", b"Author\0" + author.encode()) + pixels
            + chunk(b"IEND", b""))


def round_form(**changes) -> dict:
    form = {"number": "2", "title": "Vòng 2 – Sáng tác", "opens_at": "01/03/2026 08:00", "closes_at": "09/03/2026 17:00",
            "tracks": ["officials", "citizens"], "best_of_round_id": "", "best_n": "", "allow_text": "1",
            "max_words": "500", "file_kinds": ["png", "jpg", "docx"], "max_files": "2", "max_file_mb": "2",
            "allow_video_link": "1", "judges_per_entry": "2", "aggregation": "mean", "trim_from": "5",
            "flag_gap": "10", "crit-name-0": "Nội dung", "crit-desc-0": "Đúng chủ đề", "crit-max-0": "60",
            "crit-name-1": "Tính sáng tạo", "crit-desc-1": "", "crit-max-1": "25",
            "crit-name-2": "Hình thức", "crit-desc-2": "", "crit-max-2": "15",
            "crit-name-3": "", "crit-desc-3": "", "crit-max-3": ""}
    return {**form, **changes}


@pytest.fixture
def contest(db):
    return make_contest(db)


@pytest.fixture
def organiser(make_client, staff):
    client = make_client()
    assert login(client, staff["organiser"]).status_code == 303
    return client


def create_round(organiser, contest, **changes):
    return post_form(organiser, f"/staff/contests/{contest.contest_id}/entry-rounds/new", round_form(**changes),
                     follow_redirects=False)


def registered(make_client, db, *, phone=PHONE, name=NAME, unit="SNV"):
    client = make_client()
    data = {"track": "officials", "full_name": name, "birth_date": "15/08/1990", "gender": "nu", "phone": phone,
            "cccd": "", "unit_id": str(unit_id(db, unit)), "locality_id": "", "password": CONTESTANT_PASSWORD,
            "consent": "1"}
    response = post_form(client, f"{HOME}/dang-ky", data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def submit(client, *, text="", files=(), video="", number=2):
    token = csrf_token(client, HOME)  # the entry page has no form once the round is closed
    return client.post(f"{HOME}/bai-du-thi/{number}", data={"_csrf_token": token, "text": text, "video_url": video},
                       files=[("files", f) for f in files], follow_redirects=False)


def judges(db, n=2) -> list[str]:
    emails = []
    with db.write_session() as session:
        for i in range(1, n + 1):
            accounts.create_user(session, email=f"gk{i}@example.org", password=PASSWORD, role=Role.judge, now=NOW,
                                 full_name=f"Giám khảo {i}")
            emails.append(f"gk{i}@example.org")
    return emails


def test_organiser_sets_up_an_entry_round_and_sees_it_among_the_rounds(organiser, contest, db):
    response = create_round(organiser, contest)
    assert response.status_code == 303
    with db.session() as session:
        round_ = session.scalar(select(Round).where(Round.number == 2))
        settings = session.get(EntryRound, round_.id)
    assert round_.kind == "entry" and settings.file_kinds == "png,jpg,docx" and settings.judges_per_entry == 2
    assert response.headers["location"] == f"/staff/contests/{contest.contest_id}/entry-rounds/{round_.id}/jury"
    page = html(organiser.get(f"/staff/contests/{contest.contest_id}"))
    assert page.find("a", href=f"/staff/contests/{contest.contest_id}/entry-rounds/{round_.id}")
    jury = html(organiser.get(response.headers["location"]))
    assert "Nội dung (60); Tính sáng tạo (25); Hình thức (15)" in jury.get_text(" ", strip=True)
    # the quiz round pages do not open an entry round
    assert organiser.get(f"/staff/contests/{contest.contest_id}/rounds/{round_.id}").status_code == 404


def test_a_refused_setting_is_shown_under_its_field_and_nothing_is_saved(organiser, contest, db):
    response = create_round(organiser, contest, **{"crit-max-0": "mười"})
    assert response.status_code == 400
    field = html(response).find(id="criteria-error")
    assert field and "Điểm tối đa của tiêu chí phải là một số nguyên." in field.text
    assert create_round(organiser, contest, number="1").status_code == 400  # round 1 is the quiz round
    with db.session() as session:
        assert session.scalar(select(Round).where(Round.kind == "entry")) is None


def test_contestant_drafts_uploads_submits_and_replaces_the_entry(organiser, contest, db, make_client, settings):
    create_round(organiser, contest)
    phone = registered(make_client, db)
    page = html(phone.get(f"{HOME}/bai-du-thi/2"))
    form = page.find("form", id="entry")
    assert form["enctype"] == "multipart/form-data" and page.find("textarea", attrs={"name": "text"})
    token = csrf_token(phone, f"{HOME}/bai-du-thi/2")
    saved = phone.post(f"{HOME}/bai-du-thi/2/nhap", data={"text": "Cải cách hành chính bắt đầu"},
                       headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and saved.json()["words"] == 6 and "Đã lưu nháp lúc" in saved.json()["message"]
    assert "Cải cách hành chính bắt đầu" in html(phone.get(f"{HOME}/bai-du-thi/2")).find("textarea").text

    response = submit(phone, text="Cải cách hành chính bắt đầu từ mỗi người.",
                      files=[("tranh cổ động.png", png(), "image/png")])
    assert response.status_code == 303, response.text
    with db.session() as session:
        entry = session.scalar(select(Entry))
        stored = session.scalar(select(EntryFile))
    assert entry.versions == 1 and stored.original_name == "tranh cổ động.png" and stored.kind == "png"
    kept = (settings.entries_dir / f"{stored.sha256}.png").read_bytes()
    assert b"Nguyen Thi Hoa" not in kept and kept.startswith(b"\x89PNG")

    page = html(phone.get(f"{HOME}/bai-du-thi/2"))
    assert f"mã {entry.code}" in page.get_text(" ", strip=True)
    own = phone.get(f"{HOME}/bai-du-thi/2/tep/{stored.id}")
    assert own.status_code == 200 and own.content == kept

    assert submit(phone, text="Bản sửa: cải cách hành chính bắt đầu từ mỗi cán bộ.").status_code == 303
    with db.session() as session:
        entry = session.scalar(select(Entry))
        files = session.scalars(select(EntryFile).order_by(EntryFile.id)).all()
    assert entry.versions == 2 and [f.sha256 for f in files] == [stored.sha256] * 2  # the poster carried over

    other = registered(make_client, db, phone="0987654321", name="Trần Văn Nam")
    assert other.get(f"{HOME}/bai-du-thi/2/tep/{stored.id}").status_code == 404
    assert make_client().get(f"{HOME}/bai-du-thi/2/tep/{stored.id}", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("upload, message", [
    (("bai-thi.docx", png(), "application/octet-stream"), "có đuôi .docx nhưng nội dung là ảnh PNG"),
    (("ghi-chu.pdf", b"%PDF-1.4\n", "application/pdf"), "vòng thi này chỉ nhận"),
    (("lon.png", png() + b"\0" * (2 * 1024 * 1024), "image/png"), "lớn hơn 2 MB"),
])
def test_a_refused_upload_says_why_and_keeps_the_typed_text(organiser, contest, db, make_client, settings, upload,
                                                           message):
    create_round(organiser, contest)
    phone = registered(make_client, db)
    response = submit(phone, text="Bài viết đã gõ không được mất.", files=[upload])
    assert response.status_code == 400
    page = html(response)
    assert message in page.find(class_="error").text
    assert page.find("textarea").text == "Bài viết đã gõ không được mất."
    with db.session() as session:
        assert session.scalar(select(Entry.versions)) in (None, 0)
    assert not [p for p in settings.entries_dir.glob("*") if p.is_file()] if settings.entries_dir.exists() else True


def test_entries_close_with_the_round(organiser, contest, db, make_client, clock):
    create_round(organiser, contest)
    phone = registered(make_client, db)
    clock.advance(days=8)
    response = submit(phone, text="Nộp sau hạn.")
    assert response.status_code == 400 and "hết hạn nhận bài" in html(response).find(class_="error").text


def jury_url(contest, db):
    with db.session() as session:
        round_id = session.scalar(select(Round.id).where(Round.kind == "entry"))
    return f"/staff/contests/{contest.contest_id}/entry-rounds/{round_id}"


def one_judge(db, contest) -> tuple[int, object, list]:
    """The entry round's panel is one judge, given every entry: (round id, its rules, its rubric)."""
    from contest.entries import judging, rounds as entry_rounds

    [judge_email] = judges(db, 1)
    round_id = int(jury_url(contest, db).rsplit("/", 1)[1])
    with db.write_session() as session:
        judge_id = session.scalar(select(accounts.User.id).where(accounts.User.email == judge_email))
        judging.set_panel(session, round_id, {judge_id: None})
        round_, (_, rules) = session.get(Round, round_id), entry_rounds.entry_round(session, round_id)
        judging.assign(session, round_, rules, now=NOW, user_id=None)
        return round_id, rules, entry_rounds.rubric(session, round_id)


def test_judges_score_blind_and_only_what_they_were_given(organiser, contest, db, make_client, staff, clock,
                                                          settings):
    create_round(organiser, contest)
    author = registered(make_client, db)
    assert submit(author, text="Bài viết của chị Hoà về một cửa.",
                  files=[("poster.png", png(), "image/png")]).status_code == 303
    second = registered(make_client, db, phone="0987654321", name="Trần Văn Nam", unit="CCHC")
    assert submit(second, text="Bài viết về chỉ số hài lòng.").status_code == 303
    emails = judges(db, 3)
    url = jury_url(contest, db)
    with db.session() as session:
        ids = [session.scalar(select(accounts.User.id).where(accounts.User.email == e)) for e in emails]
    assert post_form(organiser, f"{url}/panel", {"judge": [str(i) for i in ids]}, form_page=f"{url}/jury",
                     follow_redirects=False).status_code == 303
    assert post_form(organiser, f"{url}/assign", {}, form_page=f"{url}/jury", follow_redirects=False).status_code == 303

    with db.session() as session:
        given = session.execute(select(JudgeAssignment.id, JudgeAssignment.judge_id, Entry.code, Entry.contestant_id)
                                .join(Entry, Entry.id == JudgeAssignment.entry_id)).all()
        hoa = session.scalar(select(Contestant.id).where(Contestant.phone == PHONE))
    assert len(given) == 4
    mine = next(row for row in given if row.contestant_id == hoa)
    judge_email = emails[ids.index(mine.judge_id)]
    judge = make_client()
    landed = login(judge, judge_email)
    assert landed.headers["location"] == "/staff/judging/"  # a judge has no other staff page
    listing = judge.get("/staff/judging/")
    assert f"Bài {mine.code}" in listing.text
    page = judge.get(f"/staff/judging/{mine.id}")
    text = html(page).get_text(" ", strip=True)
    assert "Bài viết của chị Hoà về một cửa." in text
    for secret in (NAME, PHONE, "Sở Nội vụ", "poster.png"):
        assert secret not in page.text
    image = judge.get(f"/staff/judging/{mine.id}/files/1")
    assert image.status_code == 200 and b"Nguyen Thi Hoa" not in image.content
    assert mine.code in image.headers["content-disposition"] and "poster" not in image.headers["content-disposition"]

    # someone else's assignment, their file, the organiser's pages, the other staff pages: nothing
    others = [row for row in given if row.judge_id != mine.judge_id]
    assert judge.get(f"/staff/judging/{others[0].id}").status_code == 404
    assert judge.get(f"/staff/judging/{others[0].id}/files/1").status_code == 404
    assert judge.get(f"{url}/jury").status_code == 403
    assert judge.get("/staff").status_code == 403
    assert judge.get(f"/staff/contests/{contest.contest_id}/results").status_code == 403
    viewer = make_client()
    login(viewer, staff["viewer"])
    assert viewer.get("/staff/judging/").status_code == 403

    with db.session() as session:
        criteria = [c.id for c in __import__("contest.entries.rounds", fromlist=["rubric"]).rubric(
            session, session.scalar(select(Round.id).where(Round.kind == "entry")))]
    bad = post_form(judge, f"/staff/judging/{mine.id}", {f"points-{criteria[0]}": "61", f"points-{criteria[1]}": "20",
                                                         f"points-{criteria[2]}": "10", "comment": ""})
    assert bad.status_code == 400 and "vượt mức tối đa 60" in html(bad).find(class_="error").text
    good = post_form(judge, f"/staff/judging/{mine.id}", {f"points-{criteria[0]}": "50,5",
                                                          f"points-{criteria[1]}": "20",
                                                          f"points-{criteria[2]}": "10", "comment": "Bài tốt."},
                     follow_redirects=False)
    assert good.status_code == 303
    with db.session() as session:
        assert session.get(JudgeAssignment, mine.id).total_tenths == 805
    assert 'value="50,5"' in judge.get(f"/staff/judging/{mine.id}").text

    # the organiser sees who wrote it and who scored it
    entry_page = organiser.get(f"{url}/jury")
    assert NAME in entry_page.text and "80,5" in entry_page.text
    sheet = organiser.get(f"{url}/judges/{mine.judge_id}/sheet.xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content), read_only=True).active.iter_rows(values_only=True))
    scored = next(row for row in rows[1:] if row[0] == mine.code)
    assert scored[1:5] == (50.5, 20, 10, 80.5) and scored[6] == "Bài tốt."
    assert NAME not in str(rows)
    assert judge.get(f"{url}/judges/{mine.judge_id}/sheet.xlsx").status_code == 403
    clock.advance(days=10)
    refused = post_form(organiser, f"{url}/finalise", {}, form_page=f"{url}/jury")
    assert refused.status_code == 409 and "3 lượt chấm chưa xong" in html(refused).find(class_="error").text


def test_an_entry_round_on_the_contest_page_leads_to_the_entry_form(organiser, contest, db, make_client):
    create_round(organiser, contest)
    phone = registered(make_client, db)
    home = html(phone.get(HOME))
    link = home.find("a", href=f"{HOME}/bai-du-thi/2")
    assert link and link.text == "Gửi bài dự thi"
    assert phone.get(f"{HOME}/dot/2", follow_redirects=False).headers["location"] == f"{HOME}/bai-du-thi/2"
    assert re.search(r"tối đa 500 chữ", phone.get(f"{HOME}/bai-du-thi/2").text)


def test_the_results_statistics_and_exports_of_a_contest_with_an_entry_round_still_work(organiser, contest, db,
                                                                                       make_client, clock, settings):
    """An entry round has no attempts: every page and export that walks a contest's rounds takes it in its stride."""
    from contest.exports import jobs
    from contest.models import RoundResult
    from contest.results import verify

    create_round(organiser, contest)
    phone = registered(make_client, db)
    assert submit(phone, text="Bài viết.").status_code == 303
    clock.advance(days=10)  # both rounds closed
    cid = contest.contest_id
    for path in (f"/staff/contests/{cid}", f"/staff/contests/{cid}/results", f"/staff/contests/{cid}/thong-ke",
                 f"/staff/contests/{cid}/live", f"/staff/contests/{cid}/exports", f"/staff/contests/{cid}/results/teams",
                 f"/staff/contests/{cid}/results/overall/officials"):
        response = organiser.get(path)
        assert response.status_code == 200, (path, response.status_code)
    with db.write_session() as session:
        session.get(Contest, cid).public_results = True
    public = make_client()
    for path in (HOME, f"{HOME}/ket-qua", f"{HOME}/thong-ke", f"{HOME}/ket-qua/don-vi", f"{HOME}/the-le"):
        response = public.get(path)
        assert response.status_code == 200, (path, response.status_code)
    with db.session() as session:
        report = verify.verify(session, slug=SLUG)
        assert report.ok, report.lines() if hasattr(report, "lines") else report
    with db.session() as session:  # the quiz machinery leaves the entry round alone: no ranking is computed for it
        entry_round_id = session.scalar(select(Round.id).where(Round.kind == "entry"))
        assert session.scalar(select(RoundResult).where(RoundResult.round_id == entry_round_id)) is None
    for kind in ("evidence", "report"):
        with db.write_session() as session:
            job_id = jobs.create_job(session, jobs.ExportSpec(kind=kind, contest_id=cid, public=False), user_id=None,
                                     now=clock.now).id
        jobs.run_job(db, job_id, directory=settings.exports_dir, tz=settings.timezone, clock=lambda: clock.now)
        with db.session() as session:
            job = session.get(ExportJob, job_id)
            assert job.status == jobs.DONE, (kind, job.error)


def test_finalised_scores_become_the_rounds_leaderboard_prizes_and_certificates(organiser, contest, db, make_client,
                                                                                clock):
    from contest.entries import judging

    create_round(organiser, contest, tracks=["officials"], judges_per_entry="1")
    authors = [registered(make_client, db, phone=f"09{n:08d}", name=f"Tác giả {n}") for n in (1, 2, 3)]
    for n, author in enumerate(authors, start=1):
        assert submit(author, text=f"Bài viết số {n}.").status_code == 303
    url = jury_url(contest, db)
    round_id, rules, criteria = one_judge(db, contest)
    cid = contest.contest_id
    with db.write_session() as session:
        by_author = {session.get(Contestant, session.get(Entry, a.entry_id).contestant_id).full_name: a
                     for a in session.scalars(select(JudgeAssignment))}
        for name, content in (("Tác giả 1", "40"), ("Tác giả 2", "55,5"), ("Tác giả 3", "40")):
            judging.score(session, by_author[name], {criteria[0].id: content, criteria[1].id: "20",
                                                     criteria[2].id: "10"}, "", now=NOW)
    clock.advance(days=10)
    refused = post_form(organiser, f"/staff/contests/{cid}/results/rounds/{round_id}/officials/prizes", {},
                        form_page=f"{url}/jury")
    assert refused.status_code == 404  # no results in the track before the scores are finalised
    assert post_form(organiser, f"{url}/finalise", {}, form_page=f"{url}/jury",
                     follow_redirects=False).status_code == 303

    board = html(organiser.get(f"/staff/contests/{cid}/results/rounds/{round_id}/officials"))
    rows = [[cell.get_text(strip=True) for cell in tr.find_all("td")] for tr in board.select("table.board tbody tr")]
    assert rows == [["1", "Tác giả 2", "0900000002", "Sở Nội vụ", "85,5/100"],
                    ["2", "Tác giả 1", "0900000001", "Sở Nội vụ", "70/100"],
                    ["2", "Tác giả 3", "0900000003", "Sở Nội vụ", "70/100"]]
    assert "Xếp hạng lại" not in board.text and "Giá trị thực tế" not in board.text
    proposed = post_form(organiser, f"/staff/contests/{cid}/results/rounds/{round_id}/officials/prizes", {},
                         form_page=f"{url}/jury", follow_redirects=False)
    assert proposed.status_code == 303
    with db.session() as session:
        from contest.models import PrizeAward, PrizeList
        prize_list = session.scalar(select(PrizeList).where(PrizeList.round_id == round_id))
        awards = session.execute(select(PrizeAward.rank, PrizeAward.prize).where(PrizeAward.list_id == prize_list.id)
                                 .order_by(PrizeAward.rank)).all()
    assert [tuple(a) for a in awards] == [(1, "first"), (2, "second"), (2, "second")]
    assert post_form(organiser, f"/staff/contests/{cid}/results/prizes/{prize_list.id}/lock", {},
                     form_page=f"{url}/jury", follow_redirects=False).status_code == 303
    certificate = organiser.get(f"/staff/contests/{cid}/results/prizes/{prize_list.id}/certificates")
    assert certificate.status_code == 200 and "Tác giả 2" in certificate.text
    with db.write_session() as session:
        session.get(Contest, cid).public_results = True
    public = html(make_client().get(f"{HOME}/ket-qua/dot/2/can-bo"))
    text = public.get_text(" ", strip=True)
    assert "85,5/100" in text and "0900000002" not in text and "Đáp án câu hỏi dự đoán" not in text
    # the rules page says how entries are scored
    rules_text = html(make_client().get(f"{HOME}/the-le")).get_text(" ", strip=True)
    assert "trung bình cộng tổng điểm của các giám khảo" in rules_text and "Nội dung (tối đa 60 điểm)" in rules_text


def test_an_entry_rounds_leaderboard_and_winners_exports_carry_scores(organiser, contest, db, make_client, clock,
                                                                      settings):
    """The round's leaderboard export shows each score and its maximum; the winners list has them in their own
    columns, the quiz figures left empty."""
    from contest.entries import judging
    from contest.exports import jobs
    from contest.results import prizes

    create_round(organiser, contest, tracks=["officials"], judges_per_entry="1")
    author = registered(make_client, db)
    assert submit(author, text="Bài viết.").status_code == 303
    round_id, rules, criteria = one_judge(db, contest)
    with db.write_session() as session:
        judging.score(session, session.scalar(select(JudgeAssignment)),
                      {criteria[0].id: "50,5", criteria[1].id: "20", criteria[2].id: "12"}, "", now=NOW)
    later = NOW + timedelta(days=10)
    with db.write_session() as session:
        judging.finalise(session, session.get(Round, round_id), rules, now=later, user_id=None)
    with db.write_session() as session:
        list_id = prizes.propose(session, round_id, "officials", later).id
    with db.write_session() as session:
        prizes.lock(session, list_id, None, later)

    def exported(kind):
        with db.write_session() as session:
            job_id = jobs.create_job(session, jobs.ExportSpec(kind=kind, contest_id=contest.contest_id,
                                                              round_id=round_id, public=True), user_id=None,
                                     now=later).id
        jobs.run_job(db, job_id, directory=settings.exports_dir, tz=settings.timezone, clock=lambda: later)
        with db.session() as session:
            job = session.get(ExportJob, job_id)
            assert job.status == jobs.DONE, job.error
            return list(load_workbook(jobs.job_file(settings.exports_dir, job)).active.iter_rows(values_only=True))

    board = exported("leaderboard")
    assert board[0] == ("Hạng", "Họ và tên", "Số điện thoại", "Đơn vị / địa bàn", "Điểm", "Điểm tối đa", "Nộp bài lúc")
    assert board[1][:6] == (1, NAME, "09xx xxx 678", "Sở Nội vụ", 82.5, 100)
    winners = exported("winners")
    header, row = winners[0], winners[1]
    assert row[header.index("Giải")] == "Giải Nhất" and row[header.index("Số câu đúng")] is None
    assert (row[header.index("Điểm (bài dự thi)")], row[header.index("Điểm tối đa")]) == (82.5, 100)
    assert "hội đồng giám khảo" in row[header.index("Cách tính giá trị thực tế")]


def test_a_zip_bomb_sent_as_an_essay_is_refused_and_the_server_keeps_serving(organiser, contest, db, make_client,
                                                                           settings, tmp_path):
    """150 MB of zeros in a 0.2 MB .docx: refused with the zip-bomb message, nothing stored, the next entry taken."""
    import zipfile

    bomb = tmp_path / "bai-thi.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/image1.png", "w") as member:
            for _ in range(150):
                member.write(bytes(1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024
    create_round(organiser, contest)
    phone = registered(make_client, db)
    refused = submit(phone, text="Bài kèm tệp Word.", files=[("bai-thi.docx", bomb.read_bytes(), "application/zip")])
    assert refused.status_code == 400
    assert "nghi ngờ zip bomb" in html(refused).find(class_="error").text
    assert not any(p.is_file() for p in settings.entries_dir.glob("*")) if settings.entries_dir.exists() else True
    assert submit(phone, text="Bài viết không kèm tệp.").status_code == 303


def test_a_long_vietnamese_essay_is_kept_as_a_draft_and_submitted(organiser, contest, db, make_client):
    """10,000 words of Vietnamese, sent URL-encoded as the page sends drafts: about 200 KB on the wire, more than
    the 64 KB the app allows a plain form."""
    from urllib.parse import urlencode

    create_round(organiser, contest, max_words="10000")
    phone = registered(make_client, db)
    essay = " ".join(["Cải cách hành chính"] * 2500)  # 10,000 words
    assert len(urlencode({"text": essay})) > 64 * 1024
    token = csrf_token(phone, f"{HOME}/bai-du-thi/2")
    saved = phone.post(f"{HOME}/bai-du-thi/2/nhap", data={"text": essay}, headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and saved.json()["words"] == 10_000
    assert submit(phone, text=essay).status_code == 303
    with db.session() as session:
        entry = session.scalar(select(Entry))
        assert entry.draft_text == essay and entry.versions == 1


def test_an_entry_refused_for_its_text_stores_none_of_its_files(organiser, contest, db, make_client, settings):
    create_round(organiser, contest)  # 500 words at most
    phone = registered(make_client, db)
    refused = submit(phone, text="chữ " * 501, files=[("tranh.png", png(), "image/png")])
    assert refused.status_code == 400 and "vượt giới hạn 500 chữ" in html(refused).find(class_="error").text
    assert not settings.entries_dir.exists() or not any(p.is_file() for p in settings.entries_dir.iterdir())


def test_an_entry_round_asks_no_question_bank_of_the_readiness_check(organiser, contest, db):
    create_round(organiser, contest)
    page = html(organiser.get(f"/staff/contests/{contest.contest_id}")).get_text(" ", strip=True)
    assert "chưa đặt cách thi" not in page and "Đợt 2: chưa chọn ngân hàng" not in page
    assert "Đợt 1: rút 10 câu" in page


def test_what_was_removed_from_a_file_reads_in_the_organisers_language(organiser, contest, db, make_client):
    create_round(organiser, contest)
    phone = registered(make_client, db)
    assert submit(phone, text="Bài kèm tranh.", files=[("tranh.png", png(), "image/png")]).status_code == 303
    with db.session() as session:
        entry_id = session.scalar(select(Entry.id))
        removed = session.scalar(select(EntryFile.removed))
    assert removed  # the PNG's text chunk named its author
    page = f"{jury_url(contest, db)}/entries/{entry_id}"
    vietnamese = html(organiser.get(page)).get_text(" ", strip=True)
    assert removed.split("\n")[0] in vietnamese
    organiser.get("/lang/en", follow_redirects=False)
    english = html(organiser.get(page)).get_text(" ", strip=True)
    assert removed.split("\n")[0] not in english and "Removed" in english
