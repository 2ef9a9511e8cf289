"""appeals: a time to appeal a round's result, and tie-break figures on the public leaderboard

Contestants appeal their own result (appeals) during the contest's appeal period (contests.appeal_hours after a
round closes); the public leaderboard may show every tie-break figure (contests.public_tie_details). Existing
contests get no appeal period and the shorter leaderboard, so nothing changes for them.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from contest.models.base import UTCDateTime


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of `contests` on SQLite would drop the table, and with it (foreign keys
    # on) every row that cascades from a contest.
    op.add_column('contests', sa.Column('public_tie_details', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column('contests', sa.Column('appeal_hours', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'appeals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('contestant_id', sa.Integer(), nullable=False),
        sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('filed_at', UTCDateTime(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('answered_at', UTCDateTime(), nullable=True),
        sa.Column('answered_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contestant_id'], ['contestants.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['answered_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_contestant_id'), ['contestant_id'], unique=False)
        batch_op.create_index('ix_appeals_round_track_status', ['round_id', 'track', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index('ix_appeals_round_track_status')
        batch_op.drop_index(batch_op.f('ix_appeals_contestant_id'))
    op.drop_table('appeals')
    op.drop_column('contests', 'appeal_hours')
    op.drop_column('contests', 'public_tie_details')
