"""Re-verification of the stored rankings and locked prize lists (see contest.results.verify for the whole
check): each final round ranking against the rule run again over the attempts with the scores they should
have, the overall ranking against the rule over the stored round rankings, each locked list against what the
stored ranking gives and against the entry written when it was locked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from contest import audit
from contest.contests.attempts import ATTEMPTS as A
from contest.i18n import N_, join
from contest.models import Contest, PrizeAward, PrizeList, PrizeListStatus, Round, RoundResult
from contest.results import prizes, ranking
from contest.results.verify import (CHECK_LABELS, Check, Difference, Report, before_log, detail_of,
                                    log_entries)


RANKING_FIELDS = (("attempt_id", N_("lượt thi được tính")), ("rank", N_("hạng")),
                  ("correct_count", N_("số câu đúng")), ("question_count", N_("số câu hỏi")),
                  ("gap", N_("chênh lệch dự đoán")), ("duration_ms", N_("thời gian (ms)")),
                  ("finished_at", N_("nộp bài lúc")))


def _compare_rows(report: Report, check: Check, stored: dict, expected: dict, *, round_number: int | None,
                  track: str) -> None:
    for key in sorted(set(stored) | set(expected)):
        have, want = stored.get(key), expected.get(key)
        if have is None or want is None:
            shown = N_("không có")
            pair = (shown, N_("có")) if have is None else (N_("có"), shown)
        else:
            fields = [(label, have[name], want[name]) for name, label in RANKING_FIELDS
                      if name in have and have[name] != want[name]]
            if not fields:
                continue
            pair = (join("; ", [N_("{label} {value}", label=label, value=_value(a)) for label, a, _ in fields]),
                    join("; ", [N_("{label} {value}", label=label, value=_value(b)) for label, _, b in fields]))
        report.differences.append(Difference(check, CHECK_LABELS[check], *pair, contestant_id=key,
                                             round_number=round_number, track=track))


def _value(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "—" if value is None else str(value)


def _rows(session: Session, query, columns) -> dict[int, dict]:
    rows = (dict(zip(columns, row)) for row in session.execute(query))
    return {row["contestant_id"]: row for row in rows}


def _attempts_as_they_should_be(corrected: dict[int, int]):
    """The attempts table, with the scores found wrong replaced by the recomputed ones (as a subquery)."""
    if not corrected:
        return A
    score = case(corrected, value=A.c.id, else_=A.c.correct_count)
    return select(*(score.label(c.name) if c.name == "correct_count" else c for c in A.c)).subquery()


def check_rankings(session: Session, contest: Contest, rounds: list[Round], report: Report, *,
                    whole_contest: bool) -> set[tuple[int, str]]:
    """Check every final ranking; returns the (round id, track) whose stored ranking differs."""
    entry, total = ranking.RANKING_ENTRIES, ranking.OVERALL_ENTRIES
    source = _attempts_as_they_should_be(report.corrected)
    differing = set()
    for round_ in rounds:
        for result in session.scalars(select(RoundResult).where(RoundResult.round_id == round_.id)
                                      .order_by(RoundResult.track)):
            if result.stale or result.computed_at < round_.closes_at:
                continue  # provisional, or waiting for a re-rank: the page ranks it again when it is viewed
            report.rankings += 1
            before = len(report.differences)
            truth = ranking.true_value(session, round_, source)
            if truth != result.true_value:
                report.differences.append(Difference(Check.TRUE_VALUE, CHECK_LABELS[Check.TRUE_VALUE],
                                                     str(result.true_value), str(truth), round_number=round_.number,
                                                     track=result.track))
            columns = ranking.RANKED_COLUMNS
            stored = _rows(session, select(*(entry.c[c] for c in columns)).where(
                entry.c.round_id == round_.id, entry.c.track == result.track), columns)
            expected = _rows(session, ranking.round_ranking(round_.id, result.track, truth, source), columns)
            _compare_rows(report, Check.RANKING, stored, expected, round_number=round_.number, track=result.track)
            if len(report.differences) > before:
                differing.add((round_.id, result.track))
    if not whole_contest:
        return differing
    columns = ranking.OVERALL_COLUMNS
    stored_all = session.execute(select(*(total.c[c] for c in columns)).where(total.c.contest_id == contest.id)).all()
    if not stored_all:
        return differing  # not computed since the last ranking; ensure_overall computes it from the checked rankings
    expected_all = session.execute(ranking.overall_ranking(contest.id)).all()
    for track in sorted({row[1] for row in (*stored_all, *expected_all)}):
        report.rankings += 1
        pick = lambda rows: {row[2]: dict(zip(columns, row)) for row in rows if row[1] == track}  # noqa: E731
        _compare_rows(report, Check.OVERALL, pick(stored_all), pick(expected_all), round_number=None, track=track)
    return differing


def check_prize_lists(session: Session, contest: Contest, rounds: list[Round], report: Report,
                       start: datetime | None, differing: set[tuple[int, str]]) -> None:
    by_id = {r.id: r for r in rounds}
    lists = session.scalars(select(PrizeList).where(PrizeList.round_id.in_(list(by_id)),
                                                   PrizeList.status == PrizeListStatus.LOCKED)
                            .order_by(PrizeList.id)).all()
    logged = {detail.get("list"): detail["awards"] for _, detail in
              log_entries(session, (audit.PRIZES_LOCKED,), contest.id) if isinstance(detail.get("awards"), list)}
    for prize_list in lists:
        round_ = by_id[prize_list.round_id]
        report.prize_lists += 1
        where = dict(round_number=round_.number, track=prize_list.track)
        awards = {a.contestant_id: a for a in session.scalars(select(PrizeAward)
                                                               .where(PrizeAward.list_id == prize_list.id))}
        counts = {p: int(n) for p, n in detail_of(prize_list.counts).items() if p in prizes.PRIZES}
        # Prizes follow the stored ranking: where that ranking is itself named wrong, what it would give is no
        # measure, and the list is checked against the log only.
        planned = ({} if (round_.id, prize_list.track) in differing else
                   {a.contestant_id: a for a in prizes.plan(session, round_, prize_list.track, counts).awards})
        for cid in sorted(set(awards) | set(planned)) if planned else ():
            have, want = awards.get(cid), planned.get(cid)
            if (have and (have.prize, have.rank)) != (want and (want.prize, want.rank)):
                report.differences.append(Difference(
                    Check.PRIZE, N_("Danh sách giải #{list}", list=prize_list.id), _award(have), _award(want),
                    contestant_id=cid, **where))
        entry = logged.get(prize_list.id)
        if entry is None:
            if before_log(prize_list.locked_at or prize_list.created_at, start):
                report.unlogged_lists += 1
            else:
                report.differences.append(Difference(
                    Check.UNLOGGED, N_("Danh sách giải #{list}: không có mục khóa danh sách", list=prize_list.id),
                    "", N_("một mục ghi các giải"), **where))
            continue
        at_lock = {int(cid): str(prize) for cid, prize in entry if str(cid).isdigit()}
        for cid in sorted(set(awards) | set(at_lock)):
            have = awards[cid].prize if cid in awards else None
            if have != at_lock.get(cid):
                report.differences.append(Difference(
                    Check.PRIZE, N_("Danh sách giải #{list}: khác với lúc khóa", list=prize_list.id),
                    _prize(have), _prize(at_lock.get(cid)), contestant_id=cid, **where))


def _prize(prize: str | None) -> str:
    return prizes.PRIZE_LABELS.get(prize, prize) if prize else N_("không có giải")


def _award(award) -> str:
    return N_("{prize}, hạng {rank}", prize=_prize(award.prize), rank=award.rank) if award else _prize(None)
