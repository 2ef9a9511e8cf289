"""question valid as of

Each question may record the day its facts were last checked against the documents in force
(the template's optional column "Đúng đến ngày"); the bank checker flags questions whose day is
older than the organiser's threshold, or missing. Existing questions get no day (NULL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid_as_of', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('valid_as_of')
