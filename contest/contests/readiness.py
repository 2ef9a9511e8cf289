"""The readiness check on the organiser's contest page: what a contest still lacks before it opens.

Each check names what is missing in the organiser's words, so nobody learns of an empty bank or a
missing unit list from the first contestant who cannot register or start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from contest.contests import queries
from contest.contests.registration import UNIT_FIELDS
from contest.contests.setup import TRACKS, field_rules, round_tracks, track_config, tracks_of
from contest.i18n import N_, join
from contest.models import Contest, RoundKind
from contest.results.prizes import PRIZE_LABELS, prize_counts

# Which track gives which unit field (citizens give their locality, officials their unit).
UNIT_FIELD_TRACKS = {"unit": "officials", "locality": "citizens"}
UNIT_LIST_NAMES = {"unit": N_("danh sách đơn vị công tác"), "locality": N_("danh sách địa bàn (xã, phường)")}
UNIT_LIST_LABELS = {"unit": N_("Danh sách đơn vị công tác"), "locality": N_("Danh sách địa bàn (xã, phường)")}


@dataclass(frozen=True)
class Check:
    """One thing a contest needs: `ok` when it is there; `notes` say what is there or name what is missing."""

    label: str
    ok: bool
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Readiness:
    checks: list[Check]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def missing(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def contest_readiness(session: Session, contest: Contest, *, public_url: str) -> Readiness:
    """What the contest has and lacks: rounds, banks and pool sizes per track, units or localities where
    registration asks for them, rules text, prize structure, a help line and the public link."""
    return Readiness([_rounds(session, contest), *_tracks(session, contest), *_unit_lists(session, contest),
                      _rules(contest), _prizes(contest), _help_line(contest), _link(contest, public_url)])


def _rounds(session: Session, contest: Contest) -> Check:
    count = len(queries.rounds_of(session, contest.id))
    if not count:
        return Check(N_("Đợt thi"), False, (N_("Chưa có đợt thi nào."),))
    return Check(N_("Đợt thi"), True, (N_("{count} đợt thi.", count=count),))


def _tracks(session: Session, contest: Contest) -> list[Check]:
    """Per track: every quiz round sets it up, from banks that exist, with enough active questions for the draw.
    Entry rounds draw no questions; a contest of entry rounds only has no bank to check."""
    every = queries.rounds_of(session, contest.id)
    rounds = [r for r in every if r.kind == RoundKind.QUIZ]
    if every and not rounds:
        return []
    checks = []
    for track in tracks_of(contest):
        notes, ok = [], bool(rounds)
        if not rounds:
            notes.append(N_("Chưa có đợt thi nào để gắn ngân hàng câu hỏi."))
        for round_ in rounds:
            row = round_tracks(session, round_.id).get(track)
            if row is None:
                ok = False
                notes.append(N_("Đợt {number}: chưa đặt cách thi cho đối tượng này.", number=round_.number))
                continue
            config = track_config(row)
            banks = sorted(queries.existing_bank_ids(session, config.bank_ids))
            if not banks:
                ok = False
                notes.append(N_("Đợt {number}: chưa chọn ngân hàng câu hỏi.", number=round_.number))
                continue
            pool = queries.active_question_count(session, banks)
            wanted = config.draw.question_count
            short = [N_("{label}: cần {count}, có {have}",
                        label=s.label, count=s.count, have=have) for s in config.draw.strata
                     if (have := queries.active_question_count(session, banks, topic=s.topic,
                                                               difficulty=s.difficulty)) < s.count]
            if pool < wanted or short:
                ok = False
                detail = N_(" ({list})", list=join("; ", short)) if short else ""
                notes.append(N_("Đợt {number}: mỗi lượt rút {wanted} câu, ngân hàng chỉ đủ {pool} câu đang "
                                "dùng{detail}.",
                                number=round_.number, wanted=wanted, pool=pool, detail=detail) if pool < wanted else
                             N_("Đợt {number}: không đủ câu hỏi theo chủ đề/mức độ{detail}.",
                                number=round_.number, detail=detail))
            else:
                notes.append(N_("Đợt {number}: rút {wanted} câu từ {pool} câu đang dùng.",
                                number=round_.number, wanted=wanted, pool=pool))
        checks.append(Check(N_("Ngân hàng câu hỏi – {value}", value=TRACKS[track]), ok, tuple(notes)))
    return checks


def _unit_lists(session: Session, contest: Contest) -> list[Check]:
    """A unit or locality list, for each of them registration would ask for (the field is hidden without one)."""
    rules, tracks = field_rules(contest), tracks_of(contest)
    counts = queries.unit_counts_by_kind(session, contest.id)
    checks = []
    for name, kind in UNIT_FIELDS.items():
        if rules.get(name) == "off" or UNIT_FIELD_TRACKS[name] not in tracks:
            continue
        label = UNIT_LIST_LABELS[kind]
        if counts.get(kind):
            checks.append(Check(label, True, (N_("{value} mục.", value=counts[kind]),)))
        else:
            checks.append(Check(label, False, (
                N_("Chưa nhập {value}: ô này sẽ không hiện khi đăng ký cho đến khi có danh sách.",
                   value=UNIT_LIST_NAMES[kind]),)))
    return checks


def _rules(contest: Contest) -> Check:
    if contest.rules.strip():
        return Check(N_("Thể lệ"), True, ())
    return Check(N_("Thể lệ"), False, (N_("Chưa có nội dung thể lệ."),))


def _prizes(contest: Contest) -> Check:
    counts = prize_counts(contest)
    if not any(counts.values()):
        return Check(N_("Cơ cấu giải"), False, (N_("Chưa đặt số giải cho mỗi đợt."),))
    awarded = [N_("{prize}: {n}", prize=PRIZE_LABELS[p], n=n) for p, n in counts.items() if n]
    return Check(N_("Cơ cấu giải"), True, (N_("{list}.", list=join("; ", awarded)),))


def _help_line(contest: Contest) -> Check:
    """A phone or e-mail on every contestant page: where a locked-out contestant calls for a reset code."""
    reachable = [value for value in (contest.hotline_phone, contest.contact_email) if value.strip()]
    if reachable:
        return Check(N_("Đường dây hỗ trợ"), True, ("; ".join(reachable),))
    return Check(N_("Đường dây hỗ trợ"), False, (
        N_("Chưa có số điện thoại hoặc e-mail hỗ trợ: thí sinh quên mật khẩu không biết gọi ai để lấy mã khôi phục."),))


def _link(contest: Contest, public_url: str) -> Check:
    if contest.is_published:
        return Check(N_("Địa chỉ dự thi"), True, (public_url,))
    return Check(N_("Địa chỉ dự thi"), False,
                 (N_("Hội thi chưa công bố: {public_url} chưa mở cho thí sinh.", public_url=public_url),))
