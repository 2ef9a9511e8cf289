"""export jobs are claimed from the database by any app process

A background export used to run in a thread of the process that received the request, and was lost with it.
Now every app process runs an export worker that claims the oldest queued job (contest.exports.claims):
`claimed_by` names the process, `heartbeat_at` is when it last said it was at work (a job silent too long is
taken back by another process), `tries` counts the processes that took it on. Jobs already queued or running
keep an empty claimer, no heartbeat and no tries: a queued one is claimed like a new one, a running one counts
as silent since it was created.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from contest.models.base import UTCDateTime


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of `export_jobs` on SQLite would drop the table, and with it (foreign keys
    # on) the job named by each personal-data download record.
    op.add_column('export_jobs', sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False,
                                           server_default=''))
    op.add_column('export_jobs', sa.Column('heartbeat_at', UTCDateTime(), nullable=True))
    op.add_column('export_jobs', sa.Column('tries', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_export_jobs_status_created_at', 'export_jobs', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_export_jobs_status_created_at', table_name='export_jobs')
    op.drop_column('export_jobs', 'tries')
    op.drop_column('export_jobs', 'heartbeat_at')
    op.drop_column('export_jobs', 'claimed_by')
