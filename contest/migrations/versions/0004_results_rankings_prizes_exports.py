"""results rankings prizes exports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from contest.models.base import UTCDateTime


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('contest_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_contest_id'), ['contest_id'], unique=False)

    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('params', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('prize_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('counts', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('locked_at', UTCDateTime(), nullable=True),
    sa.Column('locked_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['locked_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prize_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prize_lists_round_id'), ['round_id'], unique=False)

    op.create_table('round_results',
    sa.Column('round_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('track', sa.Text(), nullable=False),
    sa.Column('true_value', sa.Integer(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('computed_at', UTCDateTime(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'track')
    )
    op.create_table('overall_entries',
    sa.Column('contest_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('track', sa.Text(), nullable=False),
    sa.Column('contestant_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('correct_count', sa.Integer(), nullable=False),
    sa.Column('question_count', sa.Integer(), nullable=False),
    sa.Column('gap', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contestant_id'], ['contestants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contest_id', 'track', 'contestant_id')
    )
    with op.batch_alter_table('overall_entries', schema=None) as batch_op:
        batch_op.create_index('ix_overall_entries_contest_track_rank', ['contest_id', 'track', 'rank'], unique=False)

    op.create_table('prize_awards',
    sa.Column('list_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('contestant_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('prize', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contestant_id'], ['contestants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['prize_lists.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'contestant_id')
    )
    op.create_table('ranking_entries',
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
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contestant_id'], ['contestants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'track', 'contestant_id')
    )
    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ranking_entries_round_track_rank', ['round_id', 'track', 'rank'], unique=False)

    with op.batch_alter_table('contestants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=''))

    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prize_counts', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default='{"first": 1, "second": 2, "third": 3, "consolation": 4}'))
        batch_op.add_column(sa.Column('one_prize_per_person', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('team_min_rate', sa.Integer(), nullable=False, server_default='50'))
        batch_op.add_column(sa.Column('public_results', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('contestants', schema=None) as batch_op:
        batch_op.drop_column('search_name')

    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_column('public_results')
        batch_op.drop_column('team_min_rate')
        batch_op.drop_column('one_prize_per_person')
        batch_op.drop_column('prize_counts')

    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ranking_entries_round_track_rank')

    op.drop_table('ranking_entries')
    op.drop_table('prize_awards')
    with op.batch_alter_table('overall_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_overall_entries_contest_track_rank')

    op.drop_table('overall_entries')
    op.drop_table('round_results')
    with op.batch_alter_table('prize_lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prize_lists_round_id'))

    op.drop_table('prize_lists')
    op.drop_table('export_jobs')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_contest_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
