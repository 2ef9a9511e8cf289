"""results version: a counter per contest that goes up with every change its public results pages show

`contests.results_version` is raised in the same transaction as a ranking, a prize list proposed, locked or
unlocked, a change to the contest's settings, its rounds or its units, and a contestant's erased personal data
(contest.results.public_version). Each server process keeps the public pages it rendered under the version
read with the contest, so that the next request to any process after such a change renders them again.
Existing contests start at 0: no process has kept anything under it before this revision.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of `contests` on SQLite would drop the table, and with it (foreign keys on)
    # every row that cascades from it.
    op.add_column('contests', sa.Column('results_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('contests', 'results_version')
