"""personal data downloads

Every download of an unmasked results export (full phone and CCCD numbers) is recorded: who, when,
through which channel (web page, background job, command line) and what (contest, round, kind, track,
format, rows), so organisers can answer for each copy of personal data (Nghị định 13/2023/NĐ-CP).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from contest.models.base import UTCDateTime


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('personal_data_downloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('contest_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('fmt', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['export_jobs.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('personal_data_downloads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_data_downloads_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_downloads_contest_id'), ['contest_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('personal_data_downloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_downloads_contest_id'))
        batch_op.drop_index(batch_op.f('ix_personal_data_downloads_at'))
    op.drop_table('personal_data_downloads')
