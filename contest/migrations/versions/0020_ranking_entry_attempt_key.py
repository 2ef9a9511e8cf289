"""ranking entries without a foreign key on their attempt

An attempt is deleted only with its contestant or its round, and the entry's foreign keys on those already take
the entry with it; checking the attempt for every entry written cost a quarter of ranking a round of a million
attempts. On SQLite the table is copied without that key (nothing refers to ranking entries, so nothing
cascades from the copy); on PostgreSQL the constraint is dropped.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

from contest.models.base import UTCDateTime

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _table(with_attempt_key: bool) -> sa.Table:
    keys = [sa.ForeignKeyConstraint(['contestant_id'], ['contestants.id'], ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE')]
    if with_attempt_key:
        keys.append(sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'))
    return sa.Table(
        'ranking_entries', sa.MetaData(),
        sa.Column('round_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('track', sa.Text(), nullable=False),
        sa.Column('contestant_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('attempt_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('correct_count', sa.Integer(), nullable=False),
        sa.Column('question_count', sa.Integer(), nullable=False),
        sa.Column('gap', sa.Integer(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('finished_at', UTCDateTime(), nullable=False),
        *keys,
        sa.PrimaryKeyConstraint('round_id', 'track', 'contestant_id'),
        sa.Index('ix_ranking_entries_page', 'round_id', 'track', 'rank', 'finished_at', 'contestant_id'),
    )


def _recreate(with_attempt_key: bool) -> None:
    with op.batch_alter_table('ranking_entries', recreate='always', copy_from=_table(with_attempt_key)):
        pass


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _recreate(with_attempt_key=False)
        return
    key = next(fk['name'] for fk in sa.inspect(op.get_bind()).get_foreign_keys('ranking_entries')
               if fk['referred_table'] == 'attempts')
    op.drop_constraint(key, 'ranking_entries', type_='foreignkey')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _recreate(with_attempt_key=True)
        return
    op.create_foreign_key('ranking_entries_attempt_id_fkey', 'ranking_entries', 'attempts', ['attempt_id'], ['id'],
                          ondelete='CASCADE')
