"""personal data: consent text versions, erased contestants, a retention period per contest

consent_texts holds every version of the consent text a contest shows at registration, and each registration
keeps the version agreed to (contestants.consent_version_id). Existing contestants get NULL (unknown): the consent
text was fixed in the application's template before this revision and changed over its releases, so which
wording a past registration saw cannot be told; no version row is made for them. A contest's first version is
written when it is first needed (its first registration after this revision, or the organiser changing the text).

contestants.erased_at marks a contestant whose personal data was erased (results kept under an anonymous label);
contests.retention_days (NULL: keep) is how long after the contest's end non-winners' personal data is kept
before `contest purge-personal-data` erases it. Existing contests keep everything (NULL).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from contest.models.base import UTCDateTime


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consent_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contest_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('contest_id', 'version', name='uq_consent_texts_contest_version'),
    )
    with op.batch_alter_table('consent_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_texts_contest_id'), ['contest_id'], unique=False)
    # Plain ADD COLUMN: a batch copy of `contests` or `contestants` on SQLite would drop the table, and with it
    # (foreign keys on) every row that cascades from it.
    op.add_column('contests', sa.Column('retention_days', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column's REFERENCES clause with it, but Alembic would ask for a batch copy to do so. No ON
        # DELETE: SQLAlchemy does not read one back from an inline clause; versions go only with their contest.
        op.execute('ALTER TABLE contestants ADD COLUMN consent_version_id INTEGER REFERENCES consent_texts (id)')
    else:
        op.add_column('contestants', sa.Column('consent_version_id', sa.Integer(), nullable=True))
        op.create_foreign_key('contestants_consent_version_id_fkey', 'contestants', 'consent_texts',
                              ['consent_version_id'], ['id'])
    op.add_column('contestants', sa.Column('erased_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('contestants', 'erased_at')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('contestants_consent_version_id_fkey', 'contestants', type_='foreignkey')
    op.drop_column('contestants', 'consent_version_id')
    op.drop_column('contests', 'retention_days')
    with op.batch_alter_table('consent_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_texts_contest_id'))
    op.drop_table('consent_texts')
