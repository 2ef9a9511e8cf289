"""Organisers set up contests, rounds and tracks; changes that could alter a result are refused."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.banks.common import clean_text, fold
from contest.contests import queries
from contest.contests.disclosure import POLICIES as ANSWER_POLICIES
from contest.contests.draw import MAX_QUESTIONS, DrawSpec
from contest.i18n import N_, join
from contest.models import Attempt, Contest, Round, RoundTrack
from contest.results import public_version

TRACKS = {"officials": N_("Cán bộ, công chức, viên chức"), "citizens": N_("Người dân")}
FIELDS = {
    "full_name": N_("Họ và tên"), "birth_date": N_("Ngày sinh"), "gender": N_("Giới tính"),
    "phone": N_("Số điện thoại"), "cccd": N_("Số CCCD"), "email": N_("E-mail"),
    "unit": N_("Đơn vị công tác"), "locality": N_("Địa bàn (xã, phường)"), "occupation": N_("Nghề nghiệp"),
}
ALWAYS_REQUIRED = ("full_name", "phone")  # the phone is the login
MAX_RULES = 50_000  # characters of the rules, and of the excluded list (TEXT columns: the limit is ours)
DEFAULT_FIELDS = {"full_name": "required", "birth_date": "required", "gender": "optional", "phone": "required",
                  "cccd": "optional", "email": "optional", "unit": "required", "locality": "required",
                  "occupation": "optional"}
PREDICTIONS = {
    "perfect_scores": N_("Có bao nhiêu người trả lời đúng tất cả các câu hỏi trong đợt thi này?"),
    "participants": N_("Có bao nhiêu người tham gia đợt thi này?"),
    "attempts": N_("Có bao nhiêu lượt thi trong đợt thi này?"),
}


class SetupError(ValueError):
    """A contest or round setting that cannot be accepted; the message says why. `field` names the form
    field it is about (the input's name, e.g. "title" or "officials-minutes"), so the form shows the message
    under that field; None when it is about no single field (the form shows it at the top)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self):
        return _setup_error, (self.args[0], self.field)


def _setup_error(message: str, field: str | None) -> "SetupError":
    return SetupError(message, field=field)


def too_long(column, value: str, label: str) -> str | None:
    """Why `value` cannot be stored in the model's `column` (e.g. Contestant.full_name), or None if it fits."""
    limit = column.type.length
    return N_("{field} dài quá {limit} ký tự.", field=N_(label), limit=limit) \
        if limit is not None and len(value) > limit else None


def check_length(column, value: str, label: str, *, field: str | None = None) -> str:
    """`value` when it fits the model's `column`; SetupError naming `label` and the limit (and the form's
    `field`) when it does not."""
    problem = too_long(column, value, label)
    if problem:
        raise SetupError(problem, field=field)
    return value


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80] or "hoi-thi"


def field_rules(contest: Contest) -> dict[str, str]:
    rules = json.loads(contest.fields or "{}")
    return {name: rules.get(name, "off") for name in FIELDS} | {name: "required" for name in ALWAYS_REQUIRED}


def tracks_of(contest: Contest) -> list[str]:
    return [t for t in contest.tracks.split(",") if t in TRACKS]


def create_contest(session: Session, *, title: str, now: datetime, slug: str = "", organiser_body: str = "",
                   tracks: list[str] = ("officials", "citizens"), fields: dict[str, str] | None = None,
                   rules: str = "", access_code: str = "", plan_reference: str = "") -> Contest:
    """A new contest; the slug (its public address) must be unique."""
    title = check_length(Contest.title, clean_text(title), N_("Tên hội thi"), field="title")
    if not title:
        raise SetupError(N_("Cần nhập tên hội thi."), field="title")
    slug = _free_slug(session, slug or title, field="slug" if slug else "title")
    contest = Contest(slug=slug, title=title, created_at=now, fields="{}")
    apply_settings(contest, organiser_body=organiser_body, tracks=tracks, fields=fields or DEFAULT_FIELDS,
                   rules=rules, access_code=access_code, plan_reference=plan_reference)
    session.add(contest)
    session.flush()
    return contest


def _free_slug(session: Session, text: str, *, contest_id: int | None = None, field: str = "slug") -> str:
    """The address made of `text`, refused when another contest has it (the error is about `field`: the
    address typed, or the title it was made from)."""
    slug = slugify(text)
    if queries.slug_taken(session, slug, except_contest_id=contest_id):
        raise SetupError(N_("Địa chỉ '{slug}' đã được dùng cho hội thi khác.", slug=slug), field=field)
    return slug


def update_contest(session: Session, contest: Contest, *, title: str, slug: str, organiser_body: str, tracks,
                   fields: dict[str, str], rules: str, access_code: str, plan_reference: str, excluded: str,
                   answers_published: str, is_published: bool) -> Contest:
    """Change a contest's settings: its title and address (unique; made from the title when blank), then
    the rest through apply_settings."""
    title = clean_text(title)
    if not title:
        raise SetupError(N_("Cần nhập tên hội thi."), field="title")
    slug = _free_slug(session, slug or title, contest_id=contest.id, field="slug" if slug else "title")
    contest.title, contest.slug = check_length(Contest.title, title, N_("Tên hội thi"), field="title"), slug
    apply_settings(contest, organiser_body=organiser_body, tracks=tracks, fields=fields, rules=rules,
                   access_code=access_code, plan_reference=plan_reference, excluded=excluded,
                   answers_published=answers_published)
    contest.is_published = is_published
    session.add(contest)
    public_version.changed(session, contest.id)
    session.flush()
    return contest


def apply_settings(contest: Contest, *, organiser_body: str, tracks, fields: dict[str, str], rules: str,
                   access_code: str, plan_reference: str, excluded: str = "",
                   answers_published: str | None = None) -> None:
    tracks = [t for t in tracks if t in TRACKS]
    if not tracks:
        raise SetupError(N_("Vui lòng chọn ít nhất một đối tượng dự thi."), field="tracks")
    if answers_published is not None:
        if answers_published not in ANSWER_POLICIES:
            raise SetupError(N_("Thời điểm công bố đáp án không hợp lệ."), field="answers_published")
        contest.answers_published = answers_published
    contest.tracks = ",".join(tracks)
    contest.fields = json.dumps({n: fields.get(n, "off") if fields.get(n) in ("required", "optional") else "off"
                                 for n in FIELDS} | {n: "required" for n in ALWAYS_REQUIRED})
    contest.organiser_body = check_length(Contest.organiser_body, clean_text(organiser_body), N_("Cơ quan tổ chức"),
                                         field="organiser_body")
    contest.plan_reference = check_length(Contest.plan_reference, clean_text(plan_reference), N_("Căn cứ (kế hoạch)"),
                                         field="plan_reference")
    contest.rules = rules.replace("\r\n", "\n").strip()
    for text, label, name in ((contest.rules, N_("Thể lệ"), "rules"),
                              (excluded, N_("Danh sách không xét giải"), "excluded")):
        if len(text) > MAX_RULES:
            raise SetupError(N_("{field} dài quá {limit} ký tự.",
                                field=label, limit=f"{MAX_RULES:,}".replace(",", ".")), field=name)
    contest.access_code = check_length(Contest.access_code, clean_text(access_code), N_("Mã truy cập"),
                                       field="access_code")
    contest.excluded = "\n".join(clean_text(line) for line in excluded.splitlines() if clean_text(line))


@dataclass
class TrackConfig:
    """One track's settings in a round: its banks, what each attempt draws, time, attempts, shuffling."""

    track: str
    bank_ids: list[int]
    draw: DrawSpec = field(default_factory=DrawSpec)
    time_limit_seconds: int = 900
    max_attempts: int = 1
    shuffle_questions: bool = True
    shuffle_options: bool = True

    def __post_init__(self) -> None:
        self.draw = DrawSpec.of(self.draw)  # the stored JSON's dict is accepted too

    def check(self) -> None:
        """SetupError naming the round form's field of this track ("officials-minutes") when a setting is
        out of range."""
        if self.track not in TRACKS:
            raise SetupError(N_("Đối tượng dự thi không hợp lệ."))
        if not self.bank_ids:
            raise SetupError(N_("Vui lòng chọn ít nhất một ngân hàng câu hỏi."), field=f"{self.track}-banks")
        if not 60 <= self.time_limit_seconds <= 4 * 3600:
            raise SetupError(N_("Thời gian làm bài phải từ 1 phút đến 4 giờ."), field=f"{self.track}-minutes")
        if not 1 <= self.max_attempts <= 20:
            raise SetupError(N_("Số lượt thi cho phép phải từ 1 đến 20."), field=f"{self.track}-attempts")
        if not 1 <= self.draw.question_count <= MAX_QUESTIONS:
            raise SetupError(N_("Số câu hỏi mỗi lượt phải từ 1 đến {n}.", n=MAX_QUESTIONS),
                             field=f"{self.track}-total" if not self.draw.strata else f"{self.track}-count-0")


def round_subtitle(number: int, title: str | None) -> str:
    """The round's own title, or "" when it only repeats the number label ("Đợt 1", "dot 01",
    "Round 1"), so pages and certificates do not print "Đợt 1: Đợt 1"."""
    title = (title or "").strip()
    label = re.fullmatch(r"(?:dot|round)\s*0*(\d+)\W*", fold(title))
    return "" if label and int(label.group(1)) == number else title


def question_total(draw: DrawSpec | dict | str) -> int:
    """How many questions an attempt of a track with this draw holds (a spec, or its stored form)."""
    return DrawSpec.of(draw).question_count


def round_started(session: Session, round_: Round, now: datetime) -> bool:
    """A round has started once it opened or anyone began an attempt in it."""
    if round_.id is None:
        return False
    return now >= round_.opens_at or bool(session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.round_id == round_.id)))


def save_round(session: Session, *, contest: Contest, now: datetime, round_: Round | None, number: int,
               title: str, opens_at: datetime, closes_at: datetime, grace_seconds: int, prediction_kind: str,
               tracks: list[TrackConfig]) -> Round:
    """Create or change a round. Once it has started, only what cannot change a result may change:
    the title, and a later closing time."""
    if closes_at <= opens_at:
        raise SetupError(N_("Thời điểm kết thúc phải sau thời điểm bắt đầu."), field="closes_at")
    if prediction_kind not in PREDICTIONS:
        raise SetupError(N_("Loại câu hỏi dự đoán không hợp lệ."), field="prediction_kind")
    if not 0 <= grace_seconds <= 600:
        raise SetupError(N_("Thời gian bù trễ mạng phải từ 0 đến 600 giây."), field="grace_seconds")
    title = check_length(Round.title, clean_text(title), N_("Tên đợt thi"), field="title")
    for config in tracks:
        config.check()
        if config.track not in tracks_of(contest):
            raise SetupError(N_("Đối tượng dự thi không thuộc hội thi này."))
    if round_ is not None and round_started(session, round_, now):
        _refuse_result_changes(session, round_, number, opens_at, closes_at, grace_seconds, prediction_kind,
                               tracks, now)
        round_.title, round_.closes_at = title, closes_at
        session.add(round_)
        public_version.changed(session, contest.id)
        return round_
    clash = session.scalar(select(Round.id).where(Round.contest_id == contest.id, Round.number == number))
    if clash is not None and (round_ is None or clash != round_.id):
        raise SetupError(N_("Đã có đợt thi số {n}.", n=number), field="number")
    round_ = round_ or Round(contest_id=contest.id, number=number, opens_at=opens_at, closes_at=closes_at)
    round_.number, round_.title, round_.opens_at, round_.closes_at = number, title, opens_at, closes_at
    round_.grace_seconds, round_.prediction_kind = grace_seconds, prediction_kind
    round_.prediction_question = PREDICTIONS[prediction_kind]
    session.add(round_)
    session.flush()
    existing = {t.track: t for t in session.scalars(select(RoundTrack).where(RoundTrack.round_id == round_.id))}
    for config in tracks:
        row = existing.pop(config.track, None) or RoundTrack(round_id=round_.id, track=config.track,
                                                             bank_ids="[]", draw="{}")
        row.bank_ids, row.draw = json.dumps(config.bank_ids), config.draw.to_json()
        row.time_limit_seconds, row.max_attempts = config.time_limit_seconds, config.max_attempts
        row.shuffle_questions, row.shuffle_options = config.shuffle_questions, config.shuffle_options
        session.add(row)
    for row in existing.values():
        session.delete(row)
    public_version.changed(session, contest.id)
    session.flush()
    return round_


def schedule_changes(round_: Round, number: int, opens_at: datetime, closes_at: datetime) -> list:
    """What a change to a started round's number or times would alter that it may not (a later close may)."""
    reasons = []
    if number != round_.number:
        reasons.append(N_("số thứ tự đợt"))
    if opens_at != round_.opens_at:
        reasons.append(N_("thời điểm bắt đầu"))
    if closes_at < round_.closes_at:
        reasons.append(N_("thời điểm kết thúc sớm hơn (chỉ được gia hạn)"))
    return reasons


def _refuse_result_changes(session, round_: Round, number, opens_at, closes_at, grace_seconds, prediction_kind,
                           tracks: list[TrackConfig], now: datetime) -> None:
    reasons = schedule_changes(round_, number, opens_at, closes_at)
    if closes_at < now:
        reasons.append(N_("thời điểm kết thúc đã qua"))
    if grace_seconds != round_.grace_seconds:
        reasons.append(N_("thời gian bù trễ mạng"))
    if prediction_kind != round_.prediction_kind:
        reasons.append(N_("câu hỏi dự đoán"))
    current = {t.track: t for t in session.scalars(select(RoundTrack).where(RoundTrack.round_id == round_.id))}
    for config in tracks:
        row = current.get(config.track)
        if row is None or (json.loads(row.bank_ids), DrawSpec.of(row.draw), row.time_limit_seconds, row.max_attempts,
                           row.shuffle_questions, row.shuffle_options) != (
                config.bank_ids, config.draw, config.time_limit_seconds, config.max_attempts,
                config.shuffle_questions, config.shuffle_options):
            reasons.append(N_("cách ra đề, thời gian hoặc số lượt của đối tượng '{track}'", track=TRACKS[config.track]))
    if len(tracks) != len(current):
        reasons.append(N_("danh sách đối tượng dự thi"))
    if reasons:
        raise SetupError(N_("Đợt thi đã bắt đầu nên không thể đổi {what}, vì điều đó có thể làm thay đổi kết quả "
                            "của người đã thi.", what=join("; ", reasons)))


def round_tracks(session: Session, round_id: int) -> dict[str, RoundTrack]:
    """A round's track rows by track."""
    return {t.track: t for t in session.scalars(select(RoundTrack).where(RoundTrack.round_id == round_id))}


def track_config(row: RoundTrack) -> TrackConfig:
    """A stored track row's settings, typed."""
    return TrackConfig(track=row.track, bank_ids=json.loads(row.bank_ids), draw=DrawSpec.of(row.draw),
                       time_limit_seconds=row.time_limit_seconds, max_attempts=row.max_attempts,
                       shuffle_questions=row.shuffle_questions, shuffle_options=row.shuffle_options)
