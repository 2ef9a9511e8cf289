"""leaderboard page indexes

A leaderboard page is read in the order (rank, finished_at, contestant_id); indexes holding
all three let a deep page skip its offset inside the index, without sorting or joining.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_ranking_entries_round_track_rank', table_name='ranking_entries')
    op.create_index('ix_ranking_entries_page', 'ranking_entries',
                    ['round_id', 'track', 'rank', 'finished_at', 'contestant_id'], unique=False)
    op.drop_index('ix_overall_entries_contest_track_rank', table_name='overall_entries')
    op.create_index('ix_overall_entries_page', 'overall_entries',
                    ['contest_id', 'track', 'rank', 'finished_at', 'contestant_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_overall_entries_page', table_name='overall_entries')
    op.create_index('ix_overall_entries_contest_track_rank', 'overall_entries', ['contest_id', 'track', 'rank'],
                    unique=False)
    op.drop_index('ix_ranking_entries_page', table_name='ranking_entries')
    op.create_index('ix_ranking_entries_round_track_rank', 'ranking_entries', ['round_id', 'track', 'rank'],
                    unique=False)
