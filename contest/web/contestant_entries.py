"""A contestant's entry in an entry round: typing (a draft saved as they type), uploading files, submitting and
replacing it until the round closes, and their own versions and files. Judges' pages are in staff_entries."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Redirect, Template
from sqlalchemy import select

from contest import i18n
from contest.contests import queries
from contest.entries import rounds, submissions
from contest.entries.files import KINDS, UploadRefused, store_upload, stored_path
from contest.i18n import message_of
from contest.models import Contestant, EntryFile, EntryVersion, Round
from contest.web import (DB, Form, Int, Multipart, cached_contest_id, load_contest, request_locale, signed_in_to,
                         translate)

MB = 1024 * 1024
ENTRY_BODY_BYTES = 4 * rounds.MAX_FILE_MB * MB
"""What one submission may carry at most (the text and every file); each file is held to the round's own limit
while it is stored."""


DRAFT_BODY_BYTES = 9 * submissions.MAX_TEXT_CHARS
"""A draft is sent URL-encoded: a Vietnamese letter is up to 3 bytes of UTF-8, each written as 3 characters."""


def _uploads(value: Any) -> list[UploadFile]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, UploadFile) and item.filename]


class EntriesController(Controller):
    path = "/c/{slug:str}/bai-du-thi"

    def _load(self, request: Request, db, session, slug: str, number: int):
        """(contest id, round, rules, contestant) for the signed-in contestant, or None when nobody is signed in."""
        contest_id = cached_contest_id(request, db, slug)
        contestant_id = signed_in_to(request, contest_id)
        if contestant_id is None:
            return None
        round_ = queries.round_by_number(session, contest_id, number)
        found = rounds.entry_round(session, round_.id) if round_ is not None else None
        if found is None:
            raise NotFoundException()
        return contest_id, round_, found[1], session.get(Contestant, contestant_id)

    def _page(self, request: Request, db, slug: str, number: int, *, error: str | None = None,
              text: str | None = None, video_url: str = "", status_code: int = 200) -> Template | Redirect:
        now = request.app.state.clock()
        with db.session() as session:
            loaded = self._load(request, db, session, slug, number)
            if loaded is None:
                return Redirect(f"/c/{slug}/dang-nhap", status_code=303)
            _, round_, rules, contestant = loaded
            entry = submissions.entry_of(session, round_.id, contestant.id)
            history = [(v, submissions.files_of(session, v.id))
                       for v in submissions.versions(session, entry.id)] if entry else []
            refused = submissions.may_enter(session, round_, rules, contestant)
        current = history[0] if history else None
        return Template("contest/entry.html", status_code=status_code, context={
            "contest": load_contest(db, slug), "round": round_, "rules": rules, "entry": entry, "history": history,
            "current": current, "refused": refused, "window": submissions.window_problem(round_, now),
            "error": error, "text": text if text is not None else (entry.draft_text if entry else ""),
            "video_url": video_url or (current[0].video_url if current else ""), "kinds": KINDS,
            "accept": ",".join(ext for k in rules.file_kinds for ext in KINDS[k].extensions)})

    @get("/{number:int}", name="contest_entry", sync_to_thread=True)
    def show(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int]) -> Template | Redirect:
        return self._page(request, db, slug, number)

    @post("/{number:int}/nhap", sync_to_thread=True, status_code=200, request_max_body_size=DRAFT_BODY_BYTES)
    def draft(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int], data: Form) -> Response:
        """The text typed so far, sent by the page every few seconds: answered with the time it was kept."""
        text = data.get("text", "")
        text = text if isinstance(text, str) else ""
        now = request.app.state.clock()
        try:
            with db.write_session() as session:
                loaded = self._load(request, db, session, slug, number)
                if loaded is None:
                    return Response({"error": translate(request, "Bạn cần đăng nhập lại để lưu bài.")},
                                    status_code=401)
                _, round_, rules, contestant = loaded
                submissions.save_draft(session, round_=round_, rules=rules, contestant=contestant, text=text,
                                       now=now)
        except submissions.EntryRefused as exc:
            return Response({"error": translate(request, message_of(exc))}, status_code=409)
        at = i18n.format_datetime(now, tz=request.app.state.settings.timezone, locale=request_locale(request),
                                  seconds=True)
        return Response({"saved_at": now.isoformat(), "words": submissions.word_count(text),
                         "message": translate(request, "Đã lưu nháp lúc {at}.", at=at)})

    @post("/{number:int}", sync_to_thread=True, status_code=303, request_max_body_size=ENTRY_BODY_BYTES)
    def submit(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int],
               data: Multipart) -> Template | Redirect:
        text = data.get("text", "")
        text = text if isinstance(text, str) else ""
        video_url = data.get("video_url", "")
        video_url = video_url if isinstance(video_url, str) else ""
        uploads = _uploads(data.get("files", []))
        now = request.app.state.clock()
        storage = request.app.state.settings.entries_dir
        try:
            with db.session() as session:
                loaded = self._load(request, db, session, slug, number)
                if loaded is None:
                    return Redirect(f"/c/{slug}/dang-nhap", status_code=303)
                _, round_, rules, contestant = loaded
                problem = submissions.window_problem(round_, now) or submissions.may_enter(
                    session, round_, rules, contestant)
            if problem:
                raise submissions.EntryRefused(problem)
            submissions.check_form(rules, text, video_url, len(uploads))  # before any file is stored
            stored = [store_upload(upload.file, upload.filename, allowed=rules.file_kinds,
                                   max_bytes=rules.max_file_mb * MB, storage_dir=storage) for upload in uploads]
            with db.write_session() as session:
                round_ = session.get(Round, round_.id)
                contestant = session.get(Contestant, contestant.id)
                submissions.submit(session, round_=round_, rules=rules, contestant=contestant, text=text,
                                   video_url=video_url, files=stored, now=now)
        except (submissions.EntryRefused, UploadRefused) as exc:
            return self._page(request, db, slug, number, error=message_of(exc), text=text, video_url=video_url,
                              status_code=400)
        return Redirect(f"/c/{slug}/bai-du-thi/{number}?da-nop=1", status_code=303)

    @get("/{number:int}/tep/{file_id:int}", name="contest_entry_file", sync_to_thread=True)
    def file(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int],
             file_id: FromPath[Int]) -> File | Redirect:
        """One of the contestant's own files, as stored; anyone else's answers 404."""
        with db.session() as session:
            loaded = self._load(request, db, session, slug, number)
            if loaded is None:
                return Redirect(f"/c/{slug}/dang-nhap", status_code=303)
            _, round_, _, contestant = loaded
            entry = submissions.entry_of(session, round_.id, contestant.id)
            row = session.scalar(select(EntryFile).join(EntryVersion, EntryVersion.id == EntryFile.version_id)
                                 .where(EntryFile.id == file_id, EntryVersion.entry_id == entry.id)) if entry else None
            if row is None:
                raise NotFoundException()
        path = stored_path(request.app.state.settings.entries_dir, row.sha256, row.kind)
        if not path.is_file():
            raise NotFoundException()
        return File(path=path, filename=row.original_name, media_type=KINDS[row.kind].content_type,
                    content_disposition_type="attachment", headers={"Cache-Control": "private, no-store"})
