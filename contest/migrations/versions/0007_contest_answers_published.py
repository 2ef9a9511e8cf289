"""contest answers published

Each contest says when its contestants see the answer key in their review: after each round,
after the whole contest (the default, and what existing contests get) or never.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answers_published', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default='after_contest'))


def downgrade() -> None:
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_column('answers_published')
