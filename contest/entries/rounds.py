"""Organisers set up entry rounds: the window, who may enter, what an entry is, the rubric and how the jury's
scores are combined. Like a quiz round, what could change a result is refused once the round has opened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contest.banks.common import clean_text
from contest.contests.setup import TRACKS, SetupError, check_length, schedule_changes, tracks_of
from contest.entries.files import KINDS
from contest.i18n import N_, join
from contest.models import (Entry, EntryRound, JudgeAssignment, JudgeScore, Round, RoundKind, RubricCriterion)
from contest.results import public_version

AGGREGATIONS = {
    "mean": N_("Điểm của bài là trung bình cộng tổng điểm của các giám khảo đã chấm bài, làm tròn đến hai chữ số "
               "thập phân."),
    "trimmed": N_("Điểm của bài là trung bình cộng tổng điểm của các giám khảo đã chấm bài; khi có từ {n} giám khảo "
                  "chấm trở lên, bỏ một điểm cao nhất và một điểm thấp nhất trước khi tính trung bình; làm tròn đến "
                  "hai chữ số thập phân."),
}
TIE_TEXT = N_("Các bài bằng điểm nhau cùng thứ hạng.")
DEFAULT_RUBRIC = (
    (N_("Nội dung"), N_("Đúng chủ đề, chính xác, đầy đủ, có dẫn chứng và liên hệ thực tiễn."), 60),
    (N_("Tính sáng tạo"), N_("Cách tiếp cận mới, đề xuất, sáng kiến có giá trị."), 25),
    (N_("Hình thức"), N_("Trình bày rõ ràng, mạch lạc, đúng chính tả, đúng yêu cầu về hình thức."), 15),
)
MAX_CRITERIA = 10
MAX_WORDS = 20_000
MAX_FILES = 10
MAX_FILE_MB = 50


@dataclass(frozen=True)
class Criterion:
    name: str
    description: str
    max_points: int


@dataclass(frozen=True)
class EntryRules:
    """What an entry round asks for (EntryRound's settings, typed)."""

    tracks: tuple[str, ...] = ("officials", "citizens")
    best_of_round_id: int | None = None
    best_n: int | None = None
    allow_text: bool = True
    max_words: int = 3000
    file_kinds: tuple[str, ...] = ()
    max_files: int = 0
    max_file_mb: int = 10
    allow_video_link: bool = False
    judges_per_entry: int = 3
    aggregation: str = "mean"
    trim_from: int = 5
    flag_gap: int = 20
    criteria: tuple[Criterion, ...] = field(default_factory=lambda: tuple(
        Criterion(str(name), str(description), points) for name, description, points in DEFAULT_RUBRIC))

    @classmethod
    def of(cls, row: EntryRound, criteria: list[RubricCriterion]) -> "EntryRules":
        return cls(tracks=tuple(t for t in row.tracks.split(",") if t), best_of_round_id=row.best_of_round_id,
                   best_n=row.best_n, allow_text=row.allow_text, max_words=row.max_words,
                   file_kinds=tuple(k for k in row.file_kinds.split(",") if k), max_files=row.max_files,
                   max_file_mb=row.max_file_mb, allow_video_link=row.allow_video_link,
                   judges_per_entry=row.judges_per_entry, aggregation=row.aggregation, trim_from=row.trim_from,
                   flag_gap=row.flag_gap,
                   criteria=tuple(Criterion(c.name, c.description, c.max_points) for c in criteria))

    @property
    def max_total(self) -> int:
        return sum(c.max_points for c in self.criteria)

    def rule_text(self) -> list:
        """How an entry's score is computed, as the rules page and the winners' list say it."""
        how = AGGREGATIONS[self.aggregation]
        return [N_(how.source, n=self.trim_from) if self.aggregation == "trimmed" else how,
                N_("Mỗi bài được ít nhất {k} giám khảo chấm độc lập theo thang điểm {total}; giám khảo không biết "
                   "tên tác giả (mỗi bài mang một mã số).", k=self.judges_per_entry, total=self.max_total),
                N_("Bài có tổng điểm của hai giám khảo chênh nhau quá {gap} điểm được đánh dấu và có thể được "
                   "chuyển thêm một giám khảo chấm.", gap=self.flag_gap),
                TIE_TEXT]

    def check(self, session: Session, contest_id: int, number: int) -> None:
        if not self.tracks and self.best_of_round_id is None:
            raise SetupError(N_("Vui lòng chọn ít nhất một đối tượng được gửi bài."), field="tracks")
        if not (self.allow_text or (self.file_kinds and self.max_files) or self.allow_video_link):
            raise SetupError(N_("Bài dự thi phải cho phép ít nhất một hình thức: bài viết, tệp đính kèm hoặc "
                                "đường dẫn video."), field="allow_text")
        if not 50 <= self.max_words <= MAX_WORDS:
            raise SetupError(N_("Giới hạn số chữ phải từ 50 đến {n}.", n=MAX_WORDS), field="max_words")
        unknown = [k for k in self.file_kinds if k not in KINDS]
        if unknown:
            raise SetupError(N_("Loại tệp không được hỗ trợ: {kinds}.", kinds=", ".join(unknown)), field="file_kinds")
        if not 0 <= self.max_files <= MAX_FILES or (self.file_kinds and not self.max_files):
            raise SetupError(N_("Số tệp mỗi bài phải từ 1 đến {n} khi cho phép gửi tệp.", n=MAX_FILES),
                             field="max_files")
        if not 1 <= self.max_file_mb <= MAX_FILE_MB:
            raise SetupError(N_("Dung lượng mỗi tệp phải từ 1 đến {n} MB.", n=MAX_FILE_MB), field="max_file_mb")
        if not 1 <= self.judges_per_entry <= 15:
            raise SetupError(N_("Số giám khảo chấm mỗi bài phải từ 1 đến 15."), field="judges_per_entry")
        if self.aggregation not in AGGREGATIONS:
            raise SetupError(N_("Cách tính điểm không hợp lệ."), field="aggregation")
        if not 3 <= self.trim_from <= 15:
            raise SetupError(N_("Số giám khảo tối thiểu để bỏ điểm cao nhất và thấp nhất phải từ 3 đến 15."),
                             field="trim_from")
        if not 0 <= self.flag_gap <= 1000:
            raise SetupError(N_("Mức chênh lệch điểm để đánh dấu phải từ 0 đến 1.000."), field="flag_gap")
        if not 1 <= len(self.criteria) <= MAX_CRITERIA:
            raise SetupError(N_("Thang điểm cần từ 1 đến {n} tiêu chí.", n=MAX_CRITERIA), field="criteria")
        for position, criterion in enumerate(self.criteria, start=1):
            if not criterion.name:
                raise SetupError(N_("Tiêu chí {n} chưa có tên.", n=position), field="criteria")
            check_length(RubricCriterion.name, criterion.name, N_("Tên tiêu chí"), field="criteria")
            if not 1 <= criterion.max_points <= 1000:
                raise SetupError(N_("Điểm tối đa của tiêu chí '{name}' phải từ 1 đến 1.000.", name=criterion.name),
                                 field="criteria")
        if self.best_of_round_id is not None:
            earlier = session.get(Round, self.best_of_round_id)
            if earlier is None or earlier.contest_id != contest_id or earlier.kind != RoundKind.QUIZ \
                    or earlier.number >= number:
                raise SetupError(N_("Vòng sơ khảo phải là một đợt thi trắc nghiệm trước đó của hội thi này."),
                                 field="best_of_round_id")
            if self.best_n is None or not 1 <= self.best_n <= 100_000:
                raise SetupError(N_("Số người có kết quả cao nhất được vào vòng này phải từ 1 đến 100.000."),
                                 field="best_n")


def entry_round(session: Session, round_id: int) -> tuple[EntryRound, EntryRules] | None:
    """The entry round's settings row and its rules; None for a quiz round."""
    row = session.get(EntryRound, round_id)
    if row is None:
        return None
    return row, EntryRules.of(row, rubric(session, round_id))


def rubric(session: Session, round_id: int) -> list[RubricCriterion]:
    return list(session.scalars(select(RubricCriterion).where(RubricCriterion.round_id == round_id)
                                .order_by(RubricCriterion.position)))


def _has_entries(session: Session, round_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(Entry).where(Entry.round_id == round_id)) > 0


def _has_scores(session: Session, round_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(JudgeScore)
                          .join(JudgeAssignment, JudgeAssignment.id == JudgeScore.assignment_id)
                          .join(Entry, Entry.id == JudgeAssignment.entry_id).where(Entry.round_id == round_id)) > 0


def save_entry_round(session: Session, *, contest, now: datetime, round_: Round | None, number: int, title: str,
                     opens_at: datetime, closes_at: datetime, rules: EntryRules) -> Round:
    """Create or change an entry round. Once it has opened (or holds an entry), only the title, a later closing
    time, the jury's settings and, until a judge has scored, the rubric may change."""
    if closes_at <= opens_at:
        raise SetupError(N_("Thời điểm kết thúc phải sau thời điểm bắt đầu."), field="closes_at")
    title = check_length(Round.title, clean_text(title), N_("Tên đợt thi"), field="title")
    for track in rules.tracks:
        if track not in tracks_of(contest):
            raise SetupError(N_("Đối tượng '{track}' không thuộc hội thi này.", track=TRACKS.get(track, track)),
                             field="tracks")
    rules.check(session, contest.id, number)
    row = session.get(EntryRound, round_.id) if round_ is not None else None
    if round_ is not None and (now >= round_.opens_at or _has_entries(session, round_.id)):
        _refuse_result_changes(session, round_, row, number, opens_at, closes_at, rules, now)
        round_.title, round_.closes_at = title, closes_at
    else:
        clash = session.scalar(select(Round.id).where(Round.contest_id == contest.id, Round.number == number))
        if clash is not None and (round_ is None or clash != round_.id):
            raise SetupError(N_("Đã có đợt thi số {n}.", n=number), field="number")
        round_ = round_ or Round(contest_id=contest.id, number=number, opens_at=opens_at, closes_at=closes_at,
                                 kind=RoundKind.ENTRY.value, prediction_kind="participants")
        round_.number, round_.title, round_.opens_at, round_.closes_at = number, title, opens_at, closes_at
    session.add(round_)
    session.flush()
    row = row or EntryRound(round_id=round_.id)
    row.tracks, row.best_of_round_id, row.best_n = ",".join(rules.tracks), rules.best_of_round_id, rules.best_n
    row.allow_text, row.max_words, row.file_kinds = rules.allow_text, rules.max_words, ",".join(rules.file_kinds)
    row.max_files, row.max_file_mb, row.allow_video_link = rules.max_files, rules.max_file_mb, rules.allow_video_link
    row.judges_per_entry, row.aggregation = rules.judges_per_entry, rules.aggregation
    row.trim_from, row.flag_gap = rules.trim_from, rules.flag_gap
    session.add(row)
    if [(c.name, c.description, c.max_points) for c in rubric(session, round_.id)] != [
            (c.name, c.description, c.max_points) for c in rules.criteria]:
        if _has_scores(session, round_.id):
            raise SetupError(N_("Giám khảo đã bắt đầu chấm nên không thể đổi thang điểm."), field="criteria")
        session.execute(delete(RubricCriterion).where(RubricCriterion.round_id == round_.id))
        session.flush()
        for position, criterion in enumerate(rules.criteria, start=1):
            session.add(RubricCriterion(round_id=round_.id, position=position, name=criterion.name,
                                        description=criterion.description, max_points=criterion.max_points))
    public_version.changed(session, contest.id)
    session.flush()
    return round_


def _refuse_result_changes(session: Session, round_: Round, row: EntryRound, number: int, opens_at: datetime,
                           closes_at: datetime, rules: EntryRules, now: datetime) -> None:
    reasons = schedule_changes(round_, number, opens_at, closes_at)
    if closes_at < now and closes_at != round_.closes_at:  # a closed round's jury settings may still change
        reasons.append(N_("thời điểm kết thúc đã qua"))
    current = EntryRules.of(row, [])
    entry_fields = ("tracks", "best_of_round_id", "best_n", "allow_text", "max_words", "file_kinds", "max_files",
                    "max_file_mb", "allow_video_link")
    if any(getattr(current, name) != getattr(rules, name) for name in entry_fields):
        reasons.append(N_("người được gửi bài hoặc yêu cầu về bài dự thi"))
    if reasons:
        raise SetupError(N_("Đợt thi đã bắt đầu nên không thể đổi {what}, vì điều đó có thể làm thay đổi kết quả "
                            "của người đã gửi bài.", what=join("; ", reasons)))


# --- the organiser's form: text in, EntryRules out ----------------------------------------------------------

CRITERIA_ROWS = 6


def form_values(round_: Round | None, rules: EntryRules, tz: str, *, number: int) -> dict:
    """What the form shows for a round (or a new one with `rules`' defaults)."""
    from contest.contests.rounds import local_text

    criteria = [{"name": c.name, "description": c.description, "max_points": str(c.max_points)}
                for c in rules.criteria]
    criteria += [{"name": "", "description": "", "max_points": ""}] * max(CRITERIA_ROWS - len(criteria), 1)
    return {"number": str(round_.number if round_ else number), "title": round_.title if round_ else "",
            "opens_at": local_text(round_.opens_at, tz) if round_ else "",
            "closes_at": local_text(round_.closes_at, tz) if round_ else "",
            "tracks": list(rules.tracks), "best_of_round_id": str(rules.best_of_round_id or ""),
            "best_n": str(rules.best_n or ""), "allow_text": rules.allow_text, "max_words": str(rules.max_words),
            "file_kinds": list(rules.file_kinds), "max_files": str(rules.max_files),
            "max_file_mb": str(rules.max_file_mb), "allow_video_link": rules.allow_video_link,
            "judges_per_entry": str(rules.judges_per_entry), "aggregation": rules.aggregation,
            "trim_from": str(rules.trim_from), "flag_gap": str(rules.flag_gap), "criteria": criteria}


def _whole(text: str, field: str, label) -> int:
    text = text.strip().replace(".", "")
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise SetupError(N_("{label} phải là một số nguyên.", label=label), field=field)
    return int(text)


def rules_from_form(form: dict) -> EntryRules:
    """The typed form as EntryRules (SetupError naming the field when a number is not one)."""
    criteria = []
    for row in form["criteria"]:
        if not (row["name"] or row["description"] or row["max_points"]):
            continue
        criteria.append(Criterion(clean_text(row["name"]), row["description"].strip()[:2000],
                                  _whole(row["max_points"], "criteria", N_("Điểm tối đa của tiêu chí"))))
    best_of = form["best_of_round_id"]
    return EntryRules(
        tracks=tuple(form["tracks"]),
        best_of_round_id=_whole(best_of, "best_of_round_id", N_("Vòng sơ khảo")) if best_of else None,
        best_n=_whole(form["best_n"], "best_n", N_("Số người vào vòng")) if best_of else None,
        allow_text=bool(form["allow_text"]), max_words=_whole(form["max_words"], "max_words", N_("Giới hạn số chữ")),
        file_kinds=tuple(k for k in form["file_kinds"] if k),
        max_files=_whole(form["max_files"] or "0", "max_files", N_("Số tệp mỗi bài")),
        max_file_mb=_whole(form["max_file_mb"], "max_file_mb", N_("Dung lượng mỗi tệp")),
        allow_video_link=bool(form["allow_video_link"]),
        judges_per_entry=_whole(form["judges_per_entry"], "judges_per_entry", N_("Số giám khảo chấm mỗi bài")),
        aggregation=form["aggregation"], trim_from=_whole(form["trim_from"], "trim_from", N_("Số giám khảo tối thiểu")),
        flag_gap=_whole(form["flag_gap"], "flag_gap", N_("Mức chênh lệch điểm")), criteria=tuple(criteria))
