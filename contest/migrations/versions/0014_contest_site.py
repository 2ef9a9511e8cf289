"""contest site: prize notes, the help line, study links

The rules page says what each prize is worth (prize_notes), every contestant page shows the contest's
help line (hotline_phone, contact_email, contact_hours), and the study-materials page lists the links
the organiser adds (study_links). Existing contests get empty values: nothing is shown until set.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from contest.models.base import UTCDateTime


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prize_notes', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('hotline_phone', sqlmodel.sql.sqltypes.AutoString(length=40),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=254),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_hours', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=False, server_default=''))
    op.create_table(
        'study_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contest_id', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('study_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_links_contest_id'), ['contest_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('study_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_study_links_contest_id'))
    op.drop_table('study_links')
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_column('contact_hours')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('hotline_phone')
        batch_op.drop_column('prize_notes')
