"""attempts ranking and open indexes

Ranking picks each contestant's attempts with their highest score before sorting; an index on
(round_id, track, contestant_id, correct_count, status, question_count) answers that pick, and the
count of perfect scores for the prediction's true value, on its own. It replaces the
(round_id, track) index, whose queries it also serves.

Every app process sweeps overdue attempts each minute under the write lock; a partial index of the
open attempts keeps that sweep from reading every attempt ever made.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_attempts_ranking', 'attempts',
                    ['round_id', 'track', 'contestant_id', 'correct_count', 'status', 'question_count'],
                    unique=False)
    op.drop_index('ix_attempts_round_track', table_name='attempts')
    op.create_index('ix_attempts_open', 'attempts', ['deadline'], unique=False,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('ix_attempts_open', table_name='attempts')
    op.create_index('ix_attempts_round_track', 'attempts', ['round_id', 'track'], unique=False)
    op.drop_index('ix_attempts_ranking', table_name='attempts')
