"""entry rounds and their jury

A round has a kind: "quiz" (every existing round) or "entry", whose contestants submit entries (text, files, a
video link) that judges score blind against a rubric; its ranking (ranking_entries, with no attempt behind an
entry: attempt_id becomes nullable) holds the jury's scores once they are finalised. New tables: what an entry round asks for (entry_rounds),
its rubric, its panel of judges, the entries with their submitted versions and files, and the judges'
assignments and scores.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from contest.models.base import UTCDateTime


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entry_rounds',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('tracks', AutoString(length=40), nullable=False),
    sa.Column('best_of_round_id', sa.Integer(), nullable=True),
    sa.Column('best_n', sa.Integer(), nullable=True),
    sa.Column('allow_text', sa.Boolean(), nullable=False),
    sa.Column('max_words', sa.Integer(), nullable=False),
    sa.Column('file_kinds', AutoString(length=60), nullable=False),
    sa.Column('max_files', sa.Integer(), nullable=False),
    sa.Column('max_file_mb', sa.Integer(), nullable=False),
    sa.Column('allow_video_link', sa.Boolean(), nullable=False),
    sa.Column('judges_per_entry', sa.Integer(), nullable=False),
    sa.Column('aggregation', AutoString(length=20), nullable=False),
    sa.Column('trim_from', sa.Integer(), nullable=False),
    sa.Column('flag_gap', sa.Integer(), nullable=False),
    sa.Column('finalised_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['best_of_round_id'], ['rounds.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id')
    )
    op.create_table('round_judges',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('round_id', 'judge_id')
    )
    op.create_table('rubric_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', AutoString(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('max_points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'position', name='uq_rubric_criteria_round_position')
    )
    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('contestant_id', sa.Integer(), nullable=False),
    sa.Column('code', AutoString(length=20), nullable=False),
    sa.Column('status', AutoString(length=20), nullable=False),
    sa.Column('draft_text', sa.Text(), nullable=False),
    sa.Column('draft_saved_at', UTCDateTime(), nullable=True),
    sa.Column('versions', sa.Integer(), nullable=False),
    sa.Column('submitted_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contestant_id'], ['contestants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'code', name='uq_entries_round_code'),
    sa.UniqueConstraint('round_id', 'contestant_id', name='uq_entries_round_contestant')
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_contestant_id'), ['contestant_id'], unique=False)

    op.create_table('entry_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('video_url', AutoString(length=500), nullable=False),
    sa.Column('content_hash', AutoString(length=64), nullable=False),
    sa.Column('submitted_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'seq', name='uq_entry_versions_entry_seq')
    )
    op.create_table('judge_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('extra', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('total_tenths', sa.Integer(), nullable=True),
    sa.Column('scored_at', UTCDateTime(), nullable=True),
    sa.Column('assigned_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'judge_id', name='uq_judge_assignments_entry_judge')
    )
    with op.batch_alter_table('judge_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_judge_assignments_judge', ['judge_id', 'entry_id'], unique=False)

    op.create_table('entry_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', AutoString(length=10), nullable=False),
    sa.Column('original_name', AutoString(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', AutoString(length=64), nullable=False),
    sa.Column('removed', sa.Text(), nullable=False),
    sa.Column('warnings', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['entry_versions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'position', name='uq_entry_files_version_position')
    )
    with op.batch_alter_table('entry_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_files_sha256'), ['sha256'], unique=False)

    op.create_table('judge_scores',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('points_tenths', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['judge_assignments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criteria.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assignment_id', 'criterion_id')
    )
    # Plain ADD COLUMN: a batch copy of `rounds` on SQLite would drop the table, and with it (foreign keys on)
    # every attempt of the round.
    op.add_column('rounds', sa.Column('kind', AutoString(length=10), nullable=False, server_default='quiz'))
    # An entry round's ranking has no attempt behind each entry. Nothing refers to ranking_entries, so SQLite's
    # batch copy of the table is safe.
    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.alter_column('attempt_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM ranking_entries WHERE attempt_id IS NULL")
    with op.batch_alter_table('ranking_entries', schema=None) as batch_op:
        batch_op.alter_column('attempt_id', existing_type=sa.Integer(), nullable=False)
    op.drop_column('rounds', 'kind')

    op.drop_table('judge_scores')
    with op.batch_alter_table('entry_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_files_sha256'))

    op.drop_table('entry_files')
    with op.batch_alter_table('judge_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_judge_assignments_judge')

    op.drop_table('judge_assignments')
    op.drop_table('entry_versions')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_contestant_id'))

    op.drop_table('entries')
    op.drop_table('rubric_criteria')
    op.drop_table('round_judges')
    op.drop_table('entry_rounds')
