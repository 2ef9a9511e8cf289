"""The audit log's one writer: every organiser, admin and contestant-account action that the log keeps goes
through `record`, so that how a row is written (and, later, chained) is decided in one place."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy.orm import Session

from contest.models import AuditEvent


def record(session: Session, *, now: datetime, user_id: int | None, contest_id: int | None, action: str,
           **detail) -> None:
    """Add one audit row: who (`user_id`, None for a contestant or the system), where, what, and its details."""
    session.add(AuditEvent(at=now, user_id=user_id, contest_id=contest_id, action=action,
                           detail=json.dumps(detail, ensure_ascii=False)))


# --- what the re-verification reads back from the log (contest.results.verify) -------------------------------
# The entries below carry, at the moment things happened, what `contest verify-results` compares with what the
# tables hold now. Their detail keys are fixed here, so that the writer and the checker cannot drift apart.
ATTEMPT_STARTED = "attempt_started"      # attempt, round, contestant, track, questions: [question ids by position]
ATTEMPT_SUBMITTED = "attempt_submitted"  # attempt, correct, of, answers (answers_digest), prediction, duration_ms
ATTEMPT_CLOSED = "attempt_closed"        # the same keys: closed at its deadline by the sweep or on a late submit
ATTEMPTS_REGRADED = "attempts_regraded"  # question, version, key (key_text), attempts (how many changed)
QUESTIONS_KEYED = "questions_keyed"      # bank, keys: {question id: [version, key_text]} on import/create/edit
PRIZES_LOCKED = "prizes_locked"          # round, track, list, awards: [[contestant id, prize], ...], head


def answers_digest(rows) -> str:
    """SHA-256 of an attempt's answers: `rows` are (position, question id, chosen) with `chosen` as the attempt
    stores it ("0,2"; "" for none). The same answers give the same digest whatever order the rows come in."""
    text = "".join(f"{position}:{question_id}:{chosen}\n" for position, question_id, chosen in sorted(rows))
    return hashlib.sha256(text.encode()).hexdigest()


def key_text(positions) -> str:
    """A question's key as the log keeps it: the right options' stored positions, sorted ("0,2")."""
    return ",".join(str(p) for p in sorted(positions))
