"""login throttle per address, server-side staff sessions

Failed logins are now also counted per client address (across accounts), so login_attempts gets
an (ip, attempted_at) index. Staff logins are recorded in staff_sessions, so that logout,
a password change or deactivation ends them on the server.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from contest.models.base import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_login_attempts_ip_at', 'login_attempts', ['ip', 'attempted_at'], unique=False)
    op.create_table('staff_sessions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_staff_sessions_user_id', 'staff_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_staff_sessions_user_id', table_name='staff_sessions')
    op.drop_table('staff_sessions')
    op.drop_index('ix_login_attempts_ip_at', table_name='login_attempts')
