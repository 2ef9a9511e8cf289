"""announcements; indexes for the live-round dashboard

Organisers post short announcements on a contest's page (title, text, pinned, a publish time).
The live-round dashboard counts a round's starts and submissions of the last minutes: two indexes on
attempts (round, start time) and (round, finish time) keep those counts to the minutes they read.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from contest.models.base import UTCDateTime


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'announcements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contest_id', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('pinned', sa.Boolean(), nullable=False),
        sa.Column('published_at', UTCDateTime(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_announcements_contest_published', 'announcements', ['contest_id', 'published_at'])
    op.create_index('ix_attempts_round_started', 'attempts', ['round_id', 'started_at'])
    op.create_index('ix_attempts_round_finished', 'attempts', ['round_id', 'finished_at'])


def downgrade() -> None:
    op.drop_index('ix_attempts_round_finished', table_name='attempts')
    op.drop_index('ix_attempts_round_started', table_name='attempts')
    op.drop_index('ix_announcements_contest_published', table_name='announcements')
    op.drop_table('announcements')
